"""The player for board sizes the shipped network was not trained on (it plays 9x9 only).

``montecarlo`` (the default): Monte Carlo over the rules (engine/mc_player.py; a tree search with
RAVE by default, or flat), far better than random. Its tree's playouts follow MoGo's policy by
default (atari answers, MoGo's 3x3 shapes, captures: engine/patterns.py; on 13x13 it won 6 and
drew 2 of 8 games against GNU Go 1 where uniform playouts lost all 8, docs/gtp.md), and a move
stops after ``FALLBACK_MAX_SECONDS`` at most (mogo simulations cost ~3x uniform ones on 19x19: 10,000
would take ~14 s a move there). ``random``:
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
FALLBACK_MAX_SECONDS = 5.0  # a move's time cap by default (GTP --mc-max-seconds, REST mc_max_seconds; 0: none)


def default_policy(search: str) -> str:
    """The playout policy when none is named: MoGo's for the tree, uniform for the flat search (whose
    Python playouts have no patterns)."""
    return "mogo" if search == "tree" else "uniform"


def fallback_analyzer(kind: str = DEFAULT_FALLBACK, seed: Optional[int] = None,
                      playouts: int = MonteCarloConfig.playouts, amaf: float = MonteCarloConfig.amaf,
                      search: str = MonteCarloConfig.search, policy: Optional[str] = None,
                      max_seconds: Optional[float] = FALLBACK_MAX_SECONDS,
                      threads: int = MonteCarloConfig.threads) -> Analyzer:
    """The fallback named ``kind`` (one of ``FALLBACKS``); for montecarlo, ``playouts`` per move, the
    ``amaf`` share of them (flat search), the ``search`` (one of ``SEARCHES``: flat or tree), the
    playouts' ``policy`` (a name of engine/mc_player.py ``PLAYOUT_POLICIES``; patterns need the tree;
    None: ``default_policy(search)``), a move's time cap ``max_seconds`` (None or 0: none) and the tree's
    ``threads`` (root-parallel trees; the flat search has one)."""
    if kind == "random":
        return UniformAnalyzer(RandomPlayer(seed))
    if kind == "montecarlo":
        tactical, patterns = playout_policy(policy or default_policy(search))
        return MonteCarloPlayer(MonteCarloConfig(playouts=playouts, seed=seed or 0, amaf=amaf, search=search,
                                                 tactical=tactical, patterns=patterns, max_seconds=max_seconds or None,
                                                 threads=threads if search == "tree" else 1))
    raise ValueError(f"fallback must be one of {', '.join(FALLBACKS)}, not {kind!r}")


__all__ = ["DEFAULT_FALLBACK", "FALLBACKS", "FALLBACK_MAX_SECONDS", "SEARCHES", "default_policy", "fallback_analyzer"]
