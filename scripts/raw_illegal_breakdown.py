"""Where the shipped player's raw (unmasked) move is illegal, by the rules' reason (occupied,
suicide, ko, superko), and how crowded the board is then.

    .venv/bin/python scripts/raw_illegal_breakdown.py [--labels data/oracle/val9.jsonl] [--weights weights/9x9]
        [--symmetries 8 --top-k 1]     # player settings (default: the bundle manifest's)
    # or every position of a split's games (no oracle needed: legality is the rules'), e.g. for tuning:
    .venv/bin/python scripts/raw_illegal_breakdown.py --data-dir runs/snapM --split val --max-games 150 [--out F.json]
"""
import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from engine.board import IllegalMove
    from engine.coords import PASS
    from models.player import shipped

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default="data/oracle/val9.jsonl")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--symmetries", type=int, default=None, help="board views averaged (default: the manifest's)")
    ap.add_argument("--top-k", type=int, default=None, help="branches per view (default: the manifest's)")
    ap.add_argument("--view-pool", default="mean", help="how the views' distributions combine (models/player.py)")
    ap.add_argument("--data-dir", default=None, help="instead of --labels: every position of this corpus folder's games")
    ap.add_argument("--split", default="val", help="with --data-dir: the games of this split")
    ap.add_argument("--max-games", type=int, default=150, help="with --data-dir: the first N games of the split")
    ap.add_argument("--out", default=None, help="also write the counts as JSON")
    args = ap.parse_args()
    torch.set_num_threads(1)
    player = shipped(weights=args.weights, symmetries=args.symmetries, top_k=args.top_k, view_pool=args.view_pool)
    games = list(_from_games(args) if args.data_dir else _from_labels(Path(args.labels)))
    kinds, crowd = collections.Counter(), []
    for i in range(0, len(games), 64):
        for (g, color), a in zip(games[i:i + 64], player.analyze_many(games[i:i + 64])):
            if a.raw_legal or a.raw_move == PASS:
                continue
            board = g.position.array()  # (N, N): 0 empty
            try:
                g.position.play(a.raw_move, color)
                kinds["legal?"] += 1  # cannot happen: raw_legal said otherwise
            except IllegalMove as e:
                kinds[e.reason] += 1
            crowd.append(int((board > 0).sum()))
    all_crowd = [int((g.position.array() > 0).sum()) for g, _ in games]
    print(f"{len(games)} positions, raw move illegal in {sum(kinds.values())}: {dict(kinds)}")
    if crowd:
        print(f"stones on the board: median {np.median(crowd):.0f} at those, {np.median(all_crowd):.0f} over all")
    if args.out:
        source = {"data_dir": args.data_dir, "split": args.split, "max_games": args.max_games} if args.data_dir \
            else {"labels": args.labels}
        Path(args.out).write_text(json.dumps({"source": source, "weights": args.weights or "weights/9x9",
                                              "view_pool": args.view_pool,
                                              "positions": len(games), "illegal": sum(kinds.values()),
                                              "reasons": dict(kinds)}, indent=1) + "\n")


def _from_labels(path: Path):
    """(game, colour to play) of each labelled position."""
    from engine.game import Game
    from engine.labels import load_labels

    for lb in load_labels(path).values():
        g = Game(lb.size, lb.komi)
        for c, m in lb.moves:
            g.play(m, c)
        yield g, lb.to_play


def _from_games(args):
    """(game, colour to play) before every move of the first ``max_games`` games of the split."""
    from engine.corpus import iter_records
    from engine.sgf import SgfError, record_to_game

    n = 0
    for _, rec in iter_records(args.data_dir, split=args.split, size=9):
        if rec.black_setup or rec.white_setup:
            continue
        try:
            record_to_game(rec)
        except SgfError:
            continue
        for t, (colour, _) in enumerate(rec.moves):
            yield record_to_game(rec, upto=t), colour  # the position before move t (quadratic; a few games)
        n += 1
        if n >= args.max_games:
            return


if __name__ == "__main__":
    main()
