"""`videoworld-go render`: an SGF game as an animated GIF, or one position as a PNG.

    videoworld-go render game.sgf -o game.gif            # the whole game, empty board first
    videoworld-go render game.sgf -o pos.png --move 30   # the board after 30 moves
    videoworld-go render game.sgf -o pos.png             # the final position

The output format follows the file extension. Frames are exactly what the model sees,
only larger by default (256 px, the paper's size) so people can look at them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("render", help="render an SGF game to a GIF, or one position to a PNG",
                              description=__doc__.splitlines()[0])
    p.add_argument("sgf", type=Path, help="SGF file")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .gif (the game) or .png (one position)")
    p.add_argument("--move", type=int, default=None,
                   help="PNG only: the position after this many moves (0 = the start; default: the final one)")
    p.add_argument("--size-px", type=int, default=256, help="frame width and height in px (default 256)")
    p.add_argument("--game-index", type=int, default=0, help="which game of a multi-game SGF file (0-based)")
    p.add_argument("--delay-ms", type=int, default=500, help="GIF: time each frame is shown")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from engine.sgf import SgfError, load_game
    from render.frame import RenderConfig
    from render.video import game_frames

    suffix = args.output.suffix.lower()
    if suffix not in (".gif", ".png"):
        print(f"render: output must end in .gif or .png, got {args.output}", file=sys.stderr)
        return 2
    try:
        cfg = RenderConfig(resolution=args.size_px)
        game = load_game(args.sgf.read_bytes(), index=args.game_index)
        frames = game_frames(game, cfg)  # also checks the size fits the resolution
    except (OSError, SgfError, ValueError) as e:
        print(f"render: {e}", file=sys.stderr)
        return 1

    if suffix == ".png":
        n = len(frames) - 1 if args.move is None else args.move
        if not 0 <= n < len(frames):
            print(f"render: --move must be 0..{len(frames) - 1} for this game, got {n}", file=sys.stderr)
            return 2
        Image.fromarray(frames[n]).save(args.output)
        return 0

    if args.move is not None:
        print("render: --move applies to PNG output only", file=sys.stderr)
        return 2
    # At most four colours (board, line, black, white), so an adaptive palette is exact.
    # Pillow merges identical consecutive frames (passes) into one longer frame: same film.
    images = [Image.fromarray(np.ascontiguousarray(f)).quantize(colors=4) for f in frames]
    images[0].save(args.output, save_all=True, append_images=images[1:],
                   duration=args.delay_ms, loop=0)
    return 0
