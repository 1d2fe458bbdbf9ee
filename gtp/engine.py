"""GTP v2 command handlers over a ``Game`` and an injected ``Player``.

``GtpEngine.handle(line)`` takes one input line and returns the framed answer (or None
for a line with nothing to answer). Handlers are a few lines each; they parse and
validate every argument before touching the game, and ``handle`` snapshots the state
so that even an unexpected exception leaves the game as it was (answered with a framed
``? internal error: ...``, never a traceback).

Rules notes, for the controller's benefit:
- Scoring is Tromp-Taylor area scoring with komi; there is no dead-stone judgement, so
  ``final_status_list alive`` lists every stone and ``dead`` / ``seki`` list none. Games
  are meant to be played out (``kgs-genmove_cleanup``) before they are scored.
- Positional superko and no suicide; ``play`` accepts either colour at any time.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import re
import time
from typing import Callable, Optional, TypeVar

from engine.analysis import can_analyze
from engine.board import IllegalMove, Position, all_chains
from engine.coords import (
    GTP_COLUMNS,
    MAX_SIZE,
    MIN_SIZE,
    PASS,
    RESIGN,
    CoordError,
    Move,
    Point,
    color_name,
    from_gtp,
    parse_color,
    to_gtp,
)
from engine.deadstones import config_for, dead_chains, final_count, finished_result
from engine.game import Game, HandicapError, fixed_handicap_points, max_fixed_handicap
from engine.player import Player
from engine.sgf import SgfError, dump_game, parse_collection, record_to_game
from gtp import protocol
from gtp.clock import Clock

T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_SGF_BYTES = 16 * 1024 * 1024  # loadsgf refuses larger files instead of reading /dev/zero forever
_INT = re.compile(r"[+-]?\d+", re.ASCII)
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)

Handler = Callable[[tuple[str, ...]], "str | protocol.Stream"]


class GtpError(Exception):
    """A failure answered with ``? <message>``: the message is the conventional GTP text."""


class GtpEngine:
    """The GTP command table. ``quit_requested`` tells the entry point to stop after answering."""

    def __init__(
        self,
        game_factory: Callable[[], Game],
        player: Player,
        name: str = "videoworld-go",
        version: str = "0.1",
    ) -> None:
        self.game = game_factory()
        self.player = player
        self.name = name
        self.version = version
        self.clock = Clock()
        self.quit_requested = False
        # where lines of an answer go while its command still runs (serve() sets it to the output; None: they
        # stay in the answer handle() returns)
        self.write: Optional[Callable[[str], None]] = None
        self._early = protocol.EarlyLines(None, None)
        # --ponder: think on the opponent's time after each move the engine plays (gtp/ponder.py), for as long as
        # the position is the one that move made (``ponder_due``)
        self.ponder = False
        self._own_move_position: Optional[Position] = None
        # Exactly the commands implemented, in list_commands order.
        self.commands: dict[str, Handler] = {
            "protocol_version": self._protocol_version,
            "name": self._name,
            "version": self._version,
            "known_command": self._known_command,
            "list_commands": self._list_commands,
            "quit": self._quit,
            "boardsize": self._boardsize,
            "clear_board": self._clear_board,
            "komi": self._komi,
            "play": self._play,
            "genmove": self._genmove,
            "reg_genmove": self._reg_genmove,
            "kgs-genmove_cleanup": self._genmove_cleanup,
            "undo": self._undo,
            "showboard": self._showboard,
            "final_score": self._final_score,
            "final_status_list": self._final_status_list,
            "fixed_handicap": self._fixed_handicap,
            "place_free_handicap": self._place_free_handicap,
            "set_free_handicap": self._set_free_handicap,
            "loadsgf": self._loadsgf,
            "printsgf": self._printsgf,
            "time_settings": self._time_settings,
            "kgs-time_settings": self._kgs_time_settings,
            "time_left": self._time_left,
            "cputime": self._cputime,
        }
        if can_analyze(player):  # GUI analysis only for players that can say what they think
            from gtp.analyze import analysis_commands

            self.commands.update(analysis_commands(self))

    # -------------------------------------------------------------- dispatch
    def handle(self, line: str) -> Optional[str]:
        """The framed answer to one input line, or None for a blank or comment-only line."""
        if len(line) > protocol.MAX_LINE:
            return protocol.line_too_long(line)
        text = protocol.preprocess(line)
        if text is None:
            return None
        cmd = protocol.parse(text)
        handler = self.commands.get(cmd.name)
        if handler is None:
            return protocol.failure(cmd.id, "unknown command" if cmd.name else "syntax error")
        saved = self._snapshot()
        early = self._early = protocol.EarlyLines(cmd.id, self.write)
        try:
            result = handler(cmd.args)
            if isinstance(result, protocol.Stream):  # lz-analyze & co.: serve() prints it in pieces
                return early.rest(protocol.Streamed(cmd.id, result))
            return early.rest(protocol.success(cmd.id, result))
        except GtpError as e:
            self._restore(saved)
            return early.failed(str(e))
        except Exception as e:  # a bug must not kill the session or corrupt the game
            log.exception("internal error in %r", text[:200])
            self._restore(saved)
            return early.failed(f"internal error: {type(e).__name__}: {e}")

    def played(self, move: Move) -> None:
        """The engine played ``move`` in the game (genmove and the ``*-genmove_analyze`` commands): with --ponder, the
        opponent's time is thought on from then on, between commands, until the position changes."""
        self._own_move_position = self.game.position if move is not PASS and move is not RESIGN else None

    @property
    def ponder_due(self) -> bool:
        """--ponder, and the position is still the one the engine's own last move made: the opponent is to answer it
        (an ``undo``, a ``play``, a new game end it; other commands between leave it)."""
        return (self.ponder and not self.quit_requested and self._own_move_position is not None
                and self.game.position is self._own_move_position)

    def early_line(self, text: str) -> None:
        """Sends one line of the answer to the command being handled now, before the command ends."""
        self._early.line(text)

    def _snapshot(self) -> tuple[dict, Clock]:
        """The game's fields (containers copied; positions are immutable) and the clock."""
        fields = {f.name: copy.copy(getattr(self.game, f.name)) for f in dataclasses.fields(self.game)}
        return fields, dataclasses.replace(self.clock, left=dict(self.clock.left), used=dict(self.clock.used))

    def _restore(self, saved: tuple[dict, Clock]) -> None:
        fields, self.clock = saved
        self._assign(fields)

    def _assign(self, fields: dict) -> None:
        # In place, not ``self.game = ...``: whoever shares this Game object keeps seeing it.
        for name, value in fields.items():
            setattr(self.game, name, value)

    # -------------------------------------------------------------- argument parsing
    @staticmethod
    def _arity(args: tuple[str, ...], n: int) -> tuple[str, ...]:
        if len(args) != n:
            raise GtpError("syntax error")
        return args

    @staticmethod
    def _int(text: str, low: Optional[int] = 0) -> int:
        if not _INT.fullmatch(text) or (low is not None and int(text) < low):
            raise GtpError("syntax error")
        return int(text)

    @staticmethod
    def _color(text: str) -> int:
        try:
            return parse_color(text)
        except CoordError:
            raise GtpError("invalid color") from None

    def _vertex(self, text: str) -> Move:
        """A point or pass; resign is not a vertex (spec 2.11)."""
        try:
            move = from_gtp(text, self.game.size)
        except CoordError:
            raise GtpError("invalid vertex") from None
        if move is RESIGN:
            raise GtpError("invalid vertex")
        return move

    def _gtp(self, move: Move) -> str:
        return to_gtp(move, self.game.size)

    # -------------------------------------------------------------- administrative
    def _protocol_version(self, args: tuple[str, ...]) -> str:
        self._arity(args, 0)
        return "2"

    def _name(self, args: tuple[str, ...]) -> str:
        self._arity(args, 0)
        return self.name

    def _version(self, args: tuple[str, ...]) -> str:
        self._arity(args, 0)
        return self.version

    def _known_command(self, args: tuple[str, ...]) -> str:
        (name,) = self._arity(args, 1)
        return "true" if name in self.commands else "false"

    def _list_commands(self, args: tuple[str, ...]) -> str:
        self._arity(args, 0)
        return "\n".join(self.commands)

    def _quit(self, args: tuple[str, ...]) -> str:
        self._arity(args, 0)
        self.quit_requested = True
        return ""

    # -------------------------------------------------------------- setup
    def _boardsize(self, args: tuple[str, ...]) -> str:
        (text,) = self._arity(args, 1)
        size = self._int(text, low=None)
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise GtpError("unacceptable size")
        self.game.set_size(size)
        return ""

    def _clear_board(self, args: tuple[str, ...]) -> str:
        self._arity(args, 0)
        self.game.clear()
        return ""

    def _komi(self, args: tuple[str, ...]) -> str:
        (text,) = self._arity(args, 1)
        if not _FLOAT.fullmatch(text) or not math.isfinite(float(text)):  # "1e999" parses as inf
            raise GtpError("syntax error")
        self.game.set_komi(float(text))
        return ""

    def _require_empty_board(self) -> None:
        if self.game.moves or any(self.game.position.stones):
            raise GtpError("board not empty")

    def _fixed_handicap(self, args: tuple[str, ...]) -> str:
        count = self._int(self._arity(args, 1)[0])
        self._require_empty_board()
        try:
            points = fixed_handicap_points(count, self.game.size)
        except HandicapError:
            raise GtpError("invalid number of stones") from None
        self.game.place_handicap(points)
        return " ".join(self._gtp(p) for p in points)

    def _place_free_handicap(self, args: tuple[str, ...]) -> str:
        count = self._int(self._arity(args, 1)[0])
        self._require_empty_board()
        if not 2 <= count < self.game.size ** 2:
            raise GtpError("invalid number of stones")
        points = free_handicap_points(count, self.game.size)
        self.game.place_handicap(points)
        return " ".join(self._gtp(p) for p in points)

    def _set_free_handicap(self, args: tuple[str, ...]) -> str:
        self._require_empty_board()
        try:
            points = [from_gtp(a, self.game.size) for a in args]
        except CoordError:
            raise GtpError("bad vertex list") from None
        if (any(p is PASS or p is RESIGN for p in points) or len(set(points)) != len(points)
                or not 2 <= len(points) < self.game.size ** 2):
            raise GtpError("bad vertex list")
        self.game.place_handicap(points)  # type: ignore[arg-type]
        return ""

    # -------------------------------------------------------------- moves
    def _play(self, args: tuple[str, ...]) -> str:
        color_text, vertex_text = self._arity(args, 2)
        color, move = self._color(color_text), self._vertex(vertex_text)
        try:
            self.game.play(move, color)
        except IllegalMove as e:
            log.info("illegal move %s %s (%s)", color_text, vertex_text, e.reason)
            raise GtpError("illegal move") from None
        return ""

    def timed(self, color: int, think: Callable[[dict], T]) -> T:
        """``think(timing)`` for one of ``color``'s moves: under a time control ``timing`` is
        ``{"deadline": ...}`` (``Clock.budget`` from now) and the clock counts the time taken;
        without one it is ``{}``. genmove and the ``*-genmove_analyze`` commands both go through here."""
        start = time.monotonic()
        budget = self.clock.budget(color, self.game.move_number, self.game.size)
        try:
            return think({} if budget is None else {"deadline": start + budget})
        finally:
            if budget is not None:
                self.clock.spent(color, time.monotonic() - start)

    def _choose(self, color: int, cleanup: bool = False) -> Move:
        """The player's move, checked: the engine, not the player, is the judge of legality."""
        move = self.timed(color, lambda timing: self.player.genmove(self.game, color, cleanup=cleanup, **timing))
        if move is not RESIGN and not self.game.position.is_legal(move, color):
            raise GtpError(f"internal error: player {self.player.name} chose an illegal move {move!r}")
        return move

    def _genmove(self, args: tuple[str, ...], cleanup: bool = False) -> str:
        color = self._color(self._arity(args, 1)[0])
        move = self._choose(color, cleanup)
        self.game.play(move, color)
        self.played(move)
        return self._gtp(move)

    def _genmove_cleanup(self, args: tuple[str, ...]) -> str:
        return self._genmove(args, cleanup=True)

    def _reg_genmove(self, args: tuple[str, ...]) -> str:
        color = self._color(self._arity(args, 1)[0])
        return self._gtp(self._choose(color))

    def _undo(self, args: tuple[str, ...]) -> str:
        self._arity(args, 0)
        if not self.game.undo():
            raise GtpError("cannot undo")
        return ""

    # -------------------------------------------------------------- scoring and display
    def _final_score(self, args: tuple[str, ...]) -> str:
        """The count players would agree on: the dead stones (engine/deadstones.py) off the board first."""
        self._arity(args, 0)
        return final_count(self.game)[0]

    def _final_status_list(self, args: tuple[str, ...]) -> str:
        (status,) = self._arity(args, 1)
        if status not in ("alive", "dead", "seki"):
            raise GtpError("syntax error")
        if status == "seki":  # seki chains are kept alive by the count but not told apart
            return ""
        dead = {p for chain in self._dead_chains() for p in chain}
        size = self.game.size
        wanted = [ch for ch in chains(self.game) if (ch[0][0] * size + ch[0][1] in dead) == (status == "dead")]
        return "\n".join(" ".join(self._gtp(p) for p in chain) for chain in wanted)

    def _dead_chains(self) -> list[list[int]]:
        """Dead chains (flat points) of the current board (engine/deadstones.py remembers recent boards)."""
        pos = self.game.position
        return dead_chains(pos, config_for(pos.size))

    def _showboard(self, args: tuple[str, ...]) -> str:
        self._arity(args, 0)
        return "\n" + board_text(self.game)

    # -------------------------------------------------------------- SGF
    def _loadsgf(self, args: tuple[str, ...]) -> str:
        if len(args) not in (1, 2):
            raise GtpError("syntax error")
        upto = self._int(args[1], low=1) - 1 if len(args) == 2 else None
        try:
            with open(args[0], "rb") as f:
                data = f.read(MAX_SGF_BYTES + 1)
            if len(data) > MAX_SGF_BYTES:
                raise SgfError("file too large")
            records = parse_collection(data)
            if not records:
                raise SgfError("no game in the file")
            game = record_to_game(records[0], default_komi=self.game.komi, upto=upto)
        except (OSError, ValueError) as e:  # SgfError, CoordError, a komi of inf ...
            log.info("loadsgf %s: %s", args[0], e)
            raise GtpError("cannot load file") from None
        self._assign({f.name: getattr(game, f.name) for f in dataclasses.fields(game)})
        return ""

    def _printsgf(self, args: tuple[str, ...]) -> str:
        if len(args) > 1:
            raise GtpError("syntax error")
        # No PB/PW: the engine cannot tell which moves came from its player and which from the controller.
        data = dump_game(self.game, result=finished_result(self.game))
        if not args:
            return data.decode("utf-8", "replace")
        try:
            with open(args[0], "wb") as f:
                f.write(data)
        except OSError as e:
            log.info("printsgf %s: %s", args[0], e)
            raise GtpError("cannot save file") from None
        return ""

    # -------------------------------------------------------------- time
    def _time_settings(self, args: tuple[str, ...]) -> str:
        main, byo, stones = (self._int(a) for a in self._arity(args, 3))
        self.clock = Clock.canadian(main, byo, stones)
        return ""

    def _kgs_time_settings(self, args: tuple[str, ...]) -> str:
        if not args:
            raise GtpError("syntax error")
        system, values = args[0], [self._int(a) for a in args[1:]]
        arity = {"none": 0, "absolute": 1, "byoyomi": 3, "canadian": 3}
        if arity.get(system) != len(values):
            raise GtpError("syntax error")
        self.clock = Clock.kgs(system, values)
        return ""

    def _cputime(self, args: tuple[str, ...]) -> str:
        """GoGui's ``cputime``: seconds of CPU this process has used, all threads (gogui-twogtp reports
        the difference over a game). The model runs in-process, so this is all the engine's work."""
        self._arity(args, 0)
        return f"{time.process_time():.3f}"

    def _time_left(self, args: tuple[str, ...]) -> str:
        color_text, seconds, stones = self._arity(args, 3)
        color = self._color(color_text)
        self.clock.report(color, self._int(seconds, low=None), self._int(stones))
        return ""


# ------------------------------------------------------------------ helpers (pure)
def free_handicap_points(count: int, size: int) -> list[Point]:
    """The fixed placement as far as it goes, then the points nearest the 3rd/4th line."""
    fixed = min(count, max_fixed_handicap(size))
    points = fixed_handicap_points(fixed, size) if fixed >= 2 else []
    line = 2 if size <= 12 else 3
    rest = sorted(
        ((r, c) for r in range(size) for c in range(size) if (r, c) not in points),
        key=lambda p: (abs(min(p[0], p[1], size - 1 - p[0], size - 1 - p[1]) - line), p),
    )
    return points + rest[: count - len(points)]


def chains(game: Game) -> list[list[Point]]:
    """Every chain of stones on the board, each as points in board order."""
    return [[divmod(p, game.size) for p in chain] for chain in all_chains(game.position.stones, game.size)]


def board_text(game: Game) -> str:
    """The board as GNU Go draws it (X black, O white), with captures, komi and the side to move."""
    pos, size = game.position, game.size
    letters = "   " + " ".join(GTP_COLUMNS[:size])
    rows = [letters]
    for r in range(size):
        cells = " ".join(".XO"[pos.stones[r * size + c]] for c in range(size))
        rows.append(f"{size - r:2d} {cells} {size - r}")
    rows.append(letters)
    rows.append(f"captured by black (X): {pos.captures[0]}, by white (O): {pos.captures[1]}; "
                f"komi {game.komi:g}; {color_name(pos.to_play, short=False)} to play")
    return "\n".join(rows)
