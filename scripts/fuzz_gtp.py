"""Fuzzes `videoworld-go gtp` over a real pipe with random commands, genmove_analyze intervals among them.

    .venv/bin/python scripts/fuzz_gtp.py [--commands 120] [--seed 7]

The Monte Carlo player (3,000 simulations a move) gets ``--commands`` lines drawn from a fixed list (genmove and
both genmove_analyze forms with and without intervals, odd arguments, undo, board sizes 3-13, passes, a clock,
showboard, final_score ...), each with an id, then ``quit``. Checks every line got exactly one framed answer, in
order, and counts internal errors and tracebacks (both should be 0). Session 42: 121 answers for 121 lines.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = ["genmove b", "genmove w", "lz-genmove_analyze b 5", "kata-genmove_analyze w 3 ownership true",
            "lz-genmove_analyze 1", "kata-genmove_analyze b interval 2 maxmoves 3", "lz-genmove_analyze w 0", "undo",
            "clear_board", "boardsize 5", "boardsize 9", "boardsize 3", "boardsize 13", "play b E5", "play w D4",
            "play b pass", "kata-genmove_analyze b -1", "lz-genmove_analyze x 5", "lz-genmove_analyze b 5 bogus",
            "time_settings 5 1 1", "time_left b 1 1", "showboard", "final_score", "komi 0.5",
            "kata-genmove_analyze b 1e999", "lz-genmove_analyze b 99999999999999999999"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--commands", type=int, default=120)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    script = [f"{i} {rng.choice(COMMANDS)}" for i in range(args.commands)] + ["999 quit"]
    proc = subprocess.run([sys.executable, "-m", "gtp", "--player", "montecarlo", "--mc-playouts", "3000"], cwd=REPO,
                          input=("\n".join(script) + "\n").encode(), capture_output=True, timeout=900)
    text = proc.stdout.decode()
    answers = re.findall(r"^([=?])(\d+)", text, re.M)
    ids = [int(a[1]) for a in answers]
    unframed = [b for b in text.split("\n\n") if b.strip() and not re.match(r"^[=?]\d+", b.strip())]
    internal, tracebacks = text.count("internal error"), proc.stderr.decode().count("Traceback")
    print(f"answers {len(answers)} for {len(script)} lines, ids in order {ids == sorted(ids)}, "
          f"errors {sum(a[0] == '?' for a in answers)}, internal errors {internal}, tracebacks {tracebacks}, "
          f"unframed blocks {len(unframed)}")
    return 0 if len(answers) == len(script) and ids == sorted(ids) and not (internal or tracebacks or unframed) else 1


if __name__ == "__main__":
    raise SystemExit(main())
