"""Immutable Go positions: captures, suicide, simple ko, positional superko, scoring.

``Position.play(move) -> Position`` never mutates; illegal moves raise ``IllegalMove``
with the reason ("occupied", "suicide", "ko", "superko"). Stones live in a ``bytes``
of N*N cells (row-major, row 0 at the top) holding EMPTY/BLACK/WHITE. Positional
superko compares boards only (not the side to move), via 64-bit Zobrist hashes of
every board seen since the game's start.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Iterable, Optional

import numpy as np

from engine.coords import (
    BLACK,
    EMPTY,
    PASS,
    RESIGN,
    WHITE,
    CoordError,
    Move,
    Point,
    check_size,
    on_board,
    opponent,
)


class IllegalMove(ValueError):
    """A move the rules forbid; ``reason`` is one of REASONS."""

    REASONS = ("occupied", "suicide", "ko", "superko", "off board", "resign")

    def __init__(self, reason: str, move: object = None) -> None:
        super().__init__(f"illegal move ({reason})" + (f": {move}" if move is not None else ""))
        self.reason = reason
        self.move = move


@lru_cache(maxsize=None)
def neighbours(size: int) -> tuple[tuple[int, ...], ...]:
    """For each flat point, the flat indices of its orthogonal neighbours."""
    out = []
    for r in range(size):
        for c in range(size):
            nb = []
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                if 0 <= r + dr < size and 0 <= c + dc < size:
                    nb.append((r + dr) * size + c + dc)
            out.append(tuple(nb))
    return tuple(out)


@lru_cache(maxsize=None)
def zobrist(size: int) -> tuple[tuple[int, int, int], ...]:
    """Per point, 64-bit keys for (EMPTY=0, BLACK, WHITE); seeded so hashes are stable."""
    rng = random.Random(0x60B0A2D + size)
    return tuple((0, rng.getrandbits(64), rng.getrandbits(64)) for _ in range(size * size))


def chain_at(board: bytes | bytearray, start: int, nbrs) -> tuple[list[int], set[int]]:
    """(points, liberties) of the chain holding the stone at ``start``; ``nbrs`` is ``neighbours(size)``."""
    color, seen, stack, libs = board[start], {start}, [start], set()
    while stack:
        p = stack.pop()
        for q in nbrs[p]:
            v = board[q]
            if v == EMPTY:
                libs.add(q)
            elif v == color and q not in seen:
                seen.add(q)
                stack.append(q)
    return list(seen), libs


def all_chains(stones: bytes | bytearray, size: int) -> list[list[int]]:
    """Every chain of stones, each as its points in board order, chains ordered by first point."""
    nbrs, seen, out = neighbours(size), set(), []
    for start in range(size * size):
        if stones[start] != EMPTY and start not in seen:
            chain, _ = chain_at(stones, start, nbrs)
            seen.update(chain)
            out.append(sorted(chain))
    return out


def empty_regions(stones: bytes | bytearray, size: int) -> list[tuple[list[int], int]]:
    """(points, border colours) of every empty region; borders is a bit set of BLACK|WHITE."""
    nbrs, seen, out = neighbours(size), bytearray(size * size), []
    for start in range(size * size):
        if stones[start] != EMPTY or seen[start]:
            continue
        points, borders, stack = [], 0, [start]
        seen[start] = 1
        while stack:
            p = stack.pop()
            points.append(p)
            for q in nbrs[p]:
                v = stones[q]
                if v == EMPTY:
                    if not seen[q]:
                        seen[q] = 1
                        stack.append(q)
                else:
                    borders |= v  # bit 1 black, bit 2 white
        out.append((points, borders))
    return out


def area(stones: bytes | bytearray, size: int) -> tuple[int, int]:
    """Tromp-Taylor area: (black, white) stones plus empty regions reaching one colour only."""
    counts = [0, 0, 0]
    for v in stones:
        counts[v] += 1
    for points, borders in empty_regions(stones, size):
        if borders == BLACK or borders == WHITE:
            counts[borders] += len(points)
    return counts[BLACK], counts[WHITE]


class Position:
    """One board state plus what legality needs: side to move, ko, seen boards."""

    __slots__ = ("size", "stones", "to_play", "ko", "passes", "captures", "hash", "seen", "last_move")

    def __init__(
        self,
        size: int,
        stones: Optional[bytes] = None,
        to_play: int = BLACK,
        ko: int = -1,
        passes: int = 0,
        captures: tuple[int, int] = (0, 0),
        seen: Optional[frozenset] = None,
        last_move: Optional[Move] = None,
    ) -> None:
        self.size = check_size(size)
        self.stones = bytes(size * size) if stones is None else bytes(stones)
        if len(self.stones) != size * size:
            raise ValueError("stones must hold size*size cells")
        self.to_play = to_play
        self.ko = ko  # flat point the side to move may not retake, or -1
        self.passes = passes  # consecutive passes ending here
        self.captures = captures  # prisoners taken by (black, white)
        keys = zobrist(size)
        h = 0
        for i, v in enumerate(self.stones):
            if v:
                h ^= keys[i][v]
        self.hash = h
        self.seen = frozenset((h,)) if seen is None else seen | {h}
        self.last_move = last_move

    # -------------------------------------------------------------- queries
    def __getitem__(self, point: Point) -> int:
        return self.stones[point[0] * self.size + point[1]]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Position)
            and self.size == other.size
            and self.stones == other.stones
            and self.to_play == other.to_play
            and self.ko == other.ko
            and self.passes == other.passes
            and self.seen == other.seen
        )

    def __hash__(self) -> int:
        return hash((self.size, self.stones, self.to_play, self.ko))

    def array(self) -> np.ndarray:
        """(N, N) uint8 of EMPTY/BLACK/WHITE."""
        return np.frombuffer(self.stones, dtype=np.uint8).reshape(self.size, self.size).copy()

    def is_legal(self, move: Move, color: Optional[int] = None) -> bool:
        try:
            self._resolve(move, self.to_play if color is None else color)
        except IllegalMove:
            return False
        return True

    def legal_mask(self, color: Optional[int] = None) -> np.ndarray:
        """bool (N*N+1,): legal points row-major, pass last (always legal)."""
        c = self.to_play if color is None else color
        n2 = self.size * self.size
        mask = np.zeros(n2 + 1, dtype=bool)
        mask[n2] = True
        for p in range(n2):
            if self.stones[p] == EMPTY and self._check(p, c) is None:
                mask[p] = True
        return mask

    def legal_moves(self, color: Optional[int] = None) -> list[Move]:
        mask = self.legal_mask(color)
        n = self.size
        return [divmod(i, n) for i in np.flatnonzero(mask[:-1])] + [PASS]

    # -------------------------------------------------------------- playing
    def play(self, move: Move, color: Optional[int] = None) -> "Position":
        """The position after ``color`` (default: side to move) plays ``move``."""
        c = self.to_play if color is None else color
        if c not in (BLACK, WHITE):
            raise ValueError(f"invalid color {c!r}")
        if move is PASS:
            return self._successor(self.stones, opponent(c), -1, self.passes + 1, self.captures, self.hash, PASS)
        board, captured, h, ko = self._resolve(move, c)
        caps = list(self.captures)
        caps[c - 1] += captured
        return self._successor(bytes(board), opponent(c), ko, 0, (caps[0], caps[1]), h, move)

    def pass_move(self) -> "Position":
        return self.play(PASS)

    def with_stones(self, black: Iterable[Point] = (), white: Iterable[Point] = (), to_play: Optional[int] = None) -> "Position":
        """Setup stones (handicap, SGF AB/AW): placed as given, without captures."""
        board = bytearray(self.stones)
        for color, points in ((BLACK, black), (WHITE, white)):
            for r, c in points:
                if not on_board((r, c), self.size):
                    raise CoordError(f"setup point {(r, c)} is off the board")
                board[r * self.size + c] = color
        return Position(self.size, bytes(board), self.to_play if to_play is None else to_play,
                        captures=self.captures, seen=self.seen)

    def _successor(self, stones, to_play, ko, passes, captures, h, move) -> "Position":
        new = Position.__new__(Position)
        new.size, new.stones, new.to_play, new.ko = self.size, stones, to_play, ko
        new.passes, new.captures, new.hash, new.last_move = passes, captures, h, move
        new.seen = self.seen if h in self.seen else self.seen | {h}
        return new

    def _check(self, p: int, c: int) -> Optional[str]:
        """Reason why colour c may not play at flat p, or None if legal (no allocation kept)."""
        try:
            self._resolve_flat(p, c)
        except IllegalMove as e:
            return e.reason
        return None

    def _resolve(self, move: Move, c: int):
        if move is RESIGN:
            raise IllegalMove("resign", move)
        if move is PASS:
            return self.stones, 0, self.hash, -1
        r, col = move  # type: ignore[misc]
        if not on_board((r, col), self.size):
            raise IllegalMove("off board", move)
        return self._resolve_flat(r * self.size + col, c)

    def _resolve_flat(self, p: int, c: int):
        """(new board, stones captured, new hash, new ko point) or IllegalMove."""
        if self.stones[p] != EMPTY:
            raise IllegalMove("occupied", p)
        if p == self.ko and c == self.to_play:
            raise IllegalMove("ko", p)
        nbrs = neighbours(self.size)
        keys = zobrist(self.size)
        opp = opponent(c)
        board = bytearray(self.stones)
        board[p] = c
        h = self.hash ^ keys[p][c]
        captured: list[int] = []
        for q in nbrs[p]:
            if board[q] == opp:
                group, libs = chain_at(board, q, nbrs)
                if not libs:
                    for s in group:
                        board[s] = EMPTY
                        h ^= keys[s][opp]
                    captured.extend(group)
        own, libs = chain_at(board, p, nbrs)
        if not libs:
            raise IllegalMove("suicide", p)
        if h in self.seen:
            raise IllegalMove("superko", p)
        ko = -1
        if len(captured) == 1 and len(own) == 1:
            # A lone stone that captured one stone and now has one liberty: retaking is ko.
            if sum(1 for q in nbrs[p] if board[q] == EMPTY) == 1:
                ko = captured[0]
        return board, len(captured), h, ko

    # -------------------------------------------------------------- scoring
    def empty_regions(self) -> list[tuple[list[int], int]]:
        """(points, border colours) of every empty region; borders is a bit set of BLACK|WHITE."""
        return empty_regions(self.stones, self.size)

    def area(self) -> tuple[int, int]:
        """Tromp-Taylor area: (black, white) stones plus empty regions reaching one colour only."""
        return area(self.stones, self.size)

    def unsettled_points(self) -> int:
        """Empty points in regions that touch both colours or none: 0 when every empty point is
        someone's area (a finished game, dame aside). A board holding one colour only is not a finished
        game but an opening (a first stone, handicap stones): all its empty points count, or a player asked
        to move there would pass on "the board is Black's" (found by fuzzing GTP in session 41)."""
        if not (BLACK in self.stones and WHITE in self.stones):
            return self.stones.count(EMPTY)
        return sum(len(points) for points, borders in self.empty_regions() if borders not in (BLACK, WHITE))

    def score(self, komi: float) -> float:
        """Black's area minus White's area minus komi (positive: Black wins)."""
        b, w = self.area()
        return b - w - komi

    def __str__(self) -> str:
        rows = []
        for r in range(self.size):
            rows.append(" ".join(".XO"[self.stones[r * self.size + c]] for c in range(self.size)))
        return "\n".join(rows)


def from_ascii(text: str, to_play: int = BLACK) -> Position:
    """A position from rows of ``. X O`` (whitespace ignored); used by tests and tools."""
    rows = ["".join(line.split()) for line in text.strip().splitlines() if line.strip()]
    size = len(rows)
    if any(len(r) != size for r in rows):
        raise ValueError("ASCII board must be square")
    table = {".": EMPTY, "+": EMPTY, "X": BLACK, "x": BLACK, "O": WHITE, "o": WHITE}
    stones = bytes(table[ch] for row in rows for ch in row)
    return Position(size, stones, to_play)
