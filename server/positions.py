"""JSON <-> engine: a Game from a ``PositionIn``, and the JSON views of games and analyses.

Everything wrong with a given history (a malformed vertex, an illegal move in it, a broken
SGF) is a ``PositionError``, answered 422 with the reason: the request itself is invalid.
An illegal move played on a stored game is different (409, the game's state conflicts).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from engine.analysis import Analysis, top_moves
from engine.board import IllegalMove
from engine.coords import BLACK, PASS, RESIGN, WHITE, CoordError, Move, Point, color_name, from_flat, from_gtp, to_gtp
from engine.deadstones import final_count
from engine.game import Game
from engine.sgf import SgfError, load_game
from server.schemas import MAX_MOVES_PER_POINT, AnalysisOut, GameState, MoveProb, PositionIn

DEFAULT_SIZE = 9
DEFAULT_KOMI = 7.0


class PositionError(ValueError):
    """The request describes no valid position; the message says why."""


def color_of(text: str) -> int:
    return BLACK if text == "B" else WHITE


def vertex(text: str, size: int, *, allow_resign: bool = False) -> Move:
    try:
        move = from_gtp(text, size)
    except CoordError as e:
        raise PositionError(str(e)) from None
    if move is RESIGN and not allow_resign:
        raise PositionError("resign is not a vertex here")
    return move


def build_game(spec: PositionIn) -> Game:
    """The game the spec describes; PositionError (-> 422) names what is wrong."""
    if spec.sgf is not None:
        game = _from_sgf(spec)
    else:
        size = spec.board_size or DEFAULT_SIZE
        game = Game(size=size, komi=DEFAULT_KOMI if spec.komi is None else spec.komi)
        if spec.initial_stones:
            _setup(game, spec)
        for i, (c, v) in enumerate(spec.moves, 1):
            try:
                game.play(vertex(v, size), color_of(c))
            except IllegalMove as e:
                raise PositionError(f"move {i} ({c} {v}) is illegal: {e.reason}") from None
            except PositionError as e:
                raise PositionError(f"move {i}: {e}") from None
    return game


def _from_sgf(spec: PositionIn) -> Game:
    try:
        game = load_game(spec.sgf or "", default_komi=DEFAULT_KOMI)
    except (SgfError, ValueError) as e:  # sgfmill raises plain ValueErrors too
        raise PositionError(f"sgf: {e}") from None
    if spec.board_size is not None and spec.board_size != game.size:
        raise PositionError(f"board_size {spec.board_size} differs from the SGF's {game.size}")
    if len(game.moves) > MAX_MOVES_PER_POINT * game.size ** 2:
        raise PositionError(f"sgf: more than {MAX_MOVES_PER_POINT}*N*N moves")
    if game.resigned is not None:
        game.resigned = None  # a query asks about the last position, whoever resigned afterwards
    if spec.komi is not None:
        game.set_komi(spec.komi)
    return game


def _setup(game: Game, spec: PositionIn) -> None:
    black: list[Point] = []
    white: list[Point] = []
    for c, v in spec.initial_stones:
        move = vertex(v, game.size)
        if move is PASS:
            raise PositionError("initial_stones: pass is not a point")
        (black if c == "B" else white).append(move)  # type: ignore[arg-type]
    if len(set(black + white)) != len(black) + len(white):
        raise PositionError("initial_stones: a point is given twice")
    first = spec.moves[0][0] if spec.moves else (spec.to_play or "B")
    game.setup(black, white, to_play=color_of(first))


def query_color(spec_color: Optional[str], game: Game) -> int:
    """The colour asked about: the one given, or the side to move."""
    return game.to_play if spec_color is None else color_of(spec_color)


# ------------------------------------------------------------------ views
def board_rows(stones: np.ndarray) -> list[str]:
    return ["".join(".XO"[int(v)] for v in row) for row in np.asarray(stones)]


def game_state(game_id: str, game: Game, rules: str, player: str,
               count: Optional[tuple[str, list[str]]] = None) -> GameState:
    """``count``: (agreed result, dead stones) of a finished game (``finished_count``)."""
    size, pos = game.size, game.position
    last = game.moves[-1][1] if game.moves else None
    return GameState(
        id=game_id, board_size=size, komi=game.komi, rules=rules, player=player,
        to_play=color_name(game.to_play), move_number=game.move_number,
        moves=[(color_name(c), to_gtp(m, size)) for c, m in game.moves],
        board=board_rows(pos.array()), captures={"B": pos.captures[0], "W": pos.captures[1]},
        last_move=None if last is None else to_gtp(last, size), over=game.is_over(), result=game.result(),
        score=None if count is None else count[0], dead=[] if count is None else count[1])


def finished_count(game: Game) -> tuple[str, list[str]]:
    """(result as counted with the dead stones off, the dead stones as vertices): random playouts,
    a second or two on 9x9 here (docs/gtp.md), so callers run it off the event loop."""
    result, chains = final_count(game)
    return result, [to_gtp(divmod(p, game.size), game.size) for chain in chains for p in chain]


def _move_winrate(a: Analysis, flat: int) -> Optional[float]:
    w = None if a.move_winrates is None else float(a.move_winrates[flat])
    return w if w is not None and math.isfinite(w) else None


def analysis_out(a: Analysis, move: Move, color: int, size: int, player: str, top_k: int,
                 include_policy: bool, ownership: Optional[list[float]] = None) -> AnalysisOut:
    return AnalysisOut(
        player=player, board_size=size, color=color_name(color), move=to_gtp(move, size),
        raw_move=to_gtp(a.raw_move, size), raw_legal=a.raw_legal, winrate=a.winrate,
        top_moves=[MoveProb(move=to_gtp(from_flat(i, size), size), prob=p, raw_prob=float(a.probs[i]),
                            winrate=_move_winrate(a, i))
                   for i, p in top_moves(a, top_k)],
        z_codes=[int(z) for z in a.z_codes], imagined_board=board_rows(a.imagined_board),
        policy=[float(p) for p in a.probs] if include_policy else None, ownership=ownership)
