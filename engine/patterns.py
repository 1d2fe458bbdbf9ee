"""MoGo's 3x3 playout patterns as a lookup table for the compiled playouts (engine/fastboard.py).

Gelly, Wang, Munos and Teytaud, "Modification of UCT with Patterns in Monte-Carlo Go" (INRIA RR-6062,
2006), section 3.2 and figures 2-5: after the atari answers, a MoGo playout plays one of the empty points
around the last move whose 3x3 neighbourhood is a hane, a cut or an edge shape, before captures elsewhere
and the uniform draw. They report this "sequence-like" policy as the largest single gain of their
program against GNU Go; the patterns below are their figures, written out by hand here.

A neighbourhood is a 16-bit code: 2 bits per neighbour (0 empty, 1 Black, 2 White, 3 off the board) in
``NEIGHBOURS`` order, the first neighbour in the lowest bits (fastboard.pattern_code). The table holds
every code some pattern matches in one of the 8 board symmetries with either colour as X; the side to
move does not matter (the patterns are the same for both).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np

# (row, col) offsets of the 8 neighbours, in code order
NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))

EMPTY, X_STONE, O_STONE, EDGE = ".", "X", "O", "#"

# Centre: the candidate move (always empty). X, O: stones of the two colours; ".": empty; "#": off the
# board; "?": anything; "x": anything but an X stone; "o": anything but an O stone.
MOGO_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("XOX", "...", "???"),  # hane, enclosing
    ("XO.", "...", "?.?"),  # hane, not cutting
    ("XO?", "X..", "x.?"),  # hane, magari
    (".O.", "X..", "..."),  # attachment diagonal to an X stone
    ("XO?", "O.x", "?x?"),  # cut 1: the cut is not already answered
    ("XO?", "O.X", "???"),  # cut 1: X already peeps the other side
    ("?X?", "O.O", "ooo"),  # cut 2
    ("X.?", "O.?", "###"),  # edge: chase
    ("OX?", "X.O", "###"),  # edge: block the cut
    ("?X?", "x.O", "###"),  # edge: block the connection
    ("?XO", "x.x", "###"),  # edge: descend (sagari)
    ("?OX", "X.O", "###"),  # edge: cut
)


def _symmetries(grid: np.ndarray) -> list[np.ndarray]:
    """The 8 rotations and reflections of a (3, 3) grid."""
    out = []
    for k in range(4):
        r = np.rot90(grid, k)
        out += [r, np.fliplr(r)]
    return out


def _values(ch: str, x: int, o: int) -> tuple[int, ...]:
    """The cell values (0 empty, 1/2 stones, 3 off the board) pattern character ``ch`` admits with X=x, O=o."""
    anything = (0, 1, 2, 3)
    return {".": (0,), "#": (3,), "?": anything, "X": (x,), "O": (o,),
            "x": tuple(v for v in anything if v != x), "o": tuple(v for v in anything if v != o)}[ch]


def codes(pattern: tuple[str, str, str]) -> set[int]:
    """Every neighbourhood code ``pattern`` matches (all symmetries, both colours as X)."""
    grid = np.array([list(row) for row in pattern])
    assert grid.shape == (3, 3) and grid[1, 1] == ".", pattern
    out: set[int] = set()
    for g in _symmetries(grid):
        for x, o in ((1, 2), (2, 1)):
            cells = [_values(g[1 + dr, 1 + dc], x, o) for dr, dc in NEIGHBOURS]
            for combo in product(*cells):
                out.add(sum(v << (2 * k) for k, v in enumerate(combo)))
    return out


@lru_cache(maxsize=None)
def mogo_table() -> np.ndarray:
    """(4**8,) bool: which neighbourhood codes are MoGo patterns. Built once (~0.1 s), then shared."""
    table = np.zeros(4 ** 8, np.bool_)
    for pattern in MOGO_PATTERNS:
        table[list(codes(pattern))] = True
    table.setflags(write=False)
    return table


@lru_cache(maxsize=None)
def neighbours8(size: int) -> np.ndarray:
    """(A, 8) int32: each point's neighbours in ``NEIGHBOURS`` order, -1 off the board (positions kept, so
    an edge point's code says which side the edge is on)."""
    a = size * size
    out = np.full((a, 8), -1, np.int32)
    for r in range(size):
        for c in range(size):
            for k, (dr, dc) in enumerate(NEIGHBOURS):
                if 0 <= r + dr < size and 0 <= c + dc < size:
                    out[r * size + c, k] = (r + dr) * size + c + dc
    out.setflags(write=False)
    return out


def matches(stones: bytes | bytearray, size: int, point: int) -> bool:
    """Whether the empty ``point``'s neighbourhood on ``stones`` (A,) is a MoGo pattern (for tests, GUIs)."""
    nb = neighbours8(size)[point]
    code = sum((3 if q < 0 else stones[q]) << (2 * k) for k, q in enumerate(nb))
    return bool(mogo_table()[code])
