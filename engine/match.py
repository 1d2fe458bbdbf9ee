"""One game between two GTP engines, refereed by our rules.

Used by the self-play data factory and the arena. Our ``Game`` is the referee: an
engine's move is checked against our rules (area scoring, positional superko, no
suicide) before the other engine hears it. A game ends on two passes (then, for
engines that pass with dead stones on the board, a cleanup phase with
``kgs-genmove_cleanup`` so the area score is the true result), on resignation, on
the move cap, or on a fault: an illegal move, a crash or a timeout loses the game for
the side at fault.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Optional, Sequence

from engine.board import IllegalMove
from engine.coords import BLACK, PASS, RESIGN, WHITE, CoordError, Move, color_name, from_gtp, opponent, to_gtp
from engine.game import Game
from gtp.client import GtpClient, GtpClientError, GtpCrash, GtpFailure, GtpTimeout


@dataclass(frozen=True)
class MatchConfig:
    size: int = 9
    komi: float = 7.0
    max_moves: int = 0  # 0: 3 * N * N (a cap far above real 9x9 games, ~60 moves)
    move_timeout: float = 60.0
    cleanup: bool = True  # after two passes, ask engines that support it to remove dead stones

    def cap(self) -> int:
        return self.max_moves or 3 * self.size * self.size


@dataclass
class MatchResult:
    game: Game
    result: str  # SGF RE: "B+3", "W+R", "B+F" (white faulted), "0"
    winner: Optional[int]  # BLACK, WHITE or None (draw)
    reason: str  # "score", "resign", "fault", "move cap"
    fault: Optional[str] = None  # what went wrong, for the side that lost by fault
    opening: int = 0  # number of opening moves imposed before the engines played
    info: dict = field(default_factory=dict)


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
    in_cleanup = False
    while True:
        if game.position.passes >= 2:
            if in_cleanup or not any(cleanup.values()):
                return _scored(game, "score", len(opening))
            in_cleanup = True  # passes happened with perhaps dead stones: let cleanup engines capture them
        if game.move_number >= cfg.cap():
            return _scored(game, "move cap", len(opening))
        side = game.to_play
        command = "kgs-genmove_cleanup" if in_cleanup and cleanup[side] else "genmove"
        try:
            answer = engines[side].send(f"{command} {color_name(side)}", timeout=cfg.move_timeout)
            move = from_gtp(answer, cfg.size)
        except (GtpTimeout, GtpCrash, GtpFailure, CoordError, GtpClientError) as e:
            return _fault(game, side, f"{type(e).__name__}: {e}", len(opening))
        if move is RESIGN:
            game.play(RESIGN, side)
            return MatchResult(game, f"{color_name(opponent(side))}+R", opponent(side), "resign", opening=len(opening))
        try:
            game.play(move, side)
        except IllegalMove as e:
            return _fault(game, side, f"illegal move {answer} ({e.reason})", len(opening))
        if black is white:
            continue
        try:
            engines[opponent(side)].send(f"play {color_name(side)} {to_gtp(move, cfg.size)}", timeout=cfg.move_timeout)
        except (GtpTimeout, GtpCrash, GtpClientError) as e:
            return _fault(game, opponent(side), f"rejected {to_gtp(move, cfg.size)}: {e}", len(opening))


def _scored(game: Game, reason: str, opening: int) -> MatchResult:
    s = game.score()
    winner = BLACK if s > 0 else WHITE if s < 0 else None
    return MatchResult(game, game.result(), winner, reason, opening=opening)


def _fault(game: Game, side: int, what: str, opening: int) -> MatchResult:
    winner = opponent(side)
    return MatchResult(game, f"{color_name(winner)}+F", winner, "fault", fault=f"{color_name(side)}: {what}",
                       opening=opening)


__all__ = ["MatchConfig", "MatchResult", "play_match", "random_opening", "PASS"]
