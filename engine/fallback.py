"""The player for board sizes the shipped network was not trained on (it plays 9x9 only).

``montecarlo`` (the default): Monte Carlo over the rules (engine/mc_player.py; a tree search with
RAVE by default, or flat), far better than random and a few seconds a move on 19x19. ``random``:
the random player, instant, for tests and throughput measurements. GTP (``--fallback``) and REST
(``Settings.fallback``) share it.
"""

from __future__ import annotations

from typing import Optional

from engine.analysis import Analyzer, UniformAnalyzer
from engine.mc_player import SEARCHES, MonteCarloConfig, MonteCarloPlayer, playout_policy
from engine.player import RandomPlayer

FALLBACKS = ("montecarlo", "random")
DEFAULT_FALLBACK = "montecarlo"


def fallback_analyzer(kind: str = DEFAULT_FALLBACK, seed: Optional[int] = None,
                      playouts: int = MonteCarloConfig.playouts, amaf: float = MonteCarloConfig.amaf,
                      search: str = MonteCarloConfig.search, policy: str = "uniform") -> Analyzer:
    """The fallback named ``kind`` (one of ``FALLBACKS``); for montecarlo, ``playouts`` per move, the
    ``amaf`` share of them (flat search), the ``search`` (one of ``SEARCHES``: flat or tree) and the
    playouts' ``policy`` (a name of engine/mc_player.py ``PLAYOUT_POLICIES``; patterns need the tree)."""
    if kind == "random":
        return UniformAnalyzer(RandomPlayer(seed))
    if kind == "montecarlo":
        tactical, patterns = playout_policy(policy)
        return MonteCarloPlayer(MonteCarloConfig(playouts=playouts, seed=seed or 0, amaf=amaf, search=search,
                                                 tactical=tactical, patterns=patterns))
    raise ValueError(f"fallback must be one of {', '.join(FALLBACKS)}, not {kind!r}")


__all__ = ["DEFAULT_FALLBACK", "FALLBACKS", "SEARCHES", "fallback_analyzer"]
