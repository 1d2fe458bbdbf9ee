"""Does KataGo evaluate 9x9 positions faster in batches on this CPU? (self-play / oracle throughput)

    .venv/bin/python benchmarks/bench_katago_batch.py [--queries 16] [--reps 3]

The analysis engine at 1 visit (one network evaluation a query, ``includePolicy``) is asked
``--queries`` random-play positions one at a time, then as many other positions all at once,
``--reps`` times each. Two configs: the shipped ``analysis9.cfg`` (1 analysis thread, 2 search
threads, NN batch 8), and the same with as many analysis threads as queries and an NN batch
that large, so the engine can put all of them in one network batch. Fresh positions every
time (KataGo's NN cache would answer a repeat for free). If "at once" were much cheaper per
query, a self-play driver batching several games through one engine would be worth
building (the GTP self-play asks one move at a time). Needs KataGo
(``scripts/install_katago.sh``). Writes benchmarks/results/katago_batch.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing
RESULTS = REPO / "benchmarks" / "results" / "katago_batch.json"


def positions(first_seed: int, count: int) -> list[list[list[str]]]:
    """``count`` random-play move lists (10-39 moves), as KataGo's ``moves`` field."""
    from engine.coords import color_name, to_gtp
    from engine.game import Game
    from engine.player import RandomPlayer

    out = []
    for seed in range(first_seed, first_seed + count):
        g, p, moves = Game(9), RandomPlayer(seed=seed), []
        for _ in range(10 + seed % 30):
            c = g.to_play
            m = p.genmove(g, c)
            g.play(m, c)
            moves.append([color_name(c), to_gtp(m, 9)])
        out.append(moves)
    return out


class Engine:
    """The analysis engine on raw pipes: several queries may be in flight (KataGoAnalysis asks one at a time)."""

    def __init__(self, config: Path) -> None:
        from engine.engines import KATAGO_RULES
        from engine.oracle import analysis_command

        cmd = analysis_command(size=9)
        cmd[cmd.index("-config") + 1] = str(config)
        self.rules = json.loads(KATAGO_RULES)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.next_id = 0

    def send(self, moves: list[list[str]]) -> None:
        self.next_id += 1
        self.proc.stdin.write(json.dumps({"id": str(self.next_id), "moves": moves, "rules": self.rules, "komi": 7,
                                          "boardXSize": 9, "boardYSize": 9, "maxVisits": 1,
                                          "includePolicy": True}) + "\n")

    def receive(self) -> dict:
        while True:
            answer = json.loads(self.proc.stdout.readline())
            if "error" in answer:
                raise RuntimeError(f"KataGo: {answer}")
            if not answer.get("isDuringSearch"):
                return answer

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(60)


def measure(config: Path, queries: int, reps: int, seed: int) -> dict:
    engine = Engine(config)
    try:
        engine.send(positions(10**6, 1)[0])  # start-up and warm-up, not timed
        engine.receive()
        one_at_a_time, at_once = [], []
        for rep in range(reps):
            batch = positions(seed + 2 * rep * queries, queries)
            t = time.perf_counter()
            for moves in batch:
                engine.send(moves)
                engine.receive()
            one_at_a_time.append((time.perf_counter() - t) / queries)
            batch = positions(seed + (2 * rep + 1) * queries, queries)
            t = time.perf_counter()
            for moves in batch:
                engine.send(moves)
            for _ in batch:
                engine.receive()
            at_once.append((time.perf_counter() - t) / queries)
    finally:
        engine.close()
    return {"one_at_a_time_ms": [round(x * 1000, 1) for x in one_at_a_time],
            "at_once_ms": [round(x * 1000, 1) for x in at_once]}


def main(argv: list[str] | None = None) -> int:
    from engine.engines import default_katago_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=16)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    shipped = Path(default_katago_dir()) / "configs" / "analysis9.cfg"
    if not shipped.exists():
        print(f"no KataGo config at {shipped}: run scripts/install_katago.sh first", file=sys.stderr)
        return 2
    text = shipped.read_text()
    wide = (text.replace("numAnalysisThreads = 1", f"numAnalysisThreads = {args.queries}")
            .replace("numSearchThreadsPerAnalysisThread = 2", "numSearchThreadsPerAnalysisThread = 1")
            .replace("nnMaxBatchSize = 8", f"nnMaxBatchSize = {args.queries}"))
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        wide_path = Path(tmp) / "analysis9_wide.cfg"
        wide_path.write_text(wide)
        for name, cfg, seed in (("shipped (1 analysis thread, NN batch 8)", shipped, 0),
                                (f"{args.queries} analysis threads, NN batch {args.queries}", wide_path, 10_000)):
            rows[name] = measure(cfg, args.queries, args.reps, seed)
    print(f"| config | ms per query, {args.queries} one at a time | ms per query, {args.queries} at once |")
    print("|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {', '.join(map(str, r['one_at_a_time_ms']))} | {', '.join(map(str, r['at_once_ms']))} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"queries": args.queries, "reps": args.reps, "configs": rows,
                                    "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M")},
                                   indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
