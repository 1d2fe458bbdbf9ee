"""Monte Carlo tree search with RAVE over the rules, compiled: the fallback player's search (engine/mc_player.py)
and, steered at its root (optionally also at the nodes of the opponent's replies: ``TreeSearch.set_prior``)
by the network, the 9x9 engine's (models/steered_mc.py).

The flat player gives every root move its own random playouts and so never sees the opponent's
best answer: a move that works only if the opponent errs looks as good as a sound one. A tree
(UCT, Kocsis and Szepesvari 2006) grows where the playouts go: each simulation walks down the
tree choosing at every node the move with the best estimate, adds one node, plays the rest out at
random (engine/fastboard.py: the dead-stone count's light policy, or the tactical one, or MoGo's patterns, compiled) and credits the result
to every node it passed. Estimates blend the node's own results with "all moves as first" (RAVE,
Gelly and Silver 2011): a move's results in every simulation where the node's mover played that
point later on, not just first; the blend leans on RAVE while a move has few visits
(beta = sqrt(k / (3n + k))).

A simulation's value for Black is mostly the win (1, 1/2, 0) and a little the area margin
(``margin_weight`` of 1/2 + tanh(margin / (N*N/10)) / 2), so among moves that all win or all lose
the one that keeps more points is preferred, and a lost game is not thrown away point by point.

Which moves a node has: at the root, the caller's (legal under superko, no own true eye, the
empty-area edge rule below); below the root, the empty points that are not the mover's own eye
(the playouts' test), tried for legality under simple ko when first chosen (an illegal one drops
out). Passing is not a tree move: the player decides it at the root (engine/mc_player.py).

Edge rule (``quiet_edges``): a move on the first or second line with no stone within Manhattan
distance 3 is left out while other moves remain. In an empty corner or side such a move takes
almost nothing and the light playouts cannot tell (they fill the board at random, so low moves
look as safe as any); a human teacher's first rule is the same.

Why compiled: the Python tree of session 29 ran ~500-1,000 simulations a second on 9x9; the whole
simulation here (the walk down, the playout, the count, the RAVE backup) is one numba function and
runs tens of thousands (benchmarks/bench_mc.py). The tree lives in (M, A) arrays (M nodes, A = N*N
points), allocated zeroed (the pages of nodes never made cost no memory) and filled as nodes are
made; a node is made on its move's second visit, so M bounds the tree, not the simulations.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Optional

import numpy as np
from numba import njit

from engine.board import Position
from engine.deadstones import last_point
from engine.fastboard import (COLOUR, LAST, NE, STAMP, FastBoard, answers_capacity, area_score, copy_board, new_rng,
                              over, own_eye, play_legal, policy_tables, remember_replies, step)

TREE_BYTES = 256 << 20  # address space for a search's node arrays; only the nodes made are touched


@dataclass(frozen=True)
class TreeConfig:
    rave_equivalence: float = 1000.0  # k: a move's own results outweigh its RAVE ones from n = k/3 visits on
    exploration: float = 0.1  # UCB term c * sqrt(ln N / (n + 1)); RAVE does most of the exploring
    rave_prior: float = 1.0  # virtual RAVE results of 1/2 per move: an unseen point is neither good nor bad
    margin_weight: float = 0.05  # share of a simulation's value from the area margin (the rest: the win)
    quiet_edges: bool = True  # the edge rule (module docstring) at every node, the root included
    # the root's prior term, PUCT's (AlphaGo): + prior_weight * P(move) * sqrt(N + 1) / (n + 1), P a move
    # distribution given to the search (the network's: models/steered_mc.py), N the root's visits; it holds
    # a move the prior likes until its own results (n visits) outweigh it; 0: off
    prior_weight: float = 0.0
    # playouts first play the reply that last won a simulation against the previous move, forgetting it
    # once it loses (LGRF-1: engine/fastboard.py remember_replies); learnt over the search's simulations
    last_good_reply: bool = False

    def __post_init__(self) -> None:
        if self.rave_equivalence <= 0 or self.exploration < 0 or self.rave_prior <= 0 or self.prior_weight < 0:
            raise ValueError(f"bad tree settings: {self}")
        if not 0.0 <= self.margin_weight < 0.5:
            raise ValueError(f"margin_weight must be in [0, 0.5), got {self.margin_weight}")


@lru_cache(maxsize=None)
def low_lines(size: int) -> np.ndarray:
    """(A,) bool: the first and second lines (none under 7x7, where the edge rule does not apply)."""
    r, c = np.divmod(np.arange(size * size), size)
    low = np.minimum(np.minimum(r, c), np.minimum(size - 1 - r, size - 1 - c)) < 2
    return low & (size >= 7)


@njit(cache=True)
def edge_rule(board, nbr, low, moves):
    """Clears in ``moves`` (A,) bool the low points with no stone within Manhattan distance 3, unless
    that would clear them all."""
    a = board.shape[0]
    near = board != 0
    for _ in range(3):  # grow one step at a time: a diamond
        grown = near.copy()
        for p in range(a):
            if near[p]:
                for k in range(4):
                    q = nbr[p, k]
                    if q < 0:
                        break
                    grown[q] = True
        near = grown
    keep_any = False
    for p in range(a):
        if moves[p] and (not low[p] or near[p]):
            keep_any = True
            break
    if keep_any:
        for p in range(a):
            if moves[p] and low[p] and not near[p]:
                moves[p] = False


def quiet_edge_moves(stones: bytes | bytearray, size: int, points: list[int]) -> list[int]:
    """``points`` without those on the first or second line that have no stone within Manhattan
    distance 3 (all of ``points`` if that would leave none; boards under 7x7 are left alone)."""
    fb = FastBoard(size).setup(stones, 1)
    moves = np.zeros(size * size, np.bool_)
    moves[np.asarray(points, dtype=np.int64)] = True
    edge_rule(fb.board, fb.nbr, low_lines(size), moves)
    return [p for p in points if moves[p]]


@njit(cache=True)
def _new_node(m, colour, moves, t_colour, t_cand, t_alive, t_rn, t_rv, rave_prior):
    t_colour[m] = colour
    t_cand[m] = moves
    t_alive[m] = moves
    t_rn[m] = rave_prior
    t_rv[m] = 0.5 * rave_prior


@njit(cache=True)
def _select(m, t_alive, t_n, t_value, t_rn, t_rv, t_total, k_rave, c_explore, priors, t_prior):
    """The point to try next at node ``m`` (-1: none left); a node with a prior row (``t_prior[m]`` = row + 1
    into ``priors`` (R, A): the root's, and those ``TreeSearch.set_prior`` gave) adds its prior term."""
    best, best_score = -1, -np.inf
    log_total = math.log(t_total[m] + 1.0)
    sqrt_total = math.sqrt(t_total[m] + 1.0)
    row = t_prior[m] - 1
    for p in range(t_alive.shape[1]):
        if not t_alive[m, p]:
            continue
        n = t_n[m, p]
        q = t_value[m, p] / n if n > 0 else 0.0
        beta = math.sqrt(k_rave / (3.0 * n + k_rave))
        score = (1.0 - beta) * q + beta * t_rv[m, p] / t_rn[m, p] + c_explore * math.sqrt(log_total / (n + 1.0))
        if row >= 0:
            score += priors[row, p] * sqrt_total / (n + 1.0)
        if score > best_score:
            best, best_score = p, score
    return best


@njit(cache=True)
def _simulate(rng, komi, k_rave, c_explore, priors, t_prior, rave_prior, margin_weight, quiet, low, policy, scratch,
              nbr, diag, ndiag, root, work, path_node, path_move, played, pcol,
              t_colour, t_total, t_cand, t_alive, t_n, t_value, t_wins, t_rn, t_rv, t_child, meta, r_score):
    """One simulation from the root board ``root`` on the scratch board ``work`` (tuples of the board
    arrays, engine/fastboard.py); grows the tree by at most one node and backs the result up. ``r_score``
    (2, A): the root moves' sums of the final area margin (Black's, komi included) and of its square."""
    board, head, nxt, csize, plib, empties, slot, mark, st = work
    copy_board(root[0], root[1], root[2], root[3], root[4], root[5], root[6], root[8],
               board, head, nxt, csize, plib, empties, slot, st)
    a = board.shape[0]
    node, plen, nplayed = meta[1], 0, 0  # the root: node 0, or where TreeSearch.advance moved it
    while not over(st, a):  # the playouts' move cap bounds the walk too: on a tiny board (2x2, 3x3) captures
        # and retakes let the tree grow deeper than 3*A, past the path buffers (n_buf, TreeSearch)
        p = _select(node, t_alive, t_n, t_value, t_rn, t_rv, t_total, k_rave, c_explore, priors, t_prior)
        while p >= 0 and not play_legal(p, nbr, board, head, nxt, csize, plib, empties, slot, mark, st):
            t_alive[node, p] = False  # occupied or illegal on this board: never again from here
            p = _select(node, t_alive, t_n, t_value, t_rn, t_rv, t_total, k_rave, c_explore, priors, t_prior)
        if p < 0:
            break  # nothing to play in the tree: the playout decides (it may pass)
        path_node[plen], path_move[plen] = node, p
        plen += 1
        played[nplayed], pcol[nplayed] = p, t_colour[node]
        nplayed += 1
        child = t_child[node, p] - 1  # stored +1: zero-filled arrays mean "no child"
        if child < 0:
            if t_n[node, p] >= 1 and meta[0] < t_colour.shape[0]:  # expand on the second visit
                m = meta[0]
                meta[0] += 1
                colour = st[COLOUR]
                moves = np.zeros(a, np.bool_)
                for j in range(st[NE]):  # the empty points
                    q = empties[j]
                    if not own_eye(q, colour, board, nbr, diag, ndiag):
                        moves[q] = True
                if quiet:
                    edge_rule(board, nbr, low, moves)
                _new_node(m, colour, moves, t_colour, t_cand, t_alive, t_rn, t_rv, rave_prior)
                t_child[node, p] = m + 1
            break
        node = child
    while not over(st, a):
        pcol[nplayed] = st[COLOUR]
        played[nplayed] = step(rng, policy, scratch, nbr, diag, ndiag, board, head, nxt, csize, plib, empties, slot,
                               mark, st)
        nplayed += 1
    score = area_score(board, nbr, komi)
    black_win = 0.5 if score == 0 else (1.0 if score > 0 else 0.0)
    black_value = (1.0 - margin_weight) * black_win + margin_weight * (0.5 + 0.5 * math.tanh(score / (0.1 * a)))
    if policy[4]:
        remember_replies(policy[5], played, pcol, nplayed, root[8][LAST], 0 if score == 0 else (1 if score > 0 else 2))
    if plen > 0:  # the root move's score statistics (read, never used to select)
        r_score[0, path_move[0]] += score
        r_score[1, path_move[0]] += score * score
    for d in range(plen):
        m, p = path_node[d], path_move[d]
        mine = t_colour[m] == 1
        value = black_value if mine else 1.0 - black_value
        t_n[m, p] += 1.0
        t_value[m, p] += value
        t_wins[m, p] += black_win if mine else 1.0 - black_win
        t_total[m] += 1
        # RAVE: the points this node's mover played first from here on, each as if it were the move
        st[STAMP] += 1  # a fresh mark for "seen in this tail"
        stamp = st[STAMP]
        for t in range(d, nplayed):
            q = played[t]
            if q < 0 or mark[q] == stamp:
                continue
            mark[q] = stamp
            if pcol[t] == t_colour[m]:
                t_rn[m, q] += 1.0
                t_rv[m, q] += value


@njit(cache=True, nogil=True)  # no GIL: root-parallel searches run in threads (engine/mc_player.py)
def _run(count, rng, komi, k_rave, c_explore, priors, t_prior, rave_prior, margin_weight, quiet, low, policy, nbr, diag, ndiag,
         root, work, path_node, path_move, played, pcol, t_colour, t_total, t_cand, t_alive, t_n, t_value, t_wins, t_rn,
         t_rv, t_child, meta, r_score):
    scratch = np.empty(answers_capacity(root[0].shape[0]), np.int64)  # the heavy policies' urgent points
    for _ in range(count):
        _simulate(rng, komi, k_rave, c_explore, priors, t_prior, rave_prior, margin_weight, quiet, low, policy, scratch, nbr,
                  diag, ndiag, root, work,
                  path_node, path_move, played, pcol, t_colour, t_total, t_cand, t_alive, t_n, t_value, t_wins,
                  t_rn, t_rv, t_child, meta, r_score)


class NodeView:
    """One node's statistics, over its candidate moves ``points`` (K,) (flat, board order), from the
    view of ``colour``, the side to move there: ``n``, ``value``, ``wins``, ``rave_n``, ``rave_value`` (K,)."""

    def __init__(self, search: "TreeSearch", m: int) -> None:
        self.search, self.m = search, m
        self.colour = int(search.t_colour[m])
        self.points = np.flatnonzero(search.t_cand[m])
        self.total = int(search.t_total[m])

    def _row(self, arr: np.ndarray) -> np.ndarray:
        return arr[self.m, self.points].astype(np.float64)

    n = property(lambda self: self._row(self.search.t_n))
    value = property(lambda self: self._row(self.search.t_value))
    wins = property(lambda self: self._row(self.search.t_wins))
    rave_n = property(lambda self: self._row(self.search.t_rn))
    rave_value = property(lambda self: self._row(self.search.t_rv))

    @property
    def children(self) -> dict[int, "NodeView"]:
        """{index into points: the node after that move}, for the moves that have one."""
        child = self.search.t_child[self.m, self.points]
        return {int(i): NodeView(self.search, int(child[i]) - 1) for i in np.flatnonzero(child)}


# A line goes on only through a move simulated at least twice and more often than any other move of its node.
# Where a node's few simulations tried several moves as often (once each, say), argmax took the first in board
# order, and lines ended on the top row (A9, D9, ...) in Lizzie until this cut (session 43).
MIN_PV_VISITS = 2


def principal_variation(node: NodeView, i: int, limit: int = 20) -> list[int]:
    """The flat points from move ``i`` of ``node`` on, following the most visited move of each node below."""
    return variation_with_visits(node, i, limit)[0]


def variation_with_visits(node: NodeView, i: int, limit: int = 20) -> tuple[list[int], list[int]]:
    """``principal_variation`` and the simulations through each of its moves (KataGo's ``pvVisits``)."""
    s = node.search
    line = [int(node.points[i])]
    visits = [int(s.t_n[node.m, line[0]])]
    m = int(s.t_child[node.m, line[0]]) - 1
    while m >= 0 and len(line) < limit:
        row = s.t_n[m]
        p = int(np.argmax(row))
        if row[p] < MIN_PV_VISITS or np.count_nonzero(row == row[p]) > 1:
            break
        line.append(p)
        visits.append(int(s.t_n[m, p]))
        m = int(s.t_child[m, p]) - 1
    return line, visits


class TreeSearch:
    """One move's search from ``position`` with ``colour`` to move over the root moves ``points`` (less
    the quiet edge moves, as at every node, when ``cfg.quiet_edges``). ``tactical``: the playouts answer
    ataris first (engine/fastboard.py ``answers``); ``patterns``: they play MoGo's 3x3 patterns around the
    last move first (after the atari answers when both); else light. ``prior`` (A,) or (A+1,): a move
    distribution for the root's prior term (``cfg.prior_weight``; a pass entry is ignored).
    ``max_nodes`` bounds the tree (default: what ``TREE_BYTES`` holds on this board). ``root_edge_rule``
    False: every one of ``points`` is searched at the root (moves asked for by name, KataGo's allowMoves)."""

    def __init__(self, position: Position, colour: int, komi: float, points: list[int], cfg: TreeConfig,
                 seed: int = 0, max_nodes: Optional[int] = None, prior: Optional[np.ndarray] = None,
                 tactical: bool = False, patterns: bool = False, root_edge_rule: bool = True) -> None:
        self.position, self.colour, self.komi, self.cfg = position, colour, komi, cfg
        self.size = size = position.size
        self.policy = policy_tables(size, tactical, patterns, cfg.last_good_reply)
        a = size * size
        self.rng = new_rng(position.hash ^ (seed * 7919 + 3))
        moves = self._set_root(position, colour, points, root_edge_rule)
        self.work = FastBoard(size)
        m = max_nodes or max(16, TREE_BYTES // (a * 26))  # 5 float32 + 2 bool + 1 int32 per (node, point)
        # prior rows (R, A), the root's first (zeros without a prior: the term adds nothing), and each node's
        # row + 1 (M,) (0: none); weighted by cfg.prior_weight when set
        self.priors = np.zeros((1, a), np.float64)
        self.t_prior = np.zeros(m, np.int32)
        self.t_prior[0] = 1
        if prior is not None and cfg.prior_weight > 0:
            self.priors[0] = cfg.prior_weight * np.asarray(prior, dtype=np.float64)[:a]
        self.t_colour = np.zeros(m, np.int8)
        self.t_total = np.zeros(m, np.int64)
        self.t_cand = np.zeros((m, a), np.bool_)
        self.t_alive = np.zeros((m, a), np.bool_)
        self.t_n, self.t_value, self.t_wins, self.t_rn, self.t_rv = (np.zeros((m, a), np.float32) for _ in range(5))
        self.t_child = np.zeros((m, a), np.int32)
        self.meta = np.array([1, 0], np.int64)  # nodes made; the root node (0 until ``advance`` moves it)
        self.root_score = np.zeros((2, a), np.float64)  # (2, A) per root move: sum of Black's final margin, of its square
        self.root_base = np.zeros(a, np.float32)  # (A,) the root's visits before the present search (``advance``)
        _new_node(0, colour, moves, self.t_colour, self.t_cand, self.t_alive, self.t_rn, self.t_rv, cfg.rave_prior)
        n_buf = 3 * a + 8  # a simulation's moves: the tree's and the playout's, at most 3*A in all
        self.path_node, self.path_move = np.zeros(n_buf, np.int64), np.zeros(n_buf, np.int64)
        self.played, self.pcol = np.zeros(n_buf, np.int64), np.zeros(n_buf, np.int64)

    def _set_root(self, position: Position, colour: int, points: list[int], root_edge_rule: bool) -> np.ndarray:
        """The root board for ``position`` with ``colour`` to move; returns the root's moves (A,) bool: ``points``
        less the quiet edge moves (unless ``root_edge_rule`` is False)."""
        ko = position.ko if colour == position.to_play else -1
        self.root_board = FastBoard(self.size).setup(position.stones, colour, ko, last_point(position, colour))
        moves = np.zeros(self.size * self.size, np.bool_)
        moves[np.asarray(points, dtype=np.int64)] = True
        if self.cfg.quiet_edges and root_edge_rule:
            edge_rule(self.root_board.board, self.root_board.nbr, low_lines(self.size), moves)
        return moves

    @property
    def root_index(self) -> int:
        return int(self.meta[1])

    @property
    def root(self) -> NodeView:
        return NodeView(self, self.root_index)

    @property
    def nodes(self) -> int:
        return int(self.meta[0])

    def child(self, point: int) -> int:
        """The node after the root move ``point`` (-1 while it has none: a node is made on a move's second visit)."""
        return int(self.t_child[self.root_index, point]) - 1

    def advance(self, moves: list[int], position: Position, colour: int, points: list[int],
                prior: Optional[np.ndarray] = None, root_edge_rule: bool = True) -> bool:
        """Moves the root down the tree along ``moves`` (flat points played from the root, in turn) to search
        ``position`` (what those moves led to) with ``colour`` to move, keeping the statistics gathered below:
        tree reuse between moves, and pondering (engine/mc_player.py). ``points``, ``prior`` and
        ``root_edge_rule`` are the new root's, as in the constructor. False (the tree unchanged) when a move has
        no node yet, the node has another side to move, or the tree is over half full (a fresh tree then)."""
        m, a = self.root_index, self.size * self.size
        if self.nodes * 2 > self.t_colour.shape[0]:
            return False
        for p in moves:
            if not 0 <= p < a or self.t_child[m, p] <= 0:
                return False
            m = int(self.t_child[m, p]) - 1
        if int(self.t_colour[m]) != colour:
            return False
        self.position, self.colour = position, colour
        mask = self._set_root(position, colour, points, root_edge_rule)
        # a point the node ruled out on this very board stays out; one the root now allows comes in
        self.t_alive[m] = mask & (self.t_alive[m] | ~self.t_cand[m])
        self.t_cand[m] = mask
        self.meta[1] = m
        self.root_score[:] = 0.0
        self.root_base = self.t_n[m].copy()
        if prior is not None and self.cfg.prior_weight > 0:
            self.set_prior(m, prior)
        return True

    def set_prior(self, m: int, prior: np.ndarray) -> None:
        """Gives node ``m`` a prior term like the root's: ``prior`` (A,) or (A+1,) a move distribution of the
        side to move there (a pass entry is ignored), weighted by ``cfg.prior_weight``. Its moves' later
        selections lean on it; the statistics gathered so far stay."""
        if not 0 <= m < self.nodes:
            raise ValueError(f"no node {m}: the tree has {self.nodes}")
        a = self.size * self.size
        row = self.cfg.prior_weight * np.asarray(prior, dtype=np.float64)[:a]
        if self.t_prior[m]:
            self.priors[self.t_prior[m] - 1] = row
        else:
            self.priors = np.concatenate([self.priors, row[None]])  # a few rows a search: copying is nothing
            self.t_prior[m] = len(self.priors)

    def _batch(self, count: int) -> None:
        c, rb, wb = self.cfg, self.root_board, self.work
        _run(count, self.rng, float(self.komi), c.rave_equivalence, c.exploration, self.priors, self.t_prior,
             c.rave_prior, c.margin_weight,
             c.quiet_edges, low_lines(self.size), self.policy, rb.nbr, rb.diag, rb.ndiag, rb.arrays(), wb.arrays(),
             self.path_node, self.path_move, self.played, self.pcol, self.t_colour, self.t_total, self.t_cand,
             self.t_alive, self.t_n, self.t_value, self.t_wins, self.t_rn, self.t_rv, self.t_child, self.meta,
             self.root_score)

    def decided(self, left: int) -> bool:
        """Whether the most visited root move keeps the lead over ``left`` more simulations, whichever
        moves they go to: its visits exceed every other move's by more than ``left``."""
        second, top = np.partition(self.t_n[self.root_index], -2)[-2:]  # (A,) root visits; the two largest, in order
        return float(top) - float(second) > left

    @staticmethod
    def _left(by_count: int, done: int, elapsed: float, deadline: Optional[float], now: float) -> int:
        """The simulations still to come: ``by_count``, or fewer if at the rate so far (``done`` in
        ``elapsed`` seconds) the deadline comes first."""
        if deadline is None or elapsed <= 0.0:
            return by_count
        return min(by_count, int(done / elapsed * max(0.0, deadline - now)) + 1)

    def run(self, simulations: int, deadline: Optional[float] = None, stop_early: bool = False,
            report: Optional[Callable[[], None]] = None, every: float = 0.1,
            stop: Optional[threading.Event] = None) -> int:
        """Runs up to ``simulations`` (fewer if ``deadline`` passes; at least one); returns how many ran.
        With a deadline the compiled loop runs in batches sized to take ~10 ms, the clock read between them.
        ``stop_early``: stop once the most visited root move cannot be caught by the simulations left
        (``decided``): the move a player picks by visits is then the one the full run would pick, for
        less time (the other moves' statistics rest on fewer simulations). With a deadline, the simulations
        left are also bounded by the ones the rate so far fits before it: under a clock with a large budget
        (``MonteCarloConfig.clock_playouts``) a clear move does not wait for the deadline. Checked every
        ~1/64 of the budget. The simulations are the same ones in any batching: the generator's state
        carries over. ``report``: called between batches once ``every`` seconds have passed since the last call
        (the search's state for a GUI while it runs: GTP's genmove_analyze); the batches are then timed as
        under a deadline. The early stop may then come at another count, never on another move: a decided
        move stays the most visited one whatever the simulations left do. ``stop``: once set, the search ends at
        its next batch (after at least one simulation)."""
        cap = max(64, simulations // 64) if stop_early else simulations
        # batches of ~10 ms, the clock (and the stop event) read between them
        timed = deadline is not None or report is not None or stop is not None
        done, batch = 0, (1 if timed else cap)
        began = last_report = time.monotonic()
        while done < simulations:
            now = time.monotonic()
            if done and ((deadline is not None and now >= deadline) or (stop is not None and stop.is_set())):
                break
            if done and stop_early and self.decided(self._left(simulations - done, done, now - began, deadline, now)):
                break
            if done and report is not None and now - last_report >= every:
                report()
                last_report = time.monotonic()
            n = min(batch, simulations - done)
            started = time.monotonic()
            self._batch(n)
            done += n
            if timed and time.monotonic() - started < 0.01:
                batch = min(2 * batch, cap)
        return done


def warm_up() -> None:
    """Compiles every kernel of the search and of the dead-stone count (or loads them from numba's cache in
    engine/__pycache__): a few simulations and playouts on an empty 7x7 board. The install runs it, so a
    first genmove does not wait ~20 s."""
    from engine.board import Position
    from engine.fastcount import ownership_mean

    TreeSearch(Position(7), 1, 7.0, list(range(49)), TreeConfig(), prior=np.zeros(50)).run(4)
    ownership_mean(bytes(49), 7, 1, 4)  # the dead-stone count's playouts
