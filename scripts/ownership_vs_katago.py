"""The ownership map of ``kata-analyze ownership true`` (engine/deadstones.ownership_for) against KataGo's.

    .venv/bin/python scripts/ownership_vs_katago.py runs/arena/NAME/games/*.sgf --limit 50 \
        --out docs/ownership_vs_katago.json

For each game, the positions after moves 20, 40 and 60 (when the game is that long) and at its
first double pass: KataGo's raw network ownership (``kata-raw-nn 0``, its b10 net, no search)
beside ours, both from Black's view. Reported per phase, over the points KataGo is sure of
(|ownership| >= 0.6): the share where our value has KataGo's sign (0 counts as a miss); and the
mean absolute difference over all points. Two baselines beside the map: the playouts' mean alone
(before the count settles it) and the Tromp-Taylor area of the board as it stands (stones, and
empty regions one colour borders, as +-1; the rest 0).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from loss_cliffs import replay  # scripts/ is on sys.path when this runs as a script

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.board import Position  # noqa: E402
from engine.coords import BLACK, WHITE, color_name, to_gtp  # noqa: E402
from engine.deadstones import config_for, ownership, ownership_for  # noqa: E402
from engine.engines import katago_spec  # noqa: E402
from engine.game import Game  # noqa: E402
from engine.sgf import parse_collection  # noqa: E402
from gtp.client import GtpClient  # noqa: E402

SURE = 0.6
PHASES = (20, 40, 60)


def area_map(position: Position) -> np.ndarray:
    """Tromp-Taylor ownership of the board as it stands, Black +1."""
    stones = np.frombuffer(position.stones, dtype=np.uint8)
    out = np.where(stones == BLACK, 1.0, np.where(stones == WHITE, -1.0, 0.0))
    for points, borders in position.empty_regions():
        if borders in (BLACK, WHITE):
            out[points] = 1.0 if borders == BLACK else -1.0
    return out


def katago_black_ownership(katago: GtpClient, size: int) -> np.ndarray:
    """``kata-raw-nn 0``'s whiteOwnership (top-left first), turned to Black's view."""
    words = katago.send("kata-raw-nn 0", timeout=120).split()
    at = words.index("whiteOwnership") + 1
    return -np.array([float(w) for w in words[at: at + size * size]])


def scores(ours: np.ndarray, theirs: np.ndarray) -> dict:
    sure = np.abs(theirs) >= SURE
    agree = np.sign(ours[sure]) == np.sign(theirs[sure])
    return {"sure_points": int(sure.sum()), "sure_agree": int(agree.sum()),
            "abs_diff_sum": float(np.abs(ours - theirs).sum()), "points": int(ours.size)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("games", nargs="+", type=Path)
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    methods = ("map", "playout_mean", "area_as_it_stands")
    totals: dict = {}
    seconds, rows = [], []
    with GtpClient(katago_spec(1, 9, sample=False)) as katago:
        for path in sorted(args.games)[: args.limit]:
            moves = replay(path)
            komi = parse_collection(path.read_bytes())[0].komi
            stops = {n: f"move{n}" for n in PHASES if n < len(moves)}
            stops[len(moves)] = "double_pass"
            game = Game(9)
            game.set_komi(komi)
            katago.send("boardsize 9")
            katago.send(f"komi {komi}")
            katago.send("clear_board")
            for i, (colour, move) in enumerate(moves, start=1):
                game.play(move, colour)
                katago.send(f"play {color_name(colour)} {to_gtp(move, 9)}")
                if i not in stops:
                    continue
                pos, to_play = game.position, game.to_play
                theirs = katago_black_ownership(katago, 9)
                t = time.perf_counter()
                ours = ownership_for(pos, BLACK if to_play == BLACK else WHITE) * (1 if to_play == BLACK else -1)
                seconds.append(time.perf_counter() - t)
                maps = {"map": ours,
                        "playout_mean": ownership(Position(9, pos.stones, to_play), config_for(9)),
                        "area_as_it_stands": area_map(pos)}
                row = {"game": path.name, "phase": stops[i], "moves": i}
                for name in methods:
                    row[name] = scores(maps[name], theirs)
                    bucket = totals.setdefault(stops[i], {}).setdefault(name, {"sure_points": 0, "sure_agree": 0,
                                                                               "abs_diff_sum": 0.0, "points": 0})
                    for k, v in row[name].items():
                        bucket[k] += v
                rows.append(row)
    summary = {}
    for phase in [f"move{n}" for n in PHASES] + ["double_pass"]:
        if phase not in totals:
            continue
        summary[phase] = {"positions": sum(r["phase"] == phase for r in rows)}
        for name, b in totals[phase].items():
            summary[phase][name] = {"sure_agree_pct": round(100 * b["sure_agree"] / max(1, b["sure_points"]), 1),
                                    "sure_points": b["sure_points"],
                                    "mean_abs_diff": round(b["abs_diff_sum"] / max(1, b["points"]), 3)}
    summary["seconds_mean"] = round(float(np.mean(seconds)), 3)
    summary["seconds_max"] = round(float(np.max(seconds)), 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "sure": SURE, "positions": rows}, indent=1) + "\n")
    print(f"{'phase':12s} {'positions':>9s} " + " ".join(f"{m + ' agree% / |diff|':>34s}" for m in methods))
    for phase, s in summary.items():
        if isinstance(s, dict):
            print(f"{phase:12s} {s['positions']:9d} " + " ".join(
                f"{s[m]['sure_agree_pct']:>24.1f} / {s[m]['mean_abs_diff']:.3f}" for m in methods))
    print(f"ours: {summary['seconds_mean']} s a position on average, longest {summary['seconds_max']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
