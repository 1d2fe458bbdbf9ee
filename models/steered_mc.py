"""The Monte Carlo tree search steered by the network: the video model proposes, random playouts read.

The network (models/player.py ``NeuralPlayer``: its board views, no search of its own) gives the
root's move distribution P; the compiled tree search with RAVE (engine/mc_tree.py) plays random
playouts over the rules and adds PUCT's prior term ``weight * P(move) * sqrt(N + 1) / (n + 1)`` at
the root, so the network's moves are read first and longest and a move it does not propose must win
its playouts to be played. Below the root the playouts alone decide, unless ``replies`` (``cfg.replies``,
GTP ``--mc-replies``) asks the network for the opponent's answers too: after a quarter of the
simulations, the positions after the most visited root moves are read in one batch (in
``reply_views`` board views) and their nodes get the same prior term. The learners are untouched:
this is play-time computation over the rules, like the legality mask and engine/search.py.

What an analysis reports: the search's move, visits, win shares (the winrate is the playouts' win
share of the move played) and principal variations; the network's own reading, unchanged: its raw
move and whether it was legal, its latent codes and the imagined next frame and board.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import replace
from typing import Optional, Sequence

from engine.analysis import Analysis, Progress
from engine.coords import Move, from_flat, opponent
from engine.game import Game
from engine.mc_live import LiveAnalysis
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer, RootMoves, playout_policy
from engine.mc_tree import TreeConfig

DEFAULT_WEIGHT = 2.0  # the prior term's weight measured against GNU Go 10 (docs/model.md, session 30)
DEFAULT_PLAYOUTS = 20000  # simulations a move: ~2 s on 9x9 here
# with less time than this many network readings left before the deadline, the network reads one board view
# instead of all of them: a 15 s sudden-death game of ~70 moves leaves ~0.2 s a move (tests/test_match_clock.py)
TIGHT = 4.0


class SteeredPlayer:
    """An analyzer (engine/analysis.py) on the network's board size: see the module docstring."""

    def __init__(self, network, cfg: MonteCarloConfig, name: str = "videoworld-mc", reply_views: int = 1) -> None:
        """``network``: a ``NeuralPlayer``; ``cfg``: the Monte Carlo search (``cfg.tree.prior_weight`` > 0
        for the network to steer it; ``cfg.replies`` > 0 for it to steer the opponent's replies to that many
        root moves too, read in ``reply_views`` board views)."""
        self.network = network
        self.mc = MonteCarloPlayer(cfg, name)
        self.cfg = cfg
        self.name = name
        self.reply_network = network.variant(symmetries=reply_views) if cfg.replies else None
        self.network_seconds = 0.2  # what the network's reading took last time (8 views on one thread here)

    def _replies(self, game: Game, color: int):
        """The reply reader for one root (engine/mc_player.ReplyReader): the network's move distribution
        for the opponent after each given root point, all in one batch."""
        def read(points: list[int]) -> list:
            after = []
            for p in points:
                child = Game(game.size, game.komi, list(game.positions), list(game.moves))
                child.play(from_flat(p, game.size), color)
                after.append((child, opponent(color)))
            return [a.legal_probs for a in self.reply_network.analyze_many(after)]
        return read

    def _steering(self, mc: MonteCarloPlayer) -> "SteeredPlayer":
        """This player with ``mc`` as its search; the network (and the replies' view of it) shared."""
        other = copy.copy(self)
        other.mc, other.cfg = mc, mc.cfg
        return other

    def reusing(self) -> "SteeredPlayer":
        """The same network steering a search that keeps its trees between moves (``MonteCarloPlayer.reusing``)."""
        return self._steering(self.mc.reusing())

    def with_budget(self, playouts: int, max_seconds: Optional[float] = None,
                    root_moves: Optional[RootMoves] = None) -> "SteeredPlayer":
        """The same network steering a search of ``playouts`` simulations to the end over ``root_moves`` first
        moves (``MonteCarloPlayer.with_budget``)."""
        return self._steering(self.mc.with_budget(playouts, max_seconds, root_moves))

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        return self.analyze_many([(game, color)], cleanup=cleanup, deadline=deadline)[0].move

    reports_progress = True  # analyze_many takes progress= (engine/analysis.Progress)

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None,
                     progress: Optional[Progress] = None) -> list[Analysis]:
        """The network reads all positions in one batch (in one board view when ``deadline`` is near: see
        ``TIGHT``); the searches run one after another (each to ``deadline`` at most: the caller's clock
        covers one position). ``progress``: each search's state while it runs, with the network's reading."""
        network = self.network
        tight = deadline is not None and deadline - time.monotonic() < TIGHT * self.network_seconds
        if tight:
            network = self.network.variant(symmetries=1)  # under a tight clock: one view, ~1/5 of the time
        started = time.monotonic()
        readings = network.analyze_many(requests, cleanup=cleanup)
        if network is self.network:
            self.network_seconds = time.monotonic() - started
        out = []
        for (game, color), net in zip(requests, readings):
            replies = self._replies(game, color) if self.reply_network is not None and not tight else None
            fields = _network_fields(net)
            # the same interval and stop event, each report with the network's reading
            shown = None if progress is None else replace(progress, report=lambda a, f=fields: progress.report(replace(a, **f)))
            a = self.mc.analyze(game, color, cleanup, deadline, prior=net.legal_probs, replies=replies, progress=shown)
            out.append(replace(a, **fields))
        return out

    def ponder(self, game: Game, color: int, stop: threading.Event) -> int:
        """Thinks on the opponent's time (``MonteCarloPlayer.ponder``): ``color`` to move in ``game``, the network's
        reading of that position steering the tree; the search after the reply starts from its subtree."""
        net = self.network.analyze_many([(game, color)])[0]
        return self.mc.ponder(game, color, stop, prior=net.legal_probs)

    def live(self, game: Game, color: int) -> LiveAnalysis:
        """An analysis that grows (GTP's lz-analyze repeats, engine/mc_live.py): the network reads the position
        once, as for ``analyze_many``; its first answer is ``analyze_many``'s, then the same tree grows on."""
        net = self.network.analyze_many([(game, color)])[0]
        replies = self._replies(game, color) if self.reply_network is not None else None
        return LiveAnalysis(self.mc, game, color, prior=net.legal_probs, replies=replies, fields=_network_fields(net))


def _network_fields(net: Analysis) -> dict:
    """What the network itself read, reported unchanged beside the search's statistics."""
    return dict(raw_move=net.raw_move, raw_legal=net.raw_legal, z_codes=net.z_codes,
                imagined_board=net.imagined_board, imagined_frame=net.imagined_frame, policy=net.legal_probs)


def steered_config(playouts: int = DEFAULT_PLAYOUTS, weight: float = DEFAULT_WEIGHT, seed: int = 0,
                   tactical: bool = False, patterns: bool = False, replies: int = 0,
                   last_good_reply: bool = False, clock_playouts: Optional[int] = None,
                   threads: int = 1, prefer: float = 0.0) -> MonteCarloConfig:
    """``prefer``: ``MonteCarloConfig.prefer_prior``, the network's favourite played instead of the most visited
    move when it has at least that share of its simulations (0: off)."""
    return MonteCarloConfig(playouts=playouts, seed=seed, search="tree", tactical=tactical, patterns=patterns,
                            tree=TreeConfig(prior_weight=weight, last_good_reply=last_good_reply), replies=replies,
                            clock_playouts=clock_playouts, threads=threads, prefer_prior=prefer)


def tuned_steered(network, tuned: dict, playouts: Optional[int] = None, weight: Optional[float] = None,
                  seed: int = 0, policy: Optional[str] = None, replies: Optional[int] = None,
                  reply_views: Optional[int] = None, last_good_reply: Optional[bool] = None,
                  clock_playouts: Optional[int] = None, threads: Optional[int] = None,
                  prefer: Optional[float] = None) -> SteeredPlayer:
    """``network`` steering the search with a bundle's tuned settings (manifest ``player``: ``mc_playouts``,
    ``mc_prior``, ``mc_playout_policy``, ``mc_replies``, ``mc_reply_views``, ``mc_last_good_reply``,
    ``mc_clock_playouts``, ``mc_threads``, ``mc_prefer_network``), which the arguments override: what GTP and the
    benchmarks play."""
    tactical, patterns = playout_policy(policy or str(tuned.get("mc_playout_policy", "uniform")))
    replies = int(tuned.get("mc_replies", 0)) if replies is None else replies
    reply_views = int(tuned.get("mc_reply_views", 1)) if reply_views is None else reply_views
    if last_good_reply is None:
        last_good_reply = bool(tuned.get("mc_last_good_reply", False))
    if clock_playouts is None and tuned.get("mc_clock_playouts") is not None:
        clock_playouts = int(tuned["mc_clock_playouts"])
    threads = int(tuned.get("mc_threads", 1)) if threads is None else threads
    prefer = float(tuned.get("mc_prefer_network", 0.0)) if prefer is None else prefer
    return SteeredPlayer(network, steered_config(playouts or int(tuned.get("mc_playouts", DEFAULT_PLAYOUTS)),
                                                 float(tuned.get("mc_prior", DEFAULT_WEIGHT)) if weight is None else weight,
                                                 seed, tactical, patterns, replies, last_good_reply, clock_playouts,
                                                 threads, prefer),
                         reply_views=reply_views)


def steered_mc(weights: Optional[str] = None, playouts: int = DEFAULT_PLAYOUTS, weight: float = DEFAULT_WEIGHT,
               seed: int = 0, symmetries: Optional[int] = None, tactical: bool = False,
               patterns: bool = False, replies: int = 0, reply_views: int = 1,
               last_good_reply: bool = False, clock_playouts: Optional[int] = None, threads: int = 1,
               mix: str = "", top_k: Optional[int] = None, prefer: float = 0.0) -> SteeredPlayer:
    """The player for ``videoworld-go eval`` (``py:models.steered_mc:steered_mc:weight=2``): ``weights`` a
    bundle folder (default: the shipped one), or several joined by "+" whose move distributions are
    averaged by ``mix`` (models/ensemble.py: ``weights=A+B,mix=0.7+0.3``); ``symmetries`` the network's
    views and ``top_k`` its branches (default: the bundle's); ``prefer`` as for ``steered_config``."""
    from models.ensemble import ensemble

    return SteeredPlayer(ensemble(weights, mix, symmetries, top_k),
                         steered_config(playouts, weight, seed, tactical, patterns, replies, last_good_reply,
                                        clock_playouts, threads, prefer),
                         reply_views=reply_views)
