"""The dynamic batcher and the analyzers it serves: grouping, answers, errors, shutdown."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from engine.analysis import Analysis, BySizeAnalyzer, UniformAnalyzer, choose_move, cleanup_mask
from engine.batcher import Batcher, BatchedPlayer, BatcherClosed
from engine.board import from_ascii
from engine.coords import BLACK, PASS, WHITE, from_flat, to_flat
from engine.game import Game
from engine.player import RandomPlayer

REPO = Path(__file__).resolve().parents[1]


class EchoAnalyzer:
    """Answers with the game's move count as ``winrate`` (so answers can be matched to requests) and records each call."""

    name = "echo"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[list[tuple[int, int, int]]] = []  # per call: (size, moves, colour)
        self.cleanups: list[bool] = []
        self.threads: set[str] = set()

    def genmove(self, game, color, *, cleanup=False):
        return PASS

    def analyze_many(self, requests, cleanup=False, move_winrates=0):
        self.threads.add(threading.current_thread().name)
        self.calls.append([(g.size, g.move_number, c) for g, c in requests])
        self.cleanups.append(cleanup)
        time.sleep(self.delay)
        out = []
        for g, c in requests:
            n = g.size * g.size + 1
            probs = np.full(n, 1.0 / n)
            out.append(Analysis(probs, probs, PASS, True, PASS, float(g.move_number), [], g.position.array(), None))
        return out


class FailingAnalyzer(EchoAnalyzer):
    def analyze_many(self, requests, cleanup=False, move_winrates=0):
        if any(g.move_number == 13 for g, _ in requests):
            raise RuntimeError("unlucky position")
        return super().analyze_many(requests, cleanup)


def game_with(moves: int, size: int = 9, seed: int = 0) -> Game:
    g, p = Game(size), RandomPlayer(seed)
    for _ in range(moves):
        g.play(p.genmove(g, g.to_play), g.to_play)
    return g


# ------------------------------------------------------------------ batching
def test_concurrent_requests_share_a_batch_and_each_gets_its_own_answer():
    analyzer = EchoAnalyzer(delay=0.01)
    with Batcher(analyzer, max_batch=32, max_wait=0.2) as b:
        futures = [b.submit(game_with(n), BLACK) for n in range(20)]
        answers = [f.result(10) for f in futures]
        assert [a.winrate for a in answers] == list(range(20))
        stats = b.stats()
    assert stats.requests == 20 and stats.largest > 1 and stats.batches < 20
    assert sum(k * v for k, v in stats.sizes.items()) == 20
    assert analyzer.threads == {"batcher"}  # only the worker touches the model


class OverlapAnalyzer(EchoAnalyzer):
    """Echo that also counts how many calls run at the same moment."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self._lock = threading.Lock()
        self.running = 0
        self.most_running = 0

    def analyze_many(self, requests, cleanup=False, move_winrates=0):
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            return super().analyze_many(requests, cleanup)
        finally:
            with self._lock:
                self.running -= 1


def test_two_workers_answer_two_batches_at_once_each_request_its_own_answer():
    analyzer = OverlapAnalyzer(delay=0.1)
    with Batcher(analyzer, max_batch=8, max_wait=0.02, workers=2) as b:
        assert b.workers == 2
        futures = [b.submit(game_with(n), BLACK) for n in range(40)]
        assert [f.result(30).winrate for f in futures] == [float(n) for n in range(40)]
        stats = b.stats()
    assert analyzer.most_running == 2  # batches overlapped, never more than the workers
    assert analyzer.threads == {"batcher-0", "batcher-1"}
    assert stats.requests == 40 and max(len(c) for c in analyzer.calls) <= 8


def test_a_failing_batch_fails_its_own_callers_only_with_two_workers():
    with Batcher(FailingAnalyzer(), max_batch=1, max_wait=0, workers=2) as b:
        futures = [b.submit(game_with(n), BLACK) for n in range(11, 16)]
        for n, f in zip(range(11, 16), futures):
            if n == 13:
                with pytest.raises(RuntimeError, match="unlucky"):
                    f.result(10)
            else:
                assert f.result(10).winrate == n
        assert b.stats().errors == 1


def test_a_lone_caller_never_waits_max_hold():
    """Nothing else being computed: each request waits max_wait only, even right after its own answer."""
    analyzer = EchoAnalyzer()
    with Batcher(analyzer, max_wait=0.01, max_hold=3.0, workers=2) as b:
        start = time.monotonic()
        for n in range(3):
            assert b.predict(game_with(n), WHITE, timeout=10).winrate == n
        assert time.monotonic() - start < 2.0
    assert [len(c) for c in analyzer.calls] == [1, 1, 1]


@pytest.mark.parametrize("hold", [None, 3.0])
def test_beside_a_big_batch_the_other_worker_waits_to_fill_half_a_batch(hold):
    analyzer = EchoAnalyzer(delay=1.0)
    with Batcher(analyzer, max_batch=8, max_wait=0.05, max_hold=hold, workers=2) as b:
        futures = [b.submit(game_with(n), BLACK) for n in range(4)]  # one worker computes these 4 for 1 s
        for n in range(4, 8):  # the stragglers, 100 ms apart: never within max_wait of each other
            time.sleep(0.1)
            futures.append(b.submit(game_with(n), BLACK))
        assert [f.result(30).winrate for f in futures] == list(range(8))
    sizes = sorted(len(c) for c in analyzer.calls)
    # with the hold: 0..3, then 4..7 together (half of 8 closes it); without: the stragglers one by one
    assert (sizes == [4, 4]) if hold else len(sizes) >= 3, sizes


def test_beside_a_small_batch_nothing_waits():
    """Light load: the other worker computes less than half a batch, so a straggler runs at once."""
    analyzer = EchoAnalyzer(delay=1.0)
    with Batcher(analyzer, max_batch=8, max_wait=0.02, max_hold=3.0, workers=2) as b:
        first = b.submit(game_with(0), BLACK)
        time.sleep(0.1)
        start = time.monotonic()
        assert b.predict(game_with(1), BLACK, timeout=10).winrate == 1
        assert time.monotonic() - start < 2.5  # its own 1 s, not the 3 s hold
        assert first.result(10).winrate == 0
    assert sorted(len(c) for c in analyzer.calls) == [1, 1]


def test_predict_is_predict_many_of_one():
    with Batcher(EchoAnalyzer(), max_wait=0) as b:
        g = game_with(5)
        assert b.predict(g, WHITE).winrate == b.predict_many([(g, WHITE)])[0].winrate == 5.0


def test_max_batch_caps_every_batch():
    analyzer = EchoAnalyzer(delay=0.02)
    with Batcher(analyzer, max_batch=4, max_wait=0.1) as b:
        b.predict_many([(game_with(n % 7), BLACK) for n in range(18)], timeout=30)
    assert max(len(c) for c in analyzer.calls) <= 4
    assert sum(len(c) for c in analyzer.calls) == 18


def test_a_lone_request_waits_at_most_about_max_wait():
    with Batcher(EchoAnalyzer(), max_wait=0.05) as b:
        start = time.monotonic()
        b.predict(Game(9), BLACK, timeout=10)
        assert time.monotonic() - start < 2.0  # 50 ms + scheduling on a busy machine


def test_batches_hold_one_board_size_and_one_cleanup_flag():
    analyzer = EchoAnalyzer()
    with Batcher(analyzer, max_batch=64, max_wait=0.2) as b:
        futures = [b.submit(Game(size), BLACK, cleanup=cleanup) for size in (9, 13, 9, 19, 13) for cleanup in (False, True)]
        for f in futures:
            f.result(10)
    for call, cleanup in zip(analyzer.calls, analyzer.cleanups):
        assert len({size for size, _, _ in call}) == 1
    assert sorted((c[0][0], cl) for c, cl in zip(analyzer.calls, analyzer.cleanups)) == sorted(
        {(s, cl) for s in (9, 13, 19) for cl in (False, True)})


def test_the_game_is_snapshotted_at_submit():
    analyzer = EchoAnalyzer(delay=0.05)
    g = game_with(3)
    with Batcher(analyzer, max_wait=0.1) as b:
        future = b.submit(g, BLACK)
        g.play(PASS, g.to_play)  # the caller goes on playing before the worker runs
        assert future.result(10).winrate == 3.0


# ------------------------------------------------------------------ failures and shutdown
def test_an_analyzer_error_fails_its_batch_only_and_the_worker_survives():
    with Batcher(FailingAnalyzer(), max_wait=0) as b:
        with pytest.raises(RuntimeError, match="unlucky"):
            b.predict(game_with(13), BLACK, timeout=10)
        assert b.predict(game_with(2), BLACK, timeout=10).winrate == 2.0
        assert b.stats().errors == 1


def test_a_cancelled_request_is_never_computed():
    analyzer = EchoAnalyzer(delay=0.2)
    with Batcher(analyzer, max_batch=1, max_wait=0) as b:
        first = b.submit(game_with(1), BLACK)  # occupies the worker for 0.2 s
        time.sleep(0.05)
        second = b.submit(game_with(2), BLACK)
        assert second.cancel()
        first.result(10)
        b.predict(game_with(3), BLACK, timeout=10)
        with pytest.raises(CancelledError):
            second.result(0)
    assert [c[0][1] for c in analyzer.calls] == [1, 3]


@pytest.mark.parametrize("workers", [1, 3])
def test_close_answers_what_is_queued_then_refuses_new_requests(workers):
    analyzer = EchoAnalyzer(delay=0.05)
    b = Batcher(analyzer, max_batch=2, max_wait=0, workers=workers, name="closing")
    futures = [b.submit(game_with(n), BLACK) for n in range(12)]
    b.close()
    assert [f.result(0).winrate for f in futures] == list(range(12))
    assert not any(t.is_alive() for t in threading.enumerate() if t.name.startswith("closing"))
    with pytest.raises(BatcherClosed):
        b.submit(Game(9), BLACK)
    b.close()  # idempotent


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        Batcher(EchoAnalyzer(), max_batch=0)
    with pytest.raises(ValueError):
        Batcher(EchoAnalyzer(), workers=0)
    with pytest.raises(ValueError):
        Batcher(EchoAnalyzer(), max_hold=-0.1)
    b = Batcher(EchoAnalyzer(), max_wait=0.2, max_hold=0.05)  # a hold shorter than the wait: the wait
    assert b.max_hold == 0.2
    b.close()


# ------------------------------------------------------------------ players over the batcher
def test_batched_players_play_many_games_at_once_through_one_batcher():
    """The arena's use: several games in threads, one batcher, every move legal, games played out."""
    with Batcher(UniformAnalyzer(RandomPlayer(seed=1)), max_batch=16, max_wait=0.005) as b:
        players = [BatchedPlayer(b) for _ in range(2)]

        def play_out(seed: int) -> Game:
            g = Game(7)
            while not g.is_over() and g.move_number < 400:
                move = players[g.move_number % 2].genmove(g, g.to_play)
                assert g.position.is_legal(move, g.to_play)
                g.play(move, g.to_play)
            return g

        with ThreadPoolExecutor(8) as pool:
            games = list(pool.map(play_out, range(8)))
        assert all(g.is_over() for g in games)
        assert b.stats().largest > 1


def test_batched_player_temperature_zero_plays_the_most_likely_legal_move():
    class Peaked(EchoAnalyzer):
        def analyze_many(self, requests, cleanup=False, move_winrates=0):
            out = super().analyze_many(requests, cleanup)
            for a, (g, _) in zip(out, requests):
                a.legal_probs = np.zeros(g.size * g.size + 1)
                a.legal_probs[to_flat((2, 3), g.size)] = 1.0
            return out

    with Batcher(Peaked(), max_wait=0) as b:
        assert BatchedPlayer(b).genmove(Game(9), BLACK) is PASS  # its own choice
        assert BatchedPlayer(b, temperature=0).genmove(Game(9), BLACK) == (2, 3)
        assert BatchedPlayer(b, temperature=0.5, seed=1).genmove(Game(9), BLACK) == (2, 3)  # all mass there


def test_choose_move_samples_by_temperature():
    rng = np.random.default_rng(0)
    p = np.array([0.0, 0.7, 0.3])
    assert choose_move(p, 0, rng) == 1
    draws = [choose_move(p, 1.0, rng) for _ in range(2000)]
    assert 0 not in draws and 0.6 < draws.count(1) / 2000 < 0.8
    assert choose_move(np.array([1e-300, 1e-299, 0]), 0.001, rng) == 1  # no underflow at low temperature
    # tiny temperatures (one came in through REST): a float32 array once turned T into 0 and the draw into NaN
    for t in (2.4e-154, 1e-300, 5e-324):
        assert choose_move(np.array([0.0, 1.0, 0.0], dtype=np.float32), t, rng) == 1
        assert choose_move(np.array([0.25, 0.5, 0.25], dtype=np.float32), t, rng) == 1
        assert choose_move(np.array([0.3, 0.3, 0.4]), t, rng) == 2


# ------------------------------------------------------------------ the analyzers
def test_uniform_analyzer_spreads_over_legal_moves_and_plays_the_players_move():
    g = game_with(10, seed=4)
    a = UniformAnalyzer(RandomPlayer(seed=2)).analyze_many([(g, g.to_play)])[0]
    mask = g.position.legal_mask(g.to_play)
    assert np.allclose(a.legal_probs[mask], 1 / mask.sum()) and not a.legal_probs[~mask].any()
    assert a.move == a.raw_move and a.raw_legal and g.position.is_legal(a.move, g.to_play)
    assert (a.imagined_board == g.position.play(a.move, g.to_play).array()).all()
    assert a.winrate is None and a.z_codes == [] and a.imagined_frame is None


def test_cleanup_mask_forbids_own_eye_fills_and_pass_while_moves_remain():
    pos = from_ascii("""
        . X . . .
        X X . . .
        . . . . .
        . . . O O
        . . . O .
    """)
    mask = cleanup_mask(pos, BLACK, pos.legal_mask(BLACK))
    assert not mask[to_flat((0, 0), 5)] and not mask[-1] and mask[to_flat((2, 2), 5)]


def test_by_size_analyzer_routes_each_request_to_its_sizes_player():
    nine, other = EchoAnalyzer(), UniformAnalyzer(RandomPlayer(seed=0))
    nine.name = "nine"
    router = BySizeAnalyzer({9: nine}, other)
    out = router.analyze_many([(Game(9), BLACK), (Game(13), BLACK), (Game(9), WHITE)])
    assert [a.winrate for a in out] == [0.0, None, 0.0] and len(nine.calls) == 1
    assert router.name_for(9) == "nine" and router.name_for(13) == "random"
    with Batcher(router) as b:
        assert b.name_for(9) == "nine" and b.name_for(19) == "random"


def test_engine_batcher_imports_no_torch():
    code = "import sys, engine.batcher, engine.analysis; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_batched_neural_answers_equal_direct_ones(tiny_bundle):
    import torch

    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    torch.set_num_threads(1)
    player = NeuralPlayer(load_bundle(tiny_bundle), top_k=2)
    games = [game_with(n, seed=n) for n in range(6)]
    with Batcher(player, max_batch=8, max_wait=0.2) as b:
        batched = b.predict_many([(g, g.to_play) for g in games], timeout=60)
        assert b.stats().largest > 1
    for g, a in zip(games, batched):
        alone = player.analyze_many([(g, g.to_play)])[0]
        assert np.allclose(alone.probs, a.probs, atol=1e-4)
        assert alone.move == a.move or abs(alone.legal_probs[to_flat(alone.move, 9)]
                                           - alone.legal_probs[to_flat(a.move, 9)]) < 1e-4
        assert from_flat(to_flat(a.move, 9), 9) == a.move
