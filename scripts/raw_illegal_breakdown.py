"""Where the shipped player's raw (unmasked) move is illegal, by the rules' reason (occupied,
suicide, ko, superko), and how crowded the board is then.

    .venv/bin/python scripts/raw_illegal_breakdown.py [--labels data/oracle/val9.jsonl] [--weights weights/9x9]
        [--symmetries 8 --top-k 1]     # player settings (default: the bundle manifest's)
"""
import argparse
import collections
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from engine.board import IllegalMove
    from engine.coords import PASS
    from engine.game import Game
    from engine.labels import load_labels
    from models.player import shipped

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default="data/oracle/val9.jsonl")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--symmetries", type=int, default=None, help="board views averaged (default: the manifest's)")
    ap.add_argument("--top-k", type=int, default=None, help="branches per view (default: the manifest's)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    labels = list(load_labels(Path(args.labels)).values())
    player = shipped(weights=args.weights, symmetries=args.symmetries, top_k=args.top_k)
    games = []
    for lb in labels:
        g = Game(lb.size, lb.komi)
        for c, m in lb.moves:
            g.play(m, c)
        games.append((g, lb.to_play))
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


if __name__ == "__main__":
    main()
