"""GTP time controls: the clock's budget per move, the deadline through the batcher to the search,
and the search stopping on it."""

from __future__ import annotations

import time

import pytest

from engine.coords import BLACK, WHITE, to_flat
from engine.game import Game
from engine.search import SearchConfig, SearchPlayer
from gtp.clock import LAG, MIN_SECONDS, SAFETY, Clock
from gtp.engine import GtpEngine
from test_search import ToyAnalyzer, capture_game


def test_no_time_control_means_no_budget():
    assert Clock().budget(BLACK, 0, 9) is None
    assert Clock.canadian(300, 30, 0).budget(BLACK, 0, 9) is None  # byo-yomi with 0 stones: no limit (spec)


def test_absolute_time_is_spread_over_the_moves_to_come():
    clock = Clock.canadian(300, 0, 0)  # 5 minutes, sudden death
    early, late = clock.budget(BLACK, 0, 9), clock.budget(BLACK, 70, 9)
    # 0.9 * 81 = 72.9 plies in all: 36 own moves to come at the start; at least 0.15 * 81 later
    assert early == pytest.approx(SAFETY * 300 / (72.9 / 2) - LAG)
    assert late == pytest.approx(SAFETY * 300 / (0.15 * 81) - LAG)
    assert late > early  # the same time over fewer expected moves
    # the controller's time_left replaces the settings; little time left means little thought
    clock.report(BLACK, 10, 0)
    assert clock.budget(BLACK, 20, 9) < 0.5 and clock.budget(WHITE, 20, 9) > 4
    clock.report(BLACK, 0, 0)
    assert clock.budget(BLACK, 20, 9) == MIN_SECONDS


def test_without_time_left_the_clock_counts_its_own_moves():
    clock = Clock.canadian(60, 0, 0)
    before = clock.budget(BLACK, 0, 9)
    clock.spent(BLACK, 30.0)
    assert clock.budget(BLACK, 0, 9) == pytest.approx(SAFETY * 30 / (72.9 / 2) - LAG)
    assert clock.budget(BLACK, 0, 9) < before and clock.budget(WHITE, 0, 9) == before
    clock.report(BLACK, 50, 0)  # the controller's word wins and resets the count
    assert clock.budget(BLACK, 0, 9) == pytest.approx(SAFETY * 50 / (72.9 / 2) - LAG)


def test_overtime_periods():
    canadian = Clock.canadian(0, 60, 10)  # no main time, 10 stones per 60 s
    assert canadian.budget(BLACK, 0, 9) == pytest.approx(SAFETY * 6 - LAG)  # the period's pace in main time
    canadian.report(BLACK, 20, 2)  # 2 stones left to play in 20 s
    assert canadian.budget(BLACK, 30, 9) == pytest.approx(SAFETY * 10 - LAG)
    byoyomi = Clock.kgs("byoyomi", [0, 5, 3])  # KGS Japanese: 3 periods of 5 s
    byoyomi.report(WHITE, 5, 3)  # in a period: its 5 s, 3 periods left
    assert byoyomi.budget(WHITE, 30, 9) == pytest.approx(SAFETY * 5 - LAG)
    assert byoyomi.budget(BLACK, 30, 9) == pytest.approx(SAFETY * 5 - LAG)  # main time gone: a period a move
    byoyomi.spent(WHITE, 4.0)  # a period spent on the last move comes back for the next
    assert byoyomi.budget(WHITE, 32, 9) == pytest.approx(SAFETY * 5 - LAG)


class SlowToy(ToyAnalyzer):
    """The toy analyzer taking ``pause`` seconds a call, as a network batch would."""

    def __init__(self, favourite: int, pause: float) -> None:
        super().__init__(favourite)
        self.pause = pause

    def analyze_many(self, requests, cleanup: bool = False, move_winrates: int = 0):
        time.sleep(self.pause)
        return super().analyze_many(requests, cleanup, move_winrates)


def test_the_search_stops_at_its_deadline_and_keeps_the_root():
    game = capture_game()
    quiet = to_flat((4, 4), 5)
    analyzer = SlowToy(quiet, pause=0.02)
    player = SearchPlayer(analyzer, SearchConfig(visits=200, batch=4, reuse=False))
    full = player.analyze_many([(game, BLACK)])[0]
    assert full.visits.sum() == 199
    start = time.monotonic()
    cut = player.analyze_many([(game, BLACK)], deadline=start + 0.2)[0]
    took = time.monotonic() - start
    assert 0 < cut.visits.sum() < 199  # stopped early, after some batches
    assert took < 0.2 + 0.1  # overshoot: at most about one batch (and the root's call)
    analyzer.calls = 0
    late = player.analyze_many([(game, BLACK)], deadline=time.monotonic() - 1)[0]
    assert analyzer.calls == 1 and late.visits.sum() == 0  # past the deadline: the root's judgement alone
    assert late.move == analyzer._one(game, BLACK).move


class Recording:
    """A player that records the keywords of each genmove."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def genmove(self, game: Game, color: int, **kw):
        self.calls.append(kw)
        return game.position.legal_moves(color)[0]


def test_gtp_passes_a_deadline_only_under_a_time_control():
    player = Recording()
    engine = GtpEngine(lambda: Game(9), player)
    assert engine.handle("genmove b").startswith("=")
    assert "deadline" not in player.calls[-1]
    assert engine.handle("time_settings 0 10 5") == "= \n\n"  # Canadian: 5 stones in 10 s
    assert engine.handle("time_left w 10 5") == "= \n\n"
    before = time.monotonic()
    assert engine.handle("genmove w").startswith("=")
    deadline = player.calls[-1]["deadline"]
    assert before + SAFETY * 2 - LAG - 0.05 <= deadline <= time.monotonic() + SAFETY * 2 - LAG
    assert engine.clock.used[WHITE] >= 0  # counted until the next time_left
    assert engine.handle("time_left w 8 4") == "= \n\n" and WHITE not in engine.clock.used


class WatchingSearch(SearchPlayer):
    """The search, recording the deadline of every call."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.deadlines: list = []

    def analyze_many(self, requests, cleanup=False, move_winrates=0, deadline=None):
        self.deadlines.append(deadline)
        return super().analyze_many(requests, cleanup, move_winrates, deadline=deadline)


def test_the_deadline_reaches_the_search_through_the_batcher():
    """The GTP path of the shipped player: BatchedPlayer -> Batcher -> BySizeAnalyzer -> SearchPlayer."""
    from engine.analysis import BySizeAnalyzer, UniformAnalyzer
    from engine.batcher import Batcher, BatchedPlayer
    from engine.player import RandomPlayer

    toy = SlowToy(to_flat((4, 4), 5), pause=0.02)
    search = WatchingSearch(toy, SearchConfig(visits=400, batch=4, reuse=False))
    seen = search.deadlines
    with Batcher(BySizeAnalyzer({5: search}, UniformAnalyzer(RandomPlayer(0))), max_batch=8, max_wait=0.0) as b:
        engine = GtpEngine(capture_game, BatchedPlayer(b))
        assert engine.handle("time_settings 6 0 0") == "= \n\n"  # absolute, 6 s
        plies = engine.game.move_number
        start = time.monotonic()
        assert engine.handle("genmove b").startswith("=")
        took = time.monotonic() - start
        budget = SAFETY * 6 / max(0.15 * 25, (0.9 * 25 - plies) / 2) - LAG  # ~0.13 s
        assert seen and seen[-1] is not None and seen[-1] == pytest.approx(start + budget, abs=0.05)
        assert took < budget + 0.2  # 400 visits at 0.02 s a batch of 4 would take 2 s
        assert 0 < toy.positions < 400
        assert engine.handle("time_settings 0 1 0") == "= \n\n"  # no limit again (spec): the full search
        engine.handle("undo")
        toy.positions = 0
        assert engine.handle("genmove b").startswith("=") and seen[-1] is None
        assert toy.positions >= 300


@pytest.mark.parametrize("command", ["lz-genmove_analyze", "kata-genmove_analyze"])
def test_genmove_analyze_takes_the_clock_like_genmove(command):
    """A GUI that plays through ``*-genmove_analyze`` (Sabaki does) under a time control gets the same
    deadline as genmove, the search stops on it, and the clock counts the move."""
    toy = SlowToy(to_flat((4, 4), 5), pause=0.02)
    search = WatchingSearch(toy, SearchConfig(visits=400, batch=4, reuse=False))
    seen = search.deadlines
    engine = GtpEngine(capture_game, search)
    assert engine.handle("time_settings 6 0 0") == "= \n\n"  # absolute, 6 s
    plies = engine.game.move_number
    start = time.monotonic()
    answer = engine.handle(f"{command} b")
    took = time.monotonic() - start
    assert answer.startswith("=\ninfo move ") and "\nplay " in answer
    budget = SAFETY * 6 / max(0.15 * 25, (0.9 * 25 - plies) / 2) - LAG  # ~0.13 s, as genmove's
    assert seen[-1] == pytest.approx(start + budget, abs=0.05)
    assert took < budget + 0.2 and 0 < toy.positions < 400  # 400 visits would take ~2 s
    assert engine.game.move_number == plies + 1 and engine.clock.used[BLACK] >= took - 0.05
    # without a time control: no deadline, the full search
    engine.handle("undo")
    assert engine.handle("time_settings 0 1 0") == "= \n\n"
    toy.positions = 0
    assert engine.handle(f"{command} b").startswith("=") and seen[-1] is None and toy.positions >= 300


def test_cputime_is_the_processes_cpu_seconds_and_grows_with_work():
    """GoGui's ``cputime`` (gogui-twogtp subtracts the values at a game's start and end)."""
    engine = GtpEngine(lambda: Game(9), Recording())
    before = time.process_time()
    answer = engine.handle("cputime")
    after = time.process_time()
    assert answer.startswith("= ") and answer.endswith("\n\n")
    first = float(answer[2:])
    assert round(before, 3) - 0.001 <= first <= after + 0.001
    spin = time.process_time() + 0.05  # after ``first`` was read
    while time.process_time() < spin:  # CPU work in this process, as the model's would be
        pass
    later = float(engine.handle("cputime")[2:])
    assert later >= spin - 0.0005 and later >= first + 0.05 - 0.001  # printed to the millisecond: +-0.0005 each
    assert engine.handle("cputime 1") == "? syntax error\n\n"
