"""Fuzzes `videoworld-go analysis` (server/analysis_engine.py) in-process with random queries and odd lines.

    .venv/bin/python scripts/fuzz_analysis.py [--queries 3000] [--seed 1]

Each query is a valid 5x5 one with 0-4 of its fields replaced by values of the wrong kind or range (taken from a
fixed list), then a few pathological lines (JSON nested deeper than the parser's stack, bare strings, binary
junk, a 25x25 query asking for ownership and policy). The searches are a small Monte Carlo tree (50-200
simulations). Prints: queries sent, lines answered, error lines, final answers, internal errors (should be 0),
and any line that raised instead of being answered (should be none). Session 42 found three such lines with it
(now in tests/test_analysis_engine.py).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

VALUES = [None, True, False, 0, -1, 1, 2, 9, 26, 1e9, 1.5, "B", "W", "x", "E5", "pass", "PASS", "A1", "Z9", "", [], {}, [[]],
          [["B"]], [["B", "E5"]], [["X", "E5"]], [["B", "E5"], ["W", "E5"]], [["B", 5]], [[1, 2]], float("nan"),
          "tromp-taylor", "japanese", {"a": 1}, [0], [0, 1], [-1], [100], {"reportAnalysisWinratesAs": "WHITE"},
          {"maxVisits": 0}, {"maxTime": -1}]
KEYS = ["id", "moves", "initialStones", "initialPlayer", "rules", "komi", "boardXSize", "boardYSize", "analyzeTurns",
        "maxVisits", "includeOwnership", "includePolicy", "analysisPVLen", "reportDuringSearchEvery", "priority",
        "priorities", "overrideSettings", "action", "terminateId", "turnNumbers", "avoidMoves"]
ODD = ["[" * 100000, "{" * 5000, '"str"', "1e999", '{"id": "x", "moves": ' + "[" * 3000 + "]" * 3000 + "}", "\x00\xff",
       '{"id":"big","moves":[],"rules":"chinese","boardXSize":25,"boardYSize":25,"maxVisits":100,'
       '"includeOwnership":true,"includePolicy":true}']


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=int, default=3000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    from engine.mc_player import MonteCarloConfig, MonteCarloPlayer
    from server.analysis_engine import AnalysisEngine

    out: list[str] = []
    base = MonteCarloPlayer(MonteCarloConfig(playouts=50))
    engine = AnalysisEngine(lambda size, visits, seconds, root: base.with_budget(min(visits or 50, 200), seconds, root),
                            out.append)
    rng, sent, raised = random.Random(args.seed), 0, []
    lines = []
    for i in range(args.queries):
        q = {"id": f"q{i}", "moves": [], "rules": "chinese", "boardXSize": 5, "boardYSize": 5}
        for _ in range(rng.randint(0, 4)):
            q[rng.choice(KEYS)] = rng.choice(VALUES)
        lines.append(json.dumps(q))
    for line in lines + ODD:
        try:
            engine.handle_line(line)
            sent += 1
        except Exception as e:  # the engine must answer every line; a raise here is a finding
            raised.append((line[:40], f"{type(e).__name__}: {e}"))
    engine.close()
    internal = [line for line in out if "internal error" in line]
    finals = sum('"isDuringSearch":false' in line for line in out)
    print(f"lines {sent + len(raised)}, answered lines {len(out)}, errors {sum('error' in line for line in out)}, "
          f"final answers {finals}, internal errors {len(internal)}, "
          f"raised {len(raised)}")
    for r in raised + [(x[:200], "") for x in internal[:5]]:
        print("  ", *r)
    return 1 if raised or internal else 0


if __name__ == "__main__":
    raise SystemExit(main())
