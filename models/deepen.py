"""Grow a trained transformer deeper without changing what it computes (Net2Net-style).

A pre-norm residual block whose two output projections (attention ``wo``, MLP ``w2``) are zero
adds nothing to the residual stream: x + 0 + 0. Interleaving such blocks with the trained ones
gives a deeper model that starts as the trained one's exact function and can only be improved
by training; the new blocks' other weights keep their random init so gradients reach them as
soon as their output projections move off zero.
"""

from __future__ import annotations

import re

import torch

_LAYER = re.compile(r"^layers\.(\d+)\.(.+)$")


def old_layer_positions(n_old: int, n_new: int) -> list[int]:
    """Where the trained blocks go in the deeper stack: spread evenly, the first at 0.
    4 -> 8 gives [0, 2, 4, 6] (each trained block followed by a new one)."""
    if n_old < 1 or n_new < n_old:
        raise ValueError(f"cannot deepen {n_old} blocks into {n_new}")
    return [(i * n_new) // n_old for i in range(n_old)]


def deepen_state(weights: dict, fresh: dict) -> dict:
    """A trained state dict with n_old blocks -> one for a model with the blocks of ``fresh``
    (that model's own freshly initialised state dict, n_new >= n_old blocks).

    Non-block tensors (embeddings, output, final norm, outcome head) come from ``weights``;
    block i of ``weights`` becomes block old_layer_positions()[i]; every other block is ``fresh``'s
    with its ``attn.wo`` and ``ffn.w2`` zeroed, so the grown model's logits equal the trained one's.
    """
    def n_layers(state: dict) -> int:
        return 1 + max(int(m.group(1)) for k in state if (m := _LAYER.match(k)))

    n_old, n_new = n_layers(weights), n_layers(fresh)
    where = dict(zip(old_layer_positions(n_old, n_new), range(n_old)))  # new index -> old index
    out = {}
    for key, value in fresh.items():
        m = _LAYER.match(key)
        if m is None:
            out[key] = weights[key].clone()
            continue
        i, rest = int(m.group(1)), m.group(2)
        if i in where:
            out[key] = weights[f"layers.{where[i]}.{rest}"].clone()
        elif rest in ("attn.wo.weight", "ffn.w2.weight"):
            out[key] = torch.zeros_like(value)
        else:
            out[key] = value.clone()
    return out
