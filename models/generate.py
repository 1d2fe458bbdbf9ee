"""Batched generation with the KV cache: codes z_1..z_H, then the imagined next frame.

``imagine`` takes B prefixes (frame blocks ending in <act_start>) and returns, per row,
the LDM codes and the 16 tokens of x_{t+1}; z_1 can be forced (to branch over the top
candidates) or chosen greedily / by sampling at a temperature (the paper: 1.0, no top-k).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from models.frame_slots import FrameSlots
from models.transformer import KVCache, Transformer
from models.vocab import ACT_END, FRAME_TOKENS, IM_START, CodeVocab


@dataclass
class Imagined:
    z: torch.Tensor  # (B, H) vocabulary ids of the LDM codes
    frame: torch.Tensor  # (B, 16) vocabulary ids of the imagined x_{t+1}
    z1_logprobs: torch.Tensor  # (B, vocab) log-probabilities of z_1 (LDM part only finite)
    outcome: Optional[torch.Tensor]  # (B,) P(side to move wins) from the outcome head, if any


def _choose(logits: torch.Tensor, temperature: float, generator: Optional[torch.Generator]) -> torch.Tensor:
    if temperature <= 0:
        # max(-1).indices: the same first maximal index as argmax (both documented so), 2.8x faster
        # on the CPU at (256, 9,214) frame rows, where argmax was 15 % of a 32-position batch
        return logits.max(-1).indices
    probs = torch.softmax(logits / temperature, -1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def _prefill(model: Transformer, vocab: CodeVocab, prefix: torch.Tensor
             ) -> tuple[list[KVCache], torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
    """Runs the prefix through the model into a new KV cache, set up for decoding.

    prefix (B, P) -> (the caches, z_1 logits over the LDM rows (B, Kz+1), z_1 log-probs over
    the whole vocabulary (B, V), outcome (B,) or None). The caches belong to this call, so
    concurrent calls on one model (the batcher's workers) do not share state."""
    b, p = prefix.shape
    ldm_rows = slice(vocab.ldm_offset, vocab.ldm_unk + 1)
    caches = model.new_caches(b)
    h_all = model.hidden(prefix, 0, caches)  # (B, P, dim)
    outcome = torch.sigmoid(model.outcome_logit(h_all[:, p - 2])) if model.outcome is not None else None
    logits = model.logits_rows(h_all[:, -1], ldm_rows).float()
    z1_logprobs = torch.full((b, vocab.size), float("-inf"), device=prefix.device)
    z1_logprobs[:, ldm_rows] = torch.log_softmax(logits, -1)
    return caches, logits, z1_logprobs, outcome


def _decode(model: Transformer, caches: list[KVCache], vocab: CodeVocab, z1: torch.Tensor, pos: int, horizon: int,
            temperature: float, generator: Optional[torch.Generator], slots: Optional[FrameSlots] = None
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """From z_1 (B,) at position ``pos`` (``caches`` hold everything before it): z_2..z_H,
    then x_{t+1}'s 16 tokens. Returns z (B, H) and frame (B, 16) vocabulary ids. ``slots``: frame
    token s is chosen among the codes its slot used in training video only (models/frame_slots.py)."""
    b = z1.shape[0]
    # only the rows of the kind that comes next are computed (ids = row + start)
    ldm_rows = slice(vocab.ldm_offset, vocab.ldm_unk + 1)
    frame_rows = slice(vocab.frame_offset, vocab.frame_unk + 1)

    def last_hidden(tokens: torch.Tensor, pos: int) -> torch.Tensor:
        return model.hidden(tokens, pos, caches)[:, -1]  # (B, dim)

    def frame_token(h: torch.Tensor, s: int) -> torch.Tensor:
        """(B, dim) -> (B,) vocabulary ids of frame slot s."""
        if slots is None:
            return _choose(model.logits_rows(h, frame_rows).float(), temperature, generator) + frame_rows.start
        w = slots.weights[s]  # (n_s, dim), the output layer's dtype
        logits = torch.nn.functional.linear(h.to(w.dtype), w).float()  # (B, n_s)
        return slots.ids[s][_choose(logits, temperature, generator)]

    z = [z1]
    for _ in range(horizon - 1):
        logits = model.logits_rows(last_hidden(z[-1][:, None], pos), ldm_rows).float()
        z.append(_choose(logits, temperature, generator) + ldm_rows.start)
        pos += 1
    bridge = torch.tensor([ACT_END, IM_START], device=z1.device).expand(b, 2)
    frame = [frame_token(last_hidden(torch.cat([z[-1][:, None], bridge], 1), pos), 0)]
    pos += 3
    for s in range(1, FRAME_TOKENS):
        frame.append(frame_token(last_hidden(frame[-1][:, None], pos), s))
        pos += 1
    return torch.stack(z, 1), torch.stack(frame, 1)


@torch.no_grad()
def imagine(model: Transformer, vocab: CodeVocab, prefix: torch.Tensor, horizon: int, temperature: float = 0.0,
            force_z1: Optional[torch.Tensor] = None, generator: Optional[torch.Generator] = None,
            prefill_only: bool = False, slots: Optional[FrameSlots] = None) -> Imagined:
    """prefix (B, P) ids ending with <act_start> -> Imagined (one KV-cached pass per token).

    ``prefill_only``: stop after the prefix (z_1's distribution and the outcome); z and frame
    come back empty. ``slots``: each frame token among its slot's codes (``_decode``)."""
    caches, logits, z1_logprobs, outcome = _prefill(model, vocab, prefix)
    if prefill_only:
        empty = prefix.new_zeros((prefix.shape[0], 0))
        return Imagined(empty, empty, z1_logprobs, outcome)
    z1 = force_z1 if force_z1 is not None else _choose(logits, temperature, generator) + vocab.ldm_offset
    z, frame = _decode(model, caches, vocab, z1, prefix.shape[1], horizon, temperature, generator, slots)
    return Imagined(z, frame, z1_logprobs, outcome)


@torch.no_grad()
def imagine_branches(model: Transformer, vocab: CodeVocab, prefix: torch.Tensor, horizon: int,
                     k: int, slots: Optional[FrameSlots] = None) -> tuple[Imagined, torch.Tensor, Imagined]:
    """The k most likely first codes of each prefix, each imagined to the end (greedy after z_1).

    prefix (B, P) -> (first: z_1 log-probs and outcome per prefix, top log-probs (B, k),
    branches: Imagined with B*k rows, prefix-major). The prefix is run once and its KV cache
    copied to the k branches (the same result as running prefix.repeat_interleave(k) again,
    at 1/(k+1) of the prefill work)."""
    caches, logits, z1_logprobs, outcome = _prefill(model, vocab, prefix)
    top_lp, top_z = z1_logprobs.topk(k, dim=-1)  # (B, k) vocabulary ids
    for cache in caches:
        cache.repeat_rows(k)  # (B*k, H, max_len, D), rows prefix-major
    z, frame = _decode(model, caches, vocab, top_z.reshape(-1), prefix.shape[1], horizon, 0.0, None, slots)
    first = Imagined(prefix.new_zeros((prefix.shape[0], 0)), prefix.new_zeros((prefix.shape[0], 0)), z1_logprobs, outcome)
    return first, top_lp, Imagined(z, frame, z1_logprobs.repeat_interleave(k, 0), None)
