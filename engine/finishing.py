"""Finishing a game: which of the tree's equally good moves the network-steered player plays once only dead
stones and dame are left.

When the board is settled once the count's dead chains are off (engine/deadstones.py), what is left to play is
taking the opponent's dead stones, filling dame and passing; the tree's playouts value those moves alike (they
take the dead stones and fill the dame anyway), so its most visited move is close to arbitrary among them, and
its pass (after the opponent's, the count with dead stones off) leaves dead stones standing that a Tromp-Taylor
count would credit to their owner. KataGo, the oracle, plays a liberty of the opponent's dead chains in 168 of
the 225 test positions where only the opponent's chains are dead (it passes in 8), and fills a dame in most
positions with one or two (docs/model.md, "Finishing the game"). So there the player:
- while dame are left, plays the network's favourite among those the tree read as safe (win share within
  ``FinishConfig.safety`` of the tree's own move, or of its best move when the tree would pass): under area
  scoring a dame is a point, and the tree's pass there, valued by the count of the board as it stands (exact)
  against its moves' noisy playouts, gave them to the opponent (a won game drawn against GNU Go 10, session 47);
- else, while an opponent chain the count calls dead stands, the network's favourite among its safe liberties.
Both replace the tree's pass too. Its other choices stand: its move where nothing safe qualifies, its pass on a
board with neither (the pass rules of engine/mc_player.py), and everything in cleanup (kgs-genmove_cleanup).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from engine.board import Position, neighbours
from engine.coords import BLACK, EMPTY, WHITE
from engine.deadstones import DeadStoneConfig, config_for, dead_chains, may_be_finished, without
from engine.player import SETTLED_DAME


@dataclass(frozen=True)
class FinishConfig:
    safety: float = 0.1  # a finishing move may win this much less of its playouts than the tree's choice


@dataclass(frozen=True)
class FinishingPoints:
    """The points that finish a game for the side to move (flat indices)."""

    their_dead_liberties: frozenset[int]  # empty points next to an opponent chain the count calls dead
    dame: frozenset[int]  # empty points touching both colours (or none) once every dead chain is off


def finishing_points(position: Position, color: int,
                     cfg: Optional[DeadStoneConfig] = None) -> Optional[FinishingPoints]:
    """The finishing points when only dead stones and dame are left on the board for ``color`` to move (settled,
    a few dame at most, once the count's dead chains are off), else None. Not run on a board that cannot be
    finished yet (engine/deadstones.may_be_finished, finished_for's gate too). ``cfg``: the count's
    settings (default ``config_for``; engine/mc_player.count_config under a clock); the count is remembered per
    board and settings, so the pass rules' and this one are one count."""
    stones, size = position.stones, position.size
    if not may_be_finished(position):
        return None
    dead = dead_chains(position, cfg or config_for(size))
    after = without(position, dead)
    if after.unsettled_points() > SETTLED_DAME:
        return None
    nbrs = neighbours(size)
    libs = frozenset(q for chain in dead if stones[chain[0]] != color for p in chain for q in nbrs[p]
                     if stones[q] == EMPTY)
    dame = frozenset(p for points, borders in after.empty_regions() if borders not in (BLACK, WHITE) for p in points)
    return FinishingPoints(libs, dame)


def finishing_move(points: FinishingPoints, chosen: Optional[int], means: np.ndarray, prior: np.ndarray,
                   cfg: FinishConfig = FinishConfig()) -> Optional[int]:
    """The flat point to play instead of the tree's choice ``chosen`` (a flat point; None: the tree passes), or
    None to keep it: the network's favourite among the safe dame, else among the safe liberties of dead opponent
    chains. ``means`` (N*N+1,): the tree's win share per move, NaN where unvisited (safe: at least ``chosen``'s,
    or the best read when the tree passes, less ``cfg.safety``); ``prior`` (N*N+1,): the network's distribution."""
    n = len(means) - 1
    read = np.isfinite(means[:n])
    if not read.any():
        return None
    ref = float(np.nanmax(means[:n]) if chosen is None else means[chosen])
    for pool in (points.dame, points.their_dead_liberties):  # a dame is a point under area scoring: first
        safe = [p for p in pool if read[p] and means[p] >= ref - cfg.safety]
        if safe:
            return max(sorted(safe), key=lambda p: prior[p])
    return None
