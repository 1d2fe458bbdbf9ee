"""GTP analysis for GUIs: Leela Zero / KataGo analysis commands and GoGui analyze commands.

Registered by ``GtpEngine`` only when its player can analyze (``analyze_many``).

- ``lz-analyze [color] [interval] [key value ...]`` and ``kata-analyze`` (same arguments):
  ``=`` then one line of ``info move D4 visits N winrate W prior P order I pv D4`` per
  candidate, repeated every ``interval`` centiseconds until the next input line, then an
  empty line. Leela Zero's numbers are integers x10000, KataGo's floats in 0..1; ``pv`` is
  last because Sabaki reads the variation as the vertices at the end of each ``info``. After a Monte
  Carlo search ``kata-analyze`` also gives each move's ``scoreMean`` / ``scoreStdev`` / ``scoreLead``: its
  playouts' mean final area margin (komi included) for the analysed side and their spread.
- ``lz-genmove_analyze`` / ``kata-genmove_analyze`` ``[color] [interval] ...``: ``info`` lines, then
  ``play D4``; the move is played, like ``genmove``. With an interval and a Monte Carlo tree behind the
  move (the 9x9 default, the other sizes), one line every interval while the tree grows (sent as they
  come: ``GtpEngine.early_line``), then the final search's line; else the final line alone. The move is
  genmove's either way.
- ``kata-analyze ... ownership true`` (and ``kata-genmove_analyze``) end the line with KataGo's
  ``ownership`` and N*N floats in [-1, 1], top-left first, from the analysed side's view. They come
  from random playouts over the rules (engine/deadstones.py, the count's own tool), not from the
  model, which has no ownership head; Lizzie and KaTrain draw them as a territory map.
- ``gogui-analyze_commands``: a ``dboard`` of the move distribution (legal and raw), one of the
  value model's winrate after each legal move (minus the position's), a ``gfx`` overlay of
  the stones the model imagines on the next frame, and a ``dboard`` of the ownership above.

What the numbers mean here. With the network alone (``--visits 1``): ``prior`` is
the model's probability of the move (among legal moves), ``winrate`` the probability that the
side to move wins after that move, from the value model on the board the move leaves (one ply
of lookahead, no search beyond it). Bundles without a value model give every candidate the
position's winrate from the outcome head, or 0.5 when they have neither. ``visits`` is the
prior in thousandths (GUIs size their heat maps by visits), the ``pv`` just the move itself.
With a tree search (``--visits N``, the shipped bundle's default; engine/search.py): the visited moves, most visited first,
with their real visits, the search's mean winrate after each, and the principal variation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from engine.analysis import Analysis, Progress, reports_progress, top_moves
from engine.coords import BLACK, EMPTY, PASS, RESIGN, WHITE, CoordError, from_flat, parse_color, to_flat, to_gtp
from engine.deadstones import ownership_for
from engine.mc_live import start_live
from gtp.protocol import Stream

if TYPE_CHECKING:
    from gtp.engine import GtpEngine

PSEUDO_VISITS = 1000  # visits reported per unit of prior
DEFAULT_MAX_MOVES = 10
# KataGo's other boolean options: accepted so GUIs that send them still get an answer, ignored
# (no per-move ownership, no per-node visit lists, no root line).
_IGNORED_FLAGS = ("ownershipStdev", "movesOwnership", "pvVisits", "pvEdgeVisits", "rootInfo")


@dataclass(frozen=True)
class AnalyzeArgs:
    color: int
    interval: float  # seconds; 0: print once
    max_moves: int
    ownership: bool = False  # kata-analyze's "ownership true"


def parse_args(args: tuple[str, ...], default_color: int) -> AnalyzeArgs:
    """``[color] [interval] [interval N] [maxmoves N] [minmoves N] [<kata flag> true|false] ...``."""
    from gtp.engine import GtpError

    color, interval, max_moves, ownership, i = default_color, 0.0, DEFAULT_MAX_MOVES, False, 0
    if i < len(args):
        try:
            color, i = parse_color(args[i]), i + 1
        except CoordError:
            pass
    if i < len(args) and (bare := _number(args[i])) is not None:
        interval, i = bare, i + 1
    while i < len(args):
        if i + 1 >= len(args):
            raise GtpError("syntax error")
        key, value = args[i], args[i + 1]
        if key == "interval" and (x := _number(value)) is not None:
            interval = x
        elif key == "maxmoves" and _is_count(value):
            max_moves = int(value)
        elif key == "minmoves" and _is_count(value):
            pass  # every move we list has a prior; nothing to pad
        elif key == "ownership" and value in ("true", "false"):
            ownership = value == "true"
        elif key in _IGNORED_FLAGS and value in ("true", "false"):
            pass
        else:
            raise GtpError("syntax error")
        i += 2
    return AnalyzeArgs(color, interval / 100.0, max(1, max_moves), ownership)


def _is_count(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit() is True, but int() refuses it


def _number(text: str) -> Optional[float]:
    """A finite non-negative number (interval in centiseconds), or None."""
    if not text.isascii():
        return None
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) and x >= 0 else None


# ------------------------------------------------------------------ output formats
def info_line(analysis: Analysis, size: int, kata: bool, max_moves: int) -> str:
    """All candidates on one line, best first, as Leela Zero (integers) or KataGo (floats) print them."""
    position_wr = 0.5 if analysis.winrate is None else float(analysis.winrate)
    per_move = analysis.move_winrates
    parts = []
    for order, (flat, p, visits) in enumerate(_candidates(analysis, size, max_moves)):
        vertex = to_gtp(from_flat(flat, size), size)
        wr = float(per_move[flat]) if per_move is not None and np.isfinite(per_move[flat]) else position_wr
        pv = " ".join(to_gtp(from_flat(f, size), size) for f in (analysis.pvs or {}).get(flat, [flat]))
        if kata:
            parts.append(f"info move {vertex} visits {visits} winrate {wr:.6f}{_score_fields(analysis, flat)} "
                         f"prior {p:.6f} order {order} pv {pv}")
        else:
            parts.append(f"info move {vertex} visits {visits} winrate {round(wr * 10000)} "
                         f"prior {round(p * 10000)} order {order} pv {pv}")
    return " ".join(parts)


def _score_fields(analysis: Analysis, flat: int) -> str:
    """KataGo's ``scoreMean``, ``scoreStdev`` and ``scoreLead`` of a move where a Monte Carlo search measured it:
    its playouts' mean final area margin for the analysed side, komi included, and their spread (Lizzie and
    KaTrain show the lead); nothing where no playout went through the move."""
    scores, spreads = analysis.move_scores, analysis.move_score_stdevs
    if scores is None or spreads is None or not np.isfinite(scores[flat]):
        return ""
    return f" scoreMean {scores[flat]:.6f} scoreStdev {spreads[flat]:.6f} scoreLead {scores[flat]:.6f}"


def _candidates(analysis: Analysis, size: int, max_moves: int) -> list[tuple[int, float, int]]:
    """(flat, prior, visits), best first: after a tree search the move it plays, then the visited moves by visits
    (ties: prior), as KataGo's ``order`` 0 is its choice (the network's favourite or the finishing move may be
    played with fewer visits than the most visited: engine/mc_player.py), else the most likely legal moves with
    pseudo-visits proportional to the prior. The prior is the network's move distribution where a network steered
    the search (``Analysis.policy``), else the answer's own."""
    probs = analysis.legal_probs if analysis.policy is None else analysis.policy
    if analysis.visits is not None and analysis.visits.sum() > 0:
        order = [int(f) for f in np.lexsort((-probs, -analysis.visits))]
        if analysis.move is not PASS and analysis.move is not RESIGN:
            first = to_flat(analysis.move, size)
            if analysis.visits[first] > 0:
                order = [first] + [f for f in order if f != first]
        return [(f, float(probs[f]), int(analysis.visits[f])) for f in order[:max_moves] if analysis.visits[f] > 0]
    return [(flat, p, max(1, round(p * PSEUDO_VISITS))) for flat, p in top_moves(analysis, max_moves)]


def ownership_text(position, color: int) -> str:
    """KataGo's ``ownership`` field: the word, then N*N values in [-1, 1], top-left first, for ``color``."""
    return "ownership " + " ".join(f"{v:.6f}" for v in ownership_for(position, color))


def dboard(values: np.ndarray, size: int) -> str:
    """GoGui ``dboard``: N rows of N numbers, the top row first (a leading LF, as for showboard)."""
    grid = np.asarray(values[: size * size], dtype=np.float64).reshape(size, size)
    return "\n" + "\n".join(" ".join(f"{v:.4f}" for v in row) for row in grid)


def imagined_gfx(analysis: Analysis, board: np.ndarray, size: int) -> str:
    """GoGui ``gfx``: shadow stones where the imagined next frame differs from the board, MARK where it empties one."""
    imagined = np.asarray(analysis.imagined_board)
    changed = imagined != board

    def points(where: np.ndarray) -> list[str]:
        return [to_gtp((int(r), int(c)), size) for r, c in zip(*np.nonzero(where))]

    lines = []
    for command, where in (("BLACK", changed & (imagined == BLACK)), ("WHITE", changed & (imagined == WHITE)),
                           ("MARK", changed & (imagined == EMPTY))):
        pts = points(where)
        if pts:
            lines.append(command + " " + " ".join(pts))
    wr = "?" if analysis.winrate is None else f"{100 * analysis.winrate:.1f}%"
    k = int(changed.sum())
    lines.append(f"TEXT imagined next frame: {k} changed point{'' if k == 1 else 's'}; winrate {wr}")
    return "\n".join(lines)


# ------------------------------------------------------------------ handlers
def analyzer_for(player: object, size: int) -> object:
    """The analyzer that answers ``size`` behind ``player``: past GTP's batcher (engine/batcher.py, whose one
    game at a time leaves it idle while a stream is open) and the routing by board size."""
    batcher = getattr(player, "batcher", None)
    inner = getattr(batcher, "analyzer", None) or player
    for_size = getattr(inner, "for_size", None)
    return for_size(size) if callable(for_size) else inner


def analysis_commands(engine: "GtpEngine") -> dict[str, Callable]:
    """Handlers bound to ``engine``, in list_commands order."""
    from gtp.engine import GtpError

    def analyze(color: int, move_winrates: int = 0, timing: Optional[dict] = None) -> Analysis:
        """``timing``: ``{"deadline": ...}`` from the clock (genmove_analyze), else nothing."""
        return engine.player.analyze_many([(engine.game, color)], move_winrates=move_winrates,  # type: ignore[attr-defined]
                                          **(timing or {}))[0]

    def stream(kata: bool) -> Callable:
        def handler(args: tuple[str, ...]) -> Stream:
            a = parse_args(args, engine.game.to_play)
            size = engine.game.size
            # with an interval and a tree search behind the player, the search goes on between the lines
            live = start_live(analyzer_for(engine.player, size), engine.game, a.color) if a.interval > 0 else None
            first = live.first if live is not None else analyze(a.color, a.max_moves)
            suffix = " " + ownership_text(engine.game.position, a.color) if kata and a.ownership else ""
            line = info_line(first, size, kata, a.max_moves) + suffix
            grow = None
            if live is not None:
                def grow(seconds: float, stop) -> str:
                    return info_line(live.grow(seconds, stop), size, kata, a.max_moves) + suffix
            return Stream(lines=(line,), repeat=line if a.interval > 0 else None, interval=a.interval,
                          until_input=True, grow=grow)
        return handler

    def genmove_stream(kata: bool) -> Callable:
        def handler(args: tuple[str, ...]) -> Stream:
            a = parse_args(args, engine.game.to_play)
            size = engine.game.size
            # of the position searched, before the move, as KataGo prints it
            suffix = " " + ownership_text(engine.game.position, a.color) if kata and a.ownership else ""
            searcher = analyzer_for(engine.player, size)
            if a.interval > 0 and reports_progress(searcher):
                # a tree search behind the move: its state every interval while it runs, as KataGo prints them
                def show(now: Analysis) -> None:
                    engine.early_line(info_line(now, size, kata, a.max_moves) + suffix)

                def think(timing: dict) -> Analysis:
                    return searcher.analyze_many([(engine.game, a.color)], move_winrates=a.max_moves,  # type: ignore[attr-defined]
                                                 progress=Progress(show, a.interval), **timing)[0]
            else:
                def think(timing: dict) -> Analysis:
                    return analyze(a.color, a.max_moves, timing)
            # a move of the game like genmove: under a time control it gets the clock's deadline
            result = engine.timed(a.color, think)
            move = result.move
            if move is not RESIGN and not engine.game.position.is_legal(move, a.color):
                raise GtpError(f"internal error: player {engine.player.name} chose an illegal move {move!r}")
            line = info_line(result, size, kata, a.max_moves) + suffix
            engine.game.play(move, a.color)
            engine.played(move)
            return Stream(lines=(line,), tail=(f"play {to_gtp(move, engine.game.size)}",))
        return handler

    def color_arg(args: tuple[str, ...]) -> int:
        if len(args) > 1:
            raise GtpError("syntax error")
        return engine._color(args[0]) if args else engine.game.to_play

    def policy(args: tuple[str, ...]) -> str:
        return dboard(analyze(color_arg(args)).legal_probs, engine.game.size)

    def raw_policy(args: tuple[str, ...]) -> str:
        return dboard(analyze(color_arg(args)).probs, engine.game.size)

    def winrates(args: tuple[str, ...]) -> str:
        """GoGui map of the value model's winrate after each legal move, minus the position's (positive:
        the move leaves the mover better off than the model thinks it is now)."""
        color = color_arg(args)
        a = analyze(color, engine.game.size ** 2 + 1)
        if a.move_winrates is None or a.winrate is None:
            raise GtpError("no winrates: this player has no value model")
        gain = np.where(np.isfinite(a.move_winrates), a.move_winrates - a.winrate, 0.0)
        return dboard(gain, engine.game.size)

    def ownership(args: tuple[str, ...]) -> str:
        return dboard(ownership_for(engine.game.position, color_arg(args)), engine.game.size)

    def imagined(args: tuple[str, ...]) -> str:
        return imagined_gfx(analyze(color_arg(args)), engine.game.position.array(), engine.game.size)

    def gogui_commands(args: tuple[str, ...]) -> str:
        engine._arity(args, 0)
        return "\n".join(["dboard/Move Probabilities/videoworld-policy %c",
                          "dboard/Raw Move Probabilities (before the rules)/videoworld-raw_policy %c",
                          "dboard/Winrate After Each Move, minus Now/videoworld-winrates %c",
                          "gfx/Imagined Next Stones/videoworld-imagined %c",
                          "dboard/Ownership (playouts over the rules, not the model)/videoworld-ownership %c"])

    return {
        "lz-analyze": stream(kata=False),
        "kata-analyze": stream(kata=True),
        "lz-genmove_analyze": genmove_stream(kata=False),
        "kata-genmove_analyze": genmove_stream(kata=True),
        "gogui-analyze_commands": gogui_commands,
        "videoworld-policy": policy,
        "videoworld-raw_policy": raw_policy,
        "videoworld-winrates": winrates,
        "videoworld-imagined": imagined,
        "videoworld-ownership": ownership,
    }


__all__ = ["AnalyzeArgs", "analysis_commands", "dboard", "imagined_gfx", "info_line", "ownership_text", "parse_args"]
