"""A game: the one stateful object GTP and REST share (history, undo, komi, result)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from engine.board import IllegalMove, Position
from engine.coords import (
    BLACK,
    PASS,
    RESIGN,
    WHITE,
    Move,
    Point,
    check_size,
    color_name,
    opponent,
)


class HandicapError(ValueError):
    """A handicap request the board cannot take (count, size, or a non-empty board)."""


def max_fixed_handicap(size: int) -> int:
    """GTP spec 4.1.1: 7x7 and even sizes take up to 4, odd sizes from 9x9 up to 9; below 7 none."""
    if size < 7:
        return 0
    if size == 7 or size % 2 == 0:
        return 4
    return 9


def fixed_handicap_points(count: int, size: int) -> list[Point]:
    """The GTP spec's placement: corners on the 3-3 (up to 12x12) or 4-4 line, then sides, centre."""
    if not 2 <= count <= max_fixed_handicap(size):
        raise HandicapError(f"invalid handicap {count} for {size}x{size}")
    d = 2 if size <= 12 else 3  # 0-based distance of the corner points from the edge
    lo, hi, mid = d, size - 1 - d, size // 2
    # (row, col), row 0 at the top. Order as in the spec for 19x19: D4 Q16 D16 Q4 / D10 Q10 / K4 K16 / K10.
    d4, q16, d16, q4 = (hi, lo), (lo, hi), (lo, lo), (hi, hi)
    d10, q10, k4, k16, k10 = (mid, lo), (mid, hi), (hi, mid), (lo, mid), (mid, mid)
    table = {
        2: [d4, q16],
        3: [d4, q16, d16],
        4: [d4, q16, d16, q4],
        5: [d4, q16, d16, q4, k10],
        6: [d4, q16, d16, q4, d10, q10],
        7: [d4, q16, d16, q4, d10, q10, k10],
        8: [d4, q16, d16, q4, d10, q10, k4, k16],
        9: [d4, q16, d16, q4, d10, q10, k4, k16, k10],
    }
    return table[count]


@dataclass
class Game:
    """History of positions; ``moves[i]`` led from ``positions[i]`` to ``positions[i+1]``."""

    size: int = 9
    komi: float = 7.0
    positions: list[Position] = field(default_factory=list)
    moves: list[tuple[int, Move]] = field(default_factory=list)
    handicap: list[Point] = field(default_factory=list)
    resigned: Optional[int] = None  # colour that resigned

    def __post_init__(self) -> None:
        check_size(self.size)
        if not math.isfinite(self.komi):
            raise ValueError("komi must be finite")
        if not self.positions:
            self.positions = [Position(self.size)]

    # -------------------------------------------------------------- state
    @property
    def position(self) -> Position:
        return self.positions[-1]

    @property
    def to_play(self) -> int:
        return self.position.to_play

    @property
    def move_number(self) -> int:
        return len(self.moves)

    def is_over(self) -> bool:
        return self.resigned is not None or self.position.passes >= 2

    def clear(self) -> None:
        self.positions = [Position(self.size)]
        self.moves.clear()
        self.handicap = []
        self.resigned = None

    def set_size(self, size: int) -> None:
        self.size = check_size(size)
        self.clear()

    def set_komi(self, komi: float) -> None:
        if not math.isfinite(komi):
            raise ValueError("komi must be finite")
        self.komi = float(komi)

    # -------------------------------------------------------------- moves
    def play(self, move: Move, color: Optional[int] = None) -> Position:
        """Play (any colour, as GTP allows); raise IllegalMove and change nothing if illegal."""
        c = self.to_play if color is None else color
        if move is RESIGN:
            self.resigned = c
            self.moves.append((c, RESIGN))
            self.positions.append(self.position)
            return self.position
        new = self.position.play(move, c)
        self.positions.append(new)
        self.moves.append((c, move))
        return new

    def undo(self) -> bool:
        """Take back the last move; False when there is none (handicap setup is not a move)."""
        if not self.moves:
            return False
        color, move = self.moves.pop()
        self.positions.pop()
        if move is RESIGN:
            self.resigned = None
        return True

    def place_handicap(self, points: list[Point]) -> None:
        """Setup stones for Black on an empty board; White moves next."""
        if self.moves or any(self.position.stones):
            raise HandicapError("board not empty")
        if len(points) < 2 or len(set(points)) != len(points):
            raise HandicapError("bad handicap")
        pos = self.position.with_stones(black=points, to_play=WHITE)
        self.positions = [pos]
        self.handicap = list(points)

    def setup(self, black: list[Point], white: list[Point], to_play: int = BLACK) -> None:
        """Setup stones (SGF AB/AW) at the start of a game."""
        if self.moves:
            raise ValueError("setup only before the first move")
        self.positions = [self.position.with_stones(black, white, to_play)]

    # -------------------------------------------------------------- result
    def score(self) -> float:
        return self.position.score(self.komi)

    def result(self) -> str:
        """SGF-style result: 'B+3.5', 'W+R', '0' for a draw (area scoring of the current board)."""
        if self.resigned is not None:
            return f"{color_name(opponent(self.resigned))}+R"
        return score_text(self.score())


def win_value(score: float, color: int) -> float:
    """What a count (Black minus White, komi included) is worth to ``color``: 1 won, 0 lost, 1/2 a draw."""
    if score == 0:
        return 0.5
    return 1.0 if (score > 0) == (color == BLACK) else 0.0


def score_text(score: float) -> str:
    """A count (Black minus White, komi included) as SGF and GTP write it: "B+3.5", "W+12", "0"."""
    if score == 0:
        return "0"
    value = abs(score)
    return f"{'B' if score > 0 else 'W'}+{int(value) if float(value).is_integer() else f'{value:g}'}"


__all__ = ["score_text", "win_value", "Game", "HandicapError", "IllegalMove", "fixed_handicap_points", "max_fixed_handicap", "PASS"]
