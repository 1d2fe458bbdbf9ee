"""The referee's clock (engine/match_clock.py) and games played under it: the engines hear
``time_settings`` and ``time_left``, a side whose flag falls loses on time, and the shipped engine
keeps to a real clock against GNU Go."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.arena_config import ArenaConfig
from engine.coords import BLACK, WHITE
from engine.engines import gnugo_available, gnugo_spec
from engine.match import MatchConfig, play_match
from engine.match_clock import SideClock, TimeControl
from gtp.client import EngineSpec, GtpClient

REPO = Path(__file__).resolve().parent.parent


def test_absolute_time_runs_down_and_the_flag_falls():
    clock = SideClock(TimeControl(main=10))
    assert clock.limit() == 10 and clock.time_left() == (10, 0)
    assert clock.charge(4.0) and clock.charge(5.5)
    assert clock.time_left() == (0, 0) and clock.limit() == pytest.approx(0.5)
    assert not clock.charge(0.6)  # over by 0.1 s: lost
    assert (clock.moves, clock.used, clock.longest) == (3, pytest.approx(10.1), 5.5)


def test_canadian_overtime_starts_inside_a_move_and_renews_its_period():
    clock = SideClock(TimeControl(main=5, period=10, stones=2))
    assert clock.limit() == 15  # the main time left and a first period
    assert clock.charge(7.0)  # 5 s of main time, then 2 s of the period; 1 of its 2 stones played
    assert clock.time_left() == (8, 1)
    assert clock.charge(7.5)  # the period's last stone in time: a fresh period
    assert clock.time_left() == (10, 2) and clock.limit() == 10
    assert clock.charge(9.0) and clock.time_left() == (1, 1)
    assert not clock.charge(1.5)  # 1 s left for the second stone


def test_overtime_only_and_bad_settings():
    clock = SideClock(TimeControl(main=0, period=3, stones=1))
    assert clock.time_left() == (3, 1)
    for _ in range(5):
        assert clock.charge(2.9)  # each move its own 3 s period
    assert not TimeControl().enabled and TimeControl(main=1).enabled
    assert TimeControl(main=300, period=30, stones=5).gtp() == "time_settings 300 30 5"
    with pytest.raises(ValueError):
        TimeControl(period=30)  # a period without stones
    with pytest.raises(ValueError):
        TimeControl(main=-1)


def test_arena_config_reads_the_time_control():
    engines = [{"name": "a", "preset": "random"}, {"name": "b", "preset": "random"}]
    cfg = ArenaConfig.from_dict({"engines": engines, "time_control": {"main": 60, "period": 10, "stones": 5}})
    assert cfg.match_config().time_control == TimeControl(60.0, 10.0, 5)
    assert not ArenaConfig.from_dict({"engines": engines}).match_config().time_control.enabled
    with pytest.raises(ValueError, match="time_control"):
        ArenaConfig.from_dict({"engines": engines, "time_control": {"main": 60, "byoyomi": 10}})


def scripted_engine(log: Path, pause: float, moves: str) -> EngineSpec:
    """A GTP engine in a few lines: logs the time commands it hears to ``log``, takes ``pause``
    seconds per genmove and plays ``moves`` in turn (space separated), then passes."""
    body = f"""
import sys, time
moves = {moves.split()!r}
log = open({str(log)!r}, "a")
for line in sys.stdin:
    parts = line.split()
    if not parts:
        continue
    cid, cmd, args = parts[0], parts[1], parts[2:]
    answer = ""
    if cmd == "protocol_version":
        answer = "2"
    elif cmd == "known_command":
        answer = "true" if args[0] in ("time_settings", "time_left") else "false"
    elif cmd in ("time_settings", "time_left"):
        log.write(" ".join(parts[1:]) + "\\n"); log.flush()
    elif cmd == "genmove":
        time.sleep({pause})
        answer = moves.pop(0) if moves else "pass"
    elif cmd == "quit":
        sys.stdout.write(f"={{cid}}\\n\\n"); sys.stdout.flush(); break
    sys.stdout.write(f"={{cid}} {{answer}}\\n\\n"); sys.stdout.flush()
"""
    return EngineSpec(name=log.stem, command=[sys.executable, "-c", body])


def test_a_slow_engine_loses_on_time_and_heard_its_clock(tmp_path):
    slow = scripted_engine(tmp_path / "slow.log", 0.4, "")
    quick = scripted_engine(tmp_path / "quick.log", 0.0, "A1 B1 C1 D1 E1 F1 G1")
    cfg = MatchConfig(size=9, komi=7.0, move_timeout=10, time_control=TimeControl(main=1.0))
    with GtpClient(slow) as black, GtpClient(quick) as white:
        res = play_match(black, white, cfg)
    # black passes at 0.4 s a move: 0.4, 0.8 are in time, the third move ends past 1 s
    assert (res.reason, res.result, res.winner) == ("time", "W+T", WHITE)
    assert res.game.move_number == 4  # the flag fell on black's third move, which is not played
    think = res.info["think"]
    assert think["B"]["moves"] == 3 and think["B"]["seconds"] > 1.0 and think["W"]["moves"] == 2
    assert (tmp_path / "slow.log").read_text().split("\n")[:4] == [
        "time_settings 1 0 0", "time_left B 1 0", "time_left B 0 0", "time_left B 0 0"]
    assert (tmp_path / "quick.log").read_text().split("\n")[:2] == ["time_settings 1 0 0", "time_left W 1 0"]


def test_canadian_periods_reach_the_engine_through_time_left(tmp_path):
    slow = scripted_engine(tmp_path / "slow.log", 0.4, "A1 B1 C1 D1 E1 F1")
    quick = scripted_engine(tmp_path / "quick.log", 0.0, "A9 B9 C9 D9 E9 F9")
    cfg = MatchConfig(size=9, komi=7.0, max_moves=10, time_control=TimeControl(main=0.5, period=1.0, stones=2))
    with GtpClient(slow) as black, GtpClient(quick) as white:
        res = play_match(black, white, cfg)
    assert res.reason == "move cap" and res.info["think"]["B"]["moves"] == 5
    # 0.4 s in main time; 0.1 + 0.3 into the first period (1 stone left); its last stone; a fresh period
    assert (tmp_path / "slow.log").read_text().split("\n")[:6] == [
        "time_settings 0 1 2", "time_left B 0 0", "time_left B 0 0", "time_left B 0 1", "time_left B 1 2",
        "time_left B 0 1"]


def test_without_a_time_control_nothing_about_time_is_sent(tmp_path):
    a = scripted_engine(tmp_path / "a.log", 0.0, "A1 B1")
    b = scripted_engine(tmp_path / "b.log", 0.0, "A9 B9")
    with GtpClient(a) as black, GtpClient(b) as white:
        res = play_match(black, white, MatchConfig(size=9, komi=7.0))
    assert res.reason == "score" and res.info["think"]["B"]["moves"] == 3
    assert not (tmp_path / "a.log").read_text() and not (tmp_path / "b.log").read_text()


@pytest.mark.skipif(not gnugo_available(), reason="GNU Go is not installed")
def test_the_shipped_engine_keeps_to_a_real_clock_against_gnugo(tmp_path):
    """Sudden death, 15 s a side for the whole game: the shipped engine's search alone needs ~2 s a
    move (~80 s a game), so only its clock (gtp/clock.py) keeps it in time."""
    ours = EngineSpec(name="videoworld", command=[sys.executable, "-m", "gtp"], cwd=str(REPO),
                      env={"OMP_NUM_THREADS": "1"})
    cfg = MatchConfig(size=9, komi=7.0, max_moves=160, move_timeout=30, time_control=TimeControl(main=15))
    with GtpClient(ours, timeout=120, stderr_path=str(tmp_path / "ours.log")) as black, \
            GtpClient(gnugo_spec(1), timeout=60) as white:
        res = play_match(black, white, cfg)
    assert res.reason in ("score", "resign", "move cap"), (res.reason, res.fault)
    think = res.info["think"]["B"]
    assert think["moves"] >= 15 and think["seconds"] <= 15


def test_the_arena_report_sums_each_engines_thinking_time():
    from engine.arena import thinking_time

    records = [
        {"black": "a", "white": "b", "winner": "b", "reason": "time",
         "think": {"B": {"seconds": 3.0, "moves": 2, "longest": 2.5}, "W": {"seconds": 1.0, "moves": 2, "longest": 0.6}}},
        {"black": "b", "white": "a", "winner": "b", "reason": "score",
         "think": {"B": {"seconds": 2.0, "moves": 3, "longest": 1.0}, "W": {"seconds": 1.0, "moves": 3, "longest": 0.5}}},
        {"black": "a", "white": "b", "winner": "a", "reason": "score"},  # played before the clock was recorded
    ]
    t = thinking_time(records)
    assert t["a"] == {"moves": 5, "seconds": 4.0, "longest": 2.5, "lost_on_time": 1, "mean": 0.8}
    assert t["b"]["moves"] == 5 and t["b"]["lost_on_time"] == 0 and t["b"]["mean"] == pytest.approx(0.6)
