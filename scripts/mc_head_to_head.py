"""Two settings of the Monte Carlo player (engine/mc_player.py) against each other, in one process.

    .venv/bin/python scripts/mc_head_to_head.py --size 9 --playouts 1000 --games 16 --out docs/mc_amaf_vs_flat_9.jsonl

Player A uses ``--amaf`` (a share of the budget, default 0.5), player B none; everything else is
equal, unless ``--a`` / ``--b`` set other fields of their MonteCarloConfig (e.g. ``--a search=tree``,
``--names tree,flat``). Player A is Black in the even games; each game starts from two stones set by its number
(games g and g + 1 share the second one, not the first); ``--start`` shifts the game numbers, so
two processes can share the work.
Each game is one JSON line (appended): who was Black, the Tromp-Taylor result, the winner.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from engine.coords import BLACK, WHITE
from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer
from engine.mc_tree import TreeConfig


def opening(g: int, size: int) -> list[tuple[int, int]]:
    """The two stones game ``g`` starts from (an illegal or repeated one is skipped)."""
    k = g // 2
    return [(k % size, (g * 3) % size), ((k * 5 + 2) % size, (k * 7 + 4) % size)]


def play(a: MonteCarloPlayer, b: MonteCarloPlayer, g: int, size: int, komi: float) -> dict:
    game = Game(size, komi)
    for move in opening(g, size):
        if game.position.is_legal(move):
            game.play(move, game.to_play)
    players = {BLACK: a, WHITE: b} if g % 2 == 0 else {BLACK: b, WHITE: a}
    started = time.time()
    while not game.is_over() and game.move_number < 3 * size * size:
        color = game.to_play
        game.play(players[color].genmove(game, color), color)
    score = game.score()
    winner = None if score == 0 else players[BLACK if score > 0 else WHITE].name
    return {"game": g, "black": players[BLACK].name, "result": game.result(), "winner": winner,
            "moves": game.move_number, "seconds": round(time.time() - started, 1)}


def settings(text: str) -> dict:
    """``key=value,key=value`` -> MonteCarloConfig fields, each value of the field's type; ``tree.key``
    sets a field of its TreeConfig (booleans: true / false)."""
    def typed(cfg, key: str, value: str):
        kinds = {f.name: type(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
        if key not in kinds:
            raise SystemExit(f"unknown setting {key!r}; known: {', '.join(kinds)}")
        return value.lower() == "true" if kinds[key] is bool else kinds[key](value)

    out, tree = {}, {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        if key.startswith("tree."):
            tree[key[5:]] = typed(TreeConfig(), key[5:], value)
        else:
            out[key] = typed(MonteCarloConfig(), key, value)
    if tree:
        out["tree"] = TreeConfig(**tree)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--komi", type=float, default=7.0)
    ap.add_argument("--playouts", type=int, default=1000)
    ap.add_argument("--amaf", type=float, default=0.5, help="player A's AMAF share (player B: 0)")
    ap.add_argument("--a", default="", help="more settings of player A: key=value,...")
    ap.add_argument("--b", default="", help="more settings of player B: key=value,...")
    ap.add_argument("--names", default="amaf,flat", help="the two players' names in the records")
    ap.add_argument("--games", type=int, default=16)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    name_a, name_b = args.names.split(",")
    a = MonteCarloPlayer(MonteCarloConfig(**{"playouts": args.playouts, "amaf": args.amaf, **settings(args.a)}), name=name_a)
    b = MonteCarloPlayer(MonteCarloConfig(**{"playouts": args.playouts, "amaf": 0.0, **settings(args.b)}), name=name_b)
    with open(args.out, "a") as f:
        for g in range(args.start, args.start + args.games):
            f.write(json.dumps(play(a, b, g, args.size, args.komi)) + "\n")
            f.flush()


if __name__ == "__main__":
    main()
