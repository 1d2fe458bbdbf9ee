"""SGF in and out, through sgfmill; our own rules replay the moves.

sgfmill points are (row, col) with row 0 at the *bottom*; ours have row 0 at the top,
so every conversion goes through ``_to_ours`` / ``_to_sgfmill``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Optional

from sgfmill import sgf as sgfmill_sgf
from sgfmill import sgf_grammar

from engine.board import IllegalMove
from engine.coords import BLACK, PASS, RESIGN, WHITE, CoordError, Move, Point, check_size
from engine.game import Game


class SgfError(ValueError):
    """A file that is not SGF, or not a Go game we can replay."""


@dataclass
class SgfRecord:
    """What one SGF game says, before replaying it."""

    size: int
    komi: Optional[float]  # None when the file has no KM
    black_setup: list[Point] = field(default_factory=list)
    white_setup: list[Point] = field(default_factory=list)
    moves: list[tuple[int, Move]] = field(default_factory=list)
    handicap: int = 0
    result: str = ""
    black_player: str = ""
    white_player: str = ""
    rules: str = ""
    first_player: Optional[int] = None  # PL property


def _to_ours(p, size: int) -> Point:
    return (size - 1 - p[0], p[1])


def _to_sgfmill(p: Point, size: int):
    return (size - 1 - p[0], p[1])


def _colour(c: str) -> int:
    return BLACK if c == "b" else WHITE


def parse_collection(data: bytes | str) -> list[SgfRecord]:
    """Every game in an SGF collection; SgfError with the reason if the file is broken."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        coarse = sgf_grammar.parse_sgf_collection(data)
    except ValueError as e:
        raise SgfError(f"not a valid SGF file: {e}") from None
    records = []
    for i, tree in enumerate(coarse):
        try:
            records.append(_record(sgfmill_sgf.Sgf_game.from_coarse_game_tree(tree)))
        except (ValueError, KeyError, CoordError) as e:
            raise SgfError(f"game {i + 1}: {e}") from None
    return records


def _record(game) -> SgfRecord:
    root = game.get_root()
    if root.has_property("GM") and root.get("GM") != 1:
        raise SgfError("not a Go game (GM is not 1)")
    size = check_size(game.get_size())
    komi = float(root.get("KM")) if root.has_property("KM") else None
    rec = SgfRecord(size=size, komi=komi)
    rec.handicap = game.get_handicap() or 0
    rec.result = root.get("RE") if root.has_property("RE") else ""
    rec.black_player = game.get_player_name("b") or ""
    rec.white_player = game.get_player_name("w") or ""
    rec.rules = root.get("RU") if root.has_property("RU") else ""
    if root.has_property("PL"):
        rec.first_player = _colour(root.get("PL"))
    for i, node in enumerate(game.get_main_sequence()):
        if node.has_setup_stones():
            if i > 0 and rec.moves:
                raise SgfError("setup stones after the first move are not supported")
            black, white, empty = node.get_setup_stones()
            rec.black_setup += [_to_ours(p, size) for p in sorted(black)]
            rec.white_setup += [_to_ours(p, size) for p in sorted(white)]
        colour, point = node.get_move()
        if colour is None:
            continue
        move = PASS if point is None else _to_ours(point, size)
        rec.moves.append((_colour(colour), move))
    return rec


def record_to_game(rec: SgfRecord, default_komi: float = 7.0, upto: Optional[int] = None) -> Game:
    """Replay a record with our rules (superko, no suicide); SgfError names the bad move."""
    game = Game(size=rec.size, komi=rec.komi if rec.komi is not None else default_komi)
    if rec.black_setup or rec.white_setup:
        to_play = rec.first_player or (WHITE if rec.black_setup and not rec.white_setup else BLACK)
        if rec.moves:
            to_play = rec.moves[0][0]
        game.setup(rec.black_setup, rec.white_setup, to_play)
        if rec.handicap and not rec.white_setup:
            game.handicap = list(rec.black_setup)
    moves = rec.moves if upto is None else rec.moves[:upto]
    for n, (colour, move) in enumerate(moves, 1):
        try:
            game.play(move, colour)
        except IllegalMove as e:
            raise SgfError(f"move {n} is illegal ({e.reason})") from None
    if rec.result.upper().endswith("+R") or rec.result.upper().endswith("+RESIGN"):
        loser = WHITE if rec.result.upper().startswith("B") else BLACK
        if game.moves and game.position.passes < 2:
            game.resigned = loser
    return game


def load_game(data: bytes | str, default_komi: float = 7.0, index: int = 0) -> Game:
    records = parse_collection(data)
    if not records:
        raise SgfError("no game in the file")
    if not 0 <= index < len(records):
        raise SgfError(f"file has {len(records)} games, asked for game {index + 1}")
    return record_to_game(records[index], default_komi)


def dump_game(
    game: Game,
    black: str = "",
    white: str = "",
    result: Optional[str] = None,
    date: Optional[str] = None,
    comment: str = "",
) -> bytes:
    """SGF bytes for a game: SZ KM RU RE PB PW DT, handicap as HA+AB, moves with passes as B[].

    ``result`` None scores the current board; "" writes no RE (a game still in progress: a
    viewer would take any RE for the game's outcome: ``engine.deadstones.finished_result``).
    """
    size = game.size
    sg = sgfmill_sgf.Sgf_game(size=size)
    root = sg.get_root()
    root.set("KM", game.komi)
    root.set("RU", "Chinese")  # area scoring with positional superko, the rules we apply
    re_value = game.result() if result is None else result
    if re_value:
        root.set("RE", re_value)
    if black:
        root.set("PB", black)
    if white:
        root.set("PW", white)
    root.set("DT", date or datetime.date.today().isoformat())
    if comment:
        root.set("C", comment)
    first = game.positions[0]
    setup_b = [_to_sgfmill(divmod(i, size), size) for i, v in enumerate(first.stones) if v == BLACK]
    setup_w = [_to_sgfmill(divmod(i, size), size) for i, v in enumerate(first.stones) if v == WHITE]
    if setup_b or setup_w:
        root.set_setup_stones(setup_b, setup_w)
        if game.handicap:
            root.set("HA", len(game.handicap))
        if first.to_play == WHITE:
            root.set("PL", "w")
    for colour, move in game.moves:
        if move is RESIGN:
            continue
        node = sg.extend_main_sequence()
        node.set_move("b" if colour == BLACK else "w", None if move is PASS else _to_sgfmill(move, size))
    return sg.serialise()
