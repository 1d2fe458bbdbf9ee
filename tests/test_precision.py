"""The bf16 probe the training recipe asks before turning autocast on."""

from __future__ import annotations

import math

import torch

import models.train.precision as precision


def test_matmul_timing_is_measured_for_both_precisions():
    for dtype in (torch.float32, torch.bfloat16):
        t = precision.matmul_seconds(dtype, n=64, repeats=3)
        assert 0 < t < 10 and math.isfinite(t)
    assert precision.bf16_speedup() > 0


def test_bf16_is_chosen_only_when_clearly_faster(monkeypatch):
    # the two machines of docs/training.md: 4.4x faster (AVX-512 bf16) and 55x slower (no bf16 instructions)
    monkeypatch.setattr(precision, "bf16_speedup", lambda device="cpu": 4.4)
    assert precision.bf16_pays()
    monkeypatch.setattr(precision, "bf16_speedup", lambda device="cpu": 0.018)
    assert not precision.bf16_pays()
    monkeypatch.setattr(precision, "bf16_speedup", lambda device="cpu": 1.1)  # within the cast overhead
    assert not precision.bf16_pays()
