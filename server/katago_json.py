"""KataGo's analysis-engine JSON (docs/Analysis_Engine.md of KataGo): queries in, responses out.

Pure functions: ``parse_query`` turns one query object into the positions (turns) to analyse, or raises
``QueryError`` with the field at fault; ``response`` turns one turn's ``Analysis`` into KataGo's response
object. The loop that reads lines, queues turns and writes answers is server/analysis_engine.py.

What the numbers are here (docs/gtp.md "KataGo's analysis protocol"): ``visits`` are the Monte Carlo
tree's simulations through a move; ``winrate`` its playouts' win share; ``scoreLead`` / ``scoreMean`` /
``scoreSelfplay`` the playouts' mean final area margin (komi included), ``scoreStdev`` its standard deviation
(random playouts spread far wider than KataGo's network predicts); ``prior`` the network's probability of the
move (9x9), or an even share of the legal moves where no network plays; ``lcb`` the win share less 1.96
binomial standard errors; ``utility`` 2 * winrate - 1 (no score utility); ``edgeVisits`` / ``weight`` /
``edgeWeight`` / ``playSelectionValue`` equal ``visits`` (no transpositions, every playout weighs one, the most
visited move is played). ``thisHash`` / ``symHash`` are 64-bit Zobrist hashes (of stones, side to move and
ko; ``symHash`` the least over the 8 board symmetries). The rules are always area scoring with positional
superko: other rule sets are accepted with a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from engine.analysis import Analysis
from engine.board import IllegalMove, Position, zobrist
from engine.coords import BLACK, MAX_SIZE, MIN_SIZE, PASS, WHITE, CoordError, from_flat, from_gtp, opponent, to_flat, to_gtp
from engine.game import Game
from engine.mc_player import RootMoves
from engine.symmetry import transform_move, transform_stones

REPORT_AS = ("BLACK", "WHITE", "SIDETOMOVE")
DEFAULT_KOMI = 7.5  # KataGo's default for area scoring when a query gives none
DEFAULT_PV_LEN = 15  # moves after the first in a reported variation (KataGo's analysisPVLen)
MAX_MOVES_PER_POINT = 4  # a history longer than 4 * N * N moves is refused (as REST does)
AREA_RULES = ("tromp-taylor", "chinese", "chinese-ogs", "chinese-kgs", "aga", "bga", "new-zealand",
              "stone-scoring", "aga-button")
TERRITORY_RULES = ("japanese", "korean")
IGNORED = {  # fields KataGo knows and we accept without acting on them: why
    "rootPolicyTemperature": "the tree has no policy temperature",
    "rootFpuReductionMax": "the tree has no first-play urgency reduction",
    "whiteHandicapBonus": "komi is taken as given",
    "includeOwnershipStdev": "no ownership deviation is kept",
    "includeMovesOwnership": "ownership is given for the position only",
    "includeNoResultValue": "no result value is kept",
}
KNOWN = {"id", "moves", "initialStones", "initialPlayer", "rules", "komi", "boardXSize", "boardYSize",
         "analyzeTurns", "maxVisits", "includeOwnership", "includePolicy", "analysisPVLen",
         "reportDuringSearchEvery", "priority", "priorities", "overrideSettings", "avoidMoves",
         "allowMoves", "includePVVisits"} | set(IGNORED)
OVERRIDES = ("reportAnalysisWinratesAs", "maxVisits", "maxTime", "analysisPVLen")


class QueryError(ValueError):
    """A query that cannot be analysed: KataGo's ``{"error": message, "field": field, "id": id}``."""

    def __init__(self, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Turn:
    """One position of a query to analyse."""

    query_id: str
    turn: int
    game: Game  # the history up to this turn
    color: int  # the side to move
    visits: Optional[int]  # simulations (None: the engine's default)
    max_seconds: Optional[float]  # overrideSettings.maxTime
    report_as: str
    pv_len: int
    every: Optional[float]  # reportDuringSearchEvery (seconds)
    ownership: bool
    policy: bool
    priority: int
    pv_visits: bool = False
    warnings: list[dict[str, Any]] = field(default_factory=list)
    root_moves: Optional[RootMoves] = None  # the first moves allowed; None: all


# ------------------------------------------------------------------ queries
def _int(q: dict, key: str, low: int, high: int, default: Optional[int] = None) -> Optional[int]:
    """``q[key]``, an integer in [low, high]; ``default`` when absent (null is not absent)."""
    if key not in q:
        return default
    value = q[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise QueryError(f"Must provide an integer from {low} to {high}", key)
    return value


def _bool(q: dict, key: str) -> bool:
    value = q.get(key, False)
    if not isinstance(value, bool):
        raise QueryError("Must be a boolean", key)
    return value


def _player(text: Any, key: str) -> int:
    if text in ("B", "b"):
        return BLACK
    if text in ("W", "w"):
        return WHITE
    raise QueryError(f"Could not parse player: {text!r}", key)


def _location(text: str, size: int, key: str, where: str) -> Any:
    """A move location (a point or pass; not resign) of the field ``key``; ``where`` names it in the error."""
    try:
        move = from_gtp(text, size)
    except CoordError:
        raise QueryError(f"Could not parse location{where}: {text!r}", key) from None
    if move is not PASS and not isinstance(move, tuple):  # resign
        raise QueryError(f"Could not parse location{where}: {text!r}", key)
    return move


def _pairs(q: dict, key: str, size: int, required: bool) -> list[tuple[int, Any]]:
    """``[["B", "C4"], ...]`` as (colour, move); pass allowed only in ``moves``."""
    if key not in q:
        if required:
            raise QueryError("Required field missing", key)
        return []
    items = q[key]
    if not isinstance(items, list):
        raise QueryError("Must be an array of [player, location] pairs", key)
    out = []
    for i, item in enumerate(items):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)):
            raise QueryError(f"Entry {i} must be a [player, location] pair", key)
        out.append((_player(item[0], key), _location(item[1], size, key, f" {i}")))
    return out


def _rules(q: dict, warnings: list[dict], qid: str) -> None:
    if "rules" not in q:
        raise QueryError("Required field missing", "rules")
    rules = q["rules"]
    if isinstance(rules, str):
        name = rules.lower()
        if name in AREA_RULES:
            return
        if name in TERRITORY_RULES:
            warnings.append(_warning(qid, "rules", f"{rules} scoring is not supported: scored as area scoring "
                                                   "with positional superko"))
            return
        raise QueryError(f"Unknown rules: {rules!r}", "rules")
    if isinstance(rules, dict):
        warnings.append(_warning(qid, "rules", "rules objects are read as area scoring with positional superko"))
        return
    raise QueryError("Must be a string or an object", "rules")


def _warning(qid: str, key: str, message: str) -> dict[str, Any]:
    return {"field": key, "id": qid, "warning": message}


def parse_query(q: dict, max_visits: int) -> list[Turn]:
    """The turns one analysis query asks for (QueryError: it asks for none)."""
    qid = q["id"]
    warnings: list[dict] = []
    for key in q:
        if key not in KNOWN:
            warnings.append(_warning(qid, key, "Unexpected or unused field, do you have a typo?"))
        elif key in IGNORED:
            warnings.append(_warning(qid, key, f"ignored: {IGNORED[key]}"))
    size_x = _int(q, "boardXSize", MIN_SIZE, MAX_SIZE)
    size = _int(q, "boardYSize", MIN_SIZE, MAX_SIZE)
    if size_x is None:
        raise QueryError("Required field missing", "boardXSize")
    if size is None:
        raise QueryError("Required field missing", "boardYSize")
    if size_x != size:
        raise QueryError("Only square boards are supported", "boardYSize")
    _rules(q, warnings, qid)
    komi = q.get("komi", DEFAULT_KOMI)
    if isinstance(komi, bool) or not isinstance(komi, (int, float)) or not math.isfinite(komi) \
            or abs(komi) > 150 or (2 * komi) != int(2 * komi):
        raise QueryError("Must be an integer or half-integer from -150 to 150", "komi")
    moves = _pairs(q, "moves", size, required=True)
    if len(moves) > MAX_MOVES_PER_POINT * size * size:
        raise QueryError(f"At most {MAX_MOVES_PER_POINT}*N*N moves", "moves")
    stones = _pairs(q, "initialStones", size, required=False)
    first = _player(q["initialPlayer"], "initialPlayer") if "initialPlayer" in q else None
    turns = q.get("analyzeTurns", [len(moves)])
    if not (isinstance(turns, list) and turns and all(isinstance(t, int) and not isinstance(t, bool) for t in turns)):
        raise QueryError("Must be a non-empty array of integers", "analyzeTurns")
    if any(not 0 <= t <= len(moves) for t in turns):
        raise QueryError(f"Turns must be from 0 to {len(moves)}, the number of moves", "analyzeTurns")
    overrides = q.get("overrideSettings", {})
    if not isinstance(overrides, dict):
        raise QueryError("Must be an object", "overrideSettings")
    for key in overrides:
        if key not in OVERRIDES:
            warnings.append(_warning(qid, "overrideSettings", f"{key}: not a setting of this engine, ignored"))
    report_as = overrides.get("reportAnalysisWinratesAs", "BLACK")
    if not isinstance(report_as, str) or report_as.upper() not in REPORT_AS:
        raise QueryError(f"reportAnalysisWinratesAs must be one of {', '.join(REPORT_AS)}", "overrideSettings")
    visits = _int(q, "maxVisits", 1, max_visits)
    if "maxVisits" in overrides:
        visits = _int(overrides, "maxVisits", 1, max_visits)
    max_time = overrides.get("maxTime")
    if max_time is not None and (isinstance(max_time, bool) or not isinstance(max_time, (int, float))
                                 or not math.isfinite(max_time) or max_time <= 0):
        raise QueryError("maxTime must be a positive number of seconds", "overrideSettings")
    pv_len = _int(q, "analysisPVLen", 0, 1000, _int(overrides, "analysisPVLen", 0, 1000, DEFAULT_PV_LEN))
    every = q.get("reportDuringSearchEvery")
    if every is not None and (isinstance(every, bool) or not isinstance(every, (int, float))
                              or not math.isfinite(every) or every <= 0):
        raise QueryError("Must be a positive number of seconds", "reportDuringSearchEvery")
    priority = _int(q, "priority", -(2 ** 31), 2 ** 31 - 1, 0)
    priorities = q.get("priorities")
    if priorities is not None and not (isinstance(priorities, list) and len(priorities) == len(turns)
                                       and all(isinstance(p, int) and not isinstance(p, bool) for p in priorities)):
        raise QueryError("Must be an array of integers as long as analyzeTurns", "priorities")
    rules = _move_rules(q, size, warnings, qid)
    games = _histories(size, float(komi), stones, moves, first, set(turns))
    out = []
    for i, t in enumerate(turns):
        color = _to_move(t, moves, first)
        out.append(Turn(qid, t, games[t], color, visits, max_time, report_as.upper(), int(pv_len), every,
                        _bool(q, "includeOwnership"), _bool(q, "includePolicy"),
                        priorities[i] if priorities is not None else int(priority), _bool(q, "includePVVisits"),
                        warnings if i == 0 else [], _root_moves(rules, color, size)))
    return out


def _move_rules(q: dict, size: int, warnings: list[dict], qid: str) -> list[tuple[str, int, set[int]]]:
    """KataGo's ``allowMoves`` / ``avoidMoves`` as (kind, colour, flat points with N*N for pass). They bind the
    first move of the search only: entries reaching deeper (``untilDepth`` > 1), or for the other side's
    replies, are warned about."""
    out = []
    for key, kind in (("allowMoves", "allow"), ("avoidMoves", "avoid")):
        if key not in q:
            continue
        entries = q[key]
        if not isinstance(entries, list) or (kind == "allow" and len(entries) != 1):
            raise QueryError("Must be an array of objects (allowMoves: exactly one)", key)
        for e in entries:
            if not (isinstance(e, dict) and isinstance(e.get("moves"), list) and all(isinstance(m, str) for m in e["moves"])):
                raise QueryError("Each entry needs player, moves (an array of locations) and untilDepth", key)
            depth = _int(e, "untilDepth", 1, 1 << 20)
            if depth is None:
                raise QueryError("Each entry needs player, moves (an array of locations) and untilDepth", key)
            points = {to_flat(_location(m, size, key, ""), size) for m in e["moves"]}
            if depth > 1:
                warnings.append(_warning(qid, key, "enforced on the first move of the search only"))
            out.append((kind, _player(e.get("player"), key), points))
    return out


def _root_moves(rules: list[tuple[str, int, set[int]]], color: int, size: int) -> Optional[RootMoves]:
    """The first moves ``color`` may play under the move rules (None: all)."""
    mine = [(kind, points) for kind, who, points in rules if who == color]
    if not mine:
        return None
    allowed = set(range(size * size + 1))
    for kind, points in mine:
        allowed = allowed & points if kind == "allow" else allowed - points
    return RootMoves(frozenset(allowed), named=any(kind == "allow" for kind, _ in mine))


def _to_move(turn: int, moves: list[tuple[int, Any]], first: Optional[int]) -> int:
    """KataGo's side to move at a turn: the player of the next move, else the other of the last, else
    ``initialPlayer`` (Black by default)."""
    if turn < len(moves):
        return moves[turn][0]
    if moves:
        return opponent(moves[-1][0])
    return BLACK if first is None else first


def _histories(size: int, komi: float, stones: list[tuple[int, Any]], moves: list[tuple[int, Any]],
               first: Optional[int], wanted: set[int]) -> dict[int, Game]:
    """The game at each wanted turn (copies), the moves checked by the rules on the way."""
    game = Game(size=size, komi=komi)
    if stones:
        black = [m for c, m in stones if c == BLACK and m is not PASS]
        white = [m for c, m in stones if c == WHITE and m is not PASS]
        if len(black) + len(white) != len(stones) or len(set(black + white)) != len(stones):
            raise QueryError("initialStones: a pass, or a point given twice", "initialStones")
        try:
            game.setup(black, white, to_play=_to_move(0, moves, first))
        except (IllegalMove, ValueError) as e:
            raise QueryError(f"initialStones: {e}", "initialStones") from None
    out = {}
    for t in range(len(moves) + 1):
        if t in wanted:
            out[t] = _copy(game)
        if t < len(moves):
            color, move = moves[t]
            try:
                game.play(move, color)
            except IllegalMove:
                raise QueryError(f"Illegal move {t}: {to_gtp(move, size)}", "moves") from None
    return out


def _copy(game: Game) -> Game:
    return Game(game.size, game.komi, list(game.positions), list(game.moves))


# ------------------------------------------------------------------ responses
def response(turn: Turn, a: Analysis, during: bool, ownership: Optional[np.ndarray] = None) -> dict[str, Any]:
    """KataGo's response to one turn from a tree search's ``Analysis`` (``ownership``: the map, from Black's
    view, when asked for)."""
    game, size, color = turn.game, turn.game.size, turn.color
    flip = (turn.report_as == "BLACK" and color == WHITE) or (turn.report_as == "WHITE" and color == BLACK)
    legal = game.position.legal_mask(color)  # (N*N+1,) bool, pass last
    prior = _prior(a, legal)
    visits = np.zeros(size * size + 1) if a.visits is None else np.asarray(a.visits, dtype=np.float64)
    wins = np.asarray(a.move_winrates, dtype=np.float64) if a.move_winrates is not None else np.full(len(visits), np.nan)
    scores = a.move_scores if a.move_scores is not None else np.full(len(visits), np.nan)
    spreads = a.move_score_stdevs if a.move_score_stdevs is not None else np.full(len(visits), np.nan)
    tried = [int(f) for f in np.lexsort((-prior, -visits)) if visits[f] > 0]
    infos = []
    for f in tried:
        n = int(visits[f])
        infos.append(_stats(wins[f], scores[f], spreads[f], n, flip) | {
            "move": _vertex(f, size), "order": len(infos), "prior": float(prior[f]),
            "pv": [_vertex(p, size) for p in (a.pvs or {}).get(f, [f])][: turn.pv_len + 1],
            "edgeVisits": n, "weight": float(n), "edgeWeight": float(n), "playSelectionValue": float(n)})
        if turn.pv_visits:  # KataGo's pvVisits and pvEdgeVisits: the same here (no transpositions)
            through = (a.pv_visits or {}).get(f, [n])[: turn.pv_len + 1]
            infos[-1] |= {"pvVisits": through, "pvEdgeVisits": through}
    total = int(visits.sum())
    if total > 0:
        seen = visits > 0
        w = visits[seen] / total
        root_wr = float(np.sum(w * wins[seen]))
        mean = float(np.sum(w * np.nan_to_num(scores[seen])))
        spread = math.sqrt(max(0.0, float(np.sum(w * (np.nan_to_num(spreads[seen]) ** 2
                                                       + np.nan_to_num(scores[seen]) ** 2))) - mean ** 2))
    else:
        root_wr = 0.5 if a.winrate is None else float(a.winrate)
        mean, spread = 0.0, 0.0
    root = _stats(root_wr, mean, spread, max(total, 1), flip) | {
        "visits": total, "weight": float(total), "currentPlayer": "B" if color == BLACK else "W",
        "thisHash": f"{position_hash(game.position, color):016X}", "symHash": f"{symmetric_hash(game.position, color):016X}"}
    for key in ("lcb", "utilityLcb", "scoreMean"):  # KataGo's root has none of these
        root.pop(key)
    out: dict[str, Any] = {"id": turn.query_id, "isDuringSearch": during, "turnNumber": turn.turn,
                           "moveInfos": infos, "rootInfo": root}
    if turn.ownership and ownership is not None:
        own = -ownership if turn.report_as == "WHITE" or (turn.report_as == "SIDETOMOVE" and color == WHITE) else ownership
        out["ownership"] = [round(float(x), 6) for x in own]
    if turn.policy:
        out["policy"] = [float(p) if ok else -1.0 for p, ok in zip(prior, legal)]
    return out


def _stats(win: float, score: float, spread: float, n: int, flip: bool) -> dict[str, Any]:
    """winrate, lcb, utility, score fields of one move (the mover's numbers), in the reported perspective."""
    win = 0.5 if not math.isfinite(win) else float(win)
    score = 0.0 if not math.isfinite(score) else float(score)
    margin = 1.96 * math.sqrt(max(win * (1.0 - win), 0.0) / max(n, 1))
    lcb = win - margin
    if flip:
        win, lcb, score = 1.0 - win, 1.0 - lcb, -score
    return {"winrate": win, "lcb": lcb, "utility": 2.0 * win - 1.0, "utilityLcb": 2.0 * lcb - 1.0,
            "scoreLead": score, "scoreMean": score, "scoreSelfplay": score,
            "scoreStdev": 0.0 if not math.isfinite(spread) else float(spread), "visits": n}


def _prior(a: Analysis, legal: np.ndarray) -> np.ndarray:
    """The network's legal distribution when a network read the position, else an even share of the legal moves."""
    if a.policy is not None:
        return np.asarray(a.policy, dtype=np.float64)
    return legal.astype(np.float64) / max(1, int(legal.sum()))


def _vertex(flat: int, size: int) -> str:
    return to_gtp(from_flat(flat, size), size)


_SIDE = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F)  # mixed in for Black / White to move
_KO = 0x165667B19E3779F9  # multiplied by the ko point + 1


def position_hash(position: Position, color: int, stones: Optional[bytes] = None, ko: Optional[int] = None) -> int:
    """64-bit Zobrist hash of (stones, side to move, simple-ko point)."""
    stones = position.stones if stones is None else stones
    ko = (position.ko if color == position.to_play else -1) if ko is None else ko
    keys = zobrist(position.size)
    h = 0
    for p, c in enumerate(stones):
        if c:
            h ^= keys[p][c]
    return (h ^ _SIDE[0 if color == BLACK else 1] ^ ((ko + 1) * _KO)) & 0xFFFFFFFFFFFFFFFF


def symmetric_hash(position: Position, color: int) -> int:
    """The least ``position_hash`` over the 8 symmetries of the board (the same for equivalent positions)."""
    size = position.size
    ko = position.ko if color == position.to_play else -1
    out = []
    for t in range(8):
        k = -1
        if ko >= 0:
            k = to_flat(transform_move(from_flat(ko, size), t, size), size)
        out.append(position_hash(position, color, transform_stones(position.stones, t, size), k))
    return min(out)


__all__ = ["QueryError", "REPORT_AS", "Turn", "parse_query", "position_hash", "response", "symmetric_hash"]
