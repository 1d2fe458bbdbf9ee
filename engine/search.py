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

import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np

from engine.analysis import Analysis, Analyzer
from engine.board import neighbours
from engine.coords import RESIGN, Move, from_flat, opponent, to_flat
from engine.deadstones import playout_wins
from engine.game import Game, win_value

log = logging.getLogger(__name__)


PLAYOUT_POLICIES = ("uniform", "tactical")


@dataclass(frozen=True)
class SearchConfig:
    visits: int = 64  # leaf evaluations per move (the root's own included)
    batch: int = 8  # leaves evaluated per analyze_many call
    c_puct: float = 1.5  # exploration weight of the prior
    fpu_reduction: float = 0.2  # an unvisited move counts as the parent's value minus this
    virtual_loss: float = 1.0  # visits a leaf in flight counts as lost, so a batch spreads out
    reuse: bool = True  # start from the subtree of the previous search when the game went on from its root
    # board views and branches the network imagines a position below the root in (0: as at the root). The
    # root's prior decides the move; below it a cheaper prior buys more visits for the same time
    leaf_symmetries: int = 0
    leaf_branches: int = 0
    # captures resolved at a new leaf before its value is taken (0 or 1; see ``SearchPlayer._quiesce``)
    quiescence: int = 0
    # share of every node's prior moved onto the rules' urgent moves (``urgent_moves``: captures and escapes
    # from atari), so the search reads them although the network's views rarely propose them (0: off)
    tactics: float = 0.0
    # random playouts over the rules (engine/deadstones.playout_wins) from each newly judged position,
    # mixed into its value: (1 - playout_weight) * the value model + playout_weight * the share of
    # playouts the side to move wins. The value model reads shapes; a playout lets groups die (0: off)
    playouts: int = 0
    playout_weight: float = 0.5
    # "uniform": random over the acceptable points; "tactical": capture / escape atari first (engine/playout.py)
    playout_policy: str = "uniform"

    def __post_init__(self) -> None:
        if self.playout_policy not in PLAYOUT_POLICIES:
            raise ValueError(f"playout_policy must be one of {', '.join(PLAYOUT_POLICIES)}, not {self.playout_policy!r}")


SEARCH_KINDS = ("puct", "mc")


def search_kind(player_settings: dict, search: Optional[str] = None, visits: Optional[int] = None) -> str:
    """Which search the neural player plays: ``search`` when given; else "puct" when ``visits`` is given
    (asking for leaf evaluations, or with 1 for the network alone, means the PUCT search); else the
    bundle's (manifest ``player.search``: "mc" is the Monte Carlo tree the network steers,
    models/steered_mc.py); else "puct". GTP and the benchmarks choose by this one rule."""
    kind = search or ("puct" if visits is not None else str(player_settings.get("search", "puct")))
    if kind not in SEARCH_KINDS:
        raise ValueError(f"search must be one of {', '.join(SEARCH_KINDS)}, not {kind!r}")
    return kind


def search_config(player_settings: dict, visits: Optional[int] = None, c_puct: Optional[float] = None,
                  leaf_symmetries: Optional[int] = None, leaf_branches: Optional[int] = None,
                  quiescence: Optional[int] = None, tactics: Optional[float] = None,
                  playouts: Optional[int] = None, playout_weight: Optional[float] = None,
                  playout_policy: Optional[str] = None) -> SearchConfig:
    """The search asked for, the bundle's tuned one (manifest ``player.visits`` / ``c_puct`` /
    ``leaf_symmetries`` / ``leaf_branches`` / ``quiescence`` / ``tactics`` / ``playouts`` /
    ``playout_weight`` / ``playout_policy``) where not."""
    def pick(given, key, default):
        return given if given is not None else player_settings.get(key, default)

    return SearchConfig(visits=int(pick(visits, "visits", 1)),
                        c_puct=float(pick(c_puct, "c_puct", SearchConfig.c_puct)),
                        leaf_symmetries=int(pick(leaf_symmetries, "leaf_symmetries", 0)),
                        leaf_branches=int(pick(leaf_branches, "leaf_branches", 0)),
                        quiescence=int(pick(quiescence, "quiescence", 0)),
                        tactics=float(pick(tactics, "tactics", 0.0)),
                        playouts=int(pick(playouts, "playouts", 0)),
                        playout_weight=float(pick(playout_weight, "playout_weight", SearchConfig.playout_weight)),
                        playout_policy=str(pick(playout_policy, "playout_policy", SearchConfig.playout_policy)))


def with_search(analyzer: Analyzer, cfg: SearchConfig) -> Analyzer:
    """``analyzer`` inside a ``SearchPlayer`` when ``cfg`` asks for more than one visit, else itself.

    ``cfg.leaf_symmetries`` / ``leaf_branches``: the positions below the root go to
    ``analyzer.variant(symmetries=S, top_k=K)`` (the same network imagining fewer board views or
    branches; an analyzer without that method is used as it is)."""
    if cfg.visits <= 1:
        return analyzer
    leaf = None
    if (cfg.leaf_symmetries or cfg.leaf_branches) and hasattr(analyzer, "variant"):
        leaf = analyzer.variant(symmetries=cfg.leaf_symmetries or None, top_k=cfg.leaf_branches or None)
    return SearchPlayer(analyzer, cfg, leaf_analyzer=leaf)


class Node:
    """A position reached in the search; edge statistics live in the parent, per move (flat index)."""

    __slots__ = ("game", "color", "analysis", "value", "terminal", "prior", "legal", "n", "w", "children",
                 "by_root_analyzer")

    def __init__(self, game: Game, color: int) -> None:
        self.game, self.color = game, color
        self.analysis: Optional[Analysis] = None
        self.value = 0.5  # P(self.color wins): the value model, or the result of a finished game
        self.terminal = game.is_over()
        self.prior = self.legal = self.n = self.w = None
        self.children: dict[int, Node] = {}
        self.by_root_analyzer = False
        if self.terminal:
            self.value = terminal_value(game, color)

    @property
    def expanded(self) -> bool:
        return self.terminal or self.analysis is not None

    def expand(self, analysis: Analysis, by_root_analyzer: bool = True, tactics: float = 0.0) -> None:
        """``tactics``: the share of the prior spread evenly over ``urgent_moves`` (when there are any)."""
        self.analysis, self.by_root_analyzer = analysis, by_root_analyzer
        self.value = 0.5 if analysis.winrate is None else float(analysis.winrate)
        self.prior = np.asarray(analysis.playable, dtype=np.float64)  # (N*N+1,) what the engine lets it play
        self.legal = np.flatnonzero(self.prior > 0)
        if tactics > 0:
            urgent = [p for p in urgent_moves(self.game.position, self.color) if self.prior[p] > 0]
            if urgent:
                self.prior = self.prior * (1.0 - tactics)
                self.prior[urgent] += tactics / len(urgent)
        self.n = np.zeros(len(self.prior))
        self.w = np.zeros(len(self.prior))  # sum of values from self.color's view

    def reprior(self, analysis: Analysis, tactics: float = 0.0) -> None:
        """A new analysis of this expanded node (the root analyzer's), keeping the visits of the moves
        it still allows; the visits of any other move are dropped, so that move is never played."""
        n, w, children = self.n, self.w, self.children
        self.expand(analysis, tactics=tactics)
        keep = self.legal[n[self.legal] > 0]
        self.n[keep], self.w[keep] = n[keep], w[keep]
        self.children = {flat: node for flat, node in children.items() if self.prior[flat] > 0}

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
            game = copy_game(self.game)
            game.play(from_flat(flat, game.size), self.color)
            node = self.children[flat] = Node(game, opponent(self.color))
        return node


def copy_game(game: Game) -> Game:
    """A game of its own (positions are immutable, so the lists are copied, not the positions)."""
    return Game(size=game.size, komi=game.komi, positions=list(game.positions), moves=list(game.moves),
                handicap=list(game.handicap), resigned=game.resigned)


TREES_KEPT = 8  # searched roots kept for reuse (games in flight at once)
MAX_KEPT_VISITS = 1024  # a bigger tree (than this or two searches' worth) starts over
MAX_REUSE_DEPTH = 4  # moves a kept root may be behind the game it is asked about


def descendant(root: Node, game: Game) -> Optional[Node]:
    """The node of ``root``'s tree that ``game`` reached by the moves played after ``root``'s position, or None
    (another game, an undo, a move the tree never looked at, or too far on)."""
    old = root.game
    k = len(old.moves)
    if (game.size != old.size or game.komi != old.komi or game.resigned is not None or game.handicap != old.handicap
            or not 0 <= len(game.moves) - k <= MAX_REUSE_DEPTH or game.moves[:k] != old.moves
            or game.positions[0].stones != old.positions[0].stones):
        return None
    node = root
    for color, move in game.moves[k:]:
        if not node.expanded or node.terminal or color != node.color or move is RESIGN:
            return None
        node = node.children.get(to_flat(move, game.size))
        if node is None:
            return None
    return node


def terminal_value(game: Game, color: int) -> float:
    """P(color wins) of a finished game: 1, 0, or 1/2 for a draw (area score with komi)."""
    if game.resigned is not None:
        return 0.0 if game.resigned == color else 1.0
    return win_value(game.score(), color)


class SearchPlayer:
    """A Player and analyzer whose move comes from ``cfg.visits`` PUCT visits over ``analyzer``.

    The move played is the most visited one; the analysis reported is the root's network
    analysis with that move, the search's winrate (the root's mean value) and, per visited
    move, its visit count and mean winrate. Cleanup (``kgs-genmove_cleanup``) and positions
    with a single playable move are left to the network alone.

    With ``cfg.reuse`` the searched roots are kept: when a later request is the same game a few
    moves on (or the same position again: an analysis, then genmove), the search starts from the
    node those moves lead to, with its visits, as engines like Leela Zero and KataGo do. The
    positions below the root may go to ``leaf_analyzer`` (a cheaper prior); a kept node that
    becomes a root gets the root analyzer's prior first."""

    def __init__(self, analyzer: Analyzer, cfg: SearchConfig = SearchConfig(),
                 leaf_analyzer: Optional[Analyzer] = None) -> None:
        """``leaf_analyzer``: judges the positions below the root (default ``analyzer``)."""
        if cfg.visits < 1 or cfg.batch < 1:
            raise ValueError("visits and batch must be >= 1")
        self.analyzer, self.cfg = analyzer, cfg
        self.leaf_analyzer = leaf_analyzer if leaf_analyzer is not None else analyzer
        self.name = f"{analyzer.name}-v{cfg.visits}"
        # the roots of the last searches (newest last), so the next move starts from what was seen;
        # one per game in flight (a server's batcher mixes games), the oldest dropped first
        self._trees: list[Node] = []

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        return self.analyze_many([(game, color)], cleanup=cleanup, deadline=deadline)[0].move

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None) -> list[Analysis]:
        if cleanup:
            return self.analyzer.analyze_many(requests, cleanup=True, move_winrates=move_winrates)
        return [self.search(game, color, deadline) for game, color in requests]

    def search(self, game: Game, color: int, deadline: Optional[float] = None) -> Analysis:
        """``cfg.visits`` new leaf evaluations from the position (the root's own included when it is
        new); a subtree kept from an earlier search adds its visits on top. ``deadline``
        (``time.monotonic()``): no batch of leaves starts that would, at the pace of the batches
        so far, end after it; the root is always judged, so the network's move is the least answer."""
        root = self._reused_root(game, color) if self.cfg.reuse else None
        carried = 0 if root is None else int(root.n.sum())
        done = 0
        if root is None:
            root = Node(copy_game(game), color)  # the caller's game goes on changing; the tree keeps this one
            root.expand(self.analyzer.analyze_many([(game, color)])[0], tactics=self.cfg.tactics)
            self._mix_playouts([root])
            done = 1
        elif not root.by_root_analyzer:
            # judged as a leaf (fewer views): the move is chosen from the root's own prior
            root.reprior(self.analyzer.analyze_many([(game, color)])[0], tactics=self.cfg.tactics)
            self._mix_playouts([root])
            done = 1
        if self.cfg.visits <= 1 or len(root.legal) <= 1:
            return root.analysis if done else self._result(root)
        started, batches = time.monotonic(), 0
        while done < self.cfg.visits:
            if deadline is not None and out_of_time(deadline, started, batches):
                break
            batches += 1
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
                analyses = self.leaf_analyzer.analyze_many([(leaf.game, leaf.color) for leaf in leaves.values()])
                for leaf, analysis in zip(leaves.values(), analyses):
                    leaf.expand(analysis, by_root_analyzer=self.leaf_analyzer is self.analyzer, tactics=self.cfg.tactics)
                if self.cfg.quiescence:
                    self._quiesce(list(leaves.values()))
                self._mix_playouts(list(leaves.values()))
            for path in paths:
                self._backup(path)
            done += len(paths)  # >= 1: the first descent of a batch never collides
        if self.cfg.reuse:
            self._keep(root)
        log.debug("search: %d visits carried over, %d after the search (%d new of %d)", carried, int(root.n.sum()),
                  done, self.cfg.visits)
        return self._result(root)

    def _mix_playouts(self, nodes: list[Node]) -> None:
        """Each node's value becomes the mix of the value model's and the playouts' (``cfg.playouts``)."""
        if self.cfg.playouts <= 0:
            return
        lam = self.cfg.playout_weight
        for node in nodes:
            if node.terminal:
                continue
            won = playout_wins(node.game.position, node.color, node.game.komi, self.cfg.playouts,
                               tactical=self.cfg.playout_policy == "tactical")
            node.value = (1.0 - lam) * node.value + lam * won

    def _quiesce(self, leaves: list[Node]) -> None:
        """Captures before the value: the value model reads shapes, not liberties (it rates a group
        with one liberty left as if it lived), so a leaf whose side to move can capture is judged as
        the better of standing (the model's value) and each capture (the model's value of the board
        after it, from the other side, turned around), as a chess engine's quiescence search resolves
        captures before its static evaluation. One ply: the recapture is not looked at. The rules
        say which moves capture; the judgement stays the value model's. Needs an analyzer with
        ``position_winrates`` (the neural player with a value model); others are left as they are."""
        judge = getattr(self.leaf_analyzer, "position_winrates", None)
        if judge is None:
            return
        asks, owners = [], []
        for leaf in leaves:
            if leaf.terminal or leaf.analysis is None or leaf.analysis.winrate is None:
                continue
            for flat in capturing_moves(leaf.game.position, leaf.color):
                asks.append((leaf.game.position.play(from_flat(flat, leaf.game.size), leaf.color), opponent(leaf.color)))
                owners.append(leaf)
        theirs_all = judge(asks) if asks else None
        if theirs_all is None:
            return
        for leaf, theirs in zip(owners, theirs_all):
            leaf.value = max(leaf.value, 1.0 - float(theirs))

    def _reused_root(self, game: Game, color: int) -> Optional[Node]:
        """The node of a kept tree that ``game`` has reached (``color`` to move), detached, or None."""
        for i in range(len(self._trees) - 1, -1, -1):
            node = descendant(self._trees[i], game)
            if node is not None:
                del self._trees[i]  # its other branches can no longer happen in this game
                return node if node.color == color and node.expanded and not node.terminal else None
        return None

    def _keep(self, root: Node) -> None:
        self._trees = self._trees[-(TREES_KEPT - 1):]  # ``root`` is not among them: a reused one was taken out
        # a position analysed again and again (a GUI's analysis calls) would grow its tree without end;
        # each node holds its analysis (~15 kB with the imagined frame)
        if root.n.sum() <= max(MAX_KEPT_VISITS, 2 * self.cfg.visits):
            self._trees.append(root)

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


def capturing_moves(position, color: int) -> list[int]:
    """Flat indices of ``color``'s legal moves that capture: the last liberty of an opponent group."""
    return _legal(position, color, _last_liberties(position, opponent(color)))


def urgent_moves(position, color: int) -> list[int]:
    """Flat indices of ``color``'s legal moves the rules call urgent: a capture (the last liberty of an
    opponent group) or an escape (the last liberty of an own group: a move there adds stones and
    liberties, or at worst shows the group cannot run). The search reads them; the value model judges."""
    return _legal(position, color, _last_liberties(position, None))


def _last_liberties(position, owner: Optional[int]) -> set[int]:
    """The liberty of every group in atari (``owner``'s groups only, or both colours' for None)."""
    from engine.blunders import groups

    return {next(iter(libs)) for c, _, libs in groups(position.stones, position.size, neighbours(position.size))
            if len(libs) == 1 and (owner is None or c == owner)}


def _legal(position, color: int, points: set[int]) -> list[int]:
    return sorted(p for p in points if position.is_legal(from_flat(p, position.size), color))


def out_of_time(deadline: float, started: float, batches: int) -> bool:
    """Whether one more batch, as long as the ``batches`` since ``started`` took on average, would end
    after ``deadline`` (all ``time.monotonic()``)."""
    now = time.monotonic()
    return now + ((now - started) / batches if batches else 0.0) > deadline


def principal_variation(root: Node, flat: int, max_len: int = 12) -> list[int]:
    """``flat`` then, from the position it leads to, the most visited move, and so on (flat indices)."""
    pv, node = [flat], root.children.get(flat)
    while node is not None and node.n is not None and node.n.sum() > 0 and len(pv) < max_len:
        nxt = int(np.argmax(node.n))
        pv.append(nxt)
        node = node.children.get(nxt)
    return pv
