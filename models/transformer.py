"""Llama-style autoregressive transformer over frame tokens and latent (LDM) codes.

RMSNorm, rotary position embeddings (base 10000), SiLU-gated MLP, no biases, tied
nothing; a KV cache for generation (generation itself lives in models/generate.py).

Vocabulary (see models/vocab.py): special tokens, then the frame codes seen in the
training video (+ one unknown-frame-code id), then the LDM codes seen (+ unknown).
An output position of a given kind (frame token or LDM code) only competes within its
own part of the vocabulary: ``kind_mask`` adds -inf elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ModelArgs:
    vocab_size: int = 0  # set from the vocabulary when the model is built
    dim: int = 256
    n_layers: int = 6
    n_heads: int = 8
    mlp_ratio: float = 8 / 3  # SwiGLU hidden = ratio * dim, rounded up to a multiple of 32
    max_seq_len: int = 128
    rope_base: float = 10000.0
    norm_eps: float = 1e-5
    outcome_head: bool = True  # iVideoGPT-style head on the last frame token: P(side to move wins)
    # Factorised code embeddings (0: off): a token's input embedding also sums one embedding per
    # FSQ digit of its code (models/vocab.py digit_table), so a frame code seen rarely still shares
    # what its digits mean with frequent ones. Output logits stay over whole codes.
    digit_vocab: int = 0
    digit_slots: int = 6

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    @property
    def hidden(self) -> int:
        return int(math.ceil(self.mlp_ratio * self.dim / 32) * 32)

    @classmethod
    def from_name(cls, name: str, **kw) -> "ModelArgs":
        return cls(**{**TRANSFORMER_SIZES[name], **kw})


TRANSFORMER_SIZES = {
    "tiny": dict(dim=32, n_layers=2, n_heads=2),  # tests
    "tiny4": dict(dim=32, n_layers=4, n_heads=2),  # tests: tiny grown deeper
    "compact": dict(dim=128, n_layers=4, n_heads=4),  # ~0.8M + embeddings: the first shipped model (1 CPU core, <1 h)
    "compact8": dict(dim=128, n_layers=8, n_heads=4),  # compact grown twice as deep (models/deepen.py)
    "small": dict(dim=192, n_layers=4, n_heads=6),  # ~1.8M + embeddings
    "base": dict(dim=256, n_layers=6, n_heads=8),
    "50M": dict(dim=512, n_layers=16, n_heads=8),  # the paper's smallest size (GPU)
}


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope_tables(args: ModelArgs, device=None) -> torch.Tensor:
    """(max_seq_len, head_dim/2, 2): (cos, sin) of each position's angle per pair of dims."""
    inv = 1.0 / (args.rope_base ** (torch.arange(0, args.head_dim, 2, device=device).float() / args.head_dim))
    angles = torch.outer(torch.arange(args.max_seq_len, device=device).float(), inv)
    return torch.stack([angles.cos(), angles.sin()], -1)


def apply_rope(x: torch.Tensor, rope: torch.Tensor) -> torch.Tensor:
    """x (B, H, T, D); rope (T, D/2, 2) from ``rope_tables``: rotate pairs (even, odd) of dims.

    As a complex product, (x1 + i x2)(cos + i sin) = (x1 cos - x2 sin) + i (x1 sin + x2 cos):
    one kernel instead of slices, four products and a stack (4x faster at 64 decode rows).
    The table stays real (a buffer DDP can broadcast; read as float32 even if the model was cast);
    the complex view costs nothing."""
    xc = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))  # (B, H, T, D/2)
    return torch.view_as_real(xc * torch.view_as_complex(rope.float())).flatten(-2).type_as(x)


class KVCache:
    """Per-layer keys/values for batched incremental decoding: (B, H, max_len, D).

    Owned by one generation call, not by the model (``Transformer.new_caches``): the weights
    are then read-only during inference, so several threads may decode with one model."""

    def __init__(self, batch: int, args: ModelArgs, device=None, dtype=torch.float32) -> None:
        shape = (batch, args.n_heads, args.max_seq_len, args.head_dim)
        # uninitialised: attention reads only positions < pos + t, all written by update()
        self.k = torch.empty(shape, device=device, dtype=dtype)
        self.v = torch.empty(shape, device=device, dtype=dtype)
        self.filled = 0  # positions written so far

    def update(self, pos: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = k.shape[2]
        if pos > self.filled:
            raise ValueError(f"cache holds {self.filled} positions, cannot write at {pos}")
        self.k[:, :, pos:pos + t] = k
        self.v[:, :, pos:pos + t] = v
        self.filled = pos + t
        return self.k[:, :, :pos + t], self.v[:, :, :pos + t]

    def repeat_rows(self, k: int) -> None:
        """Each row becomes k consecutive rows (B -> B*k): branches that share a prefix.
        Only the written positions are copied (one broadcast copy, not the whole max_len)."""
        b, h, length, d = self.k.shape
        for name in ("k", "v"):
            old = getattr(self, name)
            new = old.new_empty((b * k, h, length, d))
            new.view(b, k, h, length, d)[:, :, :, :self.filled] = old[:, None, :, :self.filled]
            setattr(self, name, new)


class Attention(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.args = args
        self.wqkv = nn.Linear(args.dim, 3 * args.dim, bias=False)
        self.wo = nn.Linear(args.dim, args.dim, bias=False)

    def forward(self, x: torch.Tensor, rope: torch.Tensor, cache: Optional[KVCache], pos: int) -> torch.Tensor:
        b, t, _ = x.shape
        h, d = self.args.n_heads, self.args.head_dim
        q, k, v = self.wqkv(x).view(b, t, 3, h, d).permute(2, 0, 3, 1, 4)  # each (B, H, T, D)
        q, k = apply_rope(q, rope), apply_rope(k, rope)
        if cache is None:  # training (or a whole sequence at once): causal
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            k, v = cache.update(pos, k.to(cache.k.dtype), v.to(cache.v.dtype))  # (B, H, pos + T, D)
            out = cached_attention(q, k, v).to(x.dtype)
        return self.wo(out.transpose(1, 2).reshape(b, t, h * d))


def cached_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """q (B, H, T, D) the new tokens, k/v (B, H, L, D) the cache including them -> (B, H, T, D), float32.

    Inference only (no backward needed): two batched products and a float32 softmax. On the CPU,
    ``scaled_dot_product_attention``'s flash kernel spent ~3.5 ms a call on a decoding step of 256
    rows x 8 heads (one query over ~40 keys: a few MFLOP), 20 % of a 32-position batch; the products
    ~2.6 ms (reading the cache bounds them): a batch 1.05-1.08x faster, the same moves
    (docs/benchmarks.md). Computed in float32 whatever the weights' dtype (the cache is float32), so
    bf16 weights round the projections, not the attention."""
    t, length = q.shape[2], k.shape[2]
    scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) * q.shape[-1] ** -0.5  # (B, H, T, L)
    if t > 1:  # causal within the new tokens, all of the cached past visible
        future = torch.ones(t, length, dtype=torch.bool, device=q.device).triu(diagonal=length - t + 1)
        scores = scores.masked_fill(future, float("-inf"))
    return torch.matmul(torch.softmax(scores, -1), v.float())


class FeedForward(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.w13 = nn.Linear(args.dim, 2 * args.hidden, bias=False)
        self.w2 = nn.Linear(args.hidden, args.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.w13(x).chunk(2, dim=-1)
        return self.w2(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(args.dim, args.norm_eps)
        self.attn = Attention(args)
        self.ffn_norm = RMSNorm(args.dim, args.norm_eps)
        self.ffn = FeedForward(args)

    def forward(self, x, rope, cache, pos):
        x = x + self.attn(self.attn_norm(x), rope, cache, pos)
        return x + self.ffn(self.ffn_norm(x))


class Transformer(nn.Module):
    def __init__(self, args: ModelArgs, digit_table: Optional[torch.Tensor] = None) -> None:
        """``digit_table`` (vocab_size, digit_slots) long, from ``CodeVocab.digit_table``; needed when
        ``args.digit_vocab`` > 0 (a loaded state dict brings its own)."""
        super().__init__()
        if args.vocab_size <= 0:
            raise ValueError("ModelArgs.vocab_size must be set from the vocabulary")
        self.args = args
        self.tok_embeddings = nn.Embedding(args.vocab_size, args.dim)
        self.digit_embeddings = None
        if args.digit_vocab:
            self.digit_embeddings = nn.Embedding(args.digit_vocab, args.dim, padding_idx=0)
            table = torch.zeros(args.vocab_size, args.digit_slots, dtype=torch.long) if digit_table is None else digit_table
            if tuple(table.shape) != (args.vocab_size, args.digit_slots) or int(table.max()) >= args.digit_vocab:
                raise ValueError(f"digit table {tuple(table.shape)} does not fit the model's arguments")
            self.register_buffer("digit_table", table.long().clone())
        self.layers = nn.ModuleList(Block(args) for _ in range(args.n_layers))
        self.norm = RMSNorm(args.dim, args.norm_eps)
        self.output = nn.Linear(args.dim, args.vocab_size, bias=False)
        self.outcome = nn.Linear(args.dim, 1) if args.outcome_head else None
        self.register_buffer("rope", rope_tables(args), persistent=False)  # (max_len, head_dim/2, 2)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
            if getattr(m, "padding_idx", None) is not None:
                nn.init.zeros_(m.weight[m.padding_idx])

    def new_caches(self, batch: int, dtype=torch.float32) -> list[KVCache]:
        """One empty KV cache per layer for ``batch`` rows, to pass to ``hidden``/``forward``."""
        dev = self.tok_embeddings.weight.device
        return [KVCache(batch, self.args, dev, dtype) for _ in self.layers]

    def hidden(self, tokens: torch.Tensor, pos: int = 0, caches: Optional[list[KVCache]] = None) -> torch.Tensor:
        """(B, T) ids -> (B, T, dim) final-norm hidden states; with ``caches`` (from ``new_caches``),
        the tokens start at ``pos`` and see everything cached before it, and are added to it."""
        t = tokens.shape[1]
        if pos + t > self.args.max_seq_len:
            raise ValueError(f"sequence of {pos + t} exceeds max_seq_len {self.args.max_seq_len}")
        rope = self.rope[pos:pos + t]
        x = self.tok_embeddings(tokens)
        if self.digit_embeddings is not None:
            x = x + self.digit_embeddings(self.digit_table[tokens]).sum(-2)  # (B, T, slots, dim) -> (B, T, dim)
        for i, layer in enumerate(self.layers):
            x = layer(x, rope, None if caches is None else caches[i], pos)
        return self.norm(x)

    def forward(self, tokens: torch.Tensor, pos: int = 0, caches: Optional[list[KVCache]] = None,
                select: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, T) -> (B, T, vocab) logits for the next token at every position, or only at the
        positions in ``select`` (K,) -> (B, K, vocab): training needs 21 of ~43."""
        h = self.hidden(tokens, pos, caches)
        return self.output(h if select is None else h[:, select])

    def logits_rows(self, hidden: torch.Tensor, rows: slice) -> torch.Tensor:
        """(..., dim) -> (..., rows) logits of the vocabulary ids ``rows`` only: generation knows
        which kind of token comes next, so it skips the rest of the output layer."""
        w = self.output.weight[rows]  # (rows, dim): float32, or bf16 in models/low_precision's copy
        return F.linear(hidden.to(w.dtype), w).to(hidden.dtype)

    def outcome_logit(self, hidden: torch.Tensor) -> torch.Tensor:
        """(..., dim) hidden states -> (...,) logit of P(the side to move wins)."""
        if self.outcome is None:
            raise RuntimeError("model built without an outcome head")
        return self.outcome(hidden).squeeze(-1)
