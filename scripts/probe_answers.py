"""The tree's moves of scripts/root_stats_probe.py records as an answers file (engine/eval_answers.py), so that a
probe run can be paired with an `eval run --answers` run of the same positions (`videoworld-go eval paired`). The
probe keeps no raw network move, so those fields are copied from ``--like`` (an answers file of the same positions
and the same network: the raw move is the network's, whatever the search does with it).

    .venv/bin/python scripts/probe_answers.py runs/probe/settled_test_*.jsonl --like runs/eval/engine47b_settled.jsonl \\
        --out runs/eval/engine46_settled.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("records", nargs="+")
    ap.add_argument("--like", required=True, help="answers file giving the player name and raw network fields")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    moves = {}
    for f in args.records:
        for line in Path(f).read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                moves[r["id"]] = r["move"]
    out = []
    for line in Path(args.like).read_text().splitlines():
        if not line.strip():
            continue
        a = json.loads(line)
        if a["id"] not in moves:
            raise SystemExit(f"{a['id']} has no probe record")
        a["move"] = moves.pop(a["id"])
        out.append(json.dumps(a))
    if moves:
        raise SystemExit(f"{len(moves)} probe records have no answer in {args.like}")
    Path(args.out).write_text("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
