"""The Monte Carlo tree search steered by the network: the video model proposes, random playouts read.

The network (models/player.py ``NeuralPlayer``: its board views, no search of its own) gives the
root's move distribution P; the compiled tree search with RAVE (engine/mc_tree.py) plays random
playouts over the rules and adds PUCT's prior term ``weight * P(move) * sqrt(N + 1) / (n + 1)`` at
the root, so the network's moves are read first and longest and a move it does not propose must win
its playouts to be played. Below the root the playouts alone decide. The learners are untouched:
this is play-time computation over the rules, like the legality mask and engine/search.py.

What an analysis reports: the search's move, visits, win shares (the winrate is the playouts' win
share of the move played) and principal variations; the network's own reading, unchanged: its raw
move and whether it was legal, its latent codes and the imagined next frame and board.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Optional, Sequence

from engine.analysis import Analysis
from engine.coords import Move
from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer, playout_policy
from engine.mc_tree import TreeConfig

DEFAULT_WEIGHT = 2.0  # the prior term's weight measured against GNU Go 10 (docs/model.md, session 30)
DEFAULT_PLAYOUTS = 20000  # simulations a move: ~2 s on 9x9 here
# with less time than this many network readings left before the deadline, the network reads one board view
# instead of all of them: a 15 s sudden-death game of ~70 moves leaves ~0.2 s a move (tests/test_match_clock.py)
TIGHT = 4.0


class SteeredPlayer:
    """An analyzer (engine/analysis.py) on the network's board size: see the module docstring."""

    def __init__(self, network, cfg: MonteCarloConfig, name: str = "videoworld-mc") -> None:
        """``network``: a ``NeuralPlayer``; ``cfg``: the Monte Carlo search (``cfg.tree.prior_weight`` > 0
        for the network to steer it)."""
        self.network = network
        self.mc = MonteCarloPlayer(cfg, name)
        self.cfg = cfg
        self.name = name
        self.network_seconds = 0.2  # what the network's reading took last time (8 views on one thread here)

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        return self.analyze_many([(game, color)], cleanup=cleanup, deadline=deadline)[0].move

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None) -> list[Analysis]:
        """The network reads all positions in one batch (in one board view when ``deadline`` is near: see
        ``TIGHT``); the searches run one after another (each to ``deadline`` at most: the caller's clock
        covers one position)."""
        network = self.network
        if deadline is not None and deadline - time.monotonic() < TIGHT * self.network_seconds:
            network = self.network.variant(symmetries=1)  # under a tight clock: one view, ~1/5 of the time
        started = time.monotonic()
        readings = network.analyze_many(requests, cleanup=cleanup)
        if network is self.network:
            self.network_seconds = time.monotonic() - started
        out = []
        for (game, color), net in zip(requests, readings):
            a = self.mc.analyze(game, color, cleanup, deadline, prior=net.legal_probs)
            out.append(replace(a, raw_move=net.raw_move, raw_legal=net.raw_legal, z_codes=net.z_codes,
                               imagined_board=net.imagined_board, imagined_frame=net.imagined_frame))
        return out


def steered_config(playouts: int = DEFAULT_PLAYOUTS, weight: float = DEFAULT_WEIGHT, seed: int = 0,
                   tactical: bool = False, patterns: bool = False) -> MonteCarloConfig:
    return MonteCarloConfig(playouts=playouts, seed=seed, search="tree", tactical=tactical, patterns=patterns,
                            tree=TreeConfig(prior_weight=weight))


def tuned_steered(network, tuned: dict, playouts: Optional[int] = None, weight: Optional[float] = None,
                  seed: int = 0, policy: Optional[str] = None) -> SteeredPlayer:
    """``network`` steering the search with a bundle's tuned settings (manifest ``player``: ``mc_playouts``,
    ``mc_prior``, ``mc_playout_policy``), which ``playouts`` / ``weight`` / ``policy`` override: what GTP
    and the benchmarks play."""
    tactical, patterns = playout_policy(policy or str(tuned.get("mc_playout_policy", "uniform")))
    return SteeredPlayer(network, steered_config(playouts or int(tuned.get("mc_playouts", DEFAULT_PLAYOUTS)),
                                                 float(tuned.get("mc_prior", DEFAULT_WEIGHT)) if weight is None else weight,
                                                 seed, tactical, patterns))


def steered_mc(weights: Optional[str] = None, playouts: int = DEFAULT_PLAYOUTS, weight: float = DEFAULT_WEIGHT,
               seed: int = 0, symmetries: Optional[int] = None, tactical: bool = False,
               patterns: bool = False) -> SteeredPlayer:
    """The player for ``videoworld-go eval`` (``py:models.steered_mc:steered_mc:weight=2``): ``weights`` a
    bundle folder (default: the shipped one), ``symmetries`` the network's views (default: the bundle's)."""
    from models.player import shipped

    return SteeredPlayer(shipped(weights=weights, symmetries=symmetries),
                         steered_config(playouts, weight, seed, tactical, patterns))
