"""The dynamic batcher: one worker thread owns the model and answers many callers at once.

Callers (REST handlers, GTP games, arena games, benchmark threads) ``submit`` a game
and a colour and get a ``concurrent.futures.Future``. The worker takes the first waiting
request, then gathers more until it holds ``max_batch`` of them or ``max_wait`` has passed
since the first, and calls ``analyzer.analyze_many`` once per group of the same board size
and options (a network batch must be of one size), answering each future. One forward pass
of B positions costs far less than B passes of one, so throughput grows with load while a
lone caller waits at most ``max_wait`` extra.

Model-agnostic (no torch): anything offering ``analyze_many`` will do, e.g. the
``NeuralPlayer``, or the random player through ``engine.analysis.UniformAnalyzer``.
The worker is the only thread that touches the analyzer, so the analyzer needs no locks.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from engine.analysis import Analysis, Analyzer, choose_move, player_name
from engine.coords import Move, from_flat
from engine.game import Game

log = logging.getLogger(__name__)


class BatcherClosed(RuntimeError):
    """The batcher was shut down before (or while) the request could be answered."""


@dataclass(frozen=True)
class Options:
    """Per-request options that change the forward pass; requests are batched only with equal options."""

    cleanup: bool = False  # KGS cleanup phase: no pass while dead stones could still be captured


@dataclass
class _Request:
    game: Game
    color: int
    options: Options
    future: Future
    submitted: float  # time.monotonic(), for the queueing-delay statistic


@dataclass
class BatchStats:
    """Counters of what the worker did: how many batches, how large, how long requests queued."""

    batches: int = 0
    requests: int = 0
    errors: int = 0
    largest: int = 0
    sizes: dict[int, int] = field(default_factory=dict)  # batch size -> how many batches had it
    queue_seconds: float = 0.0  # summed over requests: submit -> start of their forward pass
    compute_seconds: float = 0.0  # summed over batches

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["mean_batch"] = self.requests / self.batches if self.batches else 0.0
        d["sizes"] = {str(k): v for k, v in sorted(self.sizes.items())}
        return d


def snapshot(game: Game) -> Game:
    """A copy the caller may keep playing on: the lists are copied, positions are immutable."""
    return dataclasses.replace(game, positions=list(game.positions), moves=list(game.moves),
                               handicap=list(game.handicap))


_STOP = object()


class Batcher:
    """``submit(game, color) -> Future[Analysis]``; ``predict(x) == predict_many([x])[0]``; ``close()`` to stop."""

    def __init__(self, analyzer: Analyzer, max_batch: int = 32, max_wait: float = 0.005,
                 name: str = "batcher") -> None:
        if max_batch < 1 or max_wait < 0:
            raise ValueError("max_batch must be >= 1 and max_wait >= 0")
        self.analyzer = analyzer
        self.max_batch = max_batch
        self.max_wait = max_wait  # seconds
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards _closed and _stats
        self._closed = False
        self._stats = BatchStats()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ callers' side
    @property
    def name(self) -> str:
        return self.analyzer.name

    def name_for(self, size: int) -> str:
        """Which player answers positions of this board size (the neural model plays only its own size)."""
        return player_name(self.analyzer, size)

    def submit(self, game: Game, color: int, *, cleanup: bool = False) -> Future:
        """Queue one position; the game is snapshotted, so the caller may go on changing it."""
        future: Future = Future()
        request = _Request(snapshot(game), color, Options(cleanup), future, time.monotonic())
        with self._lock:  # checked and queued under the lock: close() cannot slip in between
            if self._closed:
                raise BatcherClosed("batcher is closed")
            self._queue.put(request)
        return future

    def predict_many(self, requests: Sequence[tuple[Game, int]], *, cleanup: bool = False,
                     timeout: Optional[float] = None) -> list[Analysis]:
        """Submit all, then wait for all (``timeout`` seconds each); they usually share the worker's next batch."""
        futures = [self.submit(g, c, cleanup=cleanup) for g, c in requests]
        try:
            return [f.result(timeout) for f in futures]
        except BaseException:
            for f in futures:  # nobody will read the others: let the worker skip what is still queued
                f.cancel()
            raise

    def predict(self, game: Game, color: int, *, cleanup: bool = False, timeout: Optional[float] = None) -> Analysis:
        return self.predict_many([(game, color)], cleanup=cleanup, timeout=timeout)[0]

    def stats(self) -> BatchStats:
        with self._lock:
            return dataclasses.replace(self._stats, sizes=dict(self._stats.sizes))

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout: Optional[float] = 10.0) -> None:
        """Stop taking requests, answer what is queued, stop the worker. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout)

    def __enter__(self) -> "Batcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ the worker
    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch, stopping = self._gather(first)
            self._answer(batch)
        # Nothing can be queued behind the stop marker: submit() refuses once closed, and
        # close() queues the marker under the same lock. So every request was answered.

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        """The first request plus what arrives within max_wait, up to max_batch; and whether to stop after."""
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                # Past the deadline, still take what is already queued (no waiting).
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _answer(self, batch: list[_Request]) -> None:
        # A caller that gave up (timeout -> cancel) is dropped here, before any work is spent on it.
        live = [r for r in batch if r.future.set_running_or_notify_cancel()]
        groups: dict[tuple[int, Options], list[_Request]] = {}
        for r in live:
            groups.setdefault((r.game.size, r.options), []).append(r)
        for (_, options), group in groups.items():
            self._answer_group(group, options)

    def _answer_group(self, group: list[_Request], options: Options) -> None:
        start = time.monotonic()
        try:
            answers = self.analyzer.analyze_many([(r.game, r.color) for r in group], cleanup=options.cleanup)
            if len(answers) != len(group):
                raise RuntimeError(f"analyzer answered {len(answers)} of {len(group)} requests")
        except Exception as e:  # one bad batch must not kill the worker: its callers get the error
            log.exception("batch of %d failed", len(group))
            for r in group:
                r.future.set_exception(e)
            self._record(group, start, failed=True)
            return
        self._record(group, start, failed=False)
        for r, a in zip(group, answers):
            r.future.set_result(a)

    def _record(self, group: list[_Request], start: float, failed: bool) -> None:
        n = len(group)
        with self._lock:
            s = self._stats
            s.batches += 1
            s.requests += n
            s.errors += n if failed else 0
            s.largest = max(s.largest, n)
            s.sizes[n] = s.sizes.get(n, 0) + 1
            s.queue_seconds += sum(start - r.submitted for r in group)
            s.compute_seconds += time.monotonic() - start


class BatchedPlayer:
    """A ``Player`` (and analyzer) over a shared batcher: many games in one process, one model.

    ``temperature`` None plays the analyzer's own move; a number re-chooses among the legal
    moves from the analysis's distribution (0: the most likely one).
    """

    def __init__(self, batcher: Batcher, temperature: Optional[float] = None, seed: Optional[int] = None,
                 timeout: Optional[float] = None) -> None:
        self.batcher = batcher
        self.name = batcher.name
        self.temperature = temperature
        self.timeout = timeout  # seconds to wait for an answer; None: forever
        self._rng = np.random.default_rng(seed)

    def name_for(self, size: int) -> str:
        return self.batcher.name_for(size)

    def genmove(self, game: Game, color: int, *, cleanup: bool = False) -> Move:
        return self.pick(self.batcher.predict(game, color, cleanup=cleanup, timeout=self.timeout), game.size)

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False) -> list[Analysis]:
        return self.batcher.predict_many(requests, cleanup=cleanup, timeout=self.timeout)

    def pick(self, analysis: Analysis, size: int) -> Move:
        if self.temperature is None:
            return analysis.move
        return from_flat(choose_move(analysis.playable, self.temperature, self._rng), size)
