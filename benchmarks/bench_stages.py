"""Where the network player's time goes, by batch size: the stages of ``NeuralPlayer.analyze_many``.

    .venv/bin/python benchmarks/bench_stages.py [--weights weights/9x9] [--batches 1,8,16,32] [--threads 1]

Positions: every third move of the test split's games (bench_genmove.test_positions), the
first B of them per batch. Each stage is timed by wrapping the function that runs it (restored
afterwards): the tokenizer's encoding of the S board views, the transformer's prefill and the rest
of its imagining (the code and frame tokens, one KV-cached step each), the IDM, the value model's
winrate, the imagined frame's decoding for GUIs, and the per-position finish (legal mask, rendering
of the imagined board). Milliseconds per position, mean over repeated calls after two warm-ups.

A second table times one linear layer of the transformer's sizes at the row counts a batch gives
(a lone position is 8 rows, one per view): the multiply's rate in GFLOP/s, i.e. how much less of
the core's rate a lone position's small matrices get than a full batch's.

Prints both tables and writes benchmarks/results/stages.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import platform
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

STAGES = ("encode", "prefill", "imagine_rest", "idm", "value", "frame_decode", "finish")


@contextmanager
def timed(owner, name: str, key: str, totals: dict):
    """Replace ``owner.name`` by a wrapper adding its wall time to ``totals[key]``."""
    original = getattr(owner, name)
    own = name in vars(owner)  # a class may inherit it (nn.Module.__call__): then delete, not overwrite

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - t0

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        if own:
            setattr(owner, name, original)
        else:
            delattr(owner, name)


def stage_times(player, games: list, batches: list[int], calls_per_position: int = 48) -> list[dict]:
    from contextlib import ExitStack

    import models.generate as generate
    import models.player as mp

    rows = []
    for b in batches:
        requests = [(g, g.to_play) for g in games[:b]]
        totals: dict[str, float] = collections.defaultdict(float)
        with ExitStack() as stack:
            for owner, name, key in ((mp, "encode_boards", "encode"), (mp, "imagine_branches", "imagine"),
                                     (generate, "_prefill", "prefill"), (mp, "view_mean", "value"),
                                     (mp.NeuralPlayer, "_finish", "finish"),
                                     (type(player.bundle.idm), "__call__", "idm"),
                                     (type(player.bundle.tokenizer), "decode", "frame_decode")):
                stack.enter_context(timed(owner, name, key, totals))
            for _ in range(2):
                player.analyze_many(requests)
            totals.clear()
            calls = max(3, calls_per_position // b)
            t0 = time.perf_counter()
            for _ in range(calls):
                player.analyze_many(requests)
            total = time.perf_counter() - t0
        per = {k: v / calls / b * 1000 for k, v in totals.items()}
        per["imagine_rest"] = per.pop("imagine", 0.0) - per.get("prefill", 0.0)
        row = {"positions": b, "rows": b * player.symmetries * player.top_k, "calls": calls,
               "ms_per_position": total / calls / b * 1000}
        row.update({k: per.get(k, 0.0) for k in STAGES})
        row["other"] = row["ms_per_position"] - sum(per.get(k, 0.0) for k in STAGES)
        rows.append(row)
    return rows


def linear_rates(dim: int, outs: dict[str, int], row_counts: list[int], repeats: int = 200) -> list[dict]:
    """GFLOP/s of one (rows, 1, dim) x (out, dim) linear, as a decoding step runs it."""
    import torch
    import torch.nn.functional as F

    out = []
    for rows in row_counts:
        x = torch.randn(rows, 1, dim)
        row = {"rows": rows}
        for name, o in outs.items():
            w = torch.randn(o, dim)
            for _ in range(5):
                F.linear(x, w)
            t0 = time.perf_counter()
            for _ in range(repeats):
                F.linear(x, w)
            dt = (time.perf_counter() - t0) / repeats
            row[name] = {"us": dt * 1e6, "gflops": 2 * rows * o * dim / dt / 1e9}
        out.append(row)
    return out


def main() -> None:
    import sys

    import torch

    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_genmove import test_positions

    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=str(REPO / "weights" / "9x9"))
    ap.add_argument("--batches", default="1,8,16,32", help="positions per analyze_many call")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "stages.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]
    bundle = load_bundle(args.weights)
    player = NeuralPlayer(bundle)
    games = test_positions(max(batches))
    rows = stage_times(player, games, batches)
    targs = bundle.transformer.args
    sizes = {"wqkv": 3 * targs.dim, "w13": 2 * bundle.transformer.layers[0].ffn.w2.in_features,
             "frame slot": 2800}
    rates = linear_rates(targs.dim, sizes, sorted({1, 8, 64, 128, 256} | {r["rows"] for r in rows}))

    cols = ("ms_per_position",) + STAGES + ("other",)
    print(f"NeuralPlayer.analyze_many, {player.symmetries} views x {player.top_k} branches, "
          f"torch threads={args.threads}; ms per position")
    print("| positions (rows) | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for r in rows:
        print(f"| {r['positions']} ({r['rows']}) | " + " | ".join(f"{r[c]:.1f}" for c in cols) + " |")
    print("\none decoding step's linear layer, GFLOP/s (us)")
    print("| rows | " + " | ".join(f"{k} ({targs.dim} -> {v})" for k, v in sizes.items()) + " |")
    print("|---" * (len(sizes) + 1) + "|")
    for r in rates:
        print(f"| {r['rows']} | " + " | ".join(f"{r[k]['gflops']:.1f} ({r[k]['us']:.0f})" for k in sizes) + " |")
    result = {"weights": args.weights, "threads": args.threads, "symmetries": player.symmetries,
              "branches": player.top_k, "machine": platform.processor() or platform.machine(),
              "stages_ms_per_position": rows, "linear_rates": rates}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
