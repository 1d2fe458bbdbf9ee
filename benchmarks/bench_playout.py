"""Random playouts over the rules: what a playout, the search's 32-playout judge and the dead-stone
count cost, as ratios to the rules engine's ``legal_mask`` on the same positions (a reference run
in the same process, so the ratios hold across machines and load).

    .venv/bin/python benchmarks/bench_playout.py [--games 10] [--repeat 3] [--out benchmarks/results/playout.json]

Positions: moves 10, 30 and 50 of the first ``--games`` games of ``--sgf`` (default: the suite's
five arena games against GNU Go, tests/data/double_pass9.sgf: 15 positions). Uses only engine/deadstones'
``playout_wins`` and ``ownership``, which older commits have too, so the same script times them.
Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def positions(sgf_paths: list[str], games: int) -> list:
    from engine.sgf import parse_collection, record_to_game

    recs = []
    for path in sgf_paths:
        recs.extend(parse_collection(Path(path).read_bytes()))
    out = []
    for rec in recs[:games]:
        for upto in (10, 30, 50):
            if upto <= len(rec.moves):
                out.append(record_to_game(rec, upto=upto).position)
    return out


def best_of(fn, repeat: int) -> float:
    """Seconds of the fastest of ``repeat`` runs (the least disturbed by other processes)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sgf", nargs="*", default=[str(REPO / "tests" / "data" / "double_pass9.sgf")])
    ap.add_argument("--games", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "playout.json"))
    args = ap.parse_args()

    from engine.deadstones import DeadStoneConfig, ownership, playout_wins

    pos = positions(args.sgf, args.games)
    n = len(pos)
    legal = best_of(lambda: [p.legal_mask() for p in pos], args.repeat) / n
    rows = {
        "legal_mask (reference)": legal,
        "one playout": best_of(lambda: [playout_wins(p, p.to_play, 7.0, 1) for p in pos], args.repeat) / n,
        "playout_wins, 32 playouts": best_of(lambda: [playout_wins(p, p.to_play, 7.0, 32) for p in pos], args.repeat) / n,
        "ownership, 200 playouts": best_of(lambda: [ownership(p, DeadStoneConfig()) for p in pos], 1) / n,
    }
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    print(f"{n} positions, commit {commit}")
    print(f"{'what':<28} {'ms':>9} {'x legal_mask':>13}")
    for name, sec in rows.items():
        print(f"{name:<28} {sec * 1000:>9.3f} {sec / legal:>13.1f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({
        "commit": commit, "positions": n,
        "rows": {k: {"ms": round(v * 1000, 4), "ratio_to_legal_mask": round(v / legal, 2)} for k, v in rows.items()},
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
