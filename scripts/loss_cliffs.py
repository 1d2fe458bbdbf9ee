"""Where the value model first sees an arena game lost, and what it was that it had not seen.

For each game the hero lost, the value model's P(hero wins) is taken at every position where the
hero is to move (the model judges the side to move: other positions would mix in the tempo),
from the first move to the first double pass. The "cliff" is the first own move where it is
below ``--low`` having been at least ``--high`` at the own move before; the two moves in between
(the hero's and the opponent's) are reported: whether the opponent's move captured stones, the
network's prior for it (the 8-view move distribution the search starts from) and the value model's
P(hero wins) at the double pass. It answers "did the search's evaluator see this coming?".
``--gnugo-final-score``: GNU Go level 10's ``final_score`` of the position at the first double pass,
beside the recorded result (after the cleanup phase): were the stones lost in the cleanup already dead?

    .venv/bin/python scripts/loss_cliffs.py docs/gnugo10_v11kg_value10_root4_100.results.jsonl \
        --games-dir runs/arena/gnugo10_v11kg_value10_root4_100 --hero-not GNUGo-L10 --gnugo-final-score \
        --out docs/loss_cliffs_root4.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def replay(sgf_path: Path) -> list:
    """The game's (colour, move) list up to and including its first double pass."""
    from engine.coords import PASS
    from engine.sgf import parse_collection

    moves = []
    for colour, move in parse_collection(sgf_path.read_bytes())[0].moves:
        moves.append((colour, move))
        if len(moves) >= 2 and moves[-1][1] is PASS and moves[-2][1] is PASS:
            break
    return moves


def gnugo_final_score(moves: list, komi: float) -> str:
    """GNU Go 3.8 level 10's ``final_score`` after ``moves`` (its own dead-stone judgement)."""
    from engine.coords import color_name, to_gtp
    from engine.engines import gnugo_spec
    from gtp.client import GtpClient

    with GtpClient(gnugo_spec(10, komi=komi)) as gnugo:
        gnugo.send("boardsize 9")
        gnugo.send("clear_board")
        for colour, move in moves:
            gnugo.send(f"play {color_name(colour)} {to_gtp(move, 9)}")
        return gnugo.send("final_score", timeout=120)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results")
    p.add_argument("--games-dir", required=True)
    p.add_argument("--hero-not", required=True, help="the opponent's name: the other side is the hero")
    p.add_argument("--weights", default="weights/9x9")
    p.add_argument("--high", type=float, default=0.5)
    p.add_argument("--low", type=float, default=0.3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--base-games", type=int, default=10,
                   help="for the base rate: every opponent move of the first N lost games, its network prior")
    p.add_argument("--gnugo-final-score", action="store_true")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)

    import torch

    from engine.coords import BLACK, PASS, WHITE, to_flat, to_gtp
    from engine.game import Game
    from engine.search import copy_game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer, mover_boards
    from models.value import mean_win_probability

    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.weights)
    player = NeuralPlayer(bundle)
    rows = [json.loads(line) for line in open(args.results)]
    games = []
    for r in rows:
        if r.get("winner") != args.hero_not or not r.get("sgf"):
            continue
        hero = BLACK if r["black"] != args.hero_not else WHITE
        moves = replay(Path(args.games_dir) / r["sgf"])
        game = Game(9, komi=r.get("komi", 7.0))
        states = []  # (ply, game copy) at the hero's turns
        for ply, (colour, move) in enumerate(moves):
            if colour == hero:
                states.append((ply, copy_game(game)))
            game.play(move, colour)
        with torch.no_grad():
            v = mean_win_probability(bundle.value, mover_boards([(s.position, hero) for _, s in states]), 8)
            end = float(mean_win_probability(bundle.value, mover_boards([(game.position, hero)]), 8)[0])
        rec = {"index": r["index"], "result": r["result"], "hero": "B" if hero == BLACK else "W",
               "double_pass_value": round(end, 3), "cliff": None}
        for k in range(1, len(v)):
            if v[k] < args.low and v[k - 1] >= args.high:
                ply = states[k - 1][0]  # the hero's move, then the opponent's answer
                before = states[k - 1][1]
                after_hero = copy_game(before)
                after_hero.play(moves[ply][1], hero)
                opp_colour, opp_move = moves[ply + 1]
                stones = np.count_nonzero(np.frombuffer(after_hero.position.stones, np.uint8))
                analysis = player.analyze_many([(after_hero, opp_colour)])[0]
                flat = len(analysis.legal_probs) - 1 if opp_move is PASS else to_flat(opp_move, 9)
                after_hero.play(opp_move, opp_colour)
                captured = int(stones + (opp_move is not PASS) - np.count_nonzero(
                    np.frombuffer(after_hero.position.stones, np.uint8)))
                rec["cliff"] = {"ply": ply, "value_before": round(float(v[k - 1]), 3), "value_after": round(float(v[k]), 3),
                                "hero_move": to_gtp(moves[ply][1], 9), "opponent_move": to_gtp(opp_move, 9),
                                "opponent_captured": captured, "network_prior_of_it": round(float(analysis.legal_probs[flat]), 4)}
                break
        if args.gnugo_final_score:
            rec["gnugo_final_score_at_double_pass"] = gnugo_final_score(moves, r.get("komi", 7.0))
        games.append(rec)
    # the base rate: how often any opponent move (not only a cliff's) is outside the network's candidates
    base = []
    for r in [r for r in rows if r.get("winner") == args.hero_not and r.get("sgf")][:args.base_games]:
        opp = BLACK if r["black"] == args.hero_not else WHITE
        game, asks, flats = Game(9, komi=r.get("komi", 7.0)), [], []
        for colour, move in replay(Path(args.games_dir) / r["sgf"]):
            if colour == opp and move is not PASS:
                asks.append((copy_game(game), opp))
                flats.append(to_flat(move, 9))
            game.play(move, colour)
        for a, flat in zip(player.analyze_many(asks), flats):
            base.append(float(a.legal_probs[flat]))
    cliffs = [g["cliff"] for g in games if g["cliff"]]
    summary = {
        "lost_games": len(games),
        "with_a_cliff": len(cliffs),
        "cliff_opponent_captured": sum(c["opponent_captured"] > 0 for c in cliffs),
        "cliff_prior_below_0.01": sum(c["network_prior_of_it"] < 0.01 for c in cliffs),
        "cliff_capture_and_prior_below_0.01": sum(c["opponent_captured"] > 0 and c["network_prior_of_it"] < 0.01
                                                  for c in cliffs),
        "whole_board_losses": sum(g["result"][2:] in ("74", "88") for g in games),
        "whole_board_value_at_double_pass_mean": round(float(np.mean(
            [g["double_pass_value"] for g in games if g["result"][2:] in ("74", "88")] or [np.nan])), 3),
        "other_losses_value_at_double_pass_above_half": sum(
            g["double_pass_value"] > 0.5 for g in games if g["result"][2:] not in ("74", "88")),
        "base_opponent_moves": len(base),
        "base_prior_below_0.01": sum(x < 0.01 for x in base),
        "gnugo_final_score_equals_result": sum(
            g.get("gnugo_final_score_at_double_pass", "").split(".")[0] == g["result"] for g in games),
        "captured_stones": dict(Counter(c["opponent_captured"] for c in cliffs)),
    }
    text = json.dumps({"command": " ".join(sys.argv), "summary": summary, "games": games}, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
