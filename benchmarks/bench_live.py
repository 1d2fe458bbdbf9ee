"""What a live analysis's stream costs the search (engine/mc_live.py): simulations a second of the Monte Carlo
tree when it runs in one go (``TreeSearch.run`` with a budget) against the same tree growing the way GTP's
``lz-analyze N`` grows it (``LiveAnalysis.grow(interval)`` in 50 ms slices, the trees read and an Analysis built
after every interval), on the positions after 0, 20 and 60 seeded random moves of 9x9 and 13x13.

    .venv/bin/python benchmarks/bench_live.py [--seconds 3] [--interval 0.1] [--out benchmarks/results/live.json]

For each position, MoGo's playouts, one tree: the first analysis (``--playouts`` simulations, as genmove runs it),
then ``--seconds`` of growth both ways, alternated 3 times in the same process (a fresh search each time, so both
grow trees of the same size), and the ratio live / plain of their simulation rates. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=3.0, help="growth timed per run and way")
    p.add_argument("--interval", type=float, default=0.1, help="seconds between lines (lz-analyze 10 = 0.1)")
    p.add_argument("--playouts", type=int, default=2000, help="the first analysis's simulations")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "live.json")
    args = p.parse_args(argv)

    sys.path.insert(0, str(REPO))  # the repository's benchmarks/ as a package
    from benchmarks.bench_mc import positions
    from engine.mc_live import LiveAnalysis
    from engine.mc_player import ENDLESS
    from engine.mc_player import MonteCarloConfig, MonteCarloPlayer

    player = MonteCarloPlayer(MonteCarloConfig(playouts=args.playouts, tactical=True, patterns=True, stop_early=False))
    rows = []
    print(f"{'size':>4} {'moves':>5} {'plain/s':>10} {'live/s':>10} {'ratio':>7} {'lines':>6}")
    for size in (9, 13):
        for moves, game in zip((0, 20, 60), positions(size)):
            LiveAnalysis(player, game, game.to_play).grow(0.05)  # compile / load the kernels first
            plain, live = [], []
            for _ in range(args.rounds):
                a = LiveAnalysis(player, game, game.to_play)  # plain: the same trees, one run to the deadline
                before, began = a.simulations, time.monotonic()
                a.searches[0].run(ENDLESS, began + args.seconds)
                done = int(a.searches[0].root.total) - before
                plain.append(done / (time.monotonic() - began))
                b = LiveAnalysis(player, game, game.to_play)  # live: interval by interval, read after each
                before, began, lines = b.simulations, time.monotonic(), 0
                while time.monotonic() - began < args.seconds:
                    b.grow(args.interval)
                    lines += 1
                live.append((b.simulations - before) / (time.monotonic() - began))
            row = {"size": size, "moves": moves, "plain_sims_per_s": round(max(plain)),
                   "live_sims_per_s": round(max(live)), "ratio": round(max(live) / max(plain), 3),
                   "lines_per_run": lines}
            rows.append(row)
            print(f"{size:>4} {moves:>5} {row['plain_sims_per_s']:>10,} {row['live_sims_per_s']:>10,} "
                  f"{row['ratio']:>7.3f} {lines:>6}", flush=True)
    result = {"command": "benchmarks/bench_live.py", "args": {k: str(v) for k, v in vars(args).items()},
              "machine": platform.processor() or platform.machine(), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
