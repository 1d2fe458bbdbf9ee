"""Analysis that goes on: a position's Monte Carlo trees kept growing while a GUI watches.

A GUI's analysis mode (Lizzie, Sabaki: ``lz-analyze`` / ``kata-analyze`` with an interval) shows the
engine's candidate moves with their visits climbing until the user moves on; Leela Zero and KataGo keep
searching the same tree and print its state every interval. ``LiveAnalysis`` does that for the Monte Carlo
players (engine/mc_player.py, and the network-steered one, models/steered_mc.py): its first answer is
exactly what ``analyze`` answers (the move genmove would play), then each ``grow(seconds)`` runs the same
trees (root-parallel ones too) that much longer and reads them again. The trees keep their node budget
(engine/mc_tree.TREE_BYTES); once it is used up the simulations still count at the nodes made. Passing is
valued once, at the start. For analysis only: a move under a clock is ``analyze``'s.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any, Optional

import numpy as np

from engine.analysis import Analysis
from engine.game import Game
from engine.mc_player import MonteCarloPlayer, grow_trees, pass_option
from engine.mc_tree import TreeSearch


class LiveAnalysis:
    """``first``: ``player.analyze(game, color, prior=...)``; ``grow(seconds)``: the same search, longer.
    ``fields``: Analysis fields to set on every answer (the steered player's network reading: raw move,
    latent codes, imagined frame). ``game`` must not change while it grows (GTP: the next command closes
    the stream first)."""

    def __init__(self, player: MonteCarloPlayer, game: Game, color: int, prior: Optional[np.ndarray] = None,
                 replies=None, fields: Optional[dict[str, Any]] = None) -> None:
        self.player, self.game, self.color = player, game, color
        self.fields = fields or {}
        self.prior = prior
        self.searches: list[TreeSearch] = []
        first = player.analyze(game, color, prior=prior, replies=replies, keep=self.searches)
        self.first = replace(first, **self.fields)
        # passing as the first answer valued it (None: not on the table); its count is remembered per board
        self.stay = pass_option(game, color) if first.move_winrates is not None and not np.isnan(first.move_winrates[-1]) else None
        self.simulations = int(first.visits.sum()) if first.visits is not None else 0

    def grow(self, seconds: float, stop: Optional[threading.Event] = None) -> Analysis:
        """Runs the trees ``seconds`` more (``grow_trees``: in 50 ms slices, ending once ``stop`` is set) and
        answers from all their simulations; without trees (the flat search, nothing to play) the first answer."""
        if not self.searches:
            return self.first
        grow_trees(self.searches, stop, end=time.monotonic() + seconds)
        now = self.player.read(self.game, self.color, self.searches, self.stay, self.prior)
        self.simulations = int(now.visits.sum())
        return replace(now, **self.fields)


def start_live(analyzer: object, game: Game, color: int) -> Optional[LiveAnalysis]:
    """A growing analysis of ``game`` for ``color`` by ``analyzer`` (a player that has ``live``, or a Monte Carlo
    tree player); None when it has no tree to grow (the network alone, the PUCT search, the random player)."""
    live = getattr(analyzer, "live", None)
    if callable(live):
        return live(game, color)
    if isinstance(analyzer, MonteCarloPlayer) and analyzer.cfg.search == "tree":
        return LiveAnalysis(analyzer, game, color)
    return None
