"""Every coordinate system of the project, in one place.

A *point* is ``(row, col)`` with row 0 at the top of the board (as in SGF and in
rendered frames) and col 0 at the left. A *move* is a point, ``PASS`` or ``RESIGN``.

| system        | example (9x9, top-left corner) | pass        | notes                          |
|---------------|--------------------------------|-------------|--------------------------------|
| point         | (0, 0)                         | PASS        | row from the top               |
| GTP vertex    | "A9"                           | "pass"      | letters skip I, rows from below|
| SGF           | "aa"                           | "" / "tt"   | col letter then row letter     |
| flat index    | 0                              | N*N         | row-major; pass is the last    |

GTP letters are known only here. Sizes 2..25 (the GTP limit).
"""

from __future__ import annotations

from typing import Final, Optional, Union

MIN_SIZE: Final = 2
MAX_SIZE: Final = 25
GTP_COLUMNS: Final = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # 25 letters, I skipped
SGF_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz"


class _Special:
    """A named non-point move (pass, resign); compared by identity."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name.upper()

    def __reduce__(self) -> str:  # pickles back to the same singleton
        return self.name.upper()


PASS: Final = _Special("pass")
RESIGN: Final = _Special("resign")

Point = tuple[int, int]
Move = Union[Point, _Special]


class CoordError(ValueError):
    """A coordinate that is malformed or off the board."""


def check_size(size: int) -> int:
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise CoordError(f"board size must be {MIN_SIZE}..{MAX_SIZE}, got {size!r}")
    return size


def on_board(point: Point, size: int) -> bool:
    return 0 <= point[0] < size and 0 <= point[1] < size


# ----------------------------------------------------------------- GTP vertices
def to_gtp(move: Move, size: int) -> str:
    if move is PASS:
        return "pass"
    if move is RESIGN:
        return "resign"
    row, col = move  # type: ignore[misc]
    if not on_board((row, col), size):
        raise CoordError(f"point {move} is off a {size}x{size} board")
    return f"{GTP_COLUMNS[col]}{size - row}"


def from_gtp(text: str, size: int) -> Move:
    """Parse a GTP vertex, case-insensitively ("d4", "PASS", "resign")."""
    t = text.strip().upper()
    if t == "PASS":
        return PASS
    if t == "RESIGN":
        return RESIGN
    # isascii: str.isdigit() accepts "²", which int() refuses, and "ſ".upper() is "S".
    if len(t) < 2 or not text.isascii() or t[0] not in GTP_COLUMNS or not t[1:].isdigit():
        raise CoordError(f"invalid vertex {text!r}")
    col = GTP_COLUMNS.index(t[0])
    row = size - int(t[1:])
    if not on_board((row, col), size):
        raise CoordError(f"vertex {text!r} is off a {size}x{size} board")
    return (row, col)


# ----------------------------------------------------------------- SGF
def to_sgf(move: Move, size: int) -> str:
    if move is PASS:
        return ""
    if move is RESIGN:
        raise CoordError("resign has no SGF coordinate")
    row, col = move  # type: ignore[misc]
    if not on_board((row, col), size):
        raise CoordError(f"point {move} is off a {size}x{size} board")
    return SGF_LETTERS[col] + SGF_LETTERS[row]


def from_sgf(text: str, size: int) -> Move:
    """Parse an SGF point; "" and "tt" (on boards up to 19x19) are passes."""
    t = text.strip()
    if t == "" or (t.lower() == "tt" and size <= 19):
        return PASS
    if len(t) != 2 or t[0] not in SGF_LETTERS or t[1] not in SGF_LETTERS:
        raise CoordError(f"invalid SGF point {text!r}")
    point = (SGF_LETTERS.index(t[1]), SGF_LETTERS.index(t[0]))
    if not on_board(point, size):
        raise CoordError(f"SGF point {text!r} is off a {size}x{size} board")
    return point


# ----------------------------------------------------------------- flat indices
def to_flat(move: Move, size: int) -> int:
    """Index into a legal-move mask of N*N+1 entries (pass last)."""
    if move is PASS:
        return size * size
    if move is RESIGN:
        raise CoordError("resign has no flat index")
    row, col = move  # type: ignore[misc]
    if not on_board((row, col), size):
        raise CoordError(f"point {move} is off a {size}x{size} board")
    return row * size + col


def from_flat(index: int, size: int) -> Move:
    if index == size * size:
        return PASS
    if not 0 <= index < size * size:
        raise CoordError(f"flat index {index} out of range for {size}x{size}")
    return divmod(int(index), size)


# ----------------------------------------------------------------- colours
BLACK: Final = 1
WHITE: Final = 2
EMPTY: Final = 0


def opponent(color: int) -> int:
    return 3 - color


def parse_color(text: str) -> int:
    t = text.strip().lower()
    if t in ("b", "black"):
        return BLACK
    if t in ("w", "white"):
        return WHITE
    raise CoordError(f"invalid color {text!r}")


def color_name(color: int, short: bool = True) -> str:
    if color == BLACK:
        return "B" if short else "black"
    if color == WHITE:
        return "W" if short else "white"
    raise CoordError(f"invalid color {color!r}")


def maybe_point(move: Move) -> Optional[Point]:
    """The point of a move, or None for pass/resign."""
    return None if move is PASS or move is RESIGN else move  # type: ignore[return-value]
