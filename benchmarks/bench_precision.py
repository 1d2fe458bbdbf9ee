"""Two settings of the network's imagining side by side: speed per batch, and how often the move changes.

    .venv/bin/python benchmarks/bench_precision.py [--compare precision|frame_slots|attention] [--weights weights/9x9]
        [--positions 64] [--threads 1] [--batches 1,8,32] [--repeats 5]

``--compare precision`` (default): fp32 against bf16 products (``NeuralPlayer(precision=...)``,
models/low_precision.py; bf16 autocast until 2026-12-06);
``--compare frame_slots``: every frame code scored at every token slot against only the codes each slot
used in training video (``NeuralPlayer(frame_slots=...)``, models/frame_slots.py; the bundle must have
them); ``--compare attention``: the KV-cached attention by ``scaled_dot_product_attention`` (as until
2026-12-06) against the two float32 products of models/transformer.cached_attention. The player is the
bundle's (its board symmetries and branches, the network alone: no search),
fed test positions (every 3rd move of the test games, as benchmarks/bench_genmove.py) in batches of B
positions through ``NeuralPlayer.analyze_many``, the call the server's batcher makes. For each batch
size the two settings are timed alternately, batch after batch (the machine's speed drifts within a
session, so only ratios from one run mean anything); the figure is the median ms per batch. Then every
position is analyzed once in each setting and the moves compared: the share of identical chosen
moves, of identical raw (unmasked) moves, and the mean total-variation distance between the two move
distributions. Also prints ``models.train.precision.bf16_speedup()`` (a 256^3 GEMM), to say which
kind of machine the run was on. Writes benchmarks/results/{precision,frame_slots,attention}.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


# per comparison: label -> NeuralPlayer keyword arguments, the reference setting first
COMPARISONS = {"precision": {"fp32": {"precision": "fp32"}, "bf16": {"precision": "bf16"}},
               "frame_slots": {"all_codes": {"frame_slots": False}, "slot_codes": {"frame_slots": True}},
               "attention": {"sdpa": {}, "products": {}}}


def sdpa_attention(q, k, v):
    """The KV-cached attention as it was until 2026-12-06: ``scaled_dot_product_attention`` (the reference
    of ``--compare attention``; models/transformer.cached_attention is the two products that replaced it)."""
    import torch
    import torch.nn.functional as F

    t, length = q.shape[2], k.shape[2]
    mask = None if t == 1 else torch.ones(t, length, dtype=torch.bool, device=q.device).tril(diagonal=length - t)
    return F.scaled_dot_product_attention(q, k.to(q.dtype), v.to(q.dtype), attn_mask=mask)


def attention_for(compare: str, label: str):
    """The cached-attention function a setting runs with (only ``--compare attention`` changes it)."""
    import models.transformer as tr

    return sdpa_attention if (compare, label) == ("attention", "sdpa") else tr.cached_attention


def main(argv: list[str] | None = None) -> int:
    import sys

    sys.path.insert(0, str(REPO))  # run from a checkout without installing
    import torch

    from benchmarks.bench_genmove import test_positions
    from models.bundle import load_bundle
    from models.player import NeuralPlayer
    from models.train.precision import bf16_speedup

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", choices=tuple(COMPARISONS), default="precision")
    ap.add_argument("--weights", default="weights/9x9", help="model bundle, relative to the checkout or absolute")
    ap.add_argument("--positions", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", default="1,8,32", help="batch sizes (positions per analyze_many call)")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per batch size and precision")
    ap.add_argument("--out", type=Path, default=None,
                    help="default: benchmarks/results/precision.json or frame_slots.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out_path = args.out or REPO / "benchmarks" / "results" / f"{args.compare}.json"

    bundle = load_bundle(REPO / args.weights)  # an absolute path stays itself
    if args.compare == "frame_slots" and bundle.frame_slots is None:
        ap.error(f"{args.weights} has no frame slots (scripts/frame_slots.py adds them)")
    settings = tuple(COMPARISONS[args.compare])  # the two settings' labels, reference first
    players = {label: NeuralPlayer(bundle, **kw) for label, kw in COMPARISONS[args.compare].items()}
    games = test_positions(args.positions)
    requests = [(g, g.to_play) for g in games]
    sizes = [int(b) for b in args.batches.split(",")]
    if max(sizes) > len(requests):
        ap.error(f"--positions {len(requests)} is fewer than the largest batch {max(sizes)}")

    timing: dict[str, dict[int, list[float]]] = {p: {b: [] for b in sizes} for p in settings}
    import models.transformer as transformer_module

    attention = {p: attention_for(args.compare, p) for p in settings}

    def analyze(p: str, batch: list) -> list:
        transformer_module.cached_attention = attention[p]  # this process only, one setting at a time
        return players[p].analyze_many(batch)

    for p in settings:  # warm-up: first calls pay for allocations and the kernels' first use
        analyze(p, requests[:max(sizes)])
    for b in sizes:
        for r in range(args.repeats):
            start = (r * b) % (len(requests) - b + 1)
            batch = requests[start:start + b]
            for p in settings:
                t0 = time.perf_counter()
                analyze(p, batch)
                timing[p][b].append(time.perf_counter() - t0)

    chunks = [requests[i:i + max(sizes)] for i in range(0, len(requests), max(sizes))]
    out = {p: [a for c in chunks for a in analyze(p, c)] for p in settings}
    transformer_module.cached_attention = attention[settings[-1]]
    ref, alt = settings
    same_move = np.mean([a.move == b.move for a, b in zip(out[ref], out[alt])])
    same_raw = np.mean([a.raw_move == b.raw_move for a, b in zip(out[ref], out[alt])])
    tv = np.mean([0.5 * np.abs(a.probs - b.probs).sum() for a, b in zip(out[ref], out[alt])])

    gemm = bf16_speedup()
    rows = []
    for b in sizes:
        ms = {p: 1000 * float(np.median(timing[p][b])) for p in settings}
        rows.append({"batch": b, **{f"{p}_ms": round(ms[p], 1) for p in settings},
                     **{f"{p}_positions_per_s": round(1000 * b / ms[p], 1) for p in settings},
                     f"{ref}_over_{alt}": round(ms[ref] / ms[alt], 2)})
    one = {p: rows[0][f"{p}_positions_per_s"] for p in settings} if sizes[0] == 1 else None
    print(f"{len(requests)} test positions, {args.weights}, torch threads={args.threads}, "
          f"symmetries={players[ref].symmetries}, branches={players[ref].top_k}; "
          f"256^3 GEMM bf16 speed-up {gemm:.2f}x")
    print(f"| positions a batch | {ref} ms | {alt} ms | {ref} / {alt} | {ref} positions/s | {alt} positions/s |"
          + (f" {ref} over batch 1 | {alt} over batch 1 |" if one else ""))
    print("|---|---|---|---|---|---|" + ("---|---|" if one else ""))
    for r in rows:
        extra = "" if not one else "".join(f" {r[f'{p}_positions_per_s'] / one[p]:.2f}x |" for p in settings)
        print(f"| {r['batch']} | {r[f'{ref}_ms']:.1f} | {r[f'{alt}_ms']:.1f} | {r[f'{ref}_over_{alt}']:.2f} | "
              f"{r[f'{ref}_positions_per_s']:.1f} | {r[f'{alt}_positions_per_s']:.1f} |{extra}")
    print(f"same move {100 * same_move:.1f} %, same raw move {100 * same_raw:.1f} %, "
          f"mean total variation {tv:.4f} over {len(requests)} positions")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps({
        "compare": args.compare, "settings": list(settings),
        "weights": args.weights, "threads": args.threads, "positions": len(requests), "repeats": args.repeats,
        "symmetries": players[ref].symmetries, "branches": players[ref].top_k,
        "machine": platform.processor() or platform.machine(), "gemm_bf16_speedup": round(gemm, 2),
        "rows": rows, "same_move": round(float(same_move), 4), "same_raw_move": round(float(same_raw), 4),
        "mean_total_variation": round(float(tv), 5)}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
