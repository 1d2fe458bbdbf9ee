"""The engine's dead-stone judgement (engine/deadstones.py) against GNU Go's, at the end of real games.

    .venv/bin/python scripts/deadstones_vs_gnugo.py runs/arena/NAME/games/*.sgf --limit 100 \
        --out docs/deadstones_vs_gnugo.json

For each game that has one (resigned games are skipped), the position at its first double pass (where GTP controllers ask ``final_score``):
GNU Go 3.8 level 10's ``final_status_list dead`` and ``final_score`` beside ours, and the board's
Tromp-Taylor area (what ``final_score`` said before the dead-stone judgement) as the baseline.
Reported: how often the dead stones are exactly GNU Go's, the score is exactly GNU Go's and the
winner is the same; and our time per position.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from loss_cliffs import replay  # scripts/ is on sys.path when this runs as a script

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.coords import PASS, color_name, to_gtp  # noqa: E402
from engine.deadstones import DeadStoneConfig, config_for, dead_chains, without  # noqa: E402
from engine.engines import gnugo_spec  # noqa: E402
from engine.game import Game  # noqa: E402
from engine.sgf import parse_collection  # noqa: E402
from gtp.client import GtpClient  # noqa: E402


def gnugo_style(score: float) -> str:
    """A count as GNU Go writes it (one decimal: "B+3.0"), so the rows read side by side."""
    return "0" if score == 0 else f"{'B' if score > 0 else 'W'}+{abs(score):.1f}"


def points(text: str) -> float:
    """Black's margin from a final_score text ("B+3.0", "W+2.5", "0")."""
    if text in ("0", ""):
        return 0.0
    return float(text[2:]) * (1 if text[0] == "B" else -1)


def winner(text: str) -> str:
    return text[0] if text and text[0] in "BW" else "0"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("games", nargs="+", type=Path)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--playouts", type=int, default=None, help="default: config_for(board size), 800 on 9x9")
    ap.add_argument("--tactical", action="store_true", help="playouts capture and escape atari (engine/playout.py)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    rows, skipped = [], []
    with GtpClient(gnugo_spec(10)) as gnugo:
        for path in sorted(args.games)[: args.limit]:
            record = parse_collection(path.read_bytes())[0]
            komi, size = record.komi, record.size
            cfg = config_for(size) if args.playouts is None else DeadStoneConfig(playouts=args.playouts)
            cfg = replace(cfg, tactical=args.tactical)
            moves = replay(path)
            if len(moves) < 2 or moves[-1][1] is not PASS or moves[-2][1] is not PASS:
                skipped.append(path.name)  # a resignation (or a move cap): no count was asked for
                continue
            game = Game(size)
            game.set_komi(komi)
            gnugo.send(f"boardsize {size}")
            gnugo.send(f"komi {komi}")
            gnugo.send("clear_board")
            for colour, move in moves:
                game.play(move, colour)
                gnugo.send(f"play {color_name(colour)} {to_gtp(move, size)}")
            theirs_dead = sorted(gnugo.send("final_status_list dead", timeout=120).split())
            theirs_score = gnugo.send("final_score", timeout=120)
            t = time.perf_counter()
            chains = dead_chains(game.position, cfg)
            seconds = time.perf_counter() - t
            ours_dead = sorted(to_gtp(divmod(p, size), size) for chain in chains for p in chain)
            ours_score = gnugo_style(without(game.position, chains).score(komi))
            rows.append({"game": path.name, "size": size, "playouts": cfg.playouts, "moves": len(moves), "gnugo_dead": theirs_dead, "ours_dead": ours_dead,
                         "gnugo_score": theirs_score, "ours_score": ours_score,
                         "tromp_taylor": gnugo_style(game.position.score(komi)), "seconds": round(seconds, 3)})
    n = len(rows)
    summary = {
        "positions": n, "skipped_without_double_pass": len(skipped), "playouts": sorted({r["playouts"] for r in rows}),
        "same_dead_stones": sum(r["gnugo_dead"] == r["ours_dead"] for r in rows),
        "same_score": sum(points(r["gnugo_score"]) == points(r["ours_score"]) for r in rows),
        "same_winner": sum(winner(r["gnugo_score"]) == winner(r["ours_score"]) for r in rows),
        "tromp_taylor_same_score": sum(points(r["gnugo_score"]) == points(r["tromp_taylor"]) for r in rows),
        "tromp_taylor_same_winner": sum(winner(r["gnugo_score"]) == winner(r["tromp_taylor"]) for r in rows),
        "positions_with_dead_stones_gnugo": sum(bool(r["gnugo_dead"]) for r in rows),
        "seconds_mean": round(sum(r["seconds"] for r in rows) / max(1, n), 3),
        "seconds_max": max((r["seconds"] for r in rows), default=0.0),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "games": rows}, indent=1) + "\n")
    for k, v in summary.items():
        print(f"{k:34s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
