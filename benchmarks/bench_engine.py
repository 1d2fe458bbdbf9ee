"""Engine speed: replay 1,000 random 9x9 games with full legality checks.

    .venv/bin/python benchmarks/bench_engine.py [--games 1000] [--seed 0]

The games are generated first by the built-in RandomPlayer (complete games: it only
passes when nothing but its own eyes is left), kept in memory, then replayed through
``Game.play``, which checks every move (occupied, suicide, ko, positional superko) and
resolves captures. The time is also given as a ratio to a reference loop over the same
move list doing one dict lookup per move, so that figures from machines of different
speed can be compared. Writes benchmarks/results/engine.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from engine.coords import Move  # noqa: E402
from engine.game import Game  # noqa: E402
from engine.player import RandomPlayer  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "engine.json"
TARGET_SECONDS = 10.0  # issue 2: 1,000 9x9 games (~60k moves) under 10 s on the 2-core CI machine


def generate(games: int, seed: int, size: int = 9) -> list[list[tuple[int, Move]]]:
    player = RandomPlayer(seed)
    records = []
    for _ in range(games):
        game = Game(size=size)
        while not game.is_over():
            game.play(player.genmove(game, game.to_play), game.to_play)
        records.append(list(game.moves))
    return records


def replay(records: list[list[tuple[int, Move]]], size: int = 9) -> int:
    """Replay every game from the empty board; returns the number of moves played."""
    played = 0
    for moves in records:
        game = Game(size=size)
        for color, move in moves:
            game.play(move, color)
        played += len(moves)
    return played


def reference(records: list[list[tuple[int, Move]]]) -> int:
    """The floor for any replay in Python: one dict lookup per move."""
    table: dict = {}
    total = 0
    for moves in records:
        for color, move in moves:
            total += table.get(move, color)
    return total


def best_of(fn, arg, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="replays timed; the best is kept")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    t = time.perf_counter()
    records = generate(args.games, args.seed)
    gen_s = time.perf_counter() - t
    moves = sum(len(r) for r in records)
    engine_s = best_of(replay, records, args.repeat)
    ref_s = best_of(reference, records, args.repeat)
    per_60k = engine_s * 60_000 / moves
    result = {
        "benchmark": "replay random 9x9 games with full legality checks (Game.play)",
        "games": args.games,
        "moves": moves,
        "moves_per_game": round(moves / args.games, 1),
        "seconds": round(engine_s, 3),
        "moves_per_second": round(moves / engine_s),
        "seconds_per_60k_moves": round(per_60k, 3),
        "reference_seconds": round(ref_s, 4),
        "ratio_to_reference": round(engine_s / ref_s, 1),
        "target_seconds": TARGET_SECONDS,
        "within_target": engine_s < TARGET_SECONDS,
        "generation_seconds": round(gen_s, 1),
        "seed": args.seed,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    rows = [("games", args.games), ("moves", moves), ("replay seconds (best of %d)" % args.repeat, f"{engine_s:.3f}"),
            ("moves / s", f"{moves / engine_s:,.0f}"), ("seconds per 60k moves", f"{per_60k:.3f}"),
            ("reference seconds", f"{ref_s:.4f}"), ("ratio to reference", f"{engine_s / ref_s:.1f}x"),
            (f"under {TARGET_SECONDS:g} s", "yes" if engine_s < TARGET_SECONDS else "NO"),
            ("generation seconds (not timed)", f"{gen_s:.1f}")]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
