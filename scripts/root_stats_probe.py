"""Runs the GTP default (the network steering the Monte Carlo tree) on oracle labels and keeps, for each
position, the root statistics its move was chosen from, so that other rules for choosing the move can be
scored offline on the same searches (scripts/root_choice_rules.py), with no second search.

    .venv/bin/python scripts/root_stats_probe.py --split val --shard 0/2 --out runs/probe/val_0.jsonl

One JSON line per label: ``id``, ``k`` (moves before the position), ``move`` (the tree's, GTP coordinates),
and per move (N*N+1, pass last) ``visits``, ``winrates`` (the mover's win share, null where unvisited),
``scores`` (the playouts' mean final area margin for the mover, null where unvisited) and ``policy`` (the
network's legal move distribution). Resumable: ids already in ``--out`` are skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _floats(a, digits: int) -> list:
    return [None if a is None or not math.isfinite(float(x)) else round(float(x), digits) for x in a]


def main() -> int:
    from engine.coords import to_gtp
    from engine.labels import load_labels
    from models.steered_mc import steered_mc

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("test", "val"), default="val")
    ap.add_argument("--labels", default=None, help="default data/oracle/{split}9.jsonl")
    ap.add_argument("--shard", default="0/1", help="i/n: every n-th label from the i-th")
    ap.add_argument("--min-moves", type=int, default=0, help="only labels with at least this many moves before")
    ap.add_argument("--playouts", type=int, default=10000)
    ap.add_argument("--chunk", type=int, default=16, help="positions the network reads in one batch")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    i, n = (int(x) for x in args.shard.split("/"))
    labels = load_labels(Path(args.labels) if args.labels else REPO / "data" / "oracle" / f"{args.split}9.jsonl")
    todo = [lb for j, lb in enumerate(labels.values()) if j % n == i and len(lb.moves) >= args.min_moves]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        done = {json.loads(line)["id"] for line in out.read_text().splitlines() if line.strip()}
    todo = [lb for lb in todo if lb.id not in done]
    # the GTP default's search: weight 2, 10,000 simulations of MoGo's playouts (manifest player.mc_*); its final
    # choice left at the most visited move (prefer 0), since the rules, player.mc_prefer_network's among them, are
    # scored offline from these statistics (scripts/root_choice_rules.py)
    player = steered_mc(playouts=args.playouts, weight=2.0, tactical=True, patterns=True)
    try:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), desc=f"probe {args.shard}")
    except ImportError:  # pragma: no cover
        bar = None
    with out.open("a") as f:
        for s in range(0, len(todo), args.chunk):
            chunk = todo[s:s + args.chunk]
            for lb, a in zip(chunk, player.analyze_many([(lb.game(), lb.to_play) for lb in chunk])):
                rec = {"id": lb.id, "k": len(lb.moves), "move": to_gtp(a.move, lb.size),
                       "visits": [int(v) for v in a.visits], "winrates": _floats(a.move_winrates, 4),
                       "scores": _floats(a.move_scores, 2), "policy": _floats(a.policy, 5)}
                f.write(json.dumps(rec) + "\n")
                f.flush()
                if bar is not None:
                    bar.update(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
