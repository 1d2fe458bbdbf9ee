"""Thinking on the opponent's time (``videoworld-go gtp --ponder``).

After the engine plays a move (``genmove``, ``*-genmove_analyze``), a thread searches the position the
opponent now faces between input lines, for as long as that position stands (``GtpEngine.ponder_due``;
the serve loop stops the thread before each line is answered and starts it again after): the Monte Carlo
player's ``ponder`` grows its trees there and keeps them (engine/mc_player.py ``MonteCarloConfig.reuse``),
and the next ``genmove`` starts from the subtree of the reply played, with its own simulations on top. The
game is copied for the thread and the serve loop stops it before the next command touches anything. Players
without a tree (the network alone, the PUCT search, random) do nothing. Pondering takes the CPU the opponent
is not using: in a match of two programs on shared cores it takes it from the opponent (off by default).
"""

from __future__ import annotations

import logging
import threading
from typing import Optional

from engine.game import Game
from gtp.analyze import analyzer_for
from gtp.engine import GtpEngine

log = logging.getLogger("gtp")


class Ponderer:
    """Ponders ``engine``'s game for the side to move on a thread from construction until ``close()``."""

    def __init__(self, engine: GtpEngine) -> None:
        self.stop = threading.Event()
        self.simulations = 0
        game = engine.game
        self.game = Game(game.size, game.komi, list(game.positions), list(game.moves))
        self.ponder = getattr(analyzer_for(engine.player, game.size), "ponder", None)
        self._thread: Optional[threading.Thread] = None
        if callable(self.ponder):
            self._thread = threading.Thread(target=self._run, name="gtp-ponder", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self.simulations = self.ponder(self.game, self.game.to_play, self.stop)  # type: ignore[misc]
        except Exception:  # pondering is a bonus: a failure must not touch the game or the engine
            log.exception("pondering failed")

    def close(self) -> None:
        """Stops the search (within one batch, ~10 ms) and waits for it: the trees are kept for the next move."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join()
