"""The GTP client against real processes: GNU Go, and fake engines that hang or misbehave."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from engine.coords import BLACK, WHITE
from engine.engines import gnugo_available, gnugo_spec
from engine.match import MatchConfig, play_match
from gtp.client import EngineSpec, GtpClient, GtpClientError, GtpCrash, GtpFailure, GtpTimeout

needs_gnugo = pytest.mark.skipif(not gnugo_available(), reason="GNU Go is not installed")


def fake_engine(body: str, name: str = "fake") -> EngineSpec:
    """A Python one-liner engine: answers protocol_version (the client's start probe), then runs ``body``."""
    prelude = ("import sys, time\n"
               "line = sys.stdin.readline(); cid = line.split()[0]\n"
               "sys.stdout.write(f'={cid} 2\\n\\n'); sys.stdout.flush()\n")
    return EngineSpec(name=name, command=[sys.executable, "-c", prelude + body])


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@needs_gnugo
def test_full_game_between_two_gnugo_processes_ends_scored() -> None:
    with GtpClient(gnugo_spec(0)) as black, GtpClient(gnugo_spec(0)) as white:
        res = play_match(black, white, MatchConfig(size=9, komi=7.0, move_timeout=30))
    assert res.reason in ("score", "resign")
    assert res.fault is None
    assert res.game.move_number > 20
    assert res.game.position.passes >= 2 or res.reason == "resign"
    # the referee's result is consistent with its own area count
    s = res.game.score()
    assert res.winner == (BLACK if s > 0 else WHITE if s < 0 else None)


@needs_gnugo
def test_gnugo_preset_plays_by_our_superko_rule() -> None:
    from superko_game import MOVES, SUPERKO_POINT

    from engine.board import IllegalMove
    from engine.coords import from_gtp
    from engine.game import Game

    game = Game(9)
    with GtpClient(gnugo_spec(10)) as c:
        c.send("boardsize 9")
        c.send("clear_board")
        for i, v in enumerate(MOVES):
            color = "b" if i % 2 == 0 else "w"
            c.send(f"play {color} {v}")
            game.play(from_gtp(v, 9), BLACK if color == "b" else WHITE)
        with pytest.raises(IllegalMove) as trap:  # the trap is there: J5 would repeat a position
            game.play(from_gtp(SUPERKO_POINT, 9), WHITE)
        assert trap.value.reason == "superko"
        answer = c.send("genmove w")
    try:
        game.play(from_gtp(answer, 9), WHITE)
    except IllegalMove as e:
        pytest.fail(f"GNU Go played {answer}, illegal under our rules: {e.reason}")


@needs_gnugo
def test_question_mark_answers_raise_gtp_failure_and_the_engine_keeps_going() -> None:
    with GtpClient(gnugo_spec(0)) as c:
        with pytest.raises(GtpFailure) as e:
            c.send("no_such_command")
        assert "unknown command" in e.value.message
        with pytest.raises(GtpFailure):
            c.send("play b Z99")
        assert c.send("boardsize 9") == ""
        assert c.send("play b E5") == ""
        assert c.alive


def test_timeout_kills_the_engine() -> None:
    c = GtpClient(fake_engine("time.sleep(600)"), timeout=0.5)
    pid = c.pid
    t0 = time.monotonic()
    with pytest.raises(GtpTimeout):
        c.send("genmove b")
    assert time.monotonic() - t0 < 5
    assert not c.alive
    assert pid_gone(pid)
    with pytest.raises(GtpCrash):  # a dead client says so instead of hanging
        c.send("genmove b")
    c.close()


def test_start_timeout_on_an_engine_that_never_answers() -> None:
    spec = EngineSpec(name="mute", command=[sys.executable, "-c", "import time; time.sleep(600)"])
    t0 = time.monotonic()
    with pytest.raises(GtpTimeout):
        GtpClient(spec, start_timeout=0.5)
    assert time.monotonic() - t0 < 5


def test_answer_with_a_wrong_id_is_an_error() -> None:
    body = ("for line in sys.stdin:\n"
            "    if 'quit' in line: break\n"
            "    sys.stdout.write('=999 D4\\n\\n'); sys.stdout.flush()\n")
    with GtpClient(fake_engine(body), timeout=5) as c:
        with pytest.raises(GtpClientError, match="unexpected answer"):
            c.send("genmove b")


def test_answer_without_an_id_is_accepted() -> None:
    body = ("for line in sys.stdin:\n"
            "    if 'quit' in line: break\n"
            "    sys.stdout.write('= D4\\n\\n'); sys.stdout.flush()\n")
    with GtpClient(fake_engine(body), timeout=5) as c:
        assert c.send("genmove b") == "D4"


def test_engine_exiting_mid_command_is_a_crash() -> None:
    with pytest.raises(GtpCrash):
        with GtpClient(fake_engine("sys.stdin.readline(); sys.exit(3)"), timeout=5) as c:
            c.send("genmove b")


@needs_gnugo
def test_sigkilled_engine_raises_gtp_crash() -> None:
    c = GtpClient(gnugo_spec(0))
    c.send("boardsize 9")
    os.kill(c.pid, signal.SIGKILL)
    with pytest.raises(GtpCrash):
        c.send("genmove b")
    c.close()
    c.close()  # idempotent


class KilledMidGame(GtpClient):
    """A GNU Go client that is SIGKILLed just before its n-th genmove."""

    def __init__(self, spec: EngineSpec, kill_at: int) -> None:
        self.kill_at = kill_at
        self.genmoves = 0
        super().__init__(spec)

    def send(self, command: str, timeout=None) -> str:
        if command.startswith("genmove"):
            self.genmoves += 1
            if self.genmoves == self.kill_at:
                os.kill(self.pid, signal.SIGKILL)
                time.sleep(0.1)
        return super().send(command, timeout)


@needs_gnugo
def test_play_match_scores_a_killed_engine_as_a_fault_for_its_side() -> None:
    with GtpClient(gnugo_spec(0)) as black, KilledMidGame(gnugo_spec(0), kill_at=5) as white:
        res = play_match(black, white, MatchConfig(size=9, move_timeout=30))
        assert res.reason == "fault"
        assert res.winner == BLACK
        assert res.result == "B+F"
        assert res.fault.startswith("W:") and "GtpCrash" in res.fault
        assert 8 <= res.game.move_number <= 10  # the game really was under way
        assert not white.alive


def test_close_is_idempotent_and_quits_politely() -> None:
    body = ("for line in sys.stdin:\n"
            "    cid = line.split()[0]\n"
            "    sys.stdout.write(f'={cid}\\n\\n'); sys.stdout.flush()\n"
            "    if 'quit' in line: sys.exit(0)\n")
    c = GtpClient(fake_engine(body), timeout=5)
    pid = c.pid
    c.close()
    c.close()
    assert pid_gone(pid)
    assert not c.alive
