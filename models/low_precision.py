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
import warnings

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


class Int8Linear(nn.Module):
    """A bias-free ``nn.Linear`` whose product runs on int8 (fbgemm/oneDNN dynamic quantization, CPU only):
    the weight is rounded once per output row to int8 (symmetric, scale = row max / 127); at each call the
    input is quantized to uint8 with its own range (per call, "dynamic") and the int32 product comes back
    as float32. (..., in) float32 -> (..., out) float32."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        if linear.bias is not None:
            raise ValueError("only the transformer's bias-free layers are cast")
        if linear.weight.device.type != "cpu":
            raise ValueError("int8 products run on the CPU only (fbgemm/oneDNN kernels)")
        w = linear.weight.detach().float()  # (out, in)
        scale = (w.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()  # (out,)
        zero = torch.zeros(w.shape[0], dtype=torch.long)
        with warnings.catch_warnings():
            # torch 2.13 marks the quantized-tensor constructors deprecated (moving to torchao); the
            # kernels are the ones quantize_dynamic uses, and torch is pinned (pyproject.toml)
            warnings.simplefilter("ignore")
            qweight = torch.quantize_per_channel(w, scale, zero, 0, torch.qint8)
            self._packed = torch.ops.quantized.linear_prepack(qweight, None)
        self.in_features, self.out_features = w.shape[1], w.shape[0]
        # a float32 copy of the rounded weight, for the few row subsets (logits_rows, frame slots) that
        # multiply by a slice of the output layer rather than the whole layer
        self.register_buffer("weight", qweight.dequantize())  # (out, in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        # reduce_range=True: 7-bit activations, so the u8 x s8 pair sums of the VNNI/AVX2 kernels cannot saturate
        y = torch.ops.quantized.linear_dynamic(x.reshape(-1, self.in_features).float(), self._packed, True)
        return y.reshape(*lead, self.out_features).to(x.dtype)


def int8_matmuls(model: Transformer) -> Transformer:
    """A copy of ``model`` whose blocks' linear layers multiply on int8 (``Int8Linear``) and whose output
    layer multiplies in bf16 (generation scores row subsets of it, which the packed int8 layer cannot
    slice; ``Bf16Linear``). The original is untouched."""
    cast = copy.deepcopy(model).eval()
    for block in cast.layers:
        block.attn.wqkv = Int8Linear(block.attn.wqkv)
        block.attn.wo = Int8Linear(block.attn.wo)
        block.ffn.w13 = Int8Linear(block.ffn.w13)
        block.ffn.w2 = Int8Linear(block.ffn.w2)
    cast.output = Bf16Linear(cast.output)
    return cast
