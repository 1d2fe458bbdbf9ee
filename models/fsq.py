"""Finite Scalar Quantization (Mentzer et al. 2023), as VideoWorld's tokenizer and LDM use it.

Each of ``len(levels)`` channels is squashed to a bounded range and rounded to one of
``levels[i]`` values; the tuple of rounded values is one code out of prod(levels)
(8*8*8*5*5*5 = 64,000 by default). No codebook, no commitment loss: rounding with a
straight-through gradient is the whole bottleneck.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class FSQ(nn.Module):
    """(..., D) continuous -> (..., D) quantized in [-1, 1]; codes <-> integer indices."""

    def __init__(self, levels: Sequence[int] = (8, 8, 8, 5, 5, 5)) -> None:
        super().__init__()
        self.levels_list = [int(l) for l in levels]
        lv = torch.tensor(self.levels_list, dtype=torch.long)
        basis = torch.cumprod(torch.cat([torch.ones(1, dtype=torch.long), lv[:-1]]), 0)
        # Buffers, not parameters: they travel with .to(device) and are not trained.
        self.register_buffer("levels", lv, persistent=False)
        self.register_buffer("basis", basis, persistent=False)

    @property
    def dim(self) -> int:
        return len(self.levels_list)

    @property
    def codebook_size(self) -> int:
        n = 1
        for l in self.levels_list:
            n *= l
        return n

    def _bound(self, z: torch.Tensor) -> torch.Tensor:
        # Squash to (-(L-1)/2, (L-1)/2) (+ half a step for even L so both ends are reachable).
        half_l = (self.levels.to(z.dtype) - 1) * (1 + 1e-3) / 2
        offset = torch.where(self.levels % 2 == 0, 0.5, 0.0).to(z.dtype)
        shift = torch.atanh(offset / half_l)
        return torch.tanh(z + shift) * half_l - offset

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Quantize; gradients pass straight through the rounding. Output in [-1, 1]."""
        bounded = self._bound(z.float())
        rounded = bounded + (torch.round(bounded) - bounded).detach()
        half_width = (self.levels // 2).to(rounded.dtype)
        return rounded / half_width

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:
        """(..., D) quantized values -> (...,) long in [0, codebook_size)."""
        half_width = (self.levels // 2).to(codes.dtype)
        digits = torch.round(codes * half_width + half_width).long()
        return (digits * self.basis).sum(-1)

    def indices_to_digits(self, idx: torch.Tensor) -> torch.Tensor:
        """(...,) long -> (..., D) long digits in [0, levels[i])."""
        return (idx.unsqueeze(-1) // self.basis) % self.levels

    def indices_to_codes(self, idx: torch.Tensor) -> torch.Tensor:
        """(...,) long -> (..., D) float quantized values in [-1, 1]."""
        half_width = (self.levels // 2).float()
        return (self.indices_to_digits(idx).float() - half_width) / half_width
