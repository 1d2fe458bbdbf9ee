"""Simulations a second of the compiled Monte Carlo tree, and a fingerprint of the search, for an A/B of two trees.

    .venv/bin/python benchmarks/bench_tree_rate.py [--label now] [--out benchmarks/results/tree_rate_now.json]

MoGo's playouts, one tree of ``--simulations`` (no early stop) on the 9x9 positions after 0, 20 and 60 seeded
random moves, after a 200-simulation warm-up each; and the root visits of a 5,000-simulation analysis of one fixed
position, hashed (the same hash: the same search). To compare another commit's tree, run this script from here
with that commit's engine first on the path, alternating the two (numba compiles each tree's own cache first):

    git worktree add /tmp/wt_before 78226b9
    for i in 1 2 3; do for tree in /tmp/wt_before $PWD; do \\
        (cd /tmp && PYTHONPATH=$tree $OLDPWD/.venv/bin/python $OLDPWD/benchmarks/bench_tree_rate.py --label $tree --out /dev/null); done; done

Prints one line of rates and the fingerprint; writes JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--simulations", type=int, default=20_000)
    p.add_argument("--label", default="now")
    p.add_argument("--out", default="benchmarks/results/tree_rate.json")
    args = p.parse_args(argv)
    from engine.game import Game
    from engine.mc_player import MonteCarloConfig, MonteCarloPlayer, candidates
    from engine.mc_tree import TreeConfig, TreeSearch, warm_up
    from engine.player import RandomPlayer

    warm_up()
    rates = []
    game, player = Game(9, 7.0), RandomPlayer(seed=9)
    for upto in (0, 20, 60):
        while game.move_number < upto:
            game.play(player.genmove(game, game.to_play), game.to_play)
        pos, c = game.position, game.to_play
        search = TreeSearch(pos, c, 7.0, candidates(pos, c), TreeConfig(), seed=1, tactical=True, patterns=True)
        search.run(200)
        t = time.perf_counter()
        search.run(args.simulations)
        rates.append(round(args.simulations / (time.perf_counter() - t)))
    fixed = Game(9, 7.0)
    fixed.play((4, 4), 1)
    fixed.play((2, 2), 2)
    a = MonteCarloPlayer(MonteCarloConfig(playouts=5000, patterns=True, tactical=True)).analyze(fixed, 1)
    fingerprint = hashlib.sha1(a.visits.tobytes()).hexdigest()[:12]
    print(f"{args.label}: simulations/s after 0, 20, 60 moves {rates}; move {a.move}; root visits sha1 {fingerprint}")
    with open(args.out, "w") as f:
        json.dump({"label": args.label, "simulations": args.simulations, "rates": rates, "move": list(a.move),
                   "visits_sha1": fingerprint}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
