"""Resigning a lost game, as KataGo does (``allowResignation``, ``resignThreshold``, ``resignConsecTurns``).

``ResigningPlayer`` wraps an analyzer (the neural player behind its batcher): it plays the
analyzer's moves, and answers RESIGN once its winrate has stayed below ``below`` on ``turns`` of
its own moves in a row, the last of them at move ``min_moves`` or later. Only the value model's
winrate makes this sensible (docs/model.md "The value model": calibrated on held-out games; the
outcome head before it hardly moved from 1/2). Off unless asked for (``videoworld-go gtp
--resign-below 0.05``): a GUI user may want to play a lost game out.

"In a row" means consecutive moves of this colour in one line of play (move numbers m, m-2,
m-4 ...): after an undo, a new game or a setup the count starts again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from engine.analysis import Analysis
from engine.coords import RESIGN, Move
from engine.game import Game
from engine.player import timing


@dataclass(frozen=True)
class ResignConfig:
    below: float = 0.05  # P(win) under which a move counts towards resigning
    turns: int = 3  # own moves in a row that must all be under it
    min_moves: int = 20  # no resignation before this move number

    def __post_init__(self) -> None:
        if not 0.0 < self.below < 1.0:
            raise ValueError(f"resign threshold must be in (0, 1), got {self.below}")
        if self.turns < 1 or self.min_moves < 0:
            raise ValueError("resign turns must be >= 1 and min_moves >= 0")


class ResigningPlayer:
    """A ``Player`` (and analyzer) over ``inner`` that resigns lost games; see the module docstring."""

    def __init__(self, inner, cfg: ResignConfig) -> None:
        self.inner = inner
        self.cfg = cfg
        self.name = inner.name
        self.batcher = getattr(inner, "batcher", None)  # the GTP entry point closes it
        self._low: dict[int, list[int]] = {}  # colour -> move numbers of its recent moves with a low winrate

    def name_for(self, size: int) -> str:
        name_for = getattr(self.inner, "name_for", None)
        return name_for(size) if callable(name_for) else self.name

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None) -> list[Analysis]:
        return self.inner.analyze_many(requests, cleanup=cleanup, move_winrates=move_winrates, **timing(deadline))

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        analysis = self.inner.analyze_many([(game, color)], cleanup=cleanup, **timing(deadline))[0]
        move = self._pick(analysis, game.size)
        if cleanup:  # the game is over but for removing dead stones: play it to the end
            return move
        if self._count(game.move_number, color, analysis.winrate) >= self.cfg.turns \
                and game.move_number >= self.cfg.min_moves:
            return RESIGN
        return move

    def _pick(self, analysis: Analysis, size: int) -> Move:
        pick = getattr(self.inner, "pick", None)  # BatchedPlayer re-chooses at its temperature
        return pick(analysis, size) if callable(pick) else analysis.move

    def _count(self, move_number: int, color: int, winrate: Optional[float]) -> int:
        """Record this move; how many of this colour's moves in a row, ending here, had a low winrate."""
        if winrate is None or winrate >= self.cfg.below:
            self._low[color] = []
            return 0
        run = self._low.get(color, [])
        if not run or run[-1] != move_number - 2:  # not this colour's previous move in this line of play
            run = []
        self._low[color] = (run + [move_number])[-self.cfg.turns:]
        return len(self._low[color])
