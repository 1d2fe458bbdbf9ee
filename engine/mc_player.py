"""Monte Carlo over the rules: the engine's player on board sizes it has no network for.

The shipped model plays 9x9 only. On 13x13 and 19x19 a GUI user used to get the random player;
this player is what engines played before networks. It learns nothing and reads no video; it is
a fallback, and its name ("montecarlo") says so in GTP ``name``, SGF ``PB``/``PW`` and REST answers.

Two searches (``search``):
- ``tree`` (the default): UCT with RAVE over the acceptable moves (legal, not filling one's own
  true eye, not a low move in an empty area), ``playouts`` simulations a move; the most visited
  root move is played. engine/mc_tree.py. It beat the flat search 8 games of 8 on 9x9 at 1,000
  playouts a move (docs/gtp.md). A deadline stops it between simulations (one at least).
- ``flat``: every acceptable move is tried, the board after it is played out at random to the end
  many times (engine/playout.py, the same light policy as the dead-stone count), and the move
  whose playouts the mover wins most often is played (ties, as when every playout is won or lost,
  go to the larger mean area margin, so a won game is not thrown away point by point).

Flat budget: ``playouts`` in all per move, spread by sequential halving (Karnin, Koren and Somekh,
ICML 2013): in each of ceil(log2(K)) rounds the surviving candidates get an equal share of that
round's budget and the better half goes on, so the last few candidates get most playouts. A
deadline (GTP time control) stops it between rounds; the best candidate so far is played.
``amaf`` (a share of the budget, half by default) first plays that many playouts out from the
position itself and credits each of them to every point the mover played there before the
opponent did ("all moves as first", as in the RAVE of MoGo and Fuego); a candidate's estimate
is then that AMAF rate, giving way to its own playouts' rate as they come in.

Passing: when the opponent has just passed, the board is settled (every empty region touches one
colour only, a few dame at most) or the game is over for the mover, pass is a candidate worth 1 if the count
with dead stones off (engine/deadstones.py) wins for the mover, else 0, set against the best move's share of
won playouts (tree: the most visited move's). Once the game is over for the mover (engine/deadstones.finished_for:
nothing in atari, no opponent chain dead on the board, no dame once its own dead chains are off) it passes, won
or lost, as KataGo does under these rules (docs/model.md, "Passing when the game is over": the price is the rare
game the count calls lost that the opponent would still have thrown away by playing on). Otherwise a move
must do better than passing; after the opponent's pass it need only do as well when an opponent chain the count
calls dead still stands (under a Tromp-Taylor count it would be theirs: the move takes it), else the tie goes to
passing; on a settled board before that, a move as good as passing is played (a dame is a point under area
scoring). In cleanup (``kgs-genmove_cleanup``) it never passes while another candidate is left: KGS's narrower rule
(pass once the count finds no opponent chain dead) was tried in session 31 and scored worse against GNU
Go 10, 35-4-61 against 44-4-52 (docs/gtp.md). It never resigns.

Finishing: given the network's distribution (``analyze(prior=...)``, models/steered_mc.py), once only dead stones
and dame are left the tree's choice gives way to the network's favourite among the safe moves that take the
opponent's dead stones or fill a dame (engine/finishing.py, ``MonteCarloConfig.finish``).
"""

from __future__ import annotations

import math
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

import numpy as np

from engine.analysis import Analysis, Progress, next_board
from engine.board import Position
from engine.coords import BLACK, PASS, Move, from_flat, opponent, to_flat
from engine.deadstones import (DeadStoneConfig, config_for, dead_chains, final_score, finished_for, last_point,
                               playout_stats, without)
from engine.finishing import FinishConfig, finishing_move, finishing_points
from engine.game import Game, win_value
from engine.mc_tree import TreeConfig, TreeSearch, variation_with_visits
from engine.player import SETTLED_DAME, is_true_eye, opponent_passed
from engine.playout import Playout

SEARCHES = ("flat", "tree")
# the opponent's move distributions (each (N*N+1,) or (N*N,)) after each of the given root points, in order
ReplyReader = Callable[[list[int]], Sequence[np.ndarray]]
# the tree's playout policies by name: (tactical, patterns) (engine/fastboard.py); "mogo" is MoGo's order,
# the atari answers, then the 3x3 patterns around the last move, then captures anywhere
PLAYOUT_POLICIES = {"uniform": (False, False), "tactical": (True, False), "patterns": (False, True),
                    "mogo": (True, True)}


def playout_policy(name: str) -> tuple[bool, bool]:
    """(tactical, patterns) for a playout policy's name (``PLAYOUT_POLICIES``); ValueError for another name."""
    if name not in PLAYOUT_POLICIES:
        raise ValueError(f"playout policy must be one of {', '.join(PLAYOUT_POLICIES)}, not {name!r}")
    return PLAYOUT_POLICIES[name]


@dataclass(frozen=True)
class MonteCarloConfig:
    # per move, in all: the tree's simulations (compiled: ~1 s a move on 9x9, ~1.5 s on 13x13, ~4 s on 19x19
    # here), or the flat search's playouts (Python, ~10x the time a playout: give it ~1,500)
    playouts: int = 10000
    tactical: bool = False  # playouts capture / escape atari first (2x slower a playout; engine/playout.py)
    # tree only: playouts play MoGo's 3x3 patterns around the last move first (after the atari answers when
    # tactical too; engine/patterns.py)
    patterns: bool = False
    seed: int = 0  # the same position and settings give the same move
    # share of the budget played out from the position itself for "all moves as first" (AMAF): each such
    # playout scores every point the mover played before the opponent did, so every candidate gets
    # hundreds of (biased) samples where the halving's first round gives it one or two (0: off)
    amaf: float = 0.5
    amaf_equivalence: float = 300.0  # direct playouts at which a candidate's estimate is half AMAF, half its own
    # "flat": sequential halving over the root moves (amaf above applies); "tree": UCT with RAVE
    # (engine/mc_tree.py, the playouts are its simulations)
    search: str = "tree"
    tree: TreeConfig = TreeConfig()
    # tree: stop once the most visited root move cannot be caught by the simulations left; the same move
    # as the full budget's (engine/mc_tree.TreeSearch.run), in less time
    stop_early: bool = True
    # seconds a move at most (None: the budget alone): the search stops at this or at the caller's deadline
    # (GTP time controls), whichever comes first; the fallback sets it so a 19x19 move stays a few seconds
    max_seconds: Optional[float] = None
    # simulations a move under a time control (the caller gives a deadline: GTP's clock), instead of
    # ``playouts``: a long clock buys a larger tree, the deadline still stops it, and with ``stop_early`` a
    # move that the time left cannot change is played at once (None: ``playouts``, clock or not)
    clock_playouts: Optional[int] = None
    # tree with a reply reader (``analyze(replies=...)``; models/steered_mc.py: the network): after
    # ``reply_split`` of the budget, the replies to the ``replies`` most visited root moves get a prior term
    # of their own, as the root's (0: off, the playouts alone decide below the root)
    replies: int = 0
    reply_split: float = 0.25
    # tree: independent trees searched at once, one thread each (root parallelism, Chaslot et al. 2008), their
    # root statistics summed; ``playouts`` (or ``clock_playouts``) is shared among them, so 2 threads on 2 cores
    # play the same number of simulations in about half the time, or under a clock about twice as many
    threads: int = 1
    # tree: keep the trees after a search (and after pondering: ``MonteCarloPlayer.ponder``); the next search
    # starts from the subtree of the moves played since, when the trees have it (``TreeSearch.advance``), and
    # adds its simulations to those already there
    reuse: bool = False
    # with a prior (the network steering the tree): once only dead stones and dame are left, the network's
    # favourite among the moves that finish the game and that the tree reads as safe (engine/finishing.py;
    # None: the tree's choice stands)
    finish: Optional[FinishConfig] = FinishConfig()
    # with a prior, outside cleanup: the prior's favourite point is played instead of the tree's most visited move
    # when it has at least this share of that move's simulations (the playouts cannot tell the two apart; 0: off).
    # The tree's pass and engine/finishing.py's move stand (docs/model.md, session 51)
    prefer_prior: float = 0.0

    def __post_init__(self) -> None:
        if self.playouts < 1:
            raise ValueError(f"playouts must be >= 1, got {self.playouts}")
        if self.clock_playouts is not None and self.clock_playouts < 1:
            raise ValueError(f"clock_playouts must be >= 1 or None, got {self.clock_playouts}")
        if self.replies < 0:
            raise ValueError(f"replies must be >= 0, got {self.replies}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.threads > 1 and (self.replies > 0 or self.search != "tree"):
            raise ValueError("threads > 1 runs root-parallel trees: search must be tree, without replies")
        if not 0.0 < self.reply_split < 1.0:
            raise ValueError(f"reply_split must be a share in (0, 1), got {self.reply_split}")
        if self.search not in SEARCHES:
            raise ValueError(f"search must be one of {', '.join(SEARCHES)}, not {self.search!r}")
        if not (math.isfinite(self.prefer_prior) and 0.0 <= self.prefer_prior <= 1.0):
            raise ValueError(f"prefer_prior must be a share in [0, 1] (0: off), got {self.prefer_prior}")
        if not 0.0 <= self.amaf < 1.0:
            raise ValueError(f"amaf must be a share in [0, 1), got {self.amaf}")
        if self.patterns and self.search != "tree":
            raise ValueError("patterns are a compiled playout's: search must be tree")
        if self.max_seconds is not None and not (math.isfinite(self.max_seconds) and self.max_seconds > 0):
            raise ValueError(f"max_seconds must be a positive number of seconds or None, got {self.max_seconds}")


def candidates(position: Position, color: int) -> list[int]:
    """Flat points ``color`` may play that do not fill its own true eye (board order)."""
    mask = position.legal_mask(color)
    return [int(p) for p in np.flatnonzero(mask[:-1]) if not is_true_eye(position, int(p), color)]


PRIOR_TIE = 1e-3  # prior masses this close are one favourite: 8 board views often split 3-3 between two points


def prefer_prior(best: int, visits: np.ndarray, prior: np.ndarray, share: float) -> int:
    """``best`` (a flat point), or the prior's most likely point when ``best`` is the most visited point and that
    one has at least ``share`` of its simulations. ``visits`` and ``prior`` (N*N+1,), pass last. Points within
    ``PRIOR_TIE`` of the prior's maximum are all its favourites: ``best`` among them stands, else the most visited
    of them is the one weighed. A ``best`` that is not the most visited came from another rule
    (engine/finishing.py) and stands."""
    top_visits = visits[:-1].max()
    if top_visits <= 0 or visits[best] < top_visits:
        return best
    points = prior[:-1]
    favourites = np.flatnonzero(points >= points.max() - PRIOR_TIE)
    if best in favourites:
        return best
    favourite = int(favourites[np.argmax(visits[favourites])])
    return favourite if visits[favourite] >= share * top_visits else best


THREAD_SEED_STEP = 1_000_003  # tree i of a root-parallel search is seeded seed + i * this (tree 0: the seed itself)
QUICK_COUNT = 1.0  # seconds: with less time than this to the deadline, the count judges by 1/8 of its playouts


@dataclass(frozen=True)
class PassOption:
    """What passing is worth to the mover now (``pass_option``) and how the game stands for it."""

    value: float  # 1 or 0 by the count with dead stones off, 1/2 for a draw
    over: bool  # nothing is left to play for the mover (engine/deadstones.finished_for): it passes
    their_dead: bool  # an opponent chain the count judges dead stands on the board (counted for them as it stands)


def count_config(size: int, deadline: Optional[float] = None) -> DeadStoneConfig:
    """The dead-stone count's settings for a move due at ``deadline``: ``config_for(size)``, with an eighth of its
    playouts when less than ``QUICK_COUNT`` is left."""
    cfg = config_for(size)
    if deadline is not None and deadline - time.monotonic() < QUICK_COUNT:
        cfg = replace(cfg, playouts=max(50, cfg.playouts // 8))
    return cfg


def pass_option(game: Game, color: int, deadline: Optional[float] = None,
                count: Optional[DeadStoneConfig] = None) -> Optional[PassOption]:
    """Passing for ``color`` now, or None when it is not on the table (the opponent has not passed, the board
    is not settled and the game is not over for ``color``). The count's dead-stone playouts (compiled since
    session 31: tens of ms on 9x9; Python's took ~0.3 s) use an eighth of their number under a clock with less
    than ``QUICK_COUNT`` left (``count``: those settings already chosen, ``count_config``); one count (remembered
    per board) serves all three answers."""
    position = game.position
    cfg = count or count_config(position.size, deadline)
    over = finished_for(position, color, cfg)
    if not over and not opponent_passed(game) and position.unsettled_points() > SETTLED_DAME:
        return None
    dead = dead_chains(position, cfg)
    return PassOption(win_value(without(position, dead).score(game.komi), color), over,
                      any(position.stones[chain[0]] != color for chain in dead))


def pass_value(game: Game, color: int, deadline: Optional[float] = None) -> Optional[float]:
    """What passing is worth to ``color`` now (``PassOption.value``), or None when it is not on the table."""
    option = pass_option(game, color, deadline)
    return None if option is None else option.value


def read_trees(searches: Sequence[TreeSearch], visits: np.ndarray, means: np.ndarray,
               pv_visits: Optional[dict[int, list[int]]] = None) -> tuple[int, dict[int, list[int]]]:
    """Sums the root statistics of root-parallel trees (of one position) into ``visits`` and ``means`` (the
    mover's win share) (N*N+1,); returns the most visited root move (ties: the better value) and each tried
    move's principal variation, read from the tree that visited it most."""
    roots = [s.root for s in searches]
    root_points = roots[0].points  # (K,) the same in every tree: the same position, candidates and edge rule
    per_tree = np.stack([r.n for r in roots])  # (T, K) each tree's root visits
    n = per_tree.sum(0)
    wins, value = sum(r.wins for r in roots), sum(r.value for r in roots)
    tried = n > 0
    visits[root_points] = n
    means[root_points[tried]] = wins[tried] / n[tried]
    order = np.lexsort((-value / np.maximum(n, 1.0), -n))  # most visits, then best value
    most = per_tree.argmax(0)  # (K,) the tree that visited each move most: its line is that move's pv
    pvs = {}
    for i in np.flatnonzero(tried):
        pvs[int(root_points[i])], through = variation_with_visits(roots[most[i]], int(i))
        if pv_visits is not None:  # the simulations through each move of the line, in the tree it was read from
            pv_visits[int(root_points[i])] = through
    return int(root_points[order[0]]), pvs


def read_scores(searches: Sequence[TreeSearch], color: int, n_moves: int) -> tuple[np.ndarray, np.ndarray]:
    """(N*N+1,) twice: the mean final area margin (komi included) of the playouts after each root move, from
    ``color``'s view, and its standard deviation, summed over root-parallel trees; NaN where no playout went."""
    sums = sum(s.root_score for s in searches)  # (2, A) Black's margin: sum, sum of squares
    # (A,) the root visits of this search (a reused tree's earlier visits have no score sums)
    n = sum(s.t_n[s.root_index].astype(np.float64) - s.root_base for s in searches)
    mean, stdev = np.full(n_moves, np.nan), np.full(n_moves, np.nan)
    seen = n > 0
    a = len(n)
    mean[:a][seen] = sums[0][seen] / n[seen] * (1.0 if color == BLACK else -1.0)
    stdev[:a][seen] = np.sqrt(np.maximum(0.0, sums[1][seen] / n[seen] - (sums[0][seen] / n[seen]) ** 2))
    return mean, stdev


SLICE = 0.05  # seconds: ``grow_trees`` reads its clock, and the trees' fullness, this often
ENDLESS = 1 << 40  # simulations to ask of a tree bounded by a deadline only


def grow_trees(searches: Sequence[TreeSearch], stop: Optional[threading.Event] = None, end: Optional[float] = None,
               until_half_full: bool = False) -> int:
    """Runs ``searches`` on (root-parallel trees at once, a thread each: the compiled loop releases the GIL) in
    slices of ``SLICE`` until ``stop`` is set (within a batch), ``end`` (``time.monotonic``) passes, or, with
    ``until_half_full``, a tree has made half the nodes it can hold; the simulations run. The analysis that
    goes on (engine/mc_live.py) and pondering (``MonteCarloPlayer.ponder``) grow their trees so."""
    done = 0
    pool = ThreadPoolExecutor(len(searches)) if len(searches) > 1 else None
    try:
        while not (stop is not None and stop.is_set()):
            now = time.monotonic()
            if (end is not None and now >= end) or (
                    until_half_full and any(2 * s.nodes >= s.t_colour.shape[0] for s in searches)):
                break
            deadline = now + SLICE if end is None else min(end, now + SLICE)
            if pool is None:
                done += searches[0].run(ENDLESS, deadline, stop=stop)
            else:
                done += sum(pool.map(lambda s: s.run(ENDLESS, deadline, stop=stop), searches))
    finally:
        if pool is not None:
            pool.shutdown()
    return done


@dataclass(frozen=True)
class RootMoves:
    """The first moves a search may consider (KataGo's allowMoves / avoidMoves, server/katago_json.py): flat
    ``points`` with N*N for pass; ``named`` when they were asked for by name (allowMoves), so that the tree's
    quiet-edge rule does not drop any of them."""

    points: frozenset[int]
    named: bool = False


class MonteCarloPlayer:
    """A ``Player`` and analyzer (engine/analysis.py) choosing by Monte Carlo over the rules; see the module."""

    reports_progress = True  # analyze_many takes progress= (engine/analysis.Progress)

    def __init__(self, cfg: MonteCarloConfig = MonteCarloConfig(), name: str = "montecarlo",
                 root_moves: Optional[RootMoves] = None) -> None:
        """``root_moves``: the only first moves the search may consider (None: all)."""
        self.cfg = cfg
        self.name = name
        self.root_moves = root_moves
        # with cfg.reuse: the trees of the last search, and the game length and side to move they searched for;
        # taken under the lock by the next search (one search owns a tree at a time)
        self._kept: Optional[tuple[list[TreeSearch], int, int]] = None
        self._kept_lock = threading.Lock()

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        return self.analyze(game, color, cleanup, deadline).move

    def reusing(self) -> "MonteCarloPlayer":
        """The same player keeping its trees between moves (``MonteCarloConfig.reuse``; needed to ponder)."""
        return MonteCarloPlayer(replace(self.cfg, reuse=True), self.name, self.root_moves)

    def with_budget(self, playouts: int, max_seconds: Optional[float] = None,
                    root_moves: Optional[RootMoves] = None) -> "MonteCarloPlayer":
        """The same player searching ``playouts`` simulations to the end (no early stop: an analysis, KataGo's
        maxVisits), at most ``max_seconds`` (None: no cap), over ``root_moves`` first moves (None: all)."""
        return MonteCarloPlayer(replace(self.cfg, playouts=playouts, clock_playouts=None, stop_early=False,
                                        max_seconds=max_seconds), self.name, root_moves)

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None,
                     progress: Optional[Progress] = None) -> list[Analysis]:
        return [self.analyze(game, color, cleanup, deadline, progress=progress) for game, color in requests]

    def analyze(self, game: Game, color: int, cleanup: bool = False, deadline: Optional[float] = None,
                prior: Optional[np.ndarray] = None, replies: Optional[ReplyReader] = None,
                keep: Optional[list[TreeSearch]] = None, progress: Optional[Progress] = None) -> Analysis:
        """``prior`` (N*N+1,): a move distribution for the tree's root (its prior term, weighted by
        ``cfg.tree.prior_weight``; models/steered_mc.py gives the network's). ``replies``: the opponent's
        move distributions after given root moves, for their nodes' prior terms (``cfg.replies``).
        ``keep``: receives the tree searches (none for the flat search or with nothing to play), so that
        engine/mc_live.py can grow them on. ``progress``: the tree's state while it grows (one tree only:
        root-parallel trees and the flat search report nothing before their answer); the same move as
        without it."""
        budget = self.cfg.clock_playouts if deadline is not None and self.cfg.clock_playouts else self.cfg.playouts
        if self.cfg.max_seconds is not None:
            cap = time.monotonic() + self.cfg.max_seconds
            deadline = cap if deadline is None else min(deadline, cap)
        position, size = game.position, game.size
        points = candidates(position, color)
        n_moves = size * size + 1
        if self.root_moves is not None:
            points = [p for p in points if p in self.root_moves.points]
        visits = np.zeros(n_moves)  # direct playouts per move (pass last)
        means = np.full(n_moves, np.nan)  # the mover's estimated share of wins per move
        may_pass = self.root_moves is None or n_moves - 1 in self.root_moves.points
        count = count_config(size, deadline)  # one count for the pass rules and the finishing rule
        stay = None if (cleanup and points) or not may_pass else pass_option(game, color, count=count)
        if stay is not None:
            means[-1] = stay.value
        best = None
        pvs = None
        scores = None
        pv_visits: dict[int, list[int]] = {}
        if points and self.cfg.search == "tree":
            searches: list[TreeSearch] = self._reused(game, color, points, prior) if self.cfg.reuse else []
            report = None
            if progress is not None and self.cfg.threads == 1:
                def report() -> None:
                    progress.report(self.read(game, color, searches, stay, prior, cleanup))
            best, pvs = self._tree(position, color, game.komi, points, deadline, visits, means, budget, prior, replies,
                                   searches, report, progress.every if progress is not None else 0.0,
                                   progress.stop if progress is not None else None, pv_visits)
            if keep is not None:
                keep.extend(searches)
            if self.cfg.reuse:
                self._keep(searches, game, color)
            scores = read_scores(searches, color, n_moves)
        elif points:
            estimate = self._estimates(position, color, game.komi, points, deadline, visits, budget)
            for p in points:
                means[p] = estimate(p)[0]
            # the final round's survivors have the most playouts; among them the best (mean, margin), ties by board order
            top = max(visits[p] for p in points)
            best = max((p for p in points if visits[p] == top), key=estimate)
        return self.answer(game, color, visits, means, stay, best, pvs, scores, pv_visits or None, prior, cleanup,
                           count)

    def read(self, game: Game, color: int, searches: Sequence[TreeSearch], stay: Optional[PassOption],
             prior: Optional[np.ndarray] = None, cleanup: bool = False) -> Analysis:
        """The answer the trees ``searches`` (of ``game``'s position, for ``color``) give as they stand; ``stay``:
        passing (``pass_option``; None: not on the table); ``prior`` and ``cleanup`` as for ``analyze``."""
        n_moves = game.size * game.size + 1  # every point, pass last
        visits = np.zeros(n_moves)
        means = np.full(n_moves, np.nan)
        if stay is not None:
            means[-1] = stay.value
        pv_visits: dict[int, list[int]] = {}
        best, pvs = read_trees(searches, visits, means, pv_visits)
        return self.answer(game, color, visits, means, stay, best, pvs, read_scores(searches, color, n_moves),
                           pv_visits, prior, cleanup)

    def answer(self, game: Game, color: int, visits: np.ndarray, means: np.ndarray, stay: Optional[PassOption],
               best: Optional[int], pvs: Optional[dict[int, list[int]]],
               scores: Optional[tuple[np.ndarray, np.ndarray]] = None,
               pv_visits: Optional[dict[int, list[int]]] = None, prior: Optional[np.ndarray] = None,
               cleanup: bool = False, count: Optional[DeadStoneConfig] = None) -> Analysis:
        """The Analysis of a search's statistics: ``visits`` and ``means`` (N*N+1,) per move (pass last),
        ``stay`` passing (``pass_option``; None: not on the table), ``best`` the search's move (None: none),
        ``pvs`` its lines (None: flat, each move its own line), ``scores`` the playouts' margins after each
        move (``read_scores``; None: not kept), ``pv_visits`` the simulations through each move of the lines
        (None: not kept). Decides between ``best`` and passing: once the game is over for the mover it passes,
        won or lost; else passing must do better than ``best``, or as well after the opponent's pass with no
        opponent chain dead on the board (standing, it would count for them: the tie goes to the move, which
        takes it). With ``prior`` (the network's distribution) and ``cfg.finish``, outside cleanup, a board where
        only dead stones and dame are left gets engine/finishing.py's move instead, when one is safe; ``count``: the
        dead-stone count's settings for it (``count_config``; None: ``config_for``). Then, with ``cfg.prefer_prior``,
        the prior's favourite may replace the tree's move (``prefer_prior``)."""
        position, size = game.position, game.size
        n_moves = size * size + 1
        passes = best is None or (stay is not None and (
            stay.over or stay.value > means[best]
            or (stay.value == means[best] and opponent_passed(game) and not stay.their_dead)))
        if prior is not None and self.cfg.finish is not None and not cleanup:
            finishing = finishing_points(position, color, count)
            pick = None if finishing is None else finishing_move(finishing, None if passes else best, means, prior,
                                                                  self.cfg.finish)
            if pick is not None:
                passes, best = False, pick
        if prior is not None and self.cfg.prefer_prior > 0 and not cleanup and not passes:
            best = prefer_prior(best, visits, prior, self.cfg.prefer_prior)
        if passes:
            move, winrate = PASS, (stay.value if stay is not None else 0.0)
        else:
            move, winrate = from_flat(best, size), float(means[best])
        chosen = n_moves - 1 if move is PASS else best
        # the playouts' shares; the two finalists of the halving have the same count, so the move played
        # gets a hair more, to come first where moves are listed by weight (top moves, lz-analyze)
        weights = visits.copy()
        weights[chosen] = max(weights[chosen], 1.0) + 1e-6 * max(1.0, weights.max())
        probs = weights / weights.sum()
        if pvs is None:  # flat: each move is its own line
            pvs = {int(p): [int(p)] for p in np.flatnonzero(visits)}
        pvs.setdefault(chosen, [chosen])
        return Analysis(probs=probs, legal_probs=probs, raw_move=move, raw_legal=True, move=move,
                        winrate=winrate, z_codes=[], imagined_board=next_board(position, move, color),
                        imagined_frame=None, move_winrates=means, visits=visits.astype(np.int64),
                        pvs=pvs, move_scores=None if scores is None else scores[0],
                        move_score_stdevs=None if scores is None else scores[1], pv_visits=pv_visits)

    def _tree(self, position: Position, color: int, komi: float, points: list[int], deadline: Optional[float],
              visits: np.ndarray, means: np.ndarray, budget: int, prior: Optional[np.ndarray] = None,
              replies: Optional[ReplyReader] = None, trees: Optional[list[TreeSearch]] = None,
              report: Optional[Callable[[], None]] = None, every: float = 0.0,
              stop: Optional[threading.Event] = None,
              pv_visits: Optional[dict[int, list[int]]] = None) -> tuple[int, dict[int, list[int]]]:
        """Tree search over ``points`` (less the quiet edge moves) with ``budget`` simulations; fills
        ``visits`` and ``means`` (the mover's win share) of the root moves it tried; returns the most
        visited (ties: the better value) and the principal variation from each move tried. With
        ``replies`` and ``cfg.replies``, the search pauses after ``cfg.reply_split`` of the budget and
        gives the nodes after the most visited root moves the reader's distributions as priors
        (``TreeSearch.set_prior``). With ``cfg.threads`` > 1, as many trees (seeded apart) share the budget and
        grow at once, each in its own thread, each stopping early on its own share; their root statistics are
        summed (root parallelism: no locks, no shared nodes) and each move's line is read from the tree that
        visited it most. ``trees``: the trees to grow, new ones put in it when it is empty (else the trees kept
        from before, ``cfg.reuse``, already moved to this position). ``report``: called about every ``every``
        seconds while one tree grows; ``stop``: ends every tree's search at its next batch once set
        (``TreeSearch.run``)."""
        searches = [] if trees is None else trees
        if not searches:
            searches.extend(self._new_trees(position, color, komi, points, prior))
        if replies is not None and self.cfg.replies > 0:  # one tree: MonteCarloConfig refuses replies with threads
            search = searches[0]
            first = max(1, int(budget * self.cfg.reply_split))
            done = search.run(first, deadline, report=report, every=every, stop=stop)  # no early stop: replies first
            budget -= done
            if done == first and budget > 0 and not (stop is not None and stop.is_set()):  # not when the deadline cut the first part short
                self._read_replies(search, replies)
        if budget > 0:
            share = -(-budget // len(searches))  # each tree's part of the budget, rounded up
            if len(searches) == 1:
                searches[0].run(share, deadline, stop_early=self.cfg.stop_early, report=report, every=every, stop=stop)
            else:  # the compiled simulations release the GIL, so the trees grow on as many cores at once
                with ThreadPoolExecutor(len(searches)) as pool:
                    list(pool.map(lambda s: s.run(share, deadline, stop_early=self.cfg.stop_early, stop=stop), searches))
        return read_trees(searches, visits, means, pv_visits)

    def _new_trees(self, position: Position, color: int, komi: float, points: list[int],
                   prior: Optional[np.ndarray]) -> list[TreeSearch]:
        return [TreeSearch(position, color, komi, points, self.cfg.tree, self.cfg.seed + i * THREAD_SEED_STEP,
                           prior=prior, tactical=self.cfg.tactical, patterns=self.cfg.patterns,
                           root_edge_rule=self.root_moves is None or not self.root_moves.named)
                for i in range(self.cfg.threads)]

    def _keep(self, searches: list[TreeSearch], game: Game, color: int) -> None:
        with self._kept_lock:
            self._kept = (searches, len(game.moves), color)

    def _reused(self, game: Game, color: int, points: list[int], prior: Optional[np.ndarray]) -> list[TreeSearch]:
        """The kept trees moved down to ``game``'s position for ``color`` (``TreeSearch.advance``; as they are when
        they searched that very position), or [] when they searched another game, a pass came between, or they lack
        the moves' nodes. Taken: no one else gets them."""
        with self._kept_lock:
            kept, self._kept = self._kept, None
        if kept is None:
            return []
        searches, length, kept_color = kept
        if length == len(game.moves) and kept_color == color and game.position == searches[0].position:
            return searches  # the same position again (a second search, pondering resumed): the trees go on
        since = game.moves[length:]
        alternate = all(c == (kept_color if i % 2 == 0 else opponent(kept_color)) for i, (c, _) in enumerate(since))
        if (length > len(game.moves) or game.positions[length] != searches[0].position or not since or not alternate
                or since[-1][0] == color or any(m is PASS for _, m in since)):
            return []
        path = [to_flat(move, game.size) for _, move in since]
        edge_rule = self.root_moves is None or not self.root_moves.named
        if all(s.advance(path, game.position, color, points, prior, edge_rule) for s in searches):
            return searches
        return []

    def ponder(self, game: Game, color: int, stop: threading.Event, prior: Optional[np.ndarray] = None) -> int:
        """Searches ``game``'s position for ``color`` (the opponent, after our move) until ``stop`` is set or the trees
        are half full, and keeps the trees (``cfg.reuse``): the search after the opponent's reply starts from that
        reply's subtree. The simulations run (0: nothing to search)."""
        points = candidates(game.position, color)
        if not points or self.cfg.search != "tree":
            return 0
        searches = self._reused(game, color, points, prior) or self._new_trees(
            game.position, color, game.komi, points, prior)
        done = grow_trees(searches, stop, until_half_full=True)
        self._keep(searches, game, color)
        return done

    def _read_replies(self, search: TreeSearch, replies: ReplyReader) -> None:
        """Priors for the nodes after the ``cfg.replies`` most visited root moves that have a node."""
        root_visits = search.t_n[search.root_index]  # (A,)
        order = np.argsort(-root_visits, kind="stable")
        chosen = [int(p) for p in order[:self.cfg.replies] if root_visits[p] > 0 and search.child(int(p)) >= 0]
        if not chosen:
            return
        for p, dist in zip(chosen, replies(chosen)):
            search.set_prior(search.child(p), dist)

    def _estimates(self, position: Position, color: int, komi: float, points: list[int], deadline: Optional[float],
                   visits: np.ndarray, budget: int):
        """Plays the budget out (AMAF share first, then sequential halving over ``points``), filling ``visits``
        with the direct playouts; returns ``estimate(p) -> (win share, mean margin)`` for the mover."""
        amaf_budget = int(budget * self.cfg.amaf)
        amaf = self._amaf(position, color, komi, amaf_budget, deadline) if amaf_budget else None
        wins = {p: 0.0 for p in points}
        margins = {p: 0.0 for p in points}
        k = self.cfg.amaf_equivalence

        def estimate(p: int) -> tuple[float, float]:
            n = visits[p]
            if amaf is None or amaf[2][p] == 0:
                return (wins[p] / n, margins[p] / n) if n else (0.5, 0.0)
            a_n = amaf[2][p]
            a_win, a_margin = (amaf[0][p] + 0.5) / (a_n + 1), amaf[1][p] / a_n  # AMAF, a half win of prior
            if not n:
                return a_win, a_margin
            beta = k / (k + n)  # the AMAF weight fades as direct playouts come in
            return (beta * a_win + (1 - beta) * wins[p] / n, beta * a_margin + (1 - beta) * margins[p] / n)

        self._halve(position, color, komi, points, deadline, visits, wins, margins, estimate,
                    budget - amaf_budget)
        return estimate

    def _amaf(self, position: Position, color: int, komi: float, n: int, deadline: Optional[float] = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` playouts (fewer if ``deadline`` passes) from ``position`` with ``color`` to move; per point,
        over the playouts in which ``color`` played it before the opponent did: (wins, summed margins, count)."""
        size = position.size
        wins, margins, count = np.zeros(size * size), np.zeros(size * size), np.zeros(size * size)
        rng = random.Random(position.hash ^ (self.cfg.seed * 7919 + 1))
        sign = 1.0 if color == BLACK else -1.0
        last = last_point(position, color)
        for _ in range(n):
            if deadline is not None and time.monotonic() >= deadline:
                break
            run = Playout(position.stones, size, color, rng, self.cfg.tactical, last)
            first = bytearray(size * size)  # who played each point first in this playout (0: nobody)
            while not run.over:
                mover = run.colour
                p = run.step()
                if p >= 0 and not first[p]:
                    first[p] = mover
            score = final_score(run.board, size, komi)
            mine = np.frombuffer(bytes(first), dtype=np.uint8) == color
            count += mine
            wins += mine * win_value(score, color)
            margins += mine * (sign * score)
        return wins, margins, count

    def _halve(self, position: Position, color: int, komi: float, points: list[int], deadline: Optional[float],
               visits: np.ndarray, wins: dict, margins: dict, estimate, budget: int) -> None:
        """Sequential halving over ``points`` with ``budget`` playouts, ranked by ``estimate``; adds to
        ``visits``, ``wins`` and ``margins`` (the mover's)."""
        size, other = position.size, opponent(color)
        children = {p: position.play(from_flat(p, size), color) for p in points}
        alive = list(points)
        rounds = max(1, math.ceil(math.log2(len(points))))
        for r in range(rounds):
            if r and deadline is not None and time.monotonic() >= deadline:
                break  # the first round always runs: every candidate gets a playout
            share = max(1, budget // (rounds * len(alive)))
            for p in alive:
                lost, their_margin = playout_stats(children[p], other, komi, share, seed=self.cfg.seed * 1009 + r,
                                                   tactical=self.cfg.tactical)
                wins[p] += (1.0 - lost) * share
                margins[p] -= their_margin * share
                visits[p] += share
            if len(alive) > 1:
                alive.sort(key=lambda p: tuple(-x for x in estimate(p)))  # stable: ties keep board order
                alive = alive[:math.ceil(len(alive) / 2)]


__all__ = ["MonteCarloConfig", "MonteCarloPlayer", "PassOption", "candidates", "pass_option", "pass_value"]
