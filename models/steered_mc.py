"""The Monte Carlo tree search steered by the network: the video model proposes, random playouts read.

The shipped network (models/player.py, its 8 board views, no search of its own) gives the root's
move distribution P; the compiled tree search with RAVE (engine/mc_tree.py) plays light random
playouts over the rules and adds PUCT's prior term ``weight * P(move) * sqrt(N + 1) / (n + 1)`` at
the root, so the network's moves are read first and longest and a move it does not propose must win
its playouts to be played. Below the root the playouts alone decide. On board sizes the network does
not play, it is the plain tree (the fallback). The learners are untouched: this is play-time
computation over the rules, like the legality mask and engine/search.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer


def steered_mc(weights: Optional[str] = None, playouts: int = 10000, weight: float = 1.0, seed: int = 0,
               symmetries: Optional[int] = None) -> MonteCarloPlayer:
    """The player (``py:models.steered_mc:steered_mc:weight=1`` for ``videoworld-go eval``); ``weights``
    names a bundle folder (default: the shipped one), ``symmetries`` the network's views (default: the
    bundle's)."""
    from models.player import shipped

    neural = shipped(weights=weights, symmetries=symmetries)
    size = neural.bundle.board_size

    def prior(game: Game, color: int):
        return neural.analyze_many([(game, color)])[0].legal_probs if game.size == size else None

    cfg = MonteCarloConfig(playouts=playouts, seed=seed, search="tree",
                           tree=replace(MonteCarloConfig.tree, prior_weight=weight))
    return MonteCarloPlayer(cfg, name="videoworld-mc", prior=prior)
