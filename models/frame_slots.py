"""Which frame codes each of the 16 token slots uses: a smaller output layer per slot when imagining.

A frame's 16 tokens each cover one cell of the tokenizer's 4x4 grid, and a cell's picture (a corner,
an edge, the centre) allows only some codes: in the KataGo training video of the shipped model every
slot uses 1,563-4,304 of its 9,959 frame codes (2,732 on average; docs/benchmarks.md). Generation scores every frame code at every slot; with
the slots' sets it scores only the codes its slot has used in the training video, ~3.5x fewer rows of
the output layer and of the greedy ``max`` that follows. The sets come from frame tokens only
(the token cache of the training split: no move, no rule), like the vocabulary itself.

What it changes: a code a slot never showed in training video can no longer be imagined there (the
next-best code of that slot's set is taken instead); how often that changes the move is measured
before a bundle ships the sets (scripts/frame_slots.py, docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.vocab import FRAME_TOKENS, CodeVocab

SLOTS_KEY = "frame_slots"  # the bundle file's tensor: (16, frame codes) uint8, 1 where a slot used the code


def slot_mask(vocab: CodeVocab, raw_tokens: np.ndarray) -> np.ndarray:
    """raw_tokens (..., 16) raw FSQ ids of frames (any layout ending in the 16 slots) -> (16, Kx) bool:
    which of the vocabulary's frame codes each slot uses. Codes outside the vocabulary are left out."""
    flat = np.asarray(raw_tokens).reshape(-1, FRAME_TOKENS)
    mask = np.zeros((FRAME_TOKENS, len(vocab.frame_codes)), bool)
    for s in range(FRAME_TOKENS):
        seen = np.unique(flat[:, s])
        ids = vocab.frame_ids(seen) - vocab.frame_offset  # unknown codes -> len(frame_codes)
        mask[s, ids[ids < len(vocab.frame_codes)]] = True
    return mask


def check_mask(vocab: CodeVocab, mask: np.ndarray | torch.Tensor) -> np.ndarray:
    """``mask`` as a (16, Kx) bool array, or ValueError if it does not fit ``vocab`` or leaves a slot no code:
    what a bundle's slots file is checked against when it loads, before any rows are copied."""
    mask = np.asarray(mask, bool)
    if mask.shape != (FRAME_TOKENS, len(vocab.frame_codes)):
        raise ValueError(f"slot mask {mask.shape} does not fit {FRAME_TOKENS} slots x "
                         f"{len(vocab.frame_codes)} frame codes")
    if not mask.any(1).all():
        raise ValueError("every slot needs at least one frame code")
    return mask


@dataclass
class FrameSlots:
    """Per slot s: the vocabulary ids it may emit ``ids[s]`` (n_s,) and their output rows ``weights[s]``
    (n_s, dim), copied once so each step is one contiguous matmul."""

    ids: list[torch.Tensor]
    weights: list[torch.Tensor]

    @classmethod
    def build(cls, output_weight: torch.Tensor, vocab: CodeVocab, mask: np.ndarray | torch.Tensor) -> "FrameSlots":
        """output_weight (V, dim): the transformer's output layer; mask (16, Kx) from ``slot_mask``."""
        mask = torch.from_numpy(check_mask(vocab, mask))
        device = output_weight.device
        ids = [torch.nonzero(mask[s]).squeeze(1).to(device) + vocab.frame_offset for s in range(FRAME_TOKENS)]
        return cls(ids, [output_weight[i].contiguous() for i in ids])

    @property
    def sizes(self) -> list[int]:
        return [len(i) for i in self.ids]
