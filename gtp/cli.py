"""`videoworld-go gtp`: serve GTP v2 on stdin/stdout.

Answers go to stdout, flushed one by one; logs go to stderr only. The loop reads bytes
so that binary junk or a line of megabytes can neither crash it nor fill the memory:
lines over ``protocol.MAX_LINE`` bytes are refused with ``? line too long`` and skipped.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from typing import BinaryIO

from engine.coords import MAX_SIZE, MIN_SIZE
from engine.game import Game
from engine.player import Player, RandomPlayer
from gtp import protocol
from gtp.engine import GtpEngine

log = logging.getLogger("gtp")

PLAYERS = ("random", "neural")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("gtp", help="play over GTP v2 on stdin/stdout")
    add_arguments(p)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--player", choices=PLAYERS, default=None,
                   help="who chooses the moves (default: neural when the shipped weights exist, else random)")
    p.add_argument("--weights", default=None, help="model bundle folder (default: the shipped weights/9x9)")
    p.add_argument("--temperature", type=float, default=0.0, help="neural move sampling temperature (0: greedy)")
    p.add_argument("--seed", type=int, default=None, help="seed of the random player (default: fresh)")
    p.add_argument("--size", type=_board_size, default=9, help="initial board size (2..25)")
    p.add_argument("--komi", type=_komi, default=7.0, help="initial komi")
    p.add_argument("--log-level", type=str.upper, default="WARNING",
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="what goes to stderr")
    p.set_defaults(func=run)


def _board_size(text: str) -> int:
    size = int(text)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"board size must be {MIN_SIZE}..{MAX_SIZE}")
    return size


def _komi(text: str) -> float:
    komi = float(text)
    if not math.isfinite(komi):
        raise argparse.ArgumentTypeError("komi must be a finite number")
    return komi


def make_player(kind: str | None, seed: int | None, weights: str | None = None, temperature: float = 0.0) -> Player:
    """The random player, or the neural one (9x9 model, random fallback on other sizes)."""
    from pathlib import Path

    default_weights = Path(__file__).resolve().parent.parent / "weights" / "9x9"
    folder = Path(weights) if weights else default_weights
    if kind is None:
        kind = "neural" if (folder / "manifest.json").exists() else "random"
    if kind == "random":
        return RandomPlayer(seed)
    if not (folder / "manifest.json").exists():
        raise ValueError(f"--player neural: no model bundle at {folder}")
    from engine.player import BySizePlayer
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    bundle = load_bundle(folder)
    neural = NeuralPlayer(bundle, temperature=temperature, seed=seed or 0)
    return BySizePlayer({bundle.board_size: neural}, RandomPlayer(seed))


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(stream=sys.stderr, level=args.log_level,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        player = make_player(args.player, args.seed, args.weights, args.temperature)
    except ValueError as e:
        log.error("%s", e)
        return 2
    engine = GtpEngine(lambda: Game(size=args.size, komi=args.komi), player)
    try:
        serve(engine, sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):  # the controller went away: nothing to answer
        return 0
    return 0


def serve(engine: GtpEngine, instream: BinaryIO, outstream: BinaryIO) -> None:
    """Answer lines until ``quit`` or end of input."""
    while not engine.quit_requested:
        raw = instream.readline(protocol.MAX_LINE + 1)
        if not raw:
            return
        if len(raw) > protocol.MAX_LINE and not raw.endswith(b"\n"):
            _discard_rest_of_line(instream)
            answer = protocol.line_too_long(raw.decode("utf-8", "replace"))
        else:
            answer = engine.handle(raw.decode("utf-8", "replace"))
        if answer is not None:
            outstream.write(answer.encode("utf-8", "replace"))
            outstream.flush()


def _discard_rest_of_line(instream: BinaryIO) -> None:
    while True:
        chunk = instream.readline(65536)
        if not chunk or chunk.endswith(b"\n"):
            return
