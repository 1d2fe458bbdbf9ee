"""`videoworld-go analysis`: KataGo's analysis-engine protocol on stdin/stdout, for tools written against it.

One JSON query a line in, one JSON response a line out (KataGo's docs/Analysis_Engine.md; the fields and what
our numbers mean: server/katago_json.py). Queries are read as they come while earlier ones are searched: the
reader answers the actions at once (``query_version``, ``clear_cache``, ``terminate``, ``terminate_all``,
``query_models``) and queues each query's turns; one worker thread searches them, the highest ``priority``
first (ties: in arrival order), each with the Monte Carlo tree behind the player (on 9x9 steered by the
network, elsewhere the playouts alone) and ``maxVisits`` simulations (default: the player's). With
``reportDuringSearchEvery`` the tree's state goes out while it grows (``isDuringSearch: true``); every turn
ends with exactly one response whose ``isDuringSearch`` is false. ``terminate`` ends a running turn at once
(its response holds the simulations made) and answers queued ones with ``noResults``. A malformed line or
query gets KataGo's ``{"error": ..., "field": ..., "id": ...}`` and changes nothing else; a failed search
answers ``{"error": ..., "id": ..., "turnNumber": ...}`` and the engine goes on. At the end of input the
queued turns are finished first (``--quit-without-waiting``: terminated).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Optional

from engine.analysis import Progress
from engine.deadstones import ownership_for
from engine.coords import BLACK
from engine.mc_player import RootMoves
from server.katago_json import QueryError, Turn, parse_query, response

log = logging.getLogger("analysis")

MAX_LINE = 1 << 20  # bytes; a query line longer than this is refused
DEFAULT_MAX_VISITS = 1 << 50  # the largest maxVisits a query may ask: KataGo's bound (KaTrain ponders with 10,000,000)


@dataclass(frozen=True)
class AnalysisSettings:
    max_visits: int = DEFAULT_MAX_VISITS
    version: str = "0.1"


# (size, visits, max seconds, the first moves allowed) -> analyzer
Searcher = Callable[[int, Optional[int], Optional[float], Optional[RootMoves]], Any]


class AnalysisEngine:
    """The protocol's state: queued turns, the running one, the output. ``searcher(size, visits, seconds,
    root_moves)`` gives the analyzer for a board size with that budget over those first moves
    (``analyze_many(..., progress=)``); ``write`` takes
    one response line (called from the reader and the worker: it is locked here)."""

    def __init__(self, searcher: Searcher, write: Callable[[str], None], settings: AnalysisSettings = AnalysisSettings(),
                 models: Optional[list[dict]] = None) -> None:
        self.searcher, self._write, self.settings = searcher, write, settings
        self.models = models or []
        self._lock = threading.Lock()  # the queue, the running turn, the output
        self._ready = threading.Condition(self._lock)
        self._queue: list[tuple[int, int, Turn]] = []  # heap of (-priority, arrival, turn)
        self._arrival = itertools.count()
        self._running: Optional[tuple[Turn, threading.Event]] = None
        self._closing = False
        self._worker = threading.Thread(target=self._work, name="analysis-worker", daemon=True)
        self._worker.start()

    # -------------------------------------------------------------- input
    def handle_line(self, line: str) -> None:
        """One input line: an action answered now, or a query's turns queued (errors and warnings answered now)."""
        text = line.strip()
        if not text:
            return
        try:
            q = json.loads(text)
        except (ValueError, RecursionError) as e:  # nesting deeper than the parser's stack is refused too
            self.emit({"error": f"could not parse input line as json request: {e}"})
            return
        if not isinstance(q, dict):
            self.emit({"error": "request line was not a JSON object"})
            return
        if not isinstance(q.get("id"), str):
            self.emit({"error": "Request must have a string id field", "field": "id"})
            return
        if "action" in q:
            self._action(q)
            return
        try:
            turns = parse_query(q, self.settings.max_visits)
        except QueryError as e:
            self.emit({"error": str(e), "field": e.field, "id": q["id"]} if e.field else {"error": str(e), "id": q["id"]})
            return
        except Exception as e:  # a bug must not end the engine: the query is refused, the rest goes on
            log.exception("query %r could not be read", q["id"])
            self.emit({"error": f"internal error: {type(e).__name__}: {e}", "id": q["id"]})
            return
        for w in turns[0].warnings:
            self.emit(w)
        with self._lock:
            for t in turns:
                heapq.heappush(self._queue, (-t.priority, next(self._arrival), t))
            self._ready.notify()

    def _action(self, q: dict) -> None:
        action = q["action"]
        if action == "query_version":
            self.emit(q | {"version": self.settings.version, "git_hash": "<omitted>"})
        elif action == "clear_cache":  # nothing is cached between queries: every search starts afresh
            self.emit(q)
        elif action == "query_models":
            self.emit(q | {"models": self.models})
        elif action in ("terminate", "terminate_all"):
            target = q.get("terminateId") if action == "terminate" else None
            if action == "terminate" and not isinstance(target, str):
                self.emit({"error": "terminate needs a string terminateId", "field": "terminateId", "id": q["id"]})
                return
            numbers = q.get("turnNumbers")
            if numbers is not None and not (isinstance(numbers, list) and all(isinstance(n, int) for n in numbers)):
                self.emit({"error": "Must be an array of integers", "field": "turnNumbers", "id": q["id"]})
                return
            self.emit(q)  # acknowledged first, as KataGo does; the terminated turns answer after
            self.terminate(target, None if numbers is None else set(numbers))
        else:
            self.emit({"error": f"Unknown action: {action!r}", "field": "action", "id": q["id"]})

    def terminate(self, query_id: Optional[str], turns: Optional[set[int]] = None) -> None:
        """Ends the matching turns (``query_id`` None: every query's): queued ones answer ``noResults``, a running one
        stops at its next batch and answers with what it has."""
        def hit(t: Turn) -> bool:
            return (query_id is None or t.query_id == query_id) and (turns is None or t.turn in turns)

        with self._lock:
            dropped = [t for _, _, t in self._queue if hit(t)]
            self._queue = [e for e in self._queue if not hit(e[2])]
            heapq.heapify(self._queue)
            if self._running is not None and hit(self._running[0]):
                self._running[1].set()
        for t in dropped:
            self.emit({"id": t.query_id, "isDuringSearch": False, "noResults": True, "turnNumber": t.turn})

    # -------------------------------------------------------------- output
    def emit(self, obj: dict) -> None:
        try:
            line = json.dumps(obj, separators=(",", ":"), allow_nan=False)
        except ValueError as e:  # NaN or infinity (an echoed action's own field, say): JSON has no word for it
            line = json.dumps({"error": f"the answer could not be written as JSON: {e}", "id": str(obj.get("id", ""))})
        with self._lock:
            self._write(line + "\n")

    # -------------------------------------------------------------- the worker
    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._ready.wait()
                if not self._queue:
                    return
                _, _, turn = heapq.heappop(self._queue)
                stop = threading.Event()
                self._running = (turn, stop)
            try:
                self._analyse(turn, stop)
            except Exception as e:  # a failed search must not end the engine
                log.exception("analysis of %s turn %d failed", turn.query_id, turn.turn)
                self.emit({"error": f"internal error: {type(e).__name__}: {e}", "id": turn.query_id,
                           "turnNumber": turn.turn})
            finally:
                with self._lock:
                    self._running = None

    def _analyse(self, turn: Turn, stop: threading.Event) -> None:
        analyzer = self.searcher(turn.game.size, turn.visits, turn.max_seconds, turn.root_moves)
        ownership = ownership_for(turn.game.position, BLACK) if turn.ownership else None  # the position's, once

        def during(a) -> None:
            self.emit(response(turn, a, True, ownership))

        progress = Progress(during if turn.every else (lambda a: None), turn.every or 3600.0, stop)
        a = analyzer.analyze_many([(turn.game, turn.color)], progress=progress)[0]
        self.emit(response(turn, a, False, ownership))

    def close(self, wait: bool = True) -> None:
        """End of input: finish the queued turns (``wait``) or terminate them, then stop the worker."""
        if not wait:
            self.terminate(None)
        with self._lock:
            self._closing = True
            self._ready.notify()
        self._worker.join()


def serve(engine: AnalysisEngine, instream: BinaryIO, wait: bool = True) -> None:
    """Feeds ``instream``'s lines to ``engine`` until it ends; over-long lines are refused and skipped."""
    try:
        while True:
            raw = instream.readline(MAX_LINE + 1)
            if not raw:
                return
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                while (chunk := instream.readline(65536)) and not chunk.endswith(b"\n"):
                    pass
                engine.emit({"error": f"input line longer than {MAX_LINE} bytes"})
                continue
            engine.handle_line(raw.decode("utf-8", "replace"))
    finally:
        engine.close(wait)


# ------------------------------------------------------------------ the command
def add_parser(subparsers) -> None:
    p = subparsers.add_parser("analysis", help="KataGo's analysis-engine protocol (JSON lines) on stdin/stdout")
    p.add_argument("--player", choices=("neural", "montecarlo"), default=None,
                   help="the tree on the network's board size steered by the network (neural, the default when the "
                        "shipped weights exist), or the playouts alone on every size (montecarlo)")
    p.add_argument("--weights", default=None, help="model bundle folder (default: the shipped weights/9x9)")
    p.add_argument("--max-seconds", type=float, default=None, metavar="S",
                   help="seconds a position at most (a query's overrideSettings.maxTime overrides it; default: none, "
                        "the simulations alone bound the search)")
    p.add_argument("--max-visits", type=int, default=DEFAULT_MAX_VISITS, metavar="N",
                   help=f"the largest maxVisits a query may ask (default {DEFAULT_MAX_VISITS})")
    p.add_argument("--quit-without-waiting", action="store_true",
                   help="at the end of input, terminate the queued queries instead of finishing them")
    p.add_argument("--seed", type=int, default=0, help="the searches' seed (default 0)")
    p.add_argument("--log-level", type=str.upper, default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


def make_searcher(player: Optional[str], weights: Optional[str], seed: int, max_seconds: Optional[float]
                  ) -> tuple[Searcher, list[dict]]:
    """(searcher, the models for ``query_models``): the steered tree on the bundle's size and the Monte Carlo
    tree on the others (``player`` montecarlo: everywhere), each at a query's budget."""
    from pathlib import Path

    from engine.fallback import fallback_analyzer
    from engine.mc_player import MonteCarloConfig

    folder = Path(weights) if weights else Path(__file__).resolve().parent.parent / "weights" / "9x9"
    if player is None:
        player = "neural" if (folder / "manifest.json").exists() else "montecarlo"
    fallback = fallback_analyzer("montecarlo", seed, MonteCarloConfig.playouts, max_seconds=None)
    by_size: dict[int, Any] = {}
    models: list[dict] = [{"name": "montecarlo", "boardSizes": "2-25", "search": "Monte Carlo tree, MoGo playouts"}]
    if player == "neural":
        if not (folder / "manifest.json").exists():
            raise ValueError(f"--player neural: no model bundle at {folder}")
        from models.bundle import load_bundle
        from models.player import NeuralPlayer
        from models.steered_mc import tuned_steered

        bundle = load_bundle(folder)
        network = NeuralPlayer(bundle, temperature=0.0, seed=seed)
        by_size[bundle.board_size] = tuned_steered(network, bundle.manifest.get("player", {}), seed=seed)
        models.insert(0, {"name": str(bundle.manifest.get("name", folder.name)), "boardSizes": str(bundle.board_size),
                          "sha256": bundle.manifest.get("files", {}).get("transformer.safetensors", {}).get("sha256"),
                          "search": "Monte Carlo tree steered by the network"})

    def searcher(size: int, visits: Optional[int], seconds: Optional[float], root_moves: Optional[RootMoves]) -> Any:
        base = by_size.get(size, fallback)
        return base.with_budget(visits or base.cfg.playouts, seconds if seconds is not None else max_seconds, root_moves)

    return searcher, models


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        searcher, models = make_searcher(args.player, args.weights, args.seed, args.max_seconds or None)
    except ValueError as e:
        log.error("%s", e)
        return 2
    out = sys.stdout

    def write(text: str) -> None:
        out.write(text)
        out.flush()

    engine = AnalysisEngine(searcher, write, AnalysisSettings(max_visits=args.max_visits), models)
    try:
        serve(engine, sys.stdin.buffer, wait=not args.quit_without_waiting)
    except (BrokenPipeError, KeyboardInterrupt):
        return 0
    return 0


__all__ = ["AnalysisEngine", "AnalysisSettings", "add_parser", "make_searcher", "run", "serve"]
