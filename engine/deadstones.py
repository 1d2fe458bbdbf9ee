"""Which stones are dead at the end of a game: Monte Carlo playouts over the rules.

GTP's ``final_score`` and ``final_status_list`` are expected to count a game the way players
agree on it (GNU Go and KataGo remove dead stones first), while ``Game.result`` is the
Tromp-Taylor area of the board as it stands: with a dead stone inside an opponent's area
that is a very different number. Here a chain is dead when, in random playouts from the
position (both sides filling every point but their own eyes), it survives less than
``alive_share`` of the time. This is the rules engine's scoring tool, like Sabaki's
deadstones: the model never sees it.

The playouts never put a chain of two or more stones in atari (unless the move captures), so a
seki, whose shared liberties neither side can fill, survives them. Limits: a position far from
finished gets a guess, not a count; dame in a seki count for nobody, as in area scoring.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

import numpy as np

from engine.blunders import groups
from engine.board import Position, all_chains, area, neighbours
from engine.coords import BLACK, EMPTY, WHITE
from engine.game import Game, score_text, win_value
from engine.fastcount import ownership_mean
from engine.playout import playout


@dataclass(frozen=True)
class DeadStoneConfig:
    playouts: int = 200
    alive_share: float = 0.5  # a chain surviving fewer playouts than this is dead
    seed: int = 0  # fixed: the same position always gets the same answer
    tactical: bool = False  # playouts capture and escape atari (engine/playout.py)


def config_for(size: int) -> DeadStoneConfig:
    """800 playouts on 9x9, fewer on larger boards (a playout costs about the board's area): 383 on
    13x13, 200 on 19x19. Against GNU Go's judgement at 200 game ends of 9x9, 800 playouts agreed
    on 196 where 200 agreed on 193, at ~0.3 s a count (docs/gtp.md)."""
    return DeadStoneConfig(playouts=max(200, 800 * 81 // (size * size)))


def playout_wins(position: Position, color: int, komi: float, playouts: int, seed: int = 0,
                 tactical: bool = False) -> float:
    """The share of ``playouts`` random playouts from ``position``, ``color`` to move, that ``color``
    wins on the area count of the board they end on (a draw counts half): a Monte Carlo judge of a
    position, which the tree search can mix into the value model's (engine/search.py). Seeded by
    the position, so the same board always gets the same answer."""
    return playout_stats(position, color, komi, playouts, seed, tactical)[0]


def playout_stats(position: Position, color: int, komi: float, playouts: int, seed: int = 0,
                  tactical: bool = False) -> tuple[float, float]:
    """(``playout_wins``'s share, the mean area margin for ``color`` over the same playouts, komi
    included): the margin tells apart positions the playouts all win, or all lose."""
    size = position.size
    rng = random.Random(position.hash ^ seed)
    last = last_point(position, color)
    won = total = 0.0
    for _ in range(playouts):
        score = final_score(playout(position.stones, size, color, rng, tactical, last), size, komi)
        won += win_value(score, color)
        total += score if color == BLACK else -score
    n = max(1, playouts)
    return won / n, total / n


def last_point(position: Position, color: int) -> int:
    """The flat point the opponent just played, for a playout with ``color`` to move (-1: a pass, not
    known, or ``color`` is not the side to move): the tactical policy answers it."""
    if color == position.to_play and isinstance(position.last_move, tuple):
        return position.last_move[0] * position.size + position.last_move[1]
    return -1


def final_score(board: bytes | bytearray, size: int, komi: float) -> float:
    """The area count of a playout's final board: Black minus White minus komi."""
    black, white = area(board, size)
    return black - white - komi


def ownership(position: Position, cfg: DeadStoneConfig) -> np.ndarray:
    """(N*N,) float: per point, the share of playouts Black ends up owning it minus White's. The
    playouts are compiled (engine/fastcount.py): a 9x9 count takes tens of milliseconds where Python
    took ~0.3 s (benchmarks/bench_mc.py). No last move: the count is asked at a game's end (after
    passes) and remembered by the board alone."""
    return ownership_mean(position.stones, position.size, position.to_play, cfg.playouts, cfg.seed, cfg.tactical)


SETTLED_LEAN = 0.2  # a region the count gives to one side is shown as its only if the playouts lean that way too


def ownership_for(position: Position, color: int) -> np.ndarray:
    """(N*N,) float in [-1, 1], top row first, from ``color``'s side (+1 its, -1 the opponent's): the
    map behind ``kata-analyze ownership true``. Where the count is settled it is the count's: a living
    chain's stones, a dead chain's points (the opponent's), and an empty region that only one side
    borders once the dead stones are off, if the playouts also lean to that side (on an open board
    a lone stone borders everything). Elsewhere it is the playouts' mean, which random play keeps
    near 0 wherever the outcome is open. The playouts start with ``color`` to move."""
    size, cfg = position.size, config_for(position.size)
    mean = np.array(_playout_mean(size, position.stones, color, cfg))
    start = Position(size, position.stones, color)
    counted = without(start, dead_chains(start, cfg))
    stones = np.frombuffer(counted.stones, dtype=np.uint8)
    own = mean.copy()
    own[stones == BLACK], own[stones == WHITE] = 1.0, -1.0
    for points, borders in counted.empty_regions():
        side = 1.0 if borders == BLACK else -1.0 if borders == WHITE else 0.0
        if side and side * float(mean[points].mean()) >= SETTLED_LEAN:
            own[points] = side
    return (1.0 if color == BLACK else -1.0) * own + 0.0  # + 0.0: no "-0.0" for a point nobody owns


def dead_chains(position: Position, cfg: DeadStoneConfig) -> list[list[int]]:
    """The chains (flat points, board order) that survive fewer than ``alive_share`` of the playouts.
    Remembered for the last few boards: GTP controllers ask final_score, then final_status_list,
    and web clients poll a finished game, all about the same board."""
    return [list(chain) for chain in _judged(position.size, position.stones, position.to_play, cfg)]


@lru_cache(maxsize=16)
def _playout_mean(size: int, stones: bytes, to_play: int, cfg: DeadStoneConfig) -> tuple[float, ...]:
    """``ownership``, remembered: the count and the ownership map ask about the same board."""
    return tuple(ownership(Position(size, stones, to_play), cfg))


@lru_cache(maxsize=16)
def _judged(size: int, stones: bytes, to_play: int, cfg: DeadStoneConfig) -> tuple[tuple[int, ...], ...]:
    own = np.array(_playout_mean(size, stones, to_play, cfg))
    dead = []
    for chain in all_chains(stones, size):
        sign = 1.0 if stones[chain[0]] == BLACK else -1.0
        # mean ownership in [-1, 1] from the chain's side -> share of playouts it lived
        if (1.0 + sign * float(own[chain].mean())) / 2.0 < cfg.alive_share:
            dead.append(tuple(chain))
    return tuple(dead)


def without(position: Position, chains: list[list[int]]) -> Position:
    """The board with ``chains`` taken off (for counting), the same side to move."""
    board = bytearray(position.stones)
    for chain in chains:
        for p in chain:
            board[p] = EMPTY
    return Position(position.size, bytes(board), position.to_play)


def agreed_score(position: Position, komi: float, cfg: DeadStoneConfig) -> float:
    """Black's area minus White's minus komi once the dead stones are off (positive: Black wins)."""
    return without(position, dead_chains(position, cfg)).score(komi)


def may_be_finished(position: Position) -> bool:
    """Whether a board is worth the count's tens of ms as a possibly finished game: both colours on it (else an
    opening: Position.unsettled_points) and at least a quarter of the points taken (the fewest stones in a
    finished position of the 5,000 test labels: 25 of 81)."""
    stones = position.stones
    return BLACK in stones and WHITE in stones and 4 * (len(stones) - stones.count(EMPTY)) >= len(stones)


def finished_for(position: Position, color: int, cfg: Optional[DeadStoneConfig] = None) -> bool:
    """Whether nothing is left to play for ``color`` (to move) under our count, Tromp-Taylor's, where every
    stone on the board counts as it stands, so that passing costs nothing:
    - no chain in atari but ``color``'s own dead ones (a chain to save or to take);
    - no opponent chain the count judges dead (standing, it would count for the opponent: take it first);
    - with ``color``'s own dead chains off (standing, they count for ``color``; taking them is the
      opponent's work), every empty point is someone's area: no dame (area scoring counts them).
    KataGo under these rules passes in most such positions of the test labels and almost never while an
    opponent chain is dead in its area (docs/model.md, "Passing when the game is over"). The count (``cfg``,
    default ``config_for``) runs only once the cheap conditions hold."""
    stones, size = position.stones, position.size
    if not may_be_finished(position):
        return False
    in_atari = [points for _, points, libs in groups(stones, size, neighbours(size)) if len(libs) == 1]
    if any(stones[next(iter(ch))] != color for ch in in_atari):
        return False
    dead = dead_chains(position, cfg or config_for(size))
    if any(stones[ch[0]] != color for ch in dead):
        return False
    dead_points = {p for ch in dead for p in ch}
    if any(not ch <= dead_points for ch in in_atari):
        return False  # an own chain in atari that the count calls alive: save it
    return without(position, dead).unsettled_points() == 0


def final_count(game: Game) -> tuple[str, list[list[int]]]:
    """(the result as players would count it now, the dead chains): "W+R" after a resignation,
    else the score with the dead stones off ("B+3.5")."""
    if game.resigned is not None:
        return game.result(), []
    pos = game.position  # one board throughout, should the game move on meanwhile
    chains = dead_chains(pos, config_for(pos.size))
    return score_text(without(pos, chains).score(game.komi)), chains


def finished_result(game: Game) -> str:
    """The result of a game that has ended (two passes or a resignation), else "" (SGF: no RE)."""
    return final_count(game)[0] if game.is_over() else ""


__all__ = ["DeadStoneConfig", "agreed_score", "config_for", "dead_chains", "final_count", "finished_result", "ownership",
           "final_score", "last_point", "ownership_for", "playout_stats", "playout_wins", "without"]
