"""genmove latency of the shipped model, next to GNU Go level 10 on the same positions.

    .venv/bin/python benchmarks/bench_genmove.py [--positions 200] [--weights weights/9x9] [--threads 1]
        [--variant symmetries=8,top_k=1 ...] [--analyze-moves 10]

Positions: the first N positions (every 3rd move of each game) of the test split. Our
model: ``genmove`` in-process, one position at a time (no batching), as ``python -m gtp`` plays it:
the bundle's player settings with its search (manifest ``player.search``: ``mc``, the network steering
the Monte Carlo tree, models/steered_mc.py, ``mc_playouts`` / ``mc_prior`` / ``mc_playout_policy`` / ``mc_threads``, each
a ``--variant`` key too; or ``puct``, engine/search.py, ``player.visits``; ``--variant search=puct``
times the PUCT search, ``--variant visits=1`` the network alone). GNU Go:
through the GTP client, `genmove` after the moves are set up with `play` (only the
genmove is timed). ``--variant`` adds player settings (NeuralPlayer keyword arguments, and
``visits`` / ``c_puct`` for the tree search of engine/search.py, e.g. ``visits=32,c_puct=0.8``) timed
in the same run, interleaved position by position so machine noise hits all alike (``use_value=false``
prices the value model's winrate). ``--analyze-moves K`` adds a row for what a GUI's ``lz-analyze``
costs: the shipped player's analysis with the winrate after each of its K top moves. Prints a table (p50, p99, mean, and the ratio to GNU Go) and writes
benchmarks/results/genmove.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def test_positions(n: int, size: int = 9) -> list:
    from engine.corpus import iter_records
    from engine.sgf import record_to_game

    out = []
    for _, rec in iter_records(REPO / "data", split="test", size=size):
        for k in range(0, len(rec.moves), 3):
            out.append(record_to_game(rec, upto=k))
            if len(out) == n:
                return out
    return out


def _player(bundle, options: dict):
    """A NeuralPlayer with ``options`` inside the search the GTP engine plays with: the manifest's
    ``player.visits`` / ``c_puct`` / ... (engine/search.search_config), which ``visits`` / ``c_puct`` /
    ``leaf_*`` / ``playouts`` / ``playout_weight`` override (``visits=1``: the network alone). The positions are every third move of a
    game, within reach of the last search's tree: the tree is not kept (``reuse=true`` keeps it), so
    each move costs what a move of a new game costs."""
    from dataclasses import replace

    from engine.search import search_config, search_kind, with_search
    from models.player import NeuralPlayer
    from models.steered_mc import tuned_steered

    tuned = bundle.manifest.get("player", {})
    keys = ("visits", "c_puct", "leaf_symmetries", "leaf_branches", "reuse", "playouts", "playout_weight",
            "playout_policy")
    search = {k: options.pop(k) for k in keys if k in options}
    mc = {k: options.pop(k) for k in ("mc_playouts", "mc_prior", "mc_playout_policy", "mc_threads") if k in options}
    kind = search_kind(tuned, options.pop("search", None), search.get("visits"))
    if kind == "mc":
        return tuned_steered(NeuralPlayer(bundle, **options), tuned, mc.get("mc_playouts"), mc.get("mc_prior"),
                             policy=mc.get("mc_playout_policy"), threads=mc.get("mc_threads"))
    cfg = replace(search_config(tuned), reuse=False)
    return with_search(NeuralPlayer(bundle, **options), replace(cfg, **search))


def time_neural(games: list, weights: str, variants: list[str], analyze_moves: int = 0) -> dict[str, list[float]]:
    from engine.evaluate import player_options
    from models.bundle import load_bundle

    bundle = load_bundle(weights)
    # the syntax of eval's py:...:k=v options ("" -> the bundle's defaults)
    players = {v: _player(bundle, player_options(v)) for v in variants}
    for player in players.values():
        player.genmove(games[0], games[0].to_play)  # warm-up
    times: dict[str, list[float]] = {v: [] for v in variants}
    analyze = f"analysis with {analyze_moves} move winrates"
    if analyze_moves:
        times[analyze] = []
    for g in games:
        for v, player in players.items():
            t0 = time.perf_counter()
            player.genmove(g, g.to_play)
            times[v].append(time.perf_counter() - t0)
        if analyze_moves:
            t0 = time.perf_counter()
            players[""].analyze_many([(g, g.to_play)], move_winrates=analyze_moves)
            times[analyze].append(time.perf_counter() - t0)
    return times


def time_gnugo(games: list, level: int = 10) -> list[float]:
    from engine.coords import color_name, to_gtp
    from engine.engines import gnugo_spec
    from gtp.client import GtpClient

    times = []
    with GtpClient(gnugo_spec(level), timeout=120) as c:
        for g in games:
            c.send(f"boardsize {g.size}")
            c.send("clear_board")
            c.send(f"komi {g.komi:g}")
            for colour, move in g.moves:
                c.send(f"play {color_name(colour)} {to_gtp(move, g.size)}")
            t0 = time.perf_counter()
            c.send(f"genmove {color_name(g.to_play)}")
            times.append(time.perf_counter() - t0)
    return times


def summary(times: list[float]) -> dict:
    a = np.array(times) * 1000
    return {"n": len(a), "p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)),
            "mean_ms": float(a.mean())}


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--positions", type=int, default=200)
    ap.add_argument("--weights", default=str(REPO / "weights" / "9x9"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--variant", action="append", default=None,
                    help="player settings to time besides the shipped defaults, e.g. symmetries=8,top_k=1 (repeatable)")
    ap.add_argument("--analyze-moves", type=int, default=0,
                    help="also time the shipped player's analysis with the winrate after its K top moves")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "genmove.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    variants = [""] + [v for v in (args.variant or []) if v]
    tuned = json.loads((Path(args.weights) / "manifest.json").read_text()).get("player", {})
    visits = tuned.get("visits", 1)
    if tuned.get("search") == "mc":  # the label says what the manifest's search is (engine.search.search_kind)
        from models.steered_mc import DEFAULT_PLAYOUTS

        shipped = (f"network-steered Monte Carlo, {tuned.get('mc_playouts', DEFAULT_PLAYOUTS)} simulations, "
                   f"{tuned.get('mc_playout_policy', 'uniform')} playouts")
    else:
        shipped = f"{visits}-visit search" if visits > 1 else "network alone"
    games = test_positions(args.positions)
    ours = {v: summary(t) for v, t in time_neural(games, args.weights, variants, args.analyze_moves).items()}
    gnugo = summary(time_gnugo(games))
    print(f"{len(games)} test positions, torch threads={args.threads}")
    print("| player | p50 ms | p99 ms | mean ms | p50 / GNU Go p50 | p50 / shipped p50 |")
    print("|---|---|---|---|---|---|")
    rows = [(f"videoworld ({v or 'shipped: ' + shipped})", s) for v, s in ours.items()] + [("GNU Go 3.8 level 10", gnugo)]
    for name, s in rows:
        print(f"| {name} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | {s['mean_ms']:.1f} | "
              f"{s['p50_ms'] / gnugo['p50_ms']:.2f} | {s['p50_ms'] / ours['']['p50_ms']:.2f} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": args.threads, "shipped": shipped, "videoworld": ours[""], "gnugo10": gnugo,
                               "variants": {v: s for v, s in ours.items() if v}}, indent=2) + "\n")


if __name__ == "__main__":
    main()
