"""Training throughput on this machine, as a share of its own measured matmul rate.

    .venv/bin/python benchmarks/bench_training.py [--threads N] [--steps S] [--size small|base|...]

For fp32 and bf16 (autocast): the machine's matmul rate (1024x1024 GEMMs, GFLOP/s), then
training steps of a transformer size (default "small", 43-token sequences, batch 64) and
of the tokenizer (64-px frames, batch 48); a third row runs the transformer's step as
``loop.compile=true loop.fused_optimizer=true loop.bf16=true`` do (torch.compile of the
forward, AdamW's fused kernel; the compilation is outside the timed steps). Transformer
FLOPs per token are estimated as 6 x (non-embedding parameters + output layer) + attention;
the share is achieved FLOP/s divided by the matmul rate measured in the same process (so
machine load cancels out).
Prints a table and writes benchmarks/results/training.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def matmul_gflops(dtype: torch.dtype, seconds: float = 2.0, n: int = 1024) -> float:
    a = torch.randn(n, n, dtype=dtype)
    b = torch.randn(n, n, dtype=dtype)
    torch.mm(a, b)
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        torch.mm(a, b)
        count += 1
    return 2 * n**3 * count / (time.perf_counter() - t0) / 1e9


def transformer_rate(bf16: bool, steps: int, size: str = "small", vocab: int = 6000, fast: bool = False) -> dict:
    from models.transformer import ModelArgs, Transformer

    args = ModelArgs.from_name(size, vocab_size=vocab, max_seq_len=43)
    model = Transformer(args)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True if fast else None)
    forward = torch.compile(model) if fast else model
    tokens = torch.randint(0, vocab, (64, 43))
    untimed = 3 if fast else 1  # warm-up steps; compiled, the first ones compile (forward, backward)
    times = []
    for i in range(steps + untimed):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = forward(tokens)
        loss = F.cross_entropy(logits.float().reshape(-1, vocab), tokens.roll(-1, 1).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= untimed:
            times.append(time.perf_counter() - t0)
    step_s = sorted(times)[len(times) // 2]
    n_params = sum(p.numel() for n, p in model.named_parameters() if "tok_embeddings" not in n)
    flops_per_token = 6 * n_params + 12 * args.n_layers * args.dim * 43
    tok_s = 64 * 43 / step_s
    return {"step_s": step_s, "tokens_per_s": tok_s, "gflops": flops_per_token * tok_s / 1e9, "params": n_params}


def tokenizer_rate(bf16: bool, steps: int) -> dict:
    from models.tokenizer import FrameTokenizer, TokenizerConfig, reconstruction_loss

    model = FrameTokenizer(TokenizerConfig())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.rand(48, 3, 64, 64) * 2 - 1
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            r = model(x)
        loss = reconstruction_loss(r.float(), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    step_s = sorted(times)[len(times) // 2]
    return {"step_s": step_s, "frames_per_s": 48 / step_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--size", default="small", help="transformer size (models/transformer.py TRANSFORMER_SIZES)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "training.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name, dtype, bf16 in (("fp32", torch.float32, False), ("bf16", torch.bfloat16, True)):
        mm = matmul_gflops(dtype)
        tr = transformer_rate(bf16, args.steps, args.size)
        tk = tokenizer_rate(bf16, args.steps)
        rows.append({"precision": name, "matmul_gflops": mm, "transformer": tr, "tokenizer": tk,
                     "transformer_share_of_matmul": tr["gflops"] / mm})
    mm = rows[1]["matmul_gflops"]  # the compiled bf16 step against the bf16 rate measured above
    tr = transformer_rate(True, args.steps, args.size, fast=True)
    rows.append({"precision": "bf16 + compile + fused AdamW", "matmul_gflops": mm, "transformer": tr,
                 "tokenizer": None, "transformer_share_of_matmul": tr["gflops"] / mm})
    print(f"threads={args.threads} size={args.size}")
    print("| precision | matmul GFLOP/s | transformer tokens/s | transformer GFLOP/s | share of matmul | tokenizer frames/s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        tk = "-" if r["tokenizer"] is None else f"{r['tokenizer']['frames_per_s']:.0f}"
        print(f"| {r['precision']} | {r['matmul_gflops']:.1f} | {r['transformer']['tokens_per_s']:.0f} | "
              f"{r['transformer']['gflops']:.1f} | {r['transformer_share_of_matmul']:.2f} | {tk} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": args.threads, "size": args.size, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
