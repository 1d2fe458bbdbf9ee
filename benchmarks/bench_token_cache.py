"""What caching frames as tokens saves a transformer training step, on this machine.

    .venv/bin/python benchmarks/bench_token_cache.py [--threads 1] [--steps 10] [--weights weights/9x9]

One step of the shipped transformer stage needs a batch of 64 windows of 6 frames (x_t .. x_{t+5},
each in a random symmetry and colour view) as token ids. Two ways to get them, timed in the same
process next to the transformer's own forward + backward + AdamW step (compact size, 43 tokens):

- on the fly: render the 384 boards to 64-px frames and run the shipped tokenizer's encoder;
- from the token cache: index the (frames, 8 symmetries, 2 views, 16) id array (WindowSampler).

The LDM's codes are computed on the fly in both cases (models/train/transformer_stage.py
Batcher: decode the ids to frames, run the shipped LDM); that cost is timed too and counted in
both totals. Ratios to the transformer step are what to read
(machine load cancels out). Prints a table and writes benchmarks/results/token_cache.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parent.parent
BATCH, FRAMES = 64, 6  # windows per step, frames per window (horizon 5 + 1)


def median_seconds(fn, steps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    from models.bundle import load_bundle
    from models.ldm import ldm_codes
    from models.token_cache import TokenCache
    from models.train.windows import WindowSampler
    from models.transformer import ModelArgs, Transformer
    from models.video_data import random_boards, swap_colours, symmetry
    from render.frame import RenderConfig, render_many, to_float

    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--weights", default=str(REPO / "weights" / "9x9"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.weights)
    tokenizer = bundle.tokenizer.eval()
    rcfg = RenderConfig(resolution=tokenizer.cfg.resolution)
    rng = np.random.default_rng(0)

    def on_the_fly() -> None:
        boards = random_boards(rng, BATCH * FRAMES, bundle.board_size)  # (384, N, N)
        boards = np.stack([symmetry(b, int(k)) for b, k in zip(boards, rng.integers(0, 8, len(boards)))])
        boards[: len(boards) // 2] = swap_colours(boards[: len(boards) // 2])
        frames = torch.from_numpy(to_float(render_many(boards, rcfg))).permute(0, 3, 1, 2).contiguous()
        with torch.no_grad():
            tokenizer.encode(frames)  # (384, 16) ids

    # a cache shaped like the snapE training split's (2,636 games, ~65 frames each)
    games, per_game = 2636, 65
    tokens = rng.integers(0, 64000, size=(games * per_game, 8, 2, 16), dtype=np.int32)
    cache = TokenCache(tokens, np.arange(games + 1) * per_game, np.zeros(games, np.int16), ["katago9"])
    sampler = WindowSampler(cache, FRAMES)

    def from_cache() -> None:
        sampler.sample(rng, BATCH)  # (64, 6, 16)

    real_ids = torch.from_numpy(sampler.sample(rng, BATCH))  # (64, 6, 16): any ids the tokenizer can decode

    def ldm_step() -> None:
        with torch.no_grad():
            ldm_codes(bundle.dynamics, tokenizer, real_ids)  # (64, 5)

    targs = ModelArgs.from_name("compact", vocab_size=bundle.vocab.size, max_seq_len=43)
    model = Transformer(targs)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    seq = torch.randint(0, bundle.vocab.size, (BATCH, 43))

    def transformer_step() -> None:
        loss = F.cross_entropy(model(seq).float().reshape(-1, bundle.vocab.size), seq.roll(-1, 1).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    step = median_seconds(transformer_step, args.steps)
    ldm = median_seconds(ldm_step, args.steps)
    fly = median_seconds(on_the_fly, args.steps)
    cached = median_seconds(from_cache, args.steps)
    rows = [{"what": "transformer step (fwd+bwd+AdamW)", "seconds": step, "ratio_to_step": 1.0},
            {"what": "LDM codes of the batch (both ways)", "seconds": ldm, "ratio_to_step": ldm / step},
            {"what": "384 frames rendered + encoded on the fly", "seconds": fly, "ratio_to_step": fly / step},
            {"what": "64 windows from the token cache", "seconds": cached, "ratio_to_step": cached / step}]
    print(f"threads={args.threads}, median of {args.steps} steps")
    print("| per training step | ms | x transformer step |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r['what']} | {r['seconds'] * 1e3:.1f} | {r['ratio_to_step']:.3f} |")
    print(f"training step with frames encoded on the fly / with the cache: "
          f"{(step + ldm + fly) / (step + ldm + cached):.2f}x slower")
    out = REPO / "benchmarks" / "results" / "token_cache.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": args.threads, "steps": args.steps, "rows": rows,
                               "slowdown_without_cache": (step + ldm + fly) / (step + ldm + cached)}, indent=2) + "\n")


if __name__ == "__main__":
    main()
