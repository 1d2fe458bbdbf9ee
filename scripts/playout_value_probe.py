"""Who judges a position better: the value model, random playouts over the rules, or a mix?

    .venv/bin/python scripts/playout_value_probe.py --sgf 'runs/arena/NAME/games/*.sgf' --playouts 8 \
        --out docs/playout_value_probe_arena.json
    .venv/bin/python scripts/playout_value_probe.py --corpus katago9 --split val --games 150 --playouts 32 \
        --out docs/playout_value_probe_katago_val.json

For each game, the positions after moves 20, 40 and 60 (when the game goes on at least 2 moves
more), labelled with the game's result for the side to move. Judged by the shipped player's
winrate (the value model, 8 views), by the share of ``--playouts`` playouts the side to move wins
(engine/deadstones.playout_wins, as the search's ``--playouts`` uses it), and by their mixes.
Reported: the Brier score of each per move number, and the base rate's. Games without a B+ or W+
result are skipped.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PHASES = (20, 40, 60)
MIXES = (0.25, 0.5)


def records(args: argparse.Namespace) -> list:
    from engine.corpus import iter_records
    from engine.sgf import parse_collection

    if args.sgf:
        return [parse_collection(Path(f).read_bytes())[0] for f in sorted(glob.glob(args.sgf))][: args.games]
    return [rec for _, rec in iter_records(REPO / "data", corpora=[args.corpus], split=args.split, size=9)][: args.games]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sgf", default=None, help="a glob of SGF games (quote it)")
    ap.add_argument("--corpus", default="katago9")
    ap.add_argument("--split", default="val", choices=("train", "val", "test"))
    ap.add_argument("--games", type=int, default=150)
    ap.add_argument("--playouts", type=int, default=8)
    ap.add_argument("--weights", default=str(REPO / "weights" / "9x9"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    import torch

    from engine.coords import BLACK
    from engine.deadstones import playout_wins
    from engine.sgf import record_to_game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    torch.set_num_threads(args.threads)
    player = NeuralPlayer(load_bundle(args.weights), symmetries=8)
    rows = []
    for rec in records(args):
        if not rec.result or rec.result[0] not in "BW" or not rec.result[1:].startswith("+"):
            continue
        for k in PHASES:
            if k >= len(rec.moves) - 2:
                continue
            game = record_to_game(rec, upto=k)
            color = game.to_play
            value = float(player.analyze_many([(game, color)])[0].winrate)
            won = playout_wins(game.position, color, game.komi, args.playouts)
            y = float((rec.result[0] == "B") == (color == BLACK))
            rows.append((k, value, won, y))
    r = np.array(rows)
    summary = {}
    for k in PHASES:
        m = r[:, 0] == k
        v, p, y = r[m, 1], r[m, 2], r[m, 3]
        row = {"positions": int(m.sum()), "value_model": float(((v - y) ** 2).mean()),
               f"playouts_{args.playouts}": float(((p - y) ** 2).mean())}
        for lam in MIXES:
            row[f"mix_{lam}"] = float((((1 - lam) * v + lam * p - y) ** 2).mean())
        row["base_rate"] = float(((y.mean() - y) ** 2).mean())
        summary[f"move{k}"] = {a: (round(b, 4) if isinstance(b, float) else b) for a, b in row.items()}
    source = args.sgf or f"{args.corpus} {args.split}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"source": source, "games": args.games, "playouts": args.playouts,
                                    "weights": args.weights, "brier": summary}, indent=1) + "\n")
    keys = list(next(iter(summary.values())).keys())
    print(f"Brier by move number ({source}):")
    print("| " + " | ".join(["move"] + keys) + " |")
    for phase, row in summary.items():
        print("| " + " | ".join([phase] + [str(row[k]) for k in keys]) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
