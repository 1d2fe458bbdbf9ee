"""KataGo reviews arena games: how much winrate each side's moves give away, by phase of the game.

    .venv/bin/python scripts/katago_review.py docs/gnugo10_steered2_mogo_threads2_20k_100.games.sgf \
        --hero videoworld --skip 2 --cache runs/katago_review_threads2_20k.jsonl --out docs/katago_review_threads2_20k.json

For each game of an SGF collection (up to its first double pass), KataGo's analysis engine (its b10
network, ``--visits`` a position, our rules: engine.engines.KATAGO_RULES) gives Black's winrate and score
lead at every turn, all turns in one query. At 1 visit (the default: the raw network, ~0.1-0.3 s a
position on this CPU, where 50 visits took ~10 s beside self-play) the first choice is the raw policy's. A move's loss is the mover's winrate before it less the
mover's winrate after it (KataGo's own search noise included: a few points either way); a "mistake"
loses >= 0.10, a "blunder" >= 0.25. Per player (the hero: names containing ``--hero``; the opponent: the
other side) and phase (moves 1-20, 21-40, 41-60, 61+): moves, mean loss, mistakes and blunders per 100
moves, and how often the move played was KataGo's first choice. For the hero's lost games: the move where
it lost the most (its number, size, and the winrate before it). ``--skip N``: the first N moves are not
counted (an arena's seeded opening stones, which neither engine chose). ``--cache``: KataGo's answers per
game, read back instead of asked again (a rerun with other counting costs nothing). Prints a table and
writes JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.coords import BLACK, PASS, color_name, to_gtp  # noqa: E402
from engine.engines import KATAGO_RULES  # noqa: E402
from engine.oracle import analysis_command  # noqa: E402
from engine.sgf import parse_collection  # noqa: E402

PHASES = ((1, 20), (21, 40), (41, 60), (61, 10_000))
MISTAKE, BLUNDER = 0.10, 0.25


def phase_of(move_number: int) -> str:
    return next(f"{a}-{b}" if b < 10_000 else f"{a}+" for a, b in PHASES if a <= move_number <= b)


def until_double_pass(moves: list) -> list:
    out = []
    for colour, move in moves:
        out.append((colour, move))
        if len(out) >= 2 and out[-1][1] is PASS and out[-2][1] is PASS:
            break
    return out


def review(proc, qid: str, size: int, komi: float, moves: list, visits: int) -> list[dict]:
    """KataGo's rootInfo and first choice at every turn 0..len(moves), in turn order."""
    query = {"id": qid, "moves": [[color_name(c)[0].upper(), to_gtp(m, size)] for c, m in moves],
             "rules": json.loads(KATAGO_RULES), "komi": komi, "boardXSize": size, "boardYSize": size, "maxVisits": visits,
             "analyzeTurns": list(range(len(moves) + 1)), "includePolicy": visits == 1}
    proc.stdin.write(json.dumps(query) + "\n")
    proc.stdin.flush()
    answers = {}
    while len(answers) < len(moves) + 1:
        d = json.loads(proc.stdout.readline())
        if "error" in d:
            raise RuntimeError(f"KataGo refused {qid}: {d}")
        if d.get("id") == qid and not d.get("isDuringSearch"):
            infos = sorted(d.get("moveInfos", []), key=lambda m: m["order"])
            if infos:
                best = infos[0]["move"]
            else:  # 1 visit: no search, the raw policy's favourite (row-major from the top left, pass last)
                policy = d["policy"]
                f = max(range(len(policy)), key=policy.__getitem__)
                best = "pass" if f == size * size else to_gtp(divmod(f, size), size)
            answers[d["turnNumber"]] = {"wr": d["rootInfo"]["winrate"], "lead": d["rootInfo"]["scoreLead"],
                                        "best": best}
    return [answers[t] for t in range(len(moves) + 1)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("games", type=Path, help="an SGF collection (scripts/pack_arena_games.py) or one game")
    ap.add_argument("--hero", required=True, help="a substring of the hero's player name (PB / PW)")
    ap.add_argument("--visits", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="the first N games")
    ap.add_argument("--skip", type=int, default=0, help="moves at the start of each game not counted (seeded openings)")
    ap.add_argument("--cache", type=Path, default=None, help="a JSONL of KataGo's answers per game, reused and extended")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import subprocess

    records = parse_collection(args.games.read_bytes())[: args.limit]
    cached: dict[int, list] = {}
    if args.cache is not None and args.cache.exists():
        for line in args.cache.read_text().splitlines():
            entry = json.loads(line)
            if entry["visits"] == args.visits:
                cached[entry["game"]] = entry["turns"]
    proc = subprocess.Popen(analysis_command(size=records[0].size), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    stats: dict = defaultdict(lambda: defaultdict(lambda: {"moves": 0, "loss": 0.0, "mistakes": 0, "blunders": 0,
                                                           "first_choice": 0}))
    worst, started = [], time.monotonic()
    try:
        for i, rec in enumerate(records):
            hero = BLACK if args.hero in rec.black_player else (3 - BLACK if args.hero in rec.white_player else None)
            if hero is None or rec.black_setup or rec.white_setup:
                continue
            moves = until_double_pass(rec.moves)
            turns = cached.get(i)
            if turns is None:
                turns = review(proc, f"g{i}", rec.size, rec.komi if rec.komi is not None else 7.0, moves, args.visits)
                if args.cache is not None:
                    with args.cache.open("a") as f:
                        f.write(json.dumps({"game": i, "visits": args.visits, "turns": turns}) + "\n")
            lost_most = None
            for t, (colour, move) in enumerate(moves):
                if t < args.skip:
                    continue
                before = turns[t]["wr"] if colour == BLACK else 1.0 - turns[t]["wr"]
                after = turns[t + 1]["wr"] if colour == BLACK else 1.0 - turns[t + 1]["wr"]
                loss = before - after
                who = "hero" if colour == hero else "opponent"
                for key in (phase_of(t + 1), "all"):
                    s = stats[who][key]
                    s["moves"] += 1
                    s["loss"] += loss
                    s["mistakes"] += loss >= MISTAKE
                    s["blunders"] += loss >= BLUNDER
                    s["first_choice"] += turns[t]["best"] == to_gtp(move, rec.size)
                if who == "hero" and (lost_most is None or loss > lost_most["loss"]):
                    lost_most = {"game": i, "move_number": t + 1, "move": to_gtp(move, rec.size), "loss": round(loss, 3),
                                 "winrate_before": round(before, 3), "katago_first": turns[t]["best"]}
            hero_won = rec.result.startswith("B+" if hero == BLACK else "W+")
            final = turns[-1]["wr"] if hero == BLACK else 1.0 - turns[-1]["wr"]
            if not hero_won and lost_most is not None:
                worst.append(lost_most | {"result": rec.result, "hero": color_name(hero), "final_winrate": round(final, 3)})
            print(f"game {i}: {len(moves)} moves, {time.monotonic() - started:.0f} s", file=sys.stderr)
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    table = {who: {k: {"moves": s["moves"], "mean_loss": round(s["loss"] / max(1, s["moves"]), 4),
                       "mistakes_per_100": round(100 * s["mistakes"] / max(1, s["moves"]), 1),
                       "blunders_per_100": round(100 * s["blunders"] / max(1, s["moves"]), 1),
                       "katago_first_choice": round(s["first_choice"] / max(1, s["moves"]), 3)}
                   for k, s in sorted(v.items())} for who, v in stats.items()}
    print(f"{'player':9} {'phase':6} {'moves':>6} {'mean loss':>10} {'mistakes/100':>13} {'blunders/100':>13} {'KataGo 1st':>11}")
    for who in ("hero", "opponent"):
        for key, s in table.get(who, {}).items():
            print(f"{who:9} {key:6} {s['moves']:6d} {s['mean_loss']:10.4f} {s['mistakes_per_100']:13.1f} "
                  f"{s['blunders_per_100']:13.1f} {s['katago_first_choice']:11.3f}")
    by_phase: dict = defaultdict(int)
    for w in worst:
        by_phase[phase_of(w["move_number"])] += 1
    print(f"hero's lost games: {len(worst)}; its largest loss by phase: {dict(sorted(by_phase.items()))}")
    if args.out:
        args.out.write_text(json.dumps({"games": str(args.games), "hero": args.hero, "visits": args.visits,
                                        "skip": args.skip,
                                        "mistake": MISTAKE, "blunder": BLUNDER, "table": table,
                                        "lost_games_largest_loss": worst,
                                        "largest_loss_by_phase": dict(sorted(by_phase.items()))}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
