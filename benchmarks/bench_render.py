"""Renderer throughput: frames/s and read-back boards/s, 9x9 and 19x19, 64 px and 256 px.

    .venv/bin/python benchmarks/bench_render.py            # table + benchmarks/results/render.json

Each figure comes with a ratio against a reference run in the same process on the same
frame size: allocating a zero frame and copying a finished frame into it (``np.zeros`` +
copy), the least any renderer that returns a fresh array must do. The ratio cancels most of
the machine's speed (and of the load from other jobs on the 2 shared cores), so it can be
compared across machines and runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.board import IllegalMove, Position  # noqa: E402
from engine.coords import EMPTY, PASS  # noqa: E402
from render.frame import RenderConfig, render, render_many  # noqa: E402
from render.reader import read_board, read_boards  # noqa: E402

VIDEO_LEN = 60  # a typical 9x9 game: ~60 moves, rendered in one render_many call


def rate(fn: Callable[[], object], items: int, seconds: float, repeats: int = 3) -> float:
    """Best of ``repeats`` runs of items/s, each run at least ``seconds`` long."""
    fn()  # warm the lru caches out of the timing
    best = 0.0
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while (dt := time.perf_counter() - t0) < seconds:
            fn()
            n += 1
        best = max(best, n * items / dt)
    return best


def midgame(size: int, rng: random.Random) -> np.ndarray:
    """A random legal position with about 60% of the points taken (captures included)."""
    pos = Position(size)
    while sum(v != EMPTY for v in pos.stones) < 0.6 * size * size:
        empty = [i for i, v in enumerate(pos.stones) if v == EMPTY]
        rng.shuffle(empty)
        for p in empty[:30]:
            try:
                pos = pos.play(divmod(p, size))
                break
            except IllegalMove:
                continue
        else:
            pos = pos.play(PASS)
    return pos.array()


def bench_case(size: int, res: int, seconds: float) -> dict:
    cfg = RenderConfig(resolution=res)
    stones = midgame(size, random.Random(size))
    video = np.stack([stones] * VIDEO_LEN)
    frame = render(stones, cfg)
    frames = render_many(video, cfg)

    def reference() -> np.ndarray:
        out = np.zeros(frame.shape, dtype=np.uint8)
        out[...] = frame
        return out

    ref = rate(reference, 1, seconds)
    row = {
        "board": f"{size}x{size}",
        "px": res,
        "reference_copies_per_s": ref,
        "render_fps": rate(lambda: render(stones, cfg), 1, seconds),
        "render_video_fps": rate(lambda: render_many(video, cfg), VIDEO_LEN, seconds),
        "read_boards_per_s": rate(lambda: read_board(frame, size, cfg), 1, seconds),
        "read_video_boards_per_s": rate(lambda: read_boards(frames, size, cfg), VIDEO_LEN, seconds),
    }
    for key in ("render_fps", "render_video_fps", "read_boards_per_s", "read_video_boards_per_s"):
        row[key.replace("_per_s", "").replace("_fps", "") + "_vs_reference"] = row[key] / ref
    assert (read_board(frame, size, cfg) == stones).all()  # the figures are for correct work
    return row


# (header, key, format) of the printed table; "x ref" is the rate over the reference's.
COLUMNS = [
    ("board", "board", "{:>6}"), ("px", "px", "{:>4}"),
    ("ref copy/s", "reference_copies_per_s", "{:>11,.0f}"),
    ("render f/s", "render_fps", "{:>11,.0f}"), ("x ref", "render_vs_reference", "{:>6.3f}"),
    ("video f/s", "render_video_fps", "{:>10,.0f}"), ("x ref", "render_video_vs_reference", "{:>6.3f}"),
    ("read b/s", "read_boards_per_s", "{:>9,.0f}"), ("x ref", "read_boards_vs_reference", "{:>6.3f}"),
    ("read vid b/s", "read_video_boards_per_s", "{:>12,.0f}"),
    ("x ref", "read_video_boards_vs_reference", "{:>6.3f}"),
]


def print_table(rows: list[dict]) -> None:
    cells = [[fmt.format(r[key]) for _, key, fmt in COLUMNS] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (h, _, _) in enumerate(COLUMNS)]
    for line in [[h for h, _, _ in COLUMNS]] + cells:
        print(" ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=0.5, help="length of each timed run (best of 3)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "render.json")
    args = ap.parse_args(argv)

    resolutions = (RenderConfig().resolution, 256)
    rows = [bench_case(size, res, args.seconds) for size in (9, 19) for res in resolutions]
    print_table(rows)
    result = {
        "benchmark": "render",
        "command": "python benchmarks/bench_render.py",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                    "platform": platform.platform(), "loadavg_1min": os.getloadavg()[0]},
        "video_len": VIDEO_LEN,
        "reference": "np.zeros(frame.shape, uint8) then copy a finished frame into it, same process",
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
