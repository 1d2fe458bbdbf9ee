"""Flat Monte Carlo over the rules: the engine's player on board sizes it has no network for.

The shipped model plays 9x9 only. On 13x13 and 19x19 a GUI user used to get the random player;
this player is what engines played before networks: every acceptable move (legal, not filling
one's own true eye) is tried, the board after it is played out at random to the end many times
(engine/playout.py, the same light policy as the dead-stone count), and the move whose playouts
the mover wins most often is played (ties, as when every playout is won or lost, go to the
larger mean area margin, so a won game is not thrown away point by point). It learns nothing and reads no video; it is a fallback, and
its name ("montecarlo") says so in GTP ``name``, SGF ``PB``/``PW`` and REST answers.

Budget: ``playouts`` in all per move, spread by sequential halving (Karnin, Koren and Somekh,
ICML 2013): in each of ceil(log2(K)) rounds the surviving candidates get an equal share of that
round's budget and the better half goes on, so the last few candidates get most playouts. A
deadline (GTP time control) stops it between rounds; the best candidate so far is played.

Passing: when the opponent has just passed or the board is settled (every empty region touches one
colour only, a few dame at most), pass is a candidate worth 1 if the count with dead stones off
(engine/deadstones.agreed_score) wins for the mover, else 0. After the opponent's pass a move
must do better than passing; on a settled board before that, a move as good as passing is
played (filling one's own area costs nothing under area scoring, and passing while the opponent
plays on would leave its stones in one's area standing at a Tromp-Taylor count). In
cleanup (``kgs-genmove_cleanup``) it never passes while another candidate is left. It never resigns.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from engine.analysis import Analysis, next_board
from engine.board import Position
from engine.coords import BLACK, PASS, Move, from_flat, opponent
from engine.deadstones import agreed_score, config_for, playout_stats
from engine.game import Game
from engine.player import is_true_eye

SETTLED_DAME = 2  # as the neural player's pass rule (models/player.py): at most this many dame = settled


@dataclass(frozen=True)
class MonteCarloConfig:
    playouts: int = 1500  # per move, in all (sequential halving spreads them)
    tactical: bool = False  # playouts capture / escape atari first (2x slower a playout; engine/playout.py)
    seed: int = 0  # the same position and settings give the same move

    def __post_init__(self) -> None:
        if self.playouts < 1:
            raise ValueError(f"playouts must be >= 1, got {self.playouts}")


def candidates(position: Position, color: int) -> list[int]:
    """Flat points ``color`` may play that do not fill its own true eye (board order)."""
    mask = position.legal_mask(color)
    return [int(p) for p in np.flatnonzero(mask[:-1]) if not is_true_eye(position, int(p), color)]


def opponent_passed(game: Game) -> bool:
    return bool(game.moves) and game.moves[-1][1] is PASS


def pass_value(game: Game, color: int) -> Optional[float]:
    """What passing is worth to ``color`` now (1 or 0 by the count with dead stones off, 1/2 for a
    draw), or None when passing is not on the table (the opponent has not passed and the board is
    not settled)."""
    position = game.position
    if not opponent_passed(game) and position.unsettled_points() > SETTLED_DAME:
        return None
    score = agreed_score(position, game.komi, config_for(position.size))  # > 0: Black ahead
    if score == 0:
        return 0.5
    return 1.0 if (score > 0) == (color == BLACK) else 0.0


class MonteCarloPlayer:
    """A ``Player`` and analyzer (engine/analysis.py) choosing by flat Monte Carlo; see the module."""

    def __init__(self, cfg: MonteCarloConfig = MonteCarloConfig(), name: str = "montecarlo") -> None:
        self.cfg = cfg
        self.name = name

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        return self.analyze(game, color, cleanup, deadline).move

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None) -> list[Analysis]:
        return [self.analyze(game, color, cleanup, deadline) for game, color in requests]

    def analyze(self, game: Game, color: int, cleanup: bool = False, deadline: Optional[float] = None) -> Analysis:
        position, size = game.position, game.size
        points = candidates(position, color)
        n_moves = size * size + 1
        visits = np.zeros(n_moves)  # playouts per move (pass last)
        means = np.full(n_moves, np.nan)  # the mover's share of wins per move
        stay = None if cleanup and points else pass_value(game, color)
        if stay is not None:
            means[-1] = stay
        wins, margins = self._halve(position, color, game.komi, points, deadline, visits) if points else ({}, {})
        for p, w in wins.items():
            means[p] = w / visits[p]
        # the final round's survivors have the most playouts; among them the best (mean, margin), ties by board order
        top = max(visits[p] for p in points) if points else 0
        best = max((p for p in points if visits[p] == top), key=lambda p: (means[p], margins[p] / visits[p]),
                   default=None)
        passes = stay is not None and (stay > means[best] or (stay == means[best] and opponent_passed(game))
                                       ) if best is not None else True
        if passes:
            move, winrate = PASS, (stay if stay is not None else 0.0)
        else:
            move, winrate = from_flat(best, size), float(means[best])
        chosen = n_moves - 1 if move is PASS else best
        # the playouts' shares; the two finalists of the halving have the same count, so the move played
        # gets a hair more, to come first where moves are listed by weight (top moves, lz-analyze)
        weights = visits.copy()
        weights[chosen] = max(weights[chosen], 1.0) + 1e-6 * max(1.0, weights.max())
        probs = weights / weights.sum()
        return Analysis(probs=probs, legal_probs=probs, raw_move=move, raw_legal=True, move=move,
                        winrate=winrate, z_codes=[], imagined_board=next_board(position, move, color),
                        imagined_frame=None, move_winrates=means, visits=visits.astype(np.int64),
                        pvs={int(p): [int(p)] for p in np.flatnonzero(visits)} | {chosen: [chosen]})

    def _halve(self, position: Position, color: int, komi: float, points: list[int], deadline: Optional[float],
               visits: np.ndarray) -> tuple[dict[int, float], dict[int, float]]:
        """Sequential halving over ``points``; fills ``visits`` and returns the mover's wins and summed
        area margins per point."""
        size, other = position.size, opponent(color)
        children = {p: position.play(from_flat(p, size), color) for p in points}
        wins = {p: 0.0 for p in points}
        margins = {p: 0.0 for p in points}
        alive = list(points)
        rounds = max(1, math.ceil(math.log2(len(points))))
        for r in range(rounds):
            if r and deadline is not None and time.monotonic() >= deadline:
                break  # the first round always runs: every candidate gets a playout
            share = max(1, self.cfg.playouts // (rounds * len(alive)))
            for p in alive:
                lost, their_margin = playout_stats(children[p], other, komi, share, seed=self.cfg.seed * 1009 + r,
                                                   tactical=self.cfg.tactical)
                wins[p] += (1.0 - lost) * share
                margins[p] -= their_margin * share
                visits[p] += share
            if len(alive) > 1:
                alive.sort(key=lambda p: (-wins[p] / visits[p], -margins[p] / visits[p]))  # stable: ties keep board order
                alive = alive[:math.ceil(len(alive) / 2)]
        return wins, margins


__all__ = ["MonteCarloConfig", "MonteCarloPlayer", "candidates", "pass_value"]
