"""The transformer's vocabulary and the layout of one training sequence.

Ids: 5 special tokens, then the frame codes seen in the training video (FSQ ids,
sorted) and one "unknown frame code", then the LDM codes seen and one "unknown LDM
code". The paper's full product space (64,000 + 64,000) would make the output layer
alone 33M parameters at dim 256; the video of 9x9 boards uses a small part of it.

One example (context frames c >= 0, horizon H):

    [<im_start> x_{t-c} <im_end>] ... <im_start> x_t <im_end> <act_start> z_1 .. z_H <act_end> <im_start> x_{t+1} <im_end>

with the loss on z_1..z_H and on the 16 tokens of x_{t+1} only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

PAD, IM_START, IM_END, ACT_START, ACT_END = range(5)
N_SPECIAL = 5
FRAME_TOKENS = 16
IGNORE = -100


@dataclass
class CodeVocab:
    frame_codes: np.ndarray  # (Kx,) sorted raw FSQ ids of frame tokens
    ldm_codes: np.ndarray  # (Kz,) sorted raw FSQ ids of LDM codes

    def save(self, path) -> None:
        """The run's vocabulary file (``vocab.npz`` beside a transformer state)."""
        np.savez(path, frame_codes=self.frame_codes, ldm_codes=self.ldm_codes)

    @classmethod
    def load(cls, path) -> "CodeVocab":
        z = np.load(path)
        return cls(z["frame_codes"], z["ldm_codes"])

    @property
    def frame_offset(self) -> int:
        return N_SPECIAL

    @property
    def frame_unk(self) -> int:
        return N_SPECIAL + len(self.frame_codes)

    @property
    def ldm_offset(self) -> int:
        return self.frame_unk + 1

    @property
    def ldm_unk(self) -> int:
        return self.ldm_offset + len(self.ldm_codes)

    @property
    def size(self) -> int:
        return self.ldm_unk + 1

    def _to_ids(self, raw, codes: np.ndarray, offset: int, unk: int):
        raw_np = raw.cpu().numpy() if isinstance(raw, torch.Tensor) else np.asarray(raw)
        pos = np.searchsorted(codes, raw_np).clip(0, max(len(codes) - 1, 0))
        found = (codes[pos] == raw_np) if len(codes) else np.zeros(raw_np.shape, bool)
        ids = np.where(found, pos + offset, unk).astype(np.int64)
        return torch.from_numpy(ids).to(raw.device) if isinstance(raw, torch.Tensor) else ids

    def frame_ids(self, raw):
        """Raw FSQ frame-token ids -> vocabulary ids (unknown codes -> frame_unk)."""
        return self._to_ids(raw, self.frame_codes, self.frame_offset, self.frame_unk)

    def ldm_ids(self, raw):
        return self._to_ids(raw, self.ldm_codes, self.ldm_offset, self.ldm_unk)

    def frame_raw(self, ids: torch.Tensor) -> torch.Tensor:
        """Vocabulary ids -> raw FSQ ids (unknown -> the most common code 0 slot, i.e. codes[0])."""
        codes = torch.from_numpy(self.frame_codes).to(ids.device)
        return codes[(ids - self.frame_offset).clamp(0, len(self.frame_codes) - 1)]

    def ldm_raw(self, ids: torch.Tensor) -> torch.Tensor:
        codes = torch.from_numpy(self.ldm_codes).to(ids.device)
        return codes[(ids - self.ldm_offset).clamp(0, len(self.ldm_codes) - 1)]

    def kind_masks(self, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Additive logit masks (vocab,) for frame-token and LDM-code positions (0 allowed, -inf not)."""
        frame = torch.full((self.size,), float("-inf"), device=device)
        frame[self.frame_offset:self.frame_unk + 1] = 0
        ldm = torch.full((self.size,), float("-inf"), device=device)
        ldm[self.ldm_offset:self.ldm_unk + 1] = 0
        return frame, ldm

    def digit_table(self, frame_levels: tuple[int, ...], ldm_levels: tuple[int, ...]) -> tuple[torch.Tensor, int]:
        """(vocab, slots) long table of per-digit embedding ids (0 = none) and the digit vocabulary size.

        Frame codes and LDM codes get separate digit ids (their FSQ digits mean different things);
        special and unknown tokens get none.
        """
        slots = max(len(frame_levels), len(ldm_levels))
        table = np.zeros((self.size, slots), np.int64)
        nxt = 1
        for codes, offset, levels in ((self.frame_codes, self.frame_offset, frame_levels),
                                      (self.ldm_codes, self.ldm_offset, ldm_levels)):
            basis = np.cumprod([1, *levels[:-1]])
            digits = (codes[:, None] // basis) % np.array(levels)  # (K, len(levels))
            base = nxt + np.concatenate([[0], np.cumsum(levels[:-1])])  # first id of every digit slot
            table[offset:offset + len(codes), :len(levels)] = base + digits
            nxt += int(sum(levels))
        return torch.from_numpy(table), nxt

    def state(self) -> dict[str, torch.Tensor]:
        return {"vocab.frame_codes": torch.from_numpy(self.frame_codes.astype(np.int64)),
                "vocab.ldm_codes": torch.from_numpy(self.ldm_codes.astype(np.int64))}

    @classmethod
    def from_state(cls, state: dict) -> "CodeVocab":
        return cls(state["vocab.frame_codes"].cpu().numpy(), state["vocab.ldm_codes"].cpu().numpy())

    def rows_from(self, old: "CodeVocab") -> torch.Tensor:
        """(self.size,) long: for every id of this vocabulary, the id in ``old`` whose embedding row
        it inherits when a model trained on ``old`` is carried over to this one (a retrained
        tokenizer renames some frame codes): special tokens and codes both know keep their row,
        codes new to ``old`` (and the unknown ids) start from ``old``'s unknown id of their kind."""
        index = np.empty(self.size, np.int64)
        index[:N_SPECIAL] = np.arange(N_SPECIAL)
        index[self.frame_offset:self.frame_unk] = old.frame_ids(self.frame_codes)  # unseen -> old frame_unk
        index[self.frame_unk] = old.frame_unk
        index[self.ldm_offset:self.ldm_unk] = old.ldm_ids(self.ldm_codes)
        index[self.ldm_unk] = old.ldm_unk
        return torch.from_numpy(index)


@dataclass(frozen=True)
class Layout:
    """Positions inside one sequence; ``context`` earlier frames, ``horizon`` LDM codes."""

    context: int = 0
    horizon: int = 5

    @property
    def prefix(self) -> int:
        """Tokens before <act_start>: every frame block is <im_start> + 16 + <im_end>."""
        return (self.context + 1) * (FRAME_TOKENS + 2)

    @property
    def act_start(self) -> int:
        return self.prefix

    def z_pos(self, h: int) -> int:
        """Index of z_h (1-based h)."""
        return self.prefix + h

    @property
    def next_frame(self) -> int:
        """Index of the first token of x_{t+1}."""
        return self.prefix + self.horizon + 3

    @property
    def length(self) -> int:
        return self.next_frame + FRAME_TOKENS + 1


def frame_block(ids: torch.Tensor) -> torch.Tensor:
    """(B, 16) vocab ids -> (B, 18) with <im_start> .. <im_end>."""
    b = ids.shape[0]
    return torch.cat([ids.new_full((b, 1), IM_START), ids, ids.new_full((b, 1), IM_END)], 1)


def build_sequences(frames: torch.Tensor, z: torch.Tensor, layout: Layout) -> tuple[torch.Tensor, torch.Tensor]:
    """frames (B, context+2, 16) vocab ids (context..., x_t, x_{t+1}); z (B, H) vocab ids ->
    tokens (B, L) and targets (B, L) (IGNORE except where a code or a next-frame token is predicted)."""
    b = frames.shape[0]
    blocks = [frame_block(frames[:, i]) for i in range(layout.context + 1)]
    act = torch.cat([z.new_full((b, 1), ACT_START), z, z.new_full((b, 2), ACT_END)], 1)
    act[:, -1] = IM_START
    tokens = torch.cat(blocks + [act, frames[:, -1], frames.new_full((b, 1), IM_END)], 1)
    targets = torch.full_like(tokens, IGNORE)
    # the logit at position i predicts token i+1
    zs = slice(layout.z_pos(1), layout.z_pos(layout.horizon) + 1)
    targets[:, zs.start - 1:zs.stop - 1] = tokens[:, zs]
    nf = slice(layout.next_frame, layout.next_frame + FRAME_TOKENS)
    targets[:, nf.start - 1:nf.stop - 1] = tokens[:, nf]
    return tokens, targets
