"""What a player thinks of a position, and players that can say it.

``Analysis`` is the one result type of batched analysis: the neural player fills it from
the network (models/player.py), ``UniformAnalyzer`` from any plain ``Player`` (a flat
distribution over the legal moves), so the batcher, GTP analysis and REST serve both.
No torch here: the batcher in engine/ is model-agnostic.

An *analyzer* is a ``Player`` that also offers
``analyze_many([(game, color), ...], cleanup=False, move_winrates=0) -> list[Analysis]``
(``move_winrates=k``: also the winrate after each of the k most likely legal moves, for GUIs,
where the analyzer can tell).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Optional, Protocol, Sequence, runtime_checkable

import numpy as np

from engine.board import Position
from engine.coords import RESIGN, Move, to_flat
from engine.game import Game
from engine.player import BySizePlayer, Player, is_true_eye, timing


@dataclass
class Analysis:
    """What the model thinks of one position (for genmove, GUIs, REST)."""

    probs: np.ndarray  # (N*N+1,) move distribution before the legal mask (pass last)
    legal_probs: np.ndarray  # the same, masked by the rules and renormalised
    raw_move: Move  # argmax of probs: what the network alone would play
    raw_legal: bool
    move: Move  # the move played (argmax or sample of ``playable``)
    winrate: Optional[float]  # P(side to move wins): the value model, else the outcome head
    z_codes: list[int]  # raw LDM code ids of the best branch, z_1..z_H
    imagined_board: np.ndarray  # (N, N) board read from the best branch's imagined x_{t+1}, real colours
    imagined_frame: Optional[np.ndarray]  # (R, R, 3) uint8 decoded x_{t+1}, real colours; None: not a video model
    play_probs: Optional[np.ndarray] = None  # what the engine lets the player choose from, if narrower than the rules
    # (N*N+1,) P(side to move wins) after each move, NaN where not evaluated: the top legal moves
    # when asked for (``analyze_many(..., move_winrates=k)``) and the player has a value model
    move_winrates: Optional[np.ndarray] = None
    # (N*N+1,) visits of each move when a tree search chose the move (engine/search.py); None: no search
    visits: Optional[np.ndarray] = None
    # flat index of a visited move -> the search's principal variation from it (flat indices, the move first)
    pvs: Optional[dict[int, list[int]]] = None
    # the same keys -> the simulations through each move of that line (a Monte Carlo tree's; None: not kept)
    pv_visits: Optional[dict[int, list[int]]] = None
    # (N*N+1,) a Monte Carlo search's playouts after each root move: the mover's mean final area margin (komi
    # included) and its standard deviation, NaN where not searched (engine/mc_player.read_scores)
    move_scores: Optional[np.ndarray] = None
    move_score_stdevs: Optional[np.ndarray] = None
    # (N*N+1,) the network's own distribution over the legal moves when a search chose the move by other
    # numbers (models/steered_mc.py: ``legal_probs`` then holds the search's visit shares); None: no network
    policy: Optional[np.ndarray] = None

    @property
    def playable(self) -> np.ndarray:
        """The distribution a move is drawn from (at any temperature)."""
        return self.legal_probs if self.play_probs is None else self.play_probs


@dataclass(frozen=True)
class Progress:
    """Where a search shows its state while it runs (GTP's genmove_analyze lines during the thinking):
    ``report(analysis)`` about every ``every`` seconds, with what the search would answer if it stopped
    there. Analyzers that take it say so with a true ``reports_progress`` attribute (``reports_progress``)."""

    report: Callable[["Analysis"], None]
    every: float = 0.1  # seconds
    # once set, the search ends at its next batch and answers from what it has (KataGo's "terminate")
    stop: Optional[threading.Event] = None


def reports_progress(analyzer: object) -> bool:
    """Whether ``analyzer.analyze_many`` takes ``progress=`` (the Monte Carlo tree players)."""
    return bool(getattr(analyzer, "reports_progress", False))


@runtime_checkable
class Analyzer(Player, Protocol):
    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None) -> list[Analysis]:
        """One Analysis per (game, colour to move), in order (``deadline``: see ``Player.genmove``)."""
        ...


def can_analyze(player: object) -> bool:
    return callable(getattr(player, "analyze_many", None))


def cleanup_mask(position: Position, color: int, mask: np.ndarray) -> np.ndarray:
    """KGS cleanup: no own-eye fills, and no pass while any other legal move remains."""
    mask = mask.copy()
    for p in np.flatnonzero(mask[:-1]):
        if is_true_eye(position, int(p), color):
            mask[p] = False
    if mask[:-1].any():
        mask[-1] = False
    return mask


def choose_move(legal_probs: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Flat index: argmax at temperature 0, else a sample of ``legal_probs ** (1/T)``."""
    if temperature <= 0:
        return int(np.argmax(legal_probs))
    # In log space: p ** (1/T) underflows to all zeros for small T and small p. In float64, and relative to the
    # largest p before dividing: a float32 array would cast a tiny T to 0 (0/0 = NaN), and log(p)/T alone
    # overflows to -inf everywhere when T is tiny (2e-154 came in through REST).
    with np.errstate(divide="ignore", over="ignore"):
        logp = np.log(np.asarray(legal_probs, dtype=np.float64))
        weights = np.exp((logp - logp.max()) / temperature)
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def top_moves(analysis: Analysis, k: int) -> list[tuple[int, float]]:
    """The k most likely legal moves as (flat index, legal probability), best first, zero-probability moves left out."""
    order = np.argsort(-analysis.legal_probs, kind="stable")[:k]
    return [(int(i), float(analysis.legal_probs[i])) for i in order if analysis.legal_probs[i] > 0]


def next_board(position: Position, move: Move, color: int) -> np.ndarray:
    """(N, N) stones after ``color`` plays ``move`` (the board itself for a resignation)."""
    if move is RESIGN:
        return position.array()
    return position.play(move, color).array()


class UniformAnalyzer:
    """Any ``Player`` as an analyzer: a uniform distribution over the legal moves, the player's own move.

    The random player has no opinion to report, so its "probabilities" are flat, its
    "imagined" board is simply the board after its move, and it has no winrate or codes.
    """

    def __init__(self, player: Player) -> None:
        self.player = player
        self.name = player.name

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        return self.player.genmove(game, color, cleanup=cleanup)  # it answers at once

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None) -> list[Analysis]:
        return [self._one(game, color, cleanup) for game, color in requests]  # no winrates to give

    def _one(self, game: Game, color: int, cleanup: bool) -> Analysis:
        position = game.position
        rules = position.legal_mask(color)
        mask = cleanup_mask(position, color, rules) if cleanup else rules
        probs = mask / mask.sum()  # pass is always legal, or cleanup left another move: the sum is >= 1
        move = self.player.genmove(game, color, cleanup=cleanup)
        legal = move is RESIGN or bool(rules[to_flat(move, game.size)])
        return Analysis(probs=probs, legal_probs=probs, raw_move=move, raw_legal=legal,
                        move=move, winrate=None, z_codes=[], imagined_board=next_board(position, move, color),
                        imagined_frame=None)


class BySizeAnalyzer(BySizePlayer):
    """``BySizePlayer`` whose players are all analyzers: each request goes to its board size's player."""

    def __init__(self, players: dict[int, Analyzer], fallback: Analyzer) -> None:
        super().__init__(players, fallback)

    def name_for(self, size: int) -> str:
        return self.for_size(size).name

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None) -> list[Analysis]:
        out: list[Optional[Analysis]] = [None] * len(requests)
        by_size: dict[int, list[int]] = {}
        for i, (game, _) in enumerate(requests):
            by_size.setdefault(game.size, []).append(i)
        for size, idx in by_size.items():
            answers = self.for_size(size).analyze_many([requests[i] for i in idx], cleanup=cleanup,  # type: ignore[attr-defined]
                                                       move_winrates=move_winrates, **timing(deadline))
            for i, a in zip(idx, answers):
                out[i] = a
        return out  # type: ignore[return-value]


def player_name(player: object, size: int) -> str:
    """Who answers for a board size: the routed player's name when the player routes by size."""
    name_for = getattr(player, "name_for", None)
    return name_for(size) if callable(name_for) else getattr(player, "name", "?")
