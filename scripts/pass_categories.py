"""Test labels split by what the count says of the board for the side to move, with how often KataGo's first
choice is pass there and how often each given player's answers pass and are right (docs/model.md, "Passing when
the game is over").

    .venv/bin/python scripts/pass_categories.py runs/eval/engine45_test_answers.jsonl [more answers files]
    .venv/bin/python scripts/pass_categories.py --write runs/eval/settled_test --shards 2
        # the label lines of every category but "unsettled", in 2 files (for `eval run --labels`), and
        # runs/eval/settled_test.categories.json (id -> category)

Categories: settled (with 0, 1 or 2 dame); settled once the mover's own dead chains are off ("own dead only");
an opponent chain dead and none of the mover's ("theirs only"); dead chains of both; not settled even with every
dead chain off ("unsettled").
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def category(label) -> str:
    from engine.deadstones import config_for, dead_chains, without
    from engine.player import SETTLED_DAME

    pos = label.game().position
    u = pos.unsettled_points()
    if u <= SETTLED_DAME:
        return f"settled, {u} dame"
    chains = dead_chains(pos, config_for(pos.size))
    if without(pos, chains).unsettled_points() > SETTLED_DAME:
        return "unsettled"
    theirs = any(pos.stones[ch[0]] != label.to_play for ch in chains)
    mine = any(pos.stones[ch[0]] == label.to_play for ch in chains)
    return "own dead only" if not theirs else ("theirs only" if not mine else "both dead")


def write_subset(labels_path: Path, cats: dict[str, str], stem: str, shards: int, unsettled_every: int = 0) -> None:
    """The label cache's lines of the positions not "unsettled", dealt round-robin into ``shards`` files; with
    ``unsettled_every`` K, also every K-th "unsettled" position (in file order, search lines with their position)
    into STEM.unsettled.jsonl, a sample of the positions still being played."""
    out = [open(f"{stem}.{i}.jsonl", "w") for i in range(shards)]
    sample = open(f"{stem}.unsettled.jsonl", "w") if unsettled_every else None
    n, seen, kept = 0, 0, set()
    for line in labels_path.read_text().splitlines():
        d = json.loads(line)
        pid = d["id"]
        if cats.get(pid, "unsettled") != "unsettled":
            out[n % shards].write(line + "\n")
            n += 1
        elif sample is not None:
            if "search" not in d:
                if seen % unsettled_every == 0:
                    kept.add(pid)
                seen += 1
            if pid in kept:
                sample.write(line + "\n")
    for f in out + ([sample] if sample is not None else []):
        f.close()
    Path(f"{stem}.categories.json").write_text(json.dumps(cats, indent=0, sort_keys=True))


def main() -> int:
    import argparse

    from engine.coords import PASS, from_gtp
    from engine.labels import load_labels
    from engine.metrics import same_move

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("answers", nargs="*", help="answers files of `eval run --answers`")
    ap.add_argument("--labels", type=Path, default=REPO / "data" / "oracle" / "test9.jsonl")
    ap.add_argument("--write", metavar="STEM", help="write the not-unsettled labels to STEM.<i>.jsonl")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--unsettled-every", type=int, default=0, metavar="K",
                    help="with --write, also every K-th unsettled label to STEM.unsettled.jsonl")
    ap.add_argument("--categories", type=Path, help="read the categories from a --write run's STEM.categories.json "
                                                     "instead of counting every board again")
    args = ap.parse_args()
    labels = load_labels(args.labels)
    if args.categories:
        cats = json.loads(args.categories.read_text())
    else:
        cats = {pid: category(lb) for pid, lb in labels.items()}
    if args.write:
        write_subset(args.labels, cats, args.write, args.shards, args.unsettled_every)
    for f in args.answers:
        stats: dict = defaultdict(Counter)
        for line in Path(f).read_text().splitlines():
            r = json.loads(line)
            lb, c = labels[r["id"]], cats[r["id"]]
            m = from_gtp(r["move"], lb.size) if r.get("move") else None
            stats[c]["positions"] += 1
            stats[c]["kata_pass"] += lb.policy_best is PASS
            stats[c]["we_pass"] += m is PASS
            stats[c]["right"] += same_move(lb, m, lb.policy_best)
        print(f)
        for c in sorted(stats):
            print("  ", c, dict(stats[c]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
