"""The transformer with bf16 matrix products for inference: weights cast once, activations kept float32.

``torch.autocast`` casts every weight at every call: on a 32-position batch that copying took ~20 % of the
time and ate the bf16 GEMMs' gain (2026-12-06 profile, docs/benchmarks.md). Here each linear layer of
the blocks and the output layer keeps a bf16 copy of its weight; its input is rounded to bf16 for the
product and the result comes back as float32. The residual stream, the embeddings, the norms, RoPE,
the attention over the float32 KV cache (models/transformer.cached_attention) and the outcome head
stay float32, so only the products' inputs are rounded.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from models.transformer import Transformer


class Bf16Linear(nn.Module):
    """A bias-free ``nn.Linear`` whose product runs in bf16: (..., in) float32 -> (..., out) float32."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        if linear.bias is not None:
            raise ValueError("only the transformer's bias-free layers are cast")
        # a buffer, not a parameter: an inference copy that no optimiser should ever see
        self.register_buffer("weight", linear.weight.detach().to(torch.bfloat16).clone())  # (out, in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.to(torch.bfloat16), self.weight).to(x.dtype)


def bf16_matmuls(model: Transformer) -> Transformer:
    """A copy of ``model`` whose blocks' linear layers and output layer multiply in bf16 (the original
    is untouched: it stays the float32 network the tree search and training use)."""
    cast = copy.deepcopy(model).eval()
    for block in cast.layers:
        block.attn.wqkv = Bf16Linear(block.attn.wqkv)
        block.attn.wo = Bf16Linear(block.attn.wo)
        block.ffn.w13 = Bf16Linear(block.ffn.w13)
        block.ffn.w2 = Bf16Linear(block.ffn.w2)
    cast.output = Bf16Linear(cast.output)
    return cast
