"""Whether bf16 autocast pays on this machine: measured, not assumed.

CPUs differ by 100x here: one session's machine (AVX-512 with bf16 instructions) multiplied
bf16 matrices 4.4x faster than fp32, the next one's (AMD EPYC, no bf16 instructions) 60x
slower, which made a bf16 tokenizer step 6 s instead of 0.25 s (docs/training.md). The
recipe asks this probe before it turns autocast on.
"""

from __future__ import annotations

import time

import torch


def matmul_seconds(dtype: torch.dtype, device: torch.device | str = "cpu", n: int = 256, repeats: int = 20) -> float:
    """Best-of time of one (n, n) @ (n, n) product in ``dtype``."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    best = float("inf")
    for _ in range(repeats):
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        torch.mm(a, b)
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def bf16_speedup(device: torch.device | str = "cpu") -> float:
    """fp32 time / bf16 time for a small GEMM (> 1: bf16 is faster)."""
    torch.mm(torch.ones(8, 8, device=device), torch.ones(8, 8, device=device))  # warm the kernels up
    return matmul_seconds(torch.float32, device) / matmul_seconds(torch.bfloat16, device)


def bf16_pays(device: torch.device | str = "cpu", margin: float = 1.2) -> bool:
    """bf16 autocast only where its matmuls are clearly faster (the casts around them cost too)."""
    return bf16_speedup(device) > margin


def main() -> None:
    """``python -m models.train.precision [THREADS]`` prints true/false: the recipes' --set loop.bf16 value."""
    import sys

    if len(sys.argv) > 1:
        torch.set_num_threads(int(sys.argv[1]))
    print(str(bf16_pays()).lower())


if __name__ == "__main__":
    main()
