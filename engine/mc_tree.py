"""Monte Carlo tree search with RAVE over the rules: the fallback player's search (engine/mc_player.py).

The flat player gives every root move its own random playouts and so never sees the opponent's
best answer: a move that works only if the opponent errs looks as good as a sound one. A tree
(UCT, Kocsis and Szepesvari 2006) grows where the playouts go: each simulation walks down the
tree choosing at every node the move with the best estimate, adds one node, plays the rest out at
random (engine/playout.py, the dead-stone count's light policy) and credits the result to every
node it passed. Estimates blend the node's own results with "all moves as first" (RAVE, Gelly and
Silver 2011): a move's results in every simulation where the node's mover played that point later
on, not just first; the blend leans on RAVE while a move has few visits (beta = sqrt(k / (3n + k))).

A simulation's value for Black is mostly the win (1, 1/2, 0) and a little the area margin
(``margin_weight`` of 1/2 + tanh(margin / (N*N/10)) / 2), so among moves that all win or all lose
the one that keeps more points is preferred, and a lost game is not thrown away point by point.

Which moves a node has: at the root, the caller's (legal under superko, no own true eye, the
empty-area edge rule below); below the root, the empty points that are not the mover's own eye
(the playouts' test), tried for legality under simple ko when first chosen (an illegal one drops
out). Passing is not a tree move: the player decides it at the root (engine/mc_player.py).

Edge rule (``quiet_edge_moves``): a move on the first or second line with no stone within
Manhattan distance 3 is left out while other moves remain. In an empty corner or side such a
move takes almost nothing and the light playouts cannot tell (they fill the board at random, so
low moves look as safe as any); a human teacher's first rule is the same.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from engine.board import Position
from engine.coords import BLACK, EMPTY
from engine.deadstones import final_score, last_point
from engine.game import win_value
from engine.playout import Playout


@dataclass(frozen=True)
class TreeConfig:
    rave_equivalence: float = 1000.0  # k: a move's own results outweigh its RAVE ones from n = k/3 visits on
    exploration: float = 0.1  # UCB term c * sqrt(ln N / (n + 1)); RAVE does most of the exploring
    rave_prior: float = 1.0  # virtual RAVE results of 1/2 per move: an unseen point is neither good nor bad
    margin_weight: float = 0.05  # share of a simulation's value from the area margin (the rest: the win)
    quiet_edges: bool = True  # the edge rule (module docstring) at every node, the root included

    def __post_init__(self) -> None:
        if self.rave_equivalence <= 0 or self.exploration < 0 or self.rave_prior <= 0:
            raise ValueError(f"bad tree settings: {self}")
        if not 0.0 <= self.margin_weight < 0.5:
            raise ValueError(f"margin_weight must be in [0, 0.5), got {self.margin_weight}")


def quiet_edge_moves(stones: bytes | bytearray, size: int, points: list[int], reach: int = 3) -> list[int]:
    """``points`` without those on the first or second line that have no stone within Manhattan
    distance ``reach`` (all of ``points`` if that would leave none; boards under 7x7 are left alone)."""
    if size < 7:
        return list(points)
    r, c = np.divmod(np.asarray(points, dtype=np.int64), size)
    low = np.minimum(np.minimum(r, c), np.minimum(size - 1 - r, size - 1 - c)) < 2
    if not low.any():
        return list(points)
    # (N, N) bool: within ``reach`` steps of a stone, grown one step at a time (a diamond: Manhattan distance)
    near = np.frombuffer(bytes(stones), dtype=np.uint8).reshape(size, size) != EMPTY
    for _ in range(reach):
        grown = near.copy()
        grown[1:] |= near[:-1]
        grown[:-1] |= near[1:]
        grown[:, 1:] |= near[:, :-1]
        grown[:, :-1] |= near[:, 1:]
        near = grown
    keep = ~low | near[r, c]
    kept = [p for p, k in zip(points, keep) if k]
    return kept or list(points)


class Node:
    """The statistics of one position's moves, from the view of ``colour``, the side to move there.
    Arrays are (K,) over ``points``, the node's candidate moves (flat indices)."""

    __slots__ = ("colour", "points", "slot", "n", "value", "wins", "rave_n", "rave_value", "alive", "children",
                 "total")

    def __init__(self, colour: int, points: list[int], area: int, prior: float) -> None:
        self.colour = colour
        self.points = np.asarray(points, dtype=np.int64)
        self.slot = np.full(area, -1, dtype=np.int64)  # flat point -> index in points (-1: not a move here)
        self.slot[self.points] = np.arange(len(points))
        k = len(points)
        self.n, self.value, self.wins = np.zeros(k), np.zeros(k), np.zeros(k)  # visits, summed value, summed wins
        self.rave_n, self.rave_value = np.full(k, prior), np.full(k, 0.5 * prior)
        self.alive = np.ones(k, dtype=bool)  # False once the move proved illegal here (ko, suicide)
        self.children: dict[int, Node] = {}
        self.total = 0

    def select(self, cfg: TreeConfig) -> int:
        """The index of the move to try next (-1: none left)."""
        if not self.alive.any():
            return -1
        n = self.n
        q = self.value / np.maximum(n, 1.0)
        rave = self.rave_value / self.rave_n
        beta = np.sqrt(cfg.rave_equivalence / (3.0 * n + cfg.rave_equivalence))
        score = (1.0 - beta) * q + beta * rave + cfg.exploration * np.sqrt(math.log(self.total + 1.0) / (n + 1.0))
        score[~self.alive] = -np.inf
        return int(np.argmax(score))


def principal_variation(node: Node, i: int, limit: int = 20) -> list[int]:
    """The flat points from move ``i`` of ``node`` on, following the most visited move of each node below."""
    line = [int(node.points[i])]
    child = node.children.get(i)
    while child is not None and len(line) < limit and child.n.size and child.n.max() > 0:
        j = int(np.argmax(child.n))
        line.append(int(child.points[j]))
        child = child.children.get(j)
    return line


class TreeSearch:
    """One move's search from ``position`` with ``colour`` to move over the root moves ``points`` (less
    the quiet edge moves, as at every node, when ``cfg.quiet_edges``)."""

    def __init__(self, position: Position, colour: int, komi: float, points: list[int], cfg: TreeConfig,
                 seed: int = 0, tactical: bool = False) -> None:
        self.position, self.colour, self.komi, self.cfg = position, colour, komi, cfg
        self.tactical = tactical  # the playouts' capture / escape rules (engine/playout.py)
        self.size = position.size
        self.rng = random.Random(position.hash ^ (seed * 7919 + 3))
        self.root = Node(colour, self._edge_rule(position.stones, points), self.size * self.size, cfg.rave_prior)
        self.last = last_point(position, colour)

    def run(self, simulations: int, deadline: Optional[float] = None) -> int:
        """Runs up to ``simulations`` (fewer if ``deadline`` passes; at least one); returns how many ran."""
        done = 0
        while done < simulations:
            if done and deadline is not None and time.monotonic() >= deadline:
                break
            self._simulate()
            done += 1
        return done

    def _simulate(self) -> None:
        size = self.size
        board = Playout(self.position.stones, size, self.colour, self.rng, self.tactical, self.last)
        path: list[tuple[Node, int]] = []  # (node, index of the move taken there)
        played: list[int] = []  # every point of the simulation in order (-1: a pass), tree moves first
        colours: list[int] = []
        node: Optional[Node] = self.root
        while node is not None:
            i = node.select(self.cfg)
            while i >= 0 and not board.play_legal(int(node.points[i])):
                node.alive[i] = False  # occupied or illegal on this board: never again from here
                i = node.select(self.cfg)
            if i < 0:
                break  # nothing to play in the tree: the playout decides (it may pass)
            path.append((node, i))
            played.append(int(node.points[i]))
            colours.append(node.colour)
            child = node.children.get(i)
            if child is None:  # expand: one new node a simulation, then play out at random
                if node.n[i] >= 1:
                    node.children[i] = Node(board.colour, self._moves(board), size * size, self.cfg.rave_prior)
                break
            node = child
        while not board.over:
            colours.append(board.colour)
            played.append(board.step())
        score = final_score(board.board, size, self.komi)
        black_win = win_value(score, BLACK)
        black_value = (1.0 - self.cfg.margin_weight) * black_win + self.cfg.margin_weight * (
            0.5 + 0.5 * math.tanh(score / (0.1 * size * size)))
        self._backup(path, np.asarray(played), np.asarray(colours), black_value, black_win)

    def _moves(self, board: Playout) -> list[int]:
        """A new node's moves: the empty points that are not its mover's own eye, by the edge rule."""
        return self._edge_rule(board.board, sorted(p for p in board.empties if not board._own_eye(p)))

    def _edge_rule(self, stones: bytes | bytearray, points: list[int]) -> list[int]:
        return quiet_edge_moves(stones, self.size, points) if self.cfg.quiet_edges else list(points)

    def _backup(self, path: list[tuple[Node, int]], played: np.ndarray, colours: np.ndarray, black_value: float,
                black_win: float) -> None:
        for depth, (node, i) in enumerate(path):
            mine = node.colour == BLACK
            value = black_value if mine else 1.0 - black_value
            node.n[i] += 1
            node.value[i] += value
            node.wins[i] += black_win if mine else 1.0 - black_win
            node.total += 1
            # RAVE: the points this node's mover played first from here on, each as if it were the move
            rest, who = played[depth:], colours[depth:]
            on_board = rest >= 0
            points, first = np.unique(rest[on_board], return_index=True)
            points = points[who[on_board][first] == node.colour]
            slots = node.slot[points]
            slots = slots[slots >= 0]
            node.rave_n[slots] += 1.0
            node.rave_value[slots] += value
