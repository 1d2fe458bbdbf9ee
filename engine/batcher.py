"""The dynamic batcher: its worker thread (or threads) own the model and answer many callers at once.

Callers (REST handlers, GTP games, arena games, benchmark threads) ``submit`` a game
and a colour and get a ``concurrent.futures.Future``. The worker takes the first waiting
request, then gathers more until it holds ``max_batch`` of them or ``max_wait`` has passed
since the first, and calls ``analyzer.analyze_many`` once per group of the same board size
and options (a network batch must be of one size), answering each future. One forward pass
of B positions costs far less than B passes of one, so throughput grows with load while a
lone caller waits at most ``max_wait`` extra.

``workers`` > 1: that many worker threads take batches from the one queue, each gathering
and answering its own, so one batch is computed while the next fills (on a CPU running the
model on one thread per worker, two batches of 16 on two cores serve 32 games ~1.5x
faster than one worker with batches of 32; a lone request is still one batch on one
thread). ``max_hold``: while other workers compute at least half of ``max_batch``
requests, a filling batch under half of ``max_batch`` may wait up to this long instead of
``max_wait``, and every batch closes only when ``max_wait`` passes without a new request (at
most ``max_hold`` after its first). Under heavy load a worker would otherwise start a batch
of the few callers that came back late, at nearly a full batch's fixed cost; those callers
then keep cycling apart in small batches (measured: 32 HTTP games split into batches of 1-3
beside batches of 14-16, two thirds of the throughput). Under light load (the other batch
small too) two small batches side by side are what the second core is for, so nothing
waits; a lone request waits only ``max_wait``.

Model-agnostic (no torch): anything offering ``analyze_many`` will do, e.g. the
``NeuralPlayer``, or the random player through ``engine.analysis.UniformAnalyzer``.
With one worker it is the only thread that touches the analyzer, so the analyzer needs no
locks; with more, the analyzer must be safe to call from several threads at once (the
``NeuralPlayer`` is: its weights are read-only and its KV caches belong to each call).
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
from engine.player import timing

log = logging.getLogger(__name__)


class BatcherClosed(RuntimeError):
    """The batcher was shut down before (or while) the request could be answered."""


@dataclass(frozen=True)
class Options:
    """Per-request options that change the forward pass; requests are batched only with equal options."""

    cleanup: bool = False  # KGS cleanup phase: no pass while dead stones could still be captured
    move_winrates: int = 0  # also the winrate after each of this many top moves (GUI analysis)


@dataclass
class _Request:
    game: Game
    color: int
    options: Options
    future: Future
    submitted: float  # time.monotonic(), for the queueing-delay statistic
    deadline: Optional[float] = None  # time.monotonic() to answer by (a GTP time control); not an option:
    # requests with different deadlines still share a batch, which then ends by the earliest


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
                 name: str = "batcher", workers: int = 1, max_hold: Optional[float] = None) -> None:
        if max_batch < 1 or max_wait < 0 or workers < 1 or (max_hold is not None and max_hold < 0):
            raise ValueError("max_batch and workers must be >= 1, max_wait and max_hold >= 0")
        self.analyzer = analyzer
        self.max_batch = max_batch
        self.max_wait = max_wait  # seconds
        # seconds a batch may stay open (see _gather), never less than max_wait; None: max_wait after the first
        self.max_hold = None if max_hold is None else max(max_hold, max_wait)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards _closed, _busy and _stats
        self._closed = False
        self._busy = 0  # requests in the batches being computed
        self._stats = BatchStats()
        self._threads = [threading.Thread(target=self._run, name=name if workers == 1 else f"{name}-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------ callers' side
    @property
    def name(self) -> str:
        return self.analyzer.name

    def name_for(self, size: int) -> str:
        """Which player answers positions of this board size (the neural model plays only its own size)."""
        return player_name(self.analyzer, size)

    def submit(self, game: Game, color: int, *, cleanup: bool = False, move_winrates: int = 0,
               deadline: Optional[float] = None) -> Future:
        """Queue one position; the game is snapshotted, so the caller may go on changing it."""
        future: Future = Future()
        request = _Request(snapshot(game), color, Options(cleanup, move_winrates), future, time.monotonic(), deadline)
        with self._lock:  # checked and queued under the lock: close() cannot slip in between
            if self._closed:
                raise BatcherClosed("batcher is closed")
            self._queue.put(request)
        return future

    def predict_many(self, requests: Sequence[tuple[Game, int]], *, cleanup: bool = False,
                     timeout: Optional[float] = None, move_winrates: int = 0,
                     deadline: Optional[float] = None) -> list[Analysis]:
        """Submit all, then wait for all (``timeout`` seconds each); they usually share the worker's next batch."""
        futures = [self.submit(g, c, cleanup=cleanup, move_winrates=move_winrates, deadline=deadline)
                   for g, c in requests]
        try:
            return [f.result(timeout) for f in futures]
        except BaseException:
            for f in futures:  # nobody will read the others: let the worker skip what is still queued
                f.cancel()
            raise

    def predict(self, game: Game, color: int, *, cleanup: bool = False, timeout: Optional[float] = None,
                move_winrates: int = 0, deadline: Optional[float] = None) -> Analysis:
        return self.predict_many([(game, color)], cleanup=cleanup, timeout=timeout, move_winrates=move_winrates,
                                 deadline=deadline)[0]

    def stats(self) -> BatchStats:
        with self._lock:
            return dataclasses.replace(self._stats, sizes=dict(self._stats.sizes))

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout: Optional[float] = 10.0) -> None:
        """Stop taking requests, answer what is queued, stop the workers. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in self._threads:  # one stop marker per worker, behind every request
                self._queue.put(_STOP)
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    @property
    def workers(self) -> int:
        return len(self._threads)

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
            with self._lock:
                self._busy += len(batch)
            try:
                outcomes = self._answer(batch)
            finally:
                with self._lock:
                    self._busy -= len(batch)
            # Answered only now that this batch no longer counts as being computed: a caller
            # that submits again at once must not see it so and wait max_hold for nothing.
            for future, result in outcomes:
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        # Nothing can be queued behind the stop markers: submit() refuses once closed, and
        # close() queues the markers under the same lock. A worker takes at most one marker
        # and then stops, so once the last worker has its marker, every request was taken
        # (and is answered by the worker that took it).

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        """The first request plus those that follow, up to max_batch; and whether to stop after.

        The batch closes when max_wait passes without a new request. With max_hold it stays
        open at most max_hold after the first, and, while other workers compute at least half
        of max_batch requests, also while it holds fewer than half (until max_hold): see the
        module's note."""
        batch = [first]
        now = time.monotonic()
        hold = now + (self.max_wait if self.max_hold is None else self.max_hold)
        deadline = min(hold, now + self.max_wait)
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                # Past the deadline, still take what is already queued (no waiting).
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                if deadline < hold and 2 * len(batch) < self.max_batch and self._others_loaded():
                    deadline = hold  # too small to start beside a busy worker: wait for more
                    continue
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
            deadline = min(hold, time.monotonic() + self.max_wait)
        return batch, False

    def _others_loaded(self) -> bool:
        """Other workers compute at least half a batch: the callers of this one will come back soon."""
        with self._lock:
            return 2 * self._busy >= self.max_batch

    def _answer(self, batch: list[_Request]) -> list[tuple[Future, object]]:
        """(future, Analysis or the exception) per live request; the worker delivers them."""
        # A caller that gave up (timeout -> cancel) is dropped here, before any work is spent on it.
        live = [r for r in batch if r.future.set_running_or_notify_cancel()]
        groups: dict[tuple[int, Options], list[_Request]] = {}
        for r in live:
            groups.setdefault((r.game.size, r.options), []).append(r)
        outcomes: list[tuple[Future, object]] = []
        for (_, options), group in groups.items():
            outcomes += self._answer_group(group, options)
        return outcomes

    def _answer_group(self, group: list[_Request], options: Options) -> list[tuple[Future, object]]:
        start = time.monotonic()
        try:
            deadlines = [r.deadline for r in group if r.deadline is not None]
            answers = self.analyzer.analyze_many([(r.game, r.color) for r in group], cleanup=options.cleanup,
                                                 move_winrates=options.move_winrates,
                                                 **timing(min(deadlines) if deadlines else None))
            if len(answers) != len(group):
                raise RuntimeError(f"analyzer answered {len(answers)} of {len(group)} requests")
        except Exception as e:  # one bad batch must not kill the worker: its callers get the error
            log.exception("batch of %d failed", len(group))
            self._record(group, start, failed=True)
            return [(r.future, e) for r in group]
        self._record(group, start, failed=False)
        return [(r.future, a) for r, a in zip(group, answers)]

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

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        return self.pick(self.batcher.predict(game, color, cleanup=cleanup, timeout=self.timeout, deadline=deadline),
                         game.size)

    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None) -> list[Analysis]:
        return self.batcher.predict_many(requests, cleanup=cleanup, timeout=self.timeout, move_winrates=move_winrates,
                                         deadline=deadline)

    def pick(self, analysis: Analysis, size: int) -> Move:
        if self.temperature is None:
            return analysis.move
        return from_flat(choose_move(analysis.playable, self.temperature, self._rng), size)
