"""Answers of a player that plays like A before move N and like B from move N on, from two
`videoworld-go eval run --answers` files made on the same labels (no player is run).

    .venv/bin/python scripts/phase_hybrid.py A.jsonl B.jsonl --switch 30 --out H.jsonl [--labels L] [--split val]
    videoworld-go eval breakdown H.jsonl --split val        # then score it as any answers file

"Move N" is the label's k (moves played before the position). The merged file names its player
"A<N>B". Deterministic players give the same answers a hybrid player would; a player that draws
random numbers (the Monte Carlo tree) may answer a position differently in another run, so a figure
from merged answers is that of the two runs, not of a third.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def merge(a: list, b: list, labels: dict, switch: int) -> list:
    """Answers of A where a label's k < switch, of B elsewhere; every position must be answered by both."""
    by_b = {x.id: x for x in b}
    in_a = {x.id for x in a}
    missing = [x.id for x in a if x.id not in by_b] + [x.id for x in b if x.id not in in_a]
    if missing:
        raise ValueError(f"{len(missing)} positions answered by one player only (first: {missing[0]})")
    out = []
    for x in a:
        lb = labels.get(x.id)
        if lb is None:
            raise ValueError(f"answer for {x.id}, which the labels do not hold")
        out.append(x if len(lb.moves) < switch else by_b[x.id])  # the moves before it: the label's k
    return out


def main() -> int:
    from engine.eval_answers import pick_player, read_answers, write_answers
    from engine.labels import load_labels

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--switch", type=int, required=True, help="the first move (label k) answered by B")
    ap.add_argument("--player-a", default=None)
    ap.add_argument("--player-b", default=None)
    ap.add_argument("--split", choices=("test", "val"), default="test")
    ap.add_argument("--labels", default=None, help="default data/oracle/{split}9.jsonl")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    labels = load_labels(Path(args.labels) if args.labels else REPO / "data" / "oracle" / f"{args.split}9.jsonl")
    try:
        _, a = pick_player(read_answers(Path(args.a), 9), args.player_a, Path(args.a))
        _, b = pick_player(read_answers(Path(args.b), 9), args.player_b, Path(args.b))
        merged = merge(a, b, labels, args.switch)
    except (OSError, ValueError) as e:
        print(f"phase_hybrid: {e}", file=sys.stderr)
        return 2
    write_answers(Path(args.out), {f"A{args.switch}B": merged}, 9)
    print(f"{len(merged)} answers: {sum(1 for x, y in zip(merged, a) if x is not y)} from B -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
