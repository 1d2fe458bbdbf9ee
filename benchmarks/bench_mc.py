"""The Monte Carlo fallback's move time: flat (AMAF, Python) against the compiled tree search with RAVE.

    .venv/bin/python benchmarks/bench_mc.py [--flat-playouts 1500] [--tree-playouts 10000] [--threads 2] [--out benchmarks/results/mc.json]

Positions per size: the empty board and the positions after 20 and 60 moves of a game between two
seeded random players. Per position: one light playout in Python (engine/playout.py) and compiled
(engine/fastboard.py), each the best of 20, and their ratio; then one genmove's seconds of each
search (deterministic, so a run repeats the same work) and, as a ratio that holds across machines
and load, that time over the Python playout timed in the same process ("x playout": how many
Python playouts' worth of time a move costs), and the tree's simulations a second (its early stop
off, so every simulation of the budget runs), and that rate for each playout policy of the tree
(engine/mc_player.py PLAYOUT_POLICIES: uniform, tactical, MoGo's patterns, both; and both with the last
good reply, ``TreeConfig.last_good_reply``) as a ratio to the uniform one's in the same run; then MoGo's tree
with one thread against ``--threads`` root-parallel trees (``MonteCarloConfig.threads``), the same budget. Last, the dead-stone count (engine/fastcount.py: the
compiled playouts of ``config_for(size)``, 800 on 9x9) against what its playouts alone cost in
Python (that many times the Python playout). The kernels are compiled (or loaded from numba's cache)
before any timing. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
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
    """Seconds of the fastest of 20 light Python playouts from ``game``'s position."""
    import random

    from engine.playout import playout

    rng, best = random.Random(0), float("inf")
    for _ in range(20):
        t = time.perf_counter()
        playout(game.position.stones, game.size, game.to_play, rng)
        best = min(best, time.perf_counter() - t)
    return best


def one_fast_playout(game) -> float:
    """Seconds of the fastest of 20 compiled light playouts from ``game``'s position (board set-up included)."""
    from engine.fastboard import fast_playout

    best = float("inf")
    for seed in range(20):
        t = time.perf_counter()
        fast_playout(game.position.stones, game.size, game.to_play, seed)
        best = min(best, time.perf_counter() - t)
    return best


def one_count(game) -> tuple[int, float]:
    """(playouts, seconds of the fastest of 3 compiled dead-stone counts' playouts from ``game``'s position)."""
    from engine.deadstones import config_for
    from engine.fastcount import ownership_mean

    n, best = config_for(game.size).playouts, float("inf")
    for seed in range(3):
        t = time.perf_counter()
        ownership_mean(game.position.stones, game.size, game.to_play, n, seed)
        best = min(best, time.perf_counter() - t)
    return n, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[9, 13, 19])
    ap.add_argument("--flat-playouts", type=int, default=1500)
    ap.add_argument("--tree-playouts", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="root-parallel trees to time against one (default: the cores this process may use)")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "mc.json"))
    args = ap.parse_args()

    from engine.mc_player import PLAYOUT_POLICIES, SEARCHES, MonteCarloConfig, MonteCarloPlayer
    from engine.mc_tree import TreeConfig, warm_up

    warm_up()
    budget = {"flat": args.flat_playouts, "tree": args.tree_playouts}
    rows = []
    for size in args.sizes:
        for game, upto in zip(positions(size), (0, 20, 60)):
            reference, fast = one_playout(game), one_fast_playout(game)
            row = {"size": size, "after_moves": upto, "playout_ms": round(reference * 1e3, 3),
                   "compiled_playout_ms": round(fast * 1e3, 4), "compiled_speedup": round(reference / fast, 1)}
            for search in SEARCHES:
                player = MonteCarloPlayer(MonteCarloConfig(playouts=budget[search], search=search, stop_early=False))
                t = time.perf_counter()
                player.genmove(game, game.to_play)
                seconds = time.perf_counter() - t
                row[search] = {"playouts": budget[search], "seconds": round(seconds, 3),
                               "x_playout": round(seconds / reference, 1),
                               "per_second": round(budget[search] / seconds)}
            policies = {**{k: (*v, False) for k, v in PLAYOUT_POLICIES.items()}, "mogo+lgrf": (True, True, True)}
            for name, (tactical, patterns, lgrf) in policies.items():  # the tree's policies, same budget
                cfg = MonteCarloConfig(playouts=budget["tree"], stop_early=False, tactical=tactical, patterns=patterns,
                                       tree=TreeConfig(last_good_reply=lgrf))
                t = time.perf_counter()
                MonteCarloPlayer(cfg).genmove(game, game.to_play)
                per_second = budget["tree"] / (time.perf_counter() - t)
                row.setdefault("tree_policies", {})[name] = {
                    "per_second": round(per_second),
                    "vs_uniform": round(per_second / row["tree_policies"]["uniform"]["per_second"], 2)
                    if name != "uniform" else 1.0}
            # root-parallel trees (MonteCarloConfig.threads): MoGo's playouts, the same budget shared by the trees
            for th in (1, args.threads):
                cfg = MonteCarloConfig(playouts=budget["tree"], stop_early=False, tactical=True, patterns=True,
                                       threads=th)
                t = time.perf_counter()
                MonteCarloPlayer(cfg).genmove(game, game.to_play)
                row.setdefault("tree_threads", {})[str(th)] = round(budget["tree"] / (time.perf_counter() - t))
            row["tree_threads"]["speedup"] = round(row["tree_threads"][str(args.threads)] / row["tree_threads"]["1"], 2)
            n, count = one_count(game)
            row["count"] = {"playouts": n, "seconds": round(count, 4), "python_playouts_s": round(n * reference, 3),
                            "speedup": round(n * reference / count, 1)}
            rows.append(row)
    print(f"{'size':>4} {'moves':>5} {'playout ms':>10} {'compiled ms':>11} {'speed-up':>8} "
          f"{'flat s (x playout)':>20} {'tree s (x playout, sims/s)':>30} {'count ms (speed-up)':>20}")
    for r in rows:
        f, t = r["flat"], r["tree"]
        print(f"{r['size']:>4} {r['after_moves']:>5} {r['playout_ms']:>10.2f} {r['compiled_playout_ms']:>11.3f} "
              f"{r['compiled_speedup']:>7.0f}x {f['seconds']:>8.2f} ({f['x_playout']:>8.0f}) "
              f"{t['seconds']:>8.2f} ({t['x_playout']:>8.0f}, {t['per_second']:>7}) "
              f"{r['count']['seconds'] * 1e3:>10.1f} ({r['count']['speedup']:>6.0f}x)")
    print("\ntree simulations a second by playout policy (x uniform, the same position and budget):")
    for r in rows:
        print(f"{r['size']:>4} {r['after_moves']:>5} " + "  ".join(
            f"{k} {v['per_second']:>6} ({v['vs_uniform']:.2f})" for k, v in r["tree_policies"].items()))
    print(f"\nMoGo tree simulations a second, 1 tree against {args.threads} root-parallel trees (threads):")
    for r in rows:
        t = r["tree_threads"]
        print(f"{r['size']:>4} {r['after_moves']:>5} 1: {t['1']:>6}  {args.threads}: {t[str(args.threads)]:>6}"
              f"  ({t['speedup']:.2f}x)")
    out = {"flat_playouts": args.flat_playouts, "threads": args.threads, "tree_playouts": args.tree_playouts,
           "machine": platform.processor() or platform.machine(), "rows": rows,
           "command": "benchmarks/bench_mc.py", "when": time.strftime("%Y-%m-%d %H:%M")}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
