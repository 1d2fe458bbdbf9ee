"""One game between two GTP engines, refereed by our rules.

Used by the self-play data factory and the arena. Our ``Game`` is the referee: an
engine's move is checked against our rules (area scoring, positional superko, no
suicide) before the other engine hears it. A game ends on two passes (then, for
engines that pass with dead stones on the board, a cleanup phase with
``kgs-genmove_cleanup`` so the area score is the true result), on resignation, on
the move cap, on time (under a time control, engine/match_clock.py: the engines hear
``time_settings`` and, before each of their moves, ``time_left``), or on a fault: an
illegal move, a crash or a timeout loses the game for the side at fault.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

from engine.board import IllegalMove
from engine.coords import BLACK, PASS, RESIGN, WHITE, CoordError, Move, color_name, from_gtp, opponent, to_gtp
from engine.game import Game
from engine.match_clock import SideClock, TimeControl
from gtp.client import GtpClient, GtpClientError, GtpCrash, GtpFailure, GtpTimeout


@dataclass(frozen=True)
class MatchConfig:
    size: int = 9
    komi: float = 7.0
    max_moves: int = 0  # 0: 3 * N * N (a cap far above real 9x9 games, ~60 moves)
    move_timeout: float = 60.0
    cleanup: bool = True  # after two passes, ask engines that support it to remove dead stones
    time_control: TimeControl = TimeControl()  # off by default: only move_timeout applies

    def cap(self) -> int:
        return self.max_moves or 3 * self.size * self.size


@dataclass
class MatchResult:
    game: Game
    result: str  # SGF RE: "B+3", "W+R", "B+F" (white faulted), "0"
    winner: Optional[int]  # BLACK, WHITE or None (draw)
    reason: str  # "score", "resign", "time", "fault", "move cap"
    fault: Optional[str] = None  # what went wrong, for the side that lost by fault
    opening: int = 0  # number of opening moves imposed before the engines played
    info: dict = field(default_factory=dict)  # "think": {"B"/"W": {"seconds", "moves", "longest"}}


def random_opening(size: int, n: int, rng: random.Random) -> list[Move]:
    """n distinct random points away from the first two lines (legal on an empty board)."""
    lo, hi = (2, size - 3) if size >= 7 else (0, size - 1)
    pts = [(r, c) for r in range(lo, hi + 1) for c in range(lo, hi + 1)]
    return rng.sample(pts, min(n, len(pts)))


def _reset(client: GtpClient, cfg: MatchConfig) -> None:
    client.send(f"boardsize {cfg.size}")
    client.send("clear_board")
    client.send(f"komi {cfg.komi:g}")


def _supports(client: GtpClient, command: str) -> bool:
    try:
        return client.send(f"known_command {command}").strip() == "true"
    except GtpClientError:
        return False


def play_match(black: GtpClient, white: GtpClient, cfg: MatchConfig, opening: Sequence[Move] = ()) -> MatchResult:
    """Play one game; the clients are reset first. Faults are caught and scored, not raised."""
    engines = {BLACK: black, WHITE: white}
    # One process may play both sides (self-play): then it must not hear each move twice.
    distinct = [black] if black is white else [black, white]
    game = Game(size=cfg.size, komi=cfg.komi)
    side = BLACK
    try:
        for c in distinct:
            _reset(c, cfg)
        for move in opening:
            for c in distinct:
                c.send(f"play {color_name(side)} {to_gtp(move, cfg.size)}")
            game.play(move, side)
            side = opponent(side)
    except GtpClientError as e:
        raise GtpClientError(f"could not set up the game: {e}") from e
    cleanup = {c: cfg.cleanup and _supports(engines[c], "kgs-genmove_cleanup") for c in engines}
    tc = cfg.time_control
    clocks = {c: SideClock(tc) for c in engines}
    # engines that do not know the commands still play; they just cannot budget (GNU Go and KataGo know them)
    told = {c: tc.enabled and _supports(engines[c], "time_left") for c in engines}
    try:
        for c in distinct:
            if tc.enabled and _supports(c, "time_settings"):
                c.send(tc.gtp())
    except GtpClientError as e:
        raise GtpClientError(f"could not set the clock: {e}") from e
    in_cleanup = False
    while True:
        if game.position.passes >= 2:
            if in_cleanup or not any(cleanup.values()):
                return _scored(game, "score", len(opening), clocks)
            in_cleanup = True  # passes happened with perhaps dead stones: let cleanup engines capture them
        if game.move_number >= cfg.cap():
            return _scored(game, "move cap", len(opening), clocks)
        side = game.to_play
        command = "kgs-genmove_cleanup" if in_cleanup and cleanup[side] else "genmove"
        timeout = cfg.move_timeout
        try:
            if told[side]:
                seconds, stones = clocks[side].time_left()
                engines[side].send(f"time_left {color_name(side)} {seconds} {stones}", timeout=cfg.move_timeout)
            if tc.enabled:  # an engine past its flag has lost on time; after move_timeout more it is hung
                timeout = clocks[side].limit() + cfg.move_timeout
            start = time.monotonic()
            answer = engines[side].send(f"{command} {color_name(side)}", timeout=timeout)
            took = time.monotonic() - start
            move = from_gtp(answer, cfg.size)
        except (GtpTimeout, GtpCrash, GtpFailure, CoordError, GtpClientError) as e:
            return _fault(game, side, f"{type(e).__name__}: {e}", len(opening), clocks)
        if not clocks[side].charge(took) and tc.enabled:
            winner = opponent(side)
            return MatchResult(game, f"{color_name(winner)}+T", winner, "time", opening=len(opening),
                               info=_think(clocks))
        if move is RESIGN:
            game.play(RESIGN, side)
            return MatchResult(game, f"{color_name(opponent(side))}+R", opponent(side), "resign", opening=len(opening),
                               info=_think(clocks))
        try:
            game.play(move, side)
        except IllegalMove as e:
            return _fault(game, side, f"illegal move {answer} ({e.reason})", len(opening), clocks)
        if black is white:
            continue
        try:
            engines[opponent(side)].send(f"play {color_name(side)} {to_gtp(move, cfg.size)}", timeout=cfg.move_timeout)
        except (GtpTimeout, GtpCrash, GtpClientError) as e:
            return _fault(game, opponent(side), f"rejected {to_gtp(move, cfg.size)}: {e}", len(opening), clocks)


def _think(clocks: dict) -> dict:
    """Each side's thinking time (genmove to answer, as the referee's clock charges it)."""
    return {"think": {color_name(c): {"seconds": round(k.used, 3), "moves": k.moves, "longest": round(k.longest, 3)}
                      for c, k in clocks.items()}}


def _scored(game: Game, reason: str, opening: int, clocks: dict) -> MatchResult:
    s = game.score()
    winner = BLACK if s > 0 else WHITE if s < 0 else None
    return MatchResult(game, game.result(), winner, reason, opening=opening, info=_think(clocks))


def _fault(game: Game, side: int, what: str, opening: int, clocks: dict) -> MatchResult:
    winner = opponent(side)
    return MatchResult(game, f"{color_name(winner)}+F", winner, "fault", fault=f"{color_name(side)}: {what}",
                       opening=opening, info=_think(clocks))


__all__ = ["MatchConfig", "MatchResult", "play_match", "random_opening", "PASS"]
