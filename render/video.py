"""Game -> video: one frame per board state, the starting board first.

A pass leaves the board as it was, so its frame repeats the previous one: the video
keeps one frame per move, which is what lets a frame index double as a move number.
Resignation is not a board state and adds no frame. For an ordinary game the first
frame is the empty board; a game with handicap or setup stones (SGF AB/AW) starts from
its setup, since no single move produced it.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from engine.board import Position
from engine.coords import RESIGN
from engine.game import Game
from render.frame import RenderConfig, render_many, stones_array


def game_stones(game: Union[Game, Sequence[Position]]) -> np.ndarray:
    """(T, N, N) uint8 board states of a game (or of a list of positions), start first."""
    if isinstance(game, Game):
        # positions[i + 1] follows moves[i]; a resignation repeats the position, skip it.
        states = [game.positions[0]] + [
            pos for (_, move), pos in zip(game.moves, game.positions[1:], strict=True) if move is not RESIGN
        ]
    else:
        states = list(game)
    if not states:
        raise ValueError("a game has at least its starting position")
    return np.stack([stones_array(p) for p in states])


def game_frames(game: Union[Game, Sequence[Position]], cfg: Optional[RenderConfig] = None) -> np.ndarray:
    """uint8 (T, H, W, 3): T = number of moves + 1 (resignations excluded)."""
    return render_many(game_stones(game), cfg)
