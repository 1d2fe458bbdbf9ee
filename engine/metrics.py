"""The paper's move metrics on oracle-labelled positions, with 95 % confidence intervals.

- raw legal rate: share of the player's *raw* (unmasked) moves that are legal; only for
  players that expose one (``raw_move``), since the engine masks before playing;
- Best-Action Accuracy: share of positions where the move is the oracle's best, up to
  a symmetry of the position (on an empty board all 3-3 points are the same move).
  Two oracles: the raw policy's argmax (every label) and KataGo after search (the
  paper's definition, on the searched subset);
- Action-Value: the oracle's policy prior of the chosen move divided by the largest
  prior (the authors' definition); illegal moves, resignations and no answer score 0.

Two players on the same positions are compared *paired* (``compare``): the per-position
differences have a far narrower interval than the two players' own intervals suggest,
which is what a decision to ship one model over another needs.

Rates get Wilson score intervals (good near 0 and 1, where Wald intervals fail);
the Action-Value mean gets a normal interval (n is in the hundreds or more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from engine.coords import RESIGN, Move, to_flat
from engine.labels import Label
from engine.symmetry import equivalent_moves

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (NaNs for n = 0)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else math.nan

    def to_dict(self) -> dict:
        lo, hi = wilson(self.k, self.n)
        return {"value": self.value, "k": self.k, "n": self.n, "ci95": [lo, hi]}


@dataclass(frozen=True)
class Mean:
    values: tuple[float, ...]
    bounds: tuple[float, float] = (0.0, 1.0)  # where the mean can lie; the interval is clipped to it

    @property
    def value(self) -> float:
        return float(np.mean(self.values)) if self.values else math.nan

    def interval(self) -> tuple[float, float]:
        n = len(self.values)
        if n < 2:
            return math.nan, math.nan
        half = Z95 * float(np.std(self.values, ddof=1)) / math.sqrt(n)
        return max(self.bounds[0], self.value - half), min(self.bounds[1], self.value + half)

    def to_dict(self) -> dict:
        return {"value": self.value, "n": len(self.values), "ci95": list(self.interval())}


@dataclass(frozen=True)
class Answer:
    """What a player said on one labelled position."""

    id: str
    move: Optional[Move]  # the move played (None: no answer, e.g. a crash or timeout)
    raw_move: Optional[Move] = None  # unmasked move, for players that expose it
    raw_legal: Optional[bool] = None  # legality of raw_move under our rules (None: not exposed)
    legal: Optional[bool] = None  # legality of `move` under our rules
    error: str = ""


def action_value(label: Label, move: Optional[Move]) -> float:
    """Oracle prior of ``move`` / largest prior; 0 for no move, resign, or a move the oracle calls illegal."""
    if label.policy is None or move is None or move is RESIGN:
        return 0.0
    try:
        prior = float(label.policy[to_flat(move, label.size)])
    except ValueError:
        return 0.0
    top = float(np.max(label.policy))
    return max(prior, 0.0) / top if top > 0 else 0.0


def same_move(label: Label, move: Optional[Move], best: Optional[Move]) -> bool:
    """``move`` equals ``best`` up to a symmetry of the labelled position."""
    if move is None or best is None:
        return False
    if move == best or move is best:
        return True
    return move in equivalent_moves(label.game().position, best)


@dataclass(frozen=True)
class Scores:
    positions: int
    raw_legal: Rate  # n = positions with a raw move exposed
    legal: Rate  # legality of the moves actually chosen
    best_policy: Rate  # vs the 1-visit policy argmax
    best_search: Rate  # vs the searched best move, on the searched subset
    action_value: Mean
    answered: Rate

    def to_dict(self) -> dict:
        metrics = ("raw_legal", "legal", "best_policy", "best_search", "action_value", "answered")
        return {"positions": self.positions, **{k: getattr(self, k).to_dict() for k in metrics}}


def score(labels: dict[str, Label], answers: Iterable[Answer]) -> Scores:
    """The metrics over every answered label (answers for unknown ids are an error)."""
    n = raw_k = raw_n = legal_k = legal_n = bp_k = bs_k = bs_n = answered = 0
    values = []
    for a in answers:
        lb = labels[a.id]
        n += 1
        answered += a.move is not None
        if a.raw_legal is not None:
            raw_n += 1
            raw_k += bool(a.raw_legal)
        if a.legal is not None:
            legal_n += 1
            legal_k += bool(a.legal)
        bp_k += same_move(lb, a.move, lb.policy_best)
        if lb.search:
            bs_n += 1
            bs_k += same_move(lb, a.move, lb.search_best)
        values.append(action_value(lb, a.move))
    return Scores(n, Rate(raw_k, raw_n), Rate(legal_k, legal_n), Rate(bp_k, n), Rate(bs_k, bs_n),
                  Mean(tuple(values)), Rate(answered, n))


@dataclass(frozen=True)
class Difference(Mean):
    """Mean of per-position differences (B minus A) with a paired normal 95 % interval, unclipped."""

    bounds: tuple[float, float] = (-math.inf, math.inf)

    @property
    def diffs(self) -> tuple[float, ...]:
        return self.values


def compare(labels: dict[str, Label], a: Iterable[Answer], b: Iterable[Answer]) -> dict[str, Difference]:
    """Player B minus player A on the positions both answered: Best-Action Accuracy (policy;
    search on the searched ones), Action-Value and the raw legal rate (where both expose a raw move)."""
    by_id = {x.id: x for x in a}
    bp, bs, av, raw = [], [], [], []
    for y in b:
        x = by_id.get(y.id)
        if x is None:
            continue
        lb = labels[y.id]
        bp.append(float(same_move(lb, y.move, lb.policy_best)) - float(same_move(lb, x.move, lb.policy_best)))
        if lb.search:
            bs.append(float(same_move(lb, y.move, lb.search_best)) - float(same_move(lb, x.move, lb.search_best)))
        av.append(action_value(lb, y.move) - action_value(lb, x.move))
        if x.raw_legal is not None and y.raw_legal is not None:
            raw.append(float(y.raw_legal) - float(x.raw_legal))
    return {"best_policy": Difference(tuple(bp)), "best_search": Difference(tuple(bs)),
            "action_value": Difference(tuple(av)), "raw_legal": Difference(tuple(raw))}
