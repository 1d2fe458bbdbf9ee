"""Scores rules for the moves that finish a game (taking dead opponent stones, filling dame) against the oracle
labels' best move, by category of the board (scripts/pass_categories.py), on the records of
scripts/root_stats_probe.py run over the labels whose board is settled once the dead chains are off: every rule
sees the same searches.

    .venv/bin/python scripts/pass_categories.py --write runs/eval/settled_test --shards 2
    .venv/bin/python scripts/root_stats_probe.py --labels runs/eval/settled_test.0.jsonl --out runs/probe/settled_test_0.jsonl  # and 1
    .venv/bin/python scripts/finishing_rules.py runs/probe/settled_test_*.jsonl --categories runs/eval/settled_test.categories.json
        [--check runs/eval/engine47_settled.jsonl] [--unsettled]

Also prints KataGo's move by kind per category (a liberty of a dead opponent chain, a dame, pass, elsewhere).

Rules ("safe": the tree's win share of the move is at least the tree's own move's minus ``eps``):
- ``tree``: the tree's move; ``network``: the network's most likely legal move;
- ``net eps``: the network's favourite among the safe moves the tree read (the tree's pass stands);
- ``finish eps``: engine/finishing.py's rule with ``FinishConfig(safety=eps)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def choose(rec: dict, rule: tuple, size: int, points) -> int:
    """The flat index (pass = N*N) a rule picks from one probe record; ``points``: the board's
    engine/finishing.FinishingPoints (None: not a finishing board)."""
    from engine.finishing import FinishConfig, finishing_move
    from scripts.root_choice_rules import _arr, tree_and_policy

    name = rule[0]
    tree, policy = tree_and_policy(rec, size)
    if name == "network":
        return int(np.nanargmax(policy))
    wr = _arr(rec["winrates"])
    if name == "finish":
        if points is None:
            return tree
        pick = finishing_move(points, None if tree == size * size else tree, wr, policy, FinishConfig(safety=rule[1]))
        return tree if pick is None else pick
    if name == "tree" or tree == size * size:
        return tree
    if name == "net":
        safe = [p for p in range(size * size) if np.isfinite(wr[p]) and wr[p] >= wr[tree] - rule[1]]
        return max(safe, key=lambda p: policy[p])
    raise ValueError(f"unknown rule {rule}")


def main() -> int:
    from engine.coords import PASS, from_flat, to_gtp
    from engine.finishing import FinishConfig, finishing_points
    from engine.labels import load_labels
    from engine.metrics import same_move

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("records", nargs="+")
    ap.add_argument("--categories", required=True, help="id -> category (pass_categories.py --write)")
    ap.add_argument("--labels", default=str(REPO / "data" / "oracle" / "test9.jsonl"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--check", default=None, metavar="ANSWERS",
                    help="an `eval run --answers` file of the engine on the same positions: count the positions "
                         "where its move differs from the offline replay of the shipped rule")
    ap.add_argument("--unsettled", action="store_true",
                    help="also count the labels of category unsettled where the rule could act (it cannot: 0 expected)")
    args = ap.parse_args()
    labels = load_labels(Path(args.labels))
    cats = json.loads(Path(args.categories).read_text())
    recs = [json.loads(line) for f in args.records for line in Path(f).read_text().splitlines() if line.strip()]
    rules = [("tree",), ("network",)] + [(n, e) for n in ("net", "finish") for e in (0.0, 0.05, 0.1, 0.2, 0.3, 1.0)]
    right: dict = defaultdict(Counter)
    count: Counter = Counter()
    kinds: dict = defaultdict(Counter)  # KataGo's move by kind, per category
    engine = {}
    if args.check:
        engine = {a["id"]: a["move"] for a in map(json.loads, Path(args.check).read_text().splitlines())}
    differ = 0
    for rec in recs:
        lb = labels[rec["id"]]
        pos = lb.game().position
        points = finishing_points(pos, lb.to_play)
        c = cats[rec["id"]]
        count[c] += 1
        best = lb.policy_best
        k = None if best is PASS else best[0] * lb.size + best[1]
        kinds[c]["pass" if k is None else "dead liberty" if points and k in points.their_dead_liberties
                 else "dame" if points and k in points.dame else "elsewhere"] += 1
        if args.check:
            m = choose(rec, ("finish", FinishConfig().safety), lb.size, points)
            differ += engine[rec["id"]] != to_gtp(from_flat(m, lb.size), lb.size)
        for rule in rules:
            m = choose(rec, rule, lb.size, points)
            right[" ".join(map(str, rule))][c] += same_move(lb, from_flat(m, lb.size), lb.policy_best)
    order = sorted(count)
    print(f"{'rule':<14}" + "".join(f"{c[:14]:>16}" for c in order) + f"{'all':>8}")
    print(f"{'positions':<14}" + "".join(f"{count[c]:>16}" for c in order) + f"{sum(count.values()):>8}")
    for r, by in right.items():
        print(f"{r:<14}" + "".join(f"{by[c]:>16}" for c in order) + f"{sum(by.values()):>8}")
    if args.unsettled:
        could = sum(finishing_points(labels[pid].game().position, labels[pid].to_play) is not None
                    for pid, c in cats.items() if c == "unsettled")
        print(f"unsettled labels where finishing_points is not None: {could} of "
              f"{sum(c == 'unsettled' for c in cats.values())}")
    print("KataGo's move:")
    for c in order:
        print(f"  {c:<18}", dict(kinds[c]))
    if args.check:
        print(f"{args.check}: the engine's move differs from the replay of the shipped rule in {differ} of {len(recs)}")
    if args.out:
        Path(args.out).write_text(json.dumps({"positions": dict(count), "right": {r: dict(b) for r, b in right.items()}},
                                             indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
