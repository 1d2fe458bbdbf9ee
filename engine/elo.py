"""Bradley-Terry ratings from game results: a small Newton fit with standard errors.

Model: P(i beats j) = sigmoid(r_i - r_j), r in natural units; Elo = r * 400 / ln 10.
A draw counts as half a win for each side. The maximum-likelihood fit is a concave
problem, so Newton's method (with step halving) converges in a few iterations; the
inverse Hessian at the optimum is the covariance of the ratings (asymptotic, Fisher).

Two things the plain MLE cannot do, and what we do instead:
- An engine that won (or lost) every game has an infinite MLE rating. As BayesElo
  does, every pair of engines that met gets ``prior_draws`` virtual draws (default 1,
  i.e. half a win each way): a 40-0 record then reads as 40.5-0.5, about +760 Elo,
  finite and with a wide interval. With hundreds of real games the prior moves ratings
  by a few Elo at most.
- Ratings are only defined up to a shift. We anchor one engine (default "GNU Go 3.8
  level 10 = 1800", the CGOS convention); without the anchor, the mean rating is 0.
  Standard errors are those of the contrast that defines each rating (r_i - r_anchor,
  or r_i - mean r), so the anchor itself has SE 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

ELO_PER_NAT = 400.0 / math.log(10.0)  # Elo points per unit of BT log-strength
Z95 = 1.959963984540054  # two-sided 95 % normal quantile
DEFAULT_ANCHOR = "GNUGo-L10"  # the name engine.engines gives GNU Go level 10
DEFAULT_ANCHOR_RATING = 1800.0


@dataclass(frozen=True)
class EloConfig:
    anchor: Optional[str] = DEFAULT_ANCHOR  # engine pinned at anchor_rating; None or absent: mean 0
    anchor_rating: float = DEFAULT_ANCHOR_RATING
    prior_draws: float = 1.0  # virtual draws per pair that met (keeps perfect records finite)
    ridge: float = 1e-6  # tiny pull to 0 so engines with no connecting games stay solvable


@dataclass
class Ratings:
    names: list[str]
    elo: np.ndarray  # (n,) anchored ratings
    se: np.ndarray  # (n,) standard errors of those ratings, Elo
    points: np.ndarray  # (n, n) points scored by row against column (draw = 0.5), real games only
    played: np.ndarray  # (n, n) games between row and column
    anchor: Optional[str]  # the anchor actually used (None: mean 0)
    config: EloConfig = field(default_factory=EloConfig)
    iterations: int = 0

    def interval(self, i: int) -> tuple[float, float]:
        return float(self.elo[i] - Z95 * self.se[i]), float(self.elo[i] + Z95 * self.se[i])

    def winrates(self) -> np.ndarray:
        """(n, n) score fraction of row against column; NaN where they never met."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.played > 0, self.points / np.maximum(self.played, 1), np.nan)

    def order(self) -> list[int]:
        return sorted(range(len(self.names)), key=lambda i: -self.elo[i])

    def to_dict(self) -> dict:
        wr = self.winrates()
        return {
            "model": "Bradley-Terry MLE, draws = half a win, Newton fit; SE from the inverse Hessian",
            "anchor": {"name": self.anchor, "rating": self.config.anchor_rating} if self.anchor else None,
            "prior": f"{self.config.prior_draws:g} virtual draw(s) per pair that met",
            "engines": [
                {"name": self.names[i], "elo": round(float(self.elo[i]), 1), "se": round(float(self.se[i]), 1),
                 "ci95": [round(x, 1) for x in self.interval(i)], "games": int(self.played[i].sum()),
                 "score": round(float(self.points[i].sum() / max(self.played[i].sum(), 1)), 4)}
                for i in self.order()
            ],
            "winrate": {self.names[i]: {self.names[j]: (None if np.isnan(wr[i, j]) else round(float(wr[i, j]), 4))
                                        for j in range(len(self.names)) if j != i} for i in range(len(self.names))},
            "games": {self.names[i]: {self.names[j]: int(self.played[i, j]) for j in range(len(self.names)) if j != i}
                      for i in range(len(self.names))},
        }


def tally(outcomes: Iterable[tuple[str, str, float]], names: Optional[Sequence[str]] = None
          ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(names, points, played) from (a, b, score of a in {1, 0.5, 0}) triples."""
    outcomes = list(outcomes)
    order = list(names or [])
    for a, b, _ in outcomes:
        for x in (a, b):
            if x not in order:
                order.append(x)
    index = {n: i for i, n in enumerate(order)}
    n = len(order)
    points, played = np.zeros((n, n)), np.zeros((n, n))
    for a, b, s in outcomes:
        if not 0.0 <= s <= 1.0 or a == b:
            raise ValueError(f"bad outcome {(a, b, s)}")
        i, j = index[a], index[b]
        points[i, j] += s
        points[j, i] += 1.0 - s
        played[i, j] += 1
        played[j, i] += 1
    return order, points, played


def _newton(wins: np.ndarray, games: np.ndarray, ridge: float, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, int]:
    """Maximise sum_ij wins_ij log sigmoid(r_i - r_j) - ridge/2 |r|^2; return (r, H, iterations)."""
    n = len(wins)

    def objective(r: np.ndarray) -> float:
        d = r[:, None] - r[None, :]
        return float((wins * -np.logaddexp(0.0, -d)).sum() - 0.5 * ridge * r @ r)

    r = np.zeros(n)
    f = objective(r)
    for it in range(1, max_iter + 1):
        p = 1.0 / (1.0 + np.exp(-(r[:, None] - r[None, :])))  # p_ij = P(i beats j)
        grad = (wins - games * p).sum(axis=1) - ridge * r
        w = games * p * (1.0 - p)
        hess = np.diag(w.sum(axis=1)) - w + ridge * np.eye(n)  # negative Hessian, positive definite
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8:
            cand = r + t * step
            fc = objective(cand)
            if fc >= f - 1e-12:
                break
            t *= 0.5
        r, f_old, f = cand, f, fc
        if np.abs(t * step).max() < 1e-10 or abs(f - f_old) < 1e-13:
            break
    p = 1.0 / (1.0 + np.exp(-(r[:, None] - r[None, :])))
    w = games * p * (1.0 - p)
    hess = np.diag(w.sum(axis=1)) - w + ridge * np.eye(n)
    return r, hess, it


def fit(outcomes: Iterable[tuple[str, str, float]], config: EloConfig = EloConfig(),
        names: Optional[Sequence[str]] = None) -> Ratings:
    """Bradley-Terry ratings (Elo scale) with standard errors from (a, b, score of a) triples."""
    order, points, played = tally(outcomes, names)
    n = len(order)
    if n == 0:
        return Ratings([], np.zeros(0), np.zeros(0), points, played, None, config)
    met = (played > 0).astype(float)
    wins = points + 0.5 * config.prior_draws * met  # each virtual draw is half a win each way
    games = played + config.prior_draws * met
    r, hess, iters = _newton(wins, games, config.ridge)
    cov = np.linalg.inv(hess)
    anchor = config.anchor if config.anchor in order else None
    if anchor is not None:
        a = order.index(anchor)
        contrasts = np.eye(n) - np.eye(n)[a]  # row i: e_i - e_anchor
        offset = config.anchor_rating
    else:
        contrasts = np.eye(n) - 1.0 / n  # row i: e_i - mean
        offset = 0.0
    elo = offset + ELO_PER_NAT * (contrasts @ r)
    var = np.einsum("ij,jk,ik->i", contrasts, cov, contrasts)
    se = ELO_PER_NAT * np.sqrt(np.maximum(var, 0.0))
    return Ratings(order, elo, se, points, played, anchor, config, iters)


def format_table(r: Ratings) -> str:
    """A text table: rank, engine, Elo, 95 % interval, games, score; then the win-rate matrix."""
    if not r.names:
        return "(no games)"
    width = max(len(n) for n in r.names)
    lines = [f"{'#':>2}  {'engine':<{width}}  {'Elo':>7}  {'95% CI':>17}  {'games':>5}  {'score':>6}"]
    order = r.order()
    for rank, i in enumerate(order, 1):
        lo, hi = r.interval(i)
        g = int(r.played[i].sum())
        score = r.points[i].sum() / g if g else float("nan")
        ci = "(anchor)" if r.names[i] == r.anchor else f"[{lo:7.0f}, {hi:7.0f}]"
        lines.append(f"{rank:>2}  {r.names[i]:<{width}}  {r.elo[i]:7.0f}  {ci:>17}  {g:>5}  {score:6.1%}")
    anchor = f"anchor {r.anchor} = {r.config.anchor_rating:g}" if r.anchor else "no anchor: mean rating 0"
    lines.append(f"({anchor}; prior {r.config.prior_draws:g} virtual draw per pair that met)")
    lines.append("")
    lines.append("score of row vs column (games):")
    short = [n[:12] for n in (r.names[i] for i in order)]
    lines.append(" " * (width + 2) + "".join(f"{s:>14}" for s in short))
    wr = r.winrates()
    for i in order:
        cells = []
        for j in order:
            cells.append(f"{'-':>14}" if i == j or np.isnan(wr[i, j]) else f"{wr[i, j]:>8.1%} ({int(r.played[i, j]):>3})")
        lines.append(f"{r.names[i]:<{width}}  " + "".join(cells))
    return "\n".join(lines)


def plot(r: Ratings, path: Path | str, title: str = "Bradley-Terry ratings (95 % intervals)") -> None:
    """A PNG of the ratings with 95 % error bars, strongest at the top."""
    import matplotlib

    matplotlib.use("Agg")  # no display here; also safe inside worker processes
    import matplotlib.pyplot as plt

    order = r.order()[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(order) + 1.5), dpi=120)
    y = np.arange(len(order))
    ax.errorbar(r.elo[order], y, xerr=Z95 * r.se[order], fmt="o", capsize=4, color="tab:blue")
    for k, i in enumerate(order):
        ax.annotate(f"{r.elo[i]:.0f}", (r.elo[i], y[k]), textcoords="offset points", xytext=(0, 7),
                    ha="center", fontsize=8)
    ax.set_yticks(y, [r.names[i] for i in order])
    ax.set_xlabel("Elo" + (f" (anchor {r.anchor} = {r.config.anchor_rating:g})" if r.anchor else " (mean 0)"))
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
