"""The Monte Carlo fallback's move time: flat (AMAF) against the tree search with RAVE, per board size.

    .venv/bin/python benchmarks/bench_mc.py [--playouts 1500] [--out benchmarks/results/mc.json]

Positions per size: the empty board and the positions after 20 and 60 moves of a game between two
seeded random players. Each figure is one genmove's seconds (the searches are deterministic, so a
run repeats the same work) and, as a ratio that holds across machines and load, that time over one
light playout from the same position timed in the same process (the best of 20), so "x playout"
is about how many playouts' worth of work a move costs. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def positions(size: int) -> list:
    """The empty board, then the positions after 20 and 60 random moves (seeded)."""
    from engine.game import Game
    from engine.player import RandomPlayer

    game, player, out = Game(size, 7.0), RandomPlayer(seed=size), []
    for upto in (0, 20, 60):
        while game.move_number < upto:
            game.play(player.genmove(game, game.to_play), game.to_play)
        out.append(Game(size, 7.0))
        out[-1].setup(*stones(game.position), game.to_play)
    return out


def stones(position) -> tuple[list, list]:
    from engine.coords import BLACK, WHITE

    size = position.size
    black = [divmod(p, size) for p in range(size * size) if position.stones[p] == BLACK]
    white = [divmod(p, size) for p in range(size * size) if position.stones[p] == WHITE]
    return black, white


def one_playout(game) -> float:
    """Seconds of the fastest of 20 light playouts from ``game``'s position."""
    import random

    from engine.playout import playout

    rng, best = random.Random(0), float("inf")
    for _ in range(20):
        t = time.perf_counter()
        playout(game.position.stones, game.size, game.to_play, rng)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[9, 13, 19])
    ap.add_argument("--playouts", type=int, default=1500)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "mc.json"))
    args = ap.parse_args()

    from engine.mc_player import SEARCHES, MonteCarloConfig, MonteCarloPlayer

    rows = []
    for size in args.sizes:
        for game, upto in zip(positions(size), (0, 20, 60)):
            reference = one_playout(game)
            row = {"size": size, "after_moves": upto, "playout_ms": round(reference * 1e3, 3)}
            for search in SEARCHES:
                player = MonteCarloPlayer(MonteCarloConfig(playouts=args.playouts, search=search))
                t = time.perf_counter()
                player.genmove(game, game.to_play)
                seconds = time.perf_counter() - t
                row[search] = {"seconds": round(seconds, 3), "x_playout": round(seconds / reference, 1)}
            rows.append(row)
    header = f"{'size':>4} {'moves':>5} {'playout ms':>10} " + " ".join(f"{s + ' s (x playout)':>22}" for s in SEARCHES)
    print(header)
    for r in rows:
        cells = " ".join(f"{r[s]['seconds']:>10.2f} ({r[s]['x_playout']:>8.0f}) " for s in SEARCHES)
        print(f"{r['size']:>4} {r['after_moves']:>5} {r['playout_ms']:>10.2f} {cells}")
    out = {"playouts": args.playouts, "machine": platform.processor() or platform.machine(), "rows": rows,
           "command": "benchmarks/bench_mc.py", "when": time.strftime("%Y-%m-%d %H:%M")}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
