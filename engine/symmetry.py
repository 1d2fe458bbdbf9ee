"""The 8 symmetries of a square board (rotations and reflections), on points and positions.

Used where equivalent moves must count as equal (on an empty board every 3-3 point is
the same move; an oracle names one of them) and for data augmentation.
"""

from __future__ import annotations

from typing import Callable

from engine.board import Position
from engine.coords import PASS, RESIGN, Move, Point

# (row, col) -> (row, col) on an N x N board; n = N - 1. Index 0 is the identity.
TRANSFORMS: tuple[Callable[[int, int, int], Point], ...] = (
    lambda r, c, n: (r, c),
    lambda r, c, n: (c, n - r),  # rotate 90 degrees clockwise
    lambda r, c, n: (n - r, n - c),  # rotate 180
    lambda r, c, n: (n - c, r),  # rotate 270
    lambda r, c, n: (r, n - c),  # mirror left-right
    lambda r, c, n: (n - r, c),  # mirror top-bottom
    lambda r, c, n: (c, r),  # transpose (main diagonal)
    lambda r, c, n: (n - c, n - r),  # anti-diagonal
)

# How many of TRANSFORMS a player may average over (the first S of them; models/player.py).
VIEW_COUNTS = (1, 2, 4, 8)


def transform_move(move: Move, t: int, size: int) -> Move:
    if move is PASS or move is RESIGN:
        return move
    r, c = move  # type: ignore[misc]
    return TRANSFORMS[t](r, c, size - 1)


def transform_stones(stones: bytes, t: int, size: int) -> bytes:
    out = bytearray(size * size)
    for p, v in enumerate(stones):
        if v:
            r, c = TRANSFORMS[t](*divmod(p, size), size - 1)
            out[r * size + c] = v
    return bytes(out)


def stabilizer(position: Position) -> list[int]:
    """The transforms that leave the board (and the ko point) unchanged; always includes 0."""
    size = position.size
    out = []
    for t in range(len(TRANSFORMS)):
        if transform_stones(position.stones, t, size) != position.stones:
            continue
        if position.ko >= 0:
            r, c = TRANSFORMS[t](*divmod(position.ko, size), size - 1)
            if r * size + c != position.ko:
                continue
        out.append(t)
    return out


def equivalent_moves(position: Position, move: Move) -> set[Move]:
    """Every move that is the same as ``move`` up to a symmetry of ``position``."""
    return {transform_move(move, t, position.size) for t in stabilizer(position)}
