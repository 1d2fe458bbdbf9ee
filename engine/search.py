"""Tree search over the rules with a learned policy and value (PUCT, as in AlphaZero).

The network only ever proposes and judges: its move distribution (``Analysis.playable``) is
the prior of each node, its winrate (the value model) the leaf value. The rules engine,
which already masks every move the engine plays, walks the tree: each node is a real
position reached by legal moves, so a capture the policy did not rank first is still found
when the search looks at it and the value model sees the stones gone.

Torch-free: it drives any analyzer (``engine/analysis.py``) through ``analyze_many``, a
batch of leaves at a time (virtual loss keeps a batch's paths apart), so the neural player
evaluates several positions in one forward pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np

from engine.analysis import Analysis, Analyzer
from engine.coords import BLACK, Move, from_flat, opponent
from engine.game import Game


@dataclass(frozen=True)
class SearchConfig:
    visits: int = 64  # leaf evaluations per move (the root's own included)
    batch: int = 8  # leaves evaluated per analyze_many call
    c_puct: float = 1.5  # exploration weight of the prior
    fpu_reduction: float = 0.2  # an unvisited move counts as the parent's value minus this
    virtual_loss: float = 1.0  # visits a leaf in flight counts as lost, so a batch spreads out


def search_config(player_settings: dict, visits: Optional[int] = None, c_puct: Optional[float] = None) -> SearchConfig:
    """The search asked for, the bundle's tuned one (manifest ``player.visits`` / ``c_puct``) where not."""
    return SearchConfig(visits=int(visits if visits is not None else player_settings.get("visits", 1)),
                        c_puct=float(c_puct if c_puct is not None else player_settings.get("c_puct", SearchConfig.c_puct)))


def with_search(analyzer: Analyzer, cfg: SearchConfig) -> Analyzer:
    """``analyzer`` inside a ``SearchPlayer`` when ``cfg`` asks for more than one visit, else itself."""
    return SearchPlayer(analyzer, cfg) if cfg.visits > 1 else analyzer


class Node:
    """A position reached in the search; edge statistics live in the parent, per move (flat index)."""

    __slots__ = ("game", "color", "analysis", "value", "terminal", "prior", "legal", "n", "w", "children")

    def __init__(self, game: Game, color: int) -> None:
        self.game, self.color = game, color
        self.analysis: Optional[Analysis] = None
        self.value = 0.5  # P(self.color wins): the value model, or the result of a finished game
        self.terminal = game.is_over()
        self.prior = self.legal = self.n = self.w = None
        self.children: dict[int, Node] = {}
        if self.terminal:
            self.value = terminal_value(game, color)

    @property
    def expanded(self) -> bool:
        return self.terminal or self.analysis is not None

    def expand(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.value = 0.5 if analysis.winrate is None else float(analysis.winrate)
        self.prior = np.asarray(analysis.playable, dtype=np.float64)  # (N*N+1,) what the engine lets it play
        self.legal = np.flatnonzero(self.prior > 0)
        self.n = np.zeros(len(self.prior))
        self.w = np.zeros(len(self.prior))  # sum of values from self.color's view

    def select(self, cfg: SearchConfig) -> int:
        """The move maximising Q + U (PUCT) among the moves the prior allows."""
        n, w, p = self.n[self.legal], self.w[self.legal], self.prior[self.legal]  # only legal moves are ever visited
        fpu = self.value - cfg.fpu_reduction * math.sqrt(float(p[n > 0].sum()))
        q = np.where(n > 0, w / np.maximum(n, 1), fpu)
        u = cfg.c_puct * p * math.sqrt(max(float(n.sum()), 1.0)) / (1.0 + n)
        return int(self.legal[int(np.argmax(q + u))])

    def child(self, flat: int) -> "Node":
        node = self.children.get(flat)
        if node is None:
            game = Game(size=self.game.size, komi=self.game.komi, positions=list(self.game.positions),
                        moves=list(self.game.moves))
            game.play(from_flat(flat, game.size), self.color)
            node = self.children[flat] = Node(game, opponent(self.color))
        return node


def terminal_value(game: Game, color: int) -> float:
    """P(color wins) of a finished game: 1, 0, or 1/2 for a draw (area score with komi)."""
    if game.resigned is not None:
        return 0.0 if game.resigned == color else 1.0
    score = game.score()  # > 0: Black ahead
    if score == 0:
        return 0.5
    return 1.0 if (score > 0) == (color == BLACK) else 0.0


class SearchPlayer:
    """A Player and analyzer whose move comes from ``cfg.visits`` PUCT visits over ``analyzer``.

    The move played is the most visited one; the analysis reported is the root's network
    analysis with that move, the search's winrate (the root's mean value) and, per visited
    move, its visit count and mean winrate. Cleanup (``kgs-genmove_cleanup``) and positions
    with a single playable move are left to the network alone."""

    def __init__(self, analyzer: Analyzer, cfg: SearchConfig = SearchConfig()) -> None:
        if cfg.visits < 1 or cfg.batch < 1:
            raise ValueError("visits and batch must be >= 1")
        self.analyzer, self.cfg = analyzer, cfg
        self.name = f"{analyzer.name}-v{cfg.visits}"

    def genmove(self, game: Game, color: int, *, cleanup: bool = False) -> Move:
        return self.analyze_many([(game, color)], cleanup=cleanup)[0].move

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0) -> list[Analysis]:
        if cleanup:
            return self.analyzer.analyze_many(requests, cleanup=True, move_winrates=move_winrates)
        return [self.search(game, color) for game, color in requests]

    def search(self, game: Game, color: int) -> Analysis:
        root = Node(game, color)
        root.expand(self.analyzer.analyze_many([(game, color)])[0])
        if self.cfg.visits <= 1 or len(root.legal) <= 1:
            return root.analysis
        done = 1
        while done < self.cfg.visits:
            paths, leaves = [], {}
            for _ in range(min(self.cfg.batch, self.cfg.visits - done)):
                path = self._descend(root)
                leaf = path[-1][0]
                if not leaf.expanded and id(leaf) in leaves:
                    self._revert(path)  # a collision: this leaf is already being evaluated in this batch
                    continue
                if not leaf.expanded:
                    leaves[id(leaf)] = leaf
                paths.append(path)
            if leaves:
                analyses = self.analyzer.analyze_many([(leaf.game, leaf.color) for leaf in leaves.values()])
                for leaf, analysis in zip(leaves.values(), analyses):
                    leaf.expand(analysis)
            for path in paths:
                self._backup(path)
            done += len(paths)  # >= 1: the first descent of a batch never collides
        return self._result(root)

    def _descend(self, root: Node) -> list[tuple[Node, int]]:
        """Root to a leaf: [(node, move taken from it)...] ending with (leaf, -1); virtual loss on the way."""
        path, node = [], root
        while node.expanded and not node.terminal:
            flat = node.select(self.cfg)
            node.n[flat] += self.cfg.virtual_loss  # counted as a loss until the backup replaces it
            path.append((node, flat))
            node = node.child(flat)
        path.append((node, -1))
        return path

    def _revert(self, path: list[tuple[Node, int]]) -> None:
        for node, flat in path[:-1]:
            node.n[flat] -= self.cfg.virtual_loss

    def _backup(self, path: list[tuple[Node, int]]) -> None:
        leaf = path[-1][0]
        for node, flat in path[:-1]:
            value = leaf.value if leaf.color == node.color else 1.0 - leaf.value  # node.color's view
            node.n[flat] += 1.0 - self.cfg.virtual_loss
            node.w[flat] += value

    def _result(self, root: Node) -> Analysis:
        n, w = root.n, root.w
        # most visits; ties go to the higher prior
        best = int(np.lexsort((root.prior, n))[-1])
        visited = n > 0
        move_wr = np.full(len(n), np.nan)
        move_wr[visited] = w[visited] / n[visited]
        total = n.sum()
        winrate = float(((w.sum() + root.value) / (total + 1)))
        pvs = {int(flat): principal_variation(root, int(flat)) for flat in np.flatnonzero(visited)}
        return replace(root.analysis, move=from_flat(best, root.game.size), winrate=winrate, move_winrates=move_wr,
                       visits=n.astype(np.int64), pvs=pvs)


def principal_variation(root: Node, flat: int, max_len: int = 12) -> list[int]:
    """``flat`` then, from the position it leads to, the most visited move, and so on (flat indices)."""
    pv, node = [flat], root.children.get(flat)
    while node is not None and node.n is not None and node.n.sum() > 0 and len(pv) < max_len:
        nxt = int(np.argmax(node.n))
        pv.append(nxt)
        node = node.children.get(nxt)
    return pv
