"""Test labels split by what the count says of the board for the side to move, with how often KataGo's first
choice is pass there and how often each given player's answers pass and are right (docs/model.md, "Passing when
the game is over").

    .venv/bin/python scripts/pass_categories.py runs/eval/engine45_test_answers.jsonl [more answers files]

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


def main() -> int:
    from engine.coords import PASS, from_gtp
    from engine.labels import load_labels
    from engine.metrics import same_move

    labels = load_labels(REPO / "data" / "oracle" / "test9.jsonl")
    cats = {pid: category(lb) for pid, lb in labels.items()}
    for f in sys.argv[1:]:
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
