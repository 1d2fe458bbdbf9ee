"""GTP engine: transcripts byte for byte, every command and its errors, fuzzing, real pipes."""

from __future__ import annotations

import contextlib
import os
import random
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.coords import BLACK, PASS, RESIGN, WHITE, from_gtp
from engine.game import Game
from engine.player import Player, RandomPlayer
from engine.sgf import dump_game, parse_collection
from gtp import protocol
from gtp.engine import GtpEngine

REPO = Path(__file__).resolve().parents[1]


class ScriptedPlayer:
    """Plays the given GTP vertices in order (then passes) and records each call."""

    name = "scripted"

    def __init__(self, vertices: list[str] = ()) -> None:
        self.vertices = list(vertices)
        self.calls: list[tuple[int, bool]] = []

    def genmove(self, game: Game, color: int, *, cleanup: bool = False):
        self.calls.append((color, cleanup))
        return from_gtp(self.vertices.pop(0), game.size) if self.vertices else PASS


class BrokenPlayer:
    name = "broken"

    def genmove(self, game: Game, color: int, *, cleanup: bool = False):
        raise RuntimeError("boom")


def make_engine(player: Player | None = None, size: int = 9, komi: float = 6.5) -> GtpEngine:
    return GtpEngine(lambda: Game(size=size, komi=komi), player or ScriptedPlayer())


def run(engine: GtpEngine, script: str) -> str:
    """Feed each line of ``script`` and concatenate the answers, as a controller would read them."""
    answers = (engine.handle(line) for line in script.split("\n"))
    return "".join(a for a in answers if a is not None)


def state(engine: GtpEngine):
    g = engine.game
    return (g.size, g.komi, [(p.stones, p.to_play, p.ko) for p in g.positions], list(g.moves),
            list(g.handicap), g.resigned, engine.clock)


# ------------------------------------------------------------------ transcripts
def test_administrative_transcript_byte_for_byte():
    engine = make_engine()
    script = (
        "1 protocol_version\n"
        "2 name\n"
        "3 version\n"
        "known_command play\n"
        "known_command frobnicate\n"
        "# a whole-line comment\n"
        "\n"
        "   \t  \n"
        "4 boardsize 9 # trailing comment\n"
        "5 clear_board\n"
        "6 komi 6.5\n"
        "7 frobnicate\n"
        "8 quit\n"
    )
    assert run(engine, script) == (
        "=1 2\n\n=2 videoworld-go\n\n=3 0.1\n\n= true\n\n= false\n\n"
        "=4 \n\n=5 \n\n=6 \n\n?7 unknown command\n\n=8 \n\n"
    )
    assert engine.quit_requested


def test_control_characters_tabs_and_carriage_returns_are_cleaned():
    engine = make_engine()
    assert engine.handle("1 proto\x01col_\x7fversion\r\n") == "=1 2\n\n"
    assert engine.handle("2\tname\t#\x00 who are you\n") == "=2 videoworld-go\n\n"
    assert engine.handle("\x00\x07\x1b\r\n") is None
    assert engine.handle("3\tplay\tb\tE5\n") == "=3 \n\n"
    assert engine.game.moves == [(BLACK, (4, 4))]


def test_ids_are_echoed_as_sent():
    engine = make_engine()
    assert engine.handle("007 name") == "=007 videoworld-go\n\n"
    assert engine.handle("123456789012345678901234567890 version") == "=123456789012345678901234567890 0.1\n\n"
    assert engine.handle("-1 name") == "? unknown command\n\n"  # not an id: a command called "-1"
    assert engine.handle("1.5 name") == "? unknown command\n\n"
    assert engine.handle("42") == "?42 syntax error\n\n"
    assert engine.handle("42 # only an id") == "?42 syntax error\n\n"


def test_game_transcript_with_errors_byte_for_byte():
    engine = make_engine(ScriptedPlayer(["C3", "pass"]))
    script = """\
10 play b E5
11 play w e5
12 play x D5
13 play b Z9
14 play b J10
15 play b I5
16 play b
17 play b D5 extra
18 play w D4
19 genmove w
20 undo
21 undo
22 undo
23 undo
24 undo
25 genmove white
26 genmove b
27 final_score"""
    assert run(engine, script) == (
        "=10 \n\n?11 illegal move\n\n?12 invalid color\n\n?13 invalid vertex\n\n?14 invalid vertex\n\n"
        "?15 invalid vertex\n\n?16 syntax error\n\n?17 syntax error\n\n=18 \n\n=19 C3\n\n"
        "=20 \n\n=21 \n\n=22 \n\n?23 cannot undo\n\n?24 cannot undo\n\n=25 pass\n\n=26 pass\n\n=27 W+6.5\n\n"
    )


def test_showboard_byte_for_byte():
    engine = make_engine()
    run(engine, "play b E5\nplay w D4")
    assert engine.handle("5 showboard") == (
        "=5 \n"
        "   A B C D E F G H J\n"
        " 9 . . . . . . . . . 9\n"
        " 8 . . . . . . . . . 8\n"
        " 7 . . . . . . . . . 7\n"
        " 6 . . . . . . . . . 6\n"
        " 5 . . . . X . . . . 5\n"
        " 4 . . . O . . . . . 4\n"
        " 3 . . . . . . . . . 3\n"
        " 2 . . . . . . . . . 2\n"
        " 1 . . . . . . . . . 1\n"
        "   A B C D E F G H J\n"
        "captured by black (X): 0, by white (O): 0; komi 6.5; black to play\n\n"
    )


def test_showboard_on_19x19_aligns_two_digit_rows():
    engine = make_engine()
    engine.handle("boardsize 19")
    lines = engine.handle("showboard").split("\n")
    assert lines[1] == "   A B C D E F G H J K L M N O P Q R S T"
    assert lines[2].startswith("19 .") and lines[20].startswith(" 1 .")
    assert "" not in lines[:-2]


def test_every_listed_command_is_known_and_implemented():
    engine = make_engine()
    listed = engine.handle("list_commands")[2:-2].split("\n")
    assert listed == list(engine.commands)
    assert set(listed) >= {
        "protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
        "clear_board", "komi", "play", "genmove", "undo", "showboard", "final_score", "final_status_list",
        "time_settings", "time_left", "kgs-time_settings", "kgs-genmove_cleanup", "fixed_handicap",
        "place_free_handicap", "set_free_handicap", "loadsgf", "printsgf", "reg_genmove", "cputime",
    }
    for name in listed:
        assert engine.handle(f"known_command {name}") == "= true\n\n"
        assert engine.handle(name) != "? unknown command\n\n"
        engine.quit_requested = False
    assert engine.handle("known_command gogui-analyze_commands") == "= false\n\n"


# ------------------------------------------------------------------ commands, one by one
def test_boardsize_accepts_2_to_25_and_clears():
    engine = make_engine()
    engine.handle("play b E5")
    for size in (2, 13, 19, 25):
        assert engine.handle(f"boardsize {size}") == "= \n\n"
        assert engine.game.size == size and engine.game.moves == [] and engine.game.komi == 6.5
    for bad, message in (("1", "unacceptable size"), ("26", "unacceptable size"), ("0", "unacceptable size"),
                         ("-9", "unacceptable size"), ("9.0", "syntax error"), ("nine", "syntax error"),
                         ("", "syntax error"), ("9 9", "syntax error")):
        assert engine.handle(f"boardsize {bad}") == f"? {message}\n\n"
    assert engine.game.size == 25


def test_komi_parsing():
    engine = make_engine()
    for text, value in (("7", 7.0), ("-3.5", -3.5), ("0.5", 0.5), ("+6.5", 6.5), (".5", 0.5), ("1e1", 10.0)):
        assert engine.handle(f"komi {text}") == "= \n\n"
        assert engine.game.komi == value
    for bad in ("abc", "nan", "inf", "-inf", "1e400", "7,5", "", "6.5 1"):
        assert engine.handle(f"komi {bad}") == "? syntax error\n\n"
    assert engine.game.komi == 10.0


def test_clear_board_keeps_size_and_komi():
    engine = make_engine()
    run(engine, "boardsize 13\nkomi 0.5\nplay b D4\nfixed_handicap 2")
    assert engine.handle("clear_board") == "= \n\n"
    assert (engine.game.size, engine.game.komi, engine.game.moves, any(engine.game.position.stones)) == (13, 0.5, [], False)


def test_play_honours_colour_and_allows_same_colour_twice():
    engine = make_engine()
    assert run(engine, "play b E5\nplay b D5\nplay WHITE pass\nplay Black c3") == "= \n\n" * 4
    assert [c for c, _ in engine.game.moves] == [BLACK, BLACK, WHITE, BLACK]
    assert engine.handle("play b resign") == "? invalid vertex\n\n"


def test_ko_retake_refused_then_allowed_after_a_threat():
    engine = make_engine()
    setup = "play b D5\nplay b E6\nplay b E4\nplay w F6\nplay w F4\nplay w G5\nplay w E5"
    assert run(engine, setup) == "= \n\n" * 7
    assert engine.handle("play b F5") == "= \n\n"  # black captures E5
    before = state(engine)
    assert engine.handle("play w E5") == "? illegal move\n\n"  # immediate retake
    assert state(engine) == before
    assert run(engine, "play w A1\nplay b A2\nplay w E5") == "= \n\n" * 3
    assert engine.handle("play b a1") == "? illegal move\n\n"  # occupied
    run(engine, "play w b1")
    assert engine.handle("play b a2") == "? illegal move\n\n"  # occupied (black's own stone)


def test_suicide_is_illegal_over_gtp():
    engine = make_engine()
    run(engine, "play b A2\nplay b B1")
    assert engine.handle("play w A1") == "? illegal move\n\n"
    assert engine.handle("play b A1") == "= \n\n"  # filling its own point is legal


def test_genmove_plays_for_the_colour_asked_and_cleanup_is_flagged():
    player = ScriptedPlayer(["E5", "D4", "C3"])
    engine = make_engine(player)
    assert run(engine, "genmove b\ngenmove b\nkgs-genmove_cleanup w") == "= E5\n\n= D4\n\n= C3\n\n"
    assert player.calls == [(BLACK, False), (BLACK, False), (WHITE, True)]
    assert engine.game.moves == [(BLACK, (4, 4)), (BLACK, (5, 3)), (WHITE, (6, 2))]
    assert engine.handle("genmove purple") == "? invalid color\n\n"
    assert engine.handle("genmove") == "? syntax error\n\n"


def test_reg_genmove_does_not_play():
    engine = make_engine(ScriptedPlayer(["E5"]))
    before = state(engine)
    assert engine.handle("reg_genmove b") == "= E5\n\n"
    assert state(engine) == before


def test_genmove_resign_only_when_the_player_resigns():
    class Resigner(ScriptedPlayer):
        def genmove(self, game, color, *, cleanup=False):
            return RESIGN

    engine = make_engine(Resigner())
    assert engine.handle("genmove w") == "= resign\n\n"
    assert engine.handle("final_score") == "= B+R\n\n"
    assert engine.handle("undo") == "= \n\n" and engine.game.resigned is None


def test_random_player_genmove_is_legal_and_fills_the_board():
    engine = make_engine(RandomPlayer(seed=5), size=5)
    answers = [engine.handle(f"genmove {'bw'[i % 2]}") for i in range(200)]
    assert all(re.fullmatch(r"= ([A-HJ-Z]\d+|pass)\n\n", a) for a in answers)
    assert engine.game.is_over()  # two passes: nothing left but own eyes
    assert answers[-1] == answers[-2] == "= pass\n\n"


def test_player_errors_become_framed_internal_errors_and_state_survives():
    engine = make_engine(BrokenPlayer())
    run(engine, "play b E5")
    before = state(engine)
    assert engine.handle("3 genmove w") == "?3 internal error: RuntimeError: boom\n\n"
    assert state(engine) == before
    engine.player = ScriptedPlayer(["E5"])  # occupied: the engine must not play it
    answer = engine.handle("4 genmove w")
    assert answer.startswith("?4 internal error: player scripted chose an illegal move")
    assert state(engine) == before
    assert engine.handle("protocol_version") == "= 2\n\n"


def test_handler_crash_midway_restores_the_game(monkeypatch):
    engine = make_engine()
    run(engine, "play b E5\nplay w D4")
    before = state(engine)

    def half_done(args):  # mutates, then fails: the snapshot must undo the mutation
        engine.game.play((0, 0))
        raise KeyError("oops")

    engine.commands["play"] = half_done
    shared = engine.game
    assert engine.handle("9 play b A9") == "?9 internal error: KeyError: 'oops'\n\n"
    assert state(engine) == before
    assert engine.game is shared  # restored in place: a Game shared with others stays the same object


def test_fixed_handicap_and_errors():
    engine = make_engine()
    assert engine.handle("fixed_handicap 2") == "= C3 G7\n\n"
    assert engine.game.to_play == WHITE
    assert engine.handle("fixed_handicap 2") == "? board not empty\n\n"
    assert engine.handle("undo") == "? cannot undo\n\n"  # handicap stones are setup, not moves
    engine.handle("clear_board")
    for bad, message in (("1", "invalid number of stones"), ("10", "invalid number of stones"),
                         ("0", "invalid number of stones"), ("two", "syntax error"), ("", "syntax error"),
                         ("-2", "syntax error")):
        assert engine.handle(f"fixed_handicap {bad}") == f"? {message}\n\n"
    assert engine.handle("fixed_handicap 9") == "= C3 G7 C7 G3 C5 G5 E3 E7 E5\n\n"
    run(engine, "boardsize 19\nclear_board")
    assert engine.handle("fixed_handicap 9") == "= D4 Q16 D16 Q4 D10 Q10 K4 K16 K10\n\n"
    run(engine, "boardsize 6")
    assert engine.handle("fixed_handicap 2") == "? invalid number of stones\n\n"


def test_place_and_set_free_handicap():
    engine = make_engine()
    assert engine.handle("place_free_handicap 3") == "= C3 G7 C7\n\n"
    assert engine.handle("place_free_handicap 3") == "? board not empty\n\n"
    assert engine.handle("set_free_handicap A1 B2") == "? board not empty\n\n"
    engine.handle("clear_board")
    answer = engine.handle("place_free_handicap 12")[2:-2].split()
    assert len(set(answer)) == 12 and sum(engine.game.position.stones) == 12 * BLACK
    engine.handle("clear_board")
    for bad in ("1", "81", "0"):
        assert engine.handle(f"place_free_handicap {bad}") == "? invalid number of stones\n\n"
    for bad in ("A1", "A1 A1", "A1 pass", "A1 Z9", "A1 J10", "A1 resign", ""):
        assert engine.handle(f"set_free_handicap {bad}") == "? bad vertex list\n\n"
    assert engine.handle("set_free_handicap a1 J9 e5") == "= \n\n"
    assert engine.game.handicap == [(8, 0), (0, 8), (4, 4)] and engine.game.to_play == WHITE


def test_place_free_handicap_up_to_all_but_one_point():
    engine = make_engine()
    engine.handle("boardsize 3")
    answer = engine.handle("place_free_handicap 8")
    assert len(set(answer[2:-2].split())) == 8
    assert engine.handle("play w C1") == "= \n\n"  # the last point takes all eight
    assert engine.game.position.captures == (0, 8)


def test_final_score_is_area_with_komi():
    engine = make_engine()
    assert engine.handle("final_score") == "= W+6.5\n\n"
    run(engine, "komi 0\nplay b E5")
    assert engine.handle("final_score") == "= B+81\n\n"
    run(engine, "komi 81")
    assert engine.handle("final_score") == "= 0\n\n"


def test_final_status_list_one_chain_a_line():
    # A finished board with nothing dead (the judgement itself: tests/test_deadstones.py).
    engine = make_engine()
    engine.game.setup([(r, 3) for r in range(9)] + [(0, 0)], [(r, 4) for r in range(9)])
    alive = engine.handle("final_status_list alive")
    assert alive.startswith("= ") and alive.endswith("\n\n")
    lines = alive[2:-2].split("\n")  # chains in board order of their first point: A9, D9, E9
    assert [sorted(line.split()) for line in lines] == [
        ["A9"], sorted(f"D{r}" for r in range(1, 10)), sorted(f"E{r}" for r in range(1, 10))]
    assert engine.handle("final_status_list dead") == "= \n\n"
    assert engine.handle("final_status_list seki") == "= \n\n"
    assert engine.handle("final_status_list zombie") == "? syntax error\n\n"
    assert engine.handle("final_status_list") == "? syntax error\n\n"


def test_time_commands():
    engine = make_engine()
    assert engine.handle("time_settings 300 30 5") == "= \n\n"
    assert (engine.clock.system, engine.clock.main_time, engine.clock.period_time, engine.clock.periods) == (
        "canadian", 300, 30, 5)
    assert engine.handle("time_settings 0 30 0") == "= \n\n" and engine.clock.system == "none"
    assert engine.handle("time_settings 600 0 0") == "= \n\n" and engine.clock.system == "absolute"
    assert engine.handle("time_left b 120 0") == "= \n\n" and engine.clock.left[BLACK] == (120, 0)
    assert engine.handle("time_left white 30 4") == "= \n\n" and engine.clock.left[WHITE] == (30, 4)
    assert engine.handle("kgs-time_settings byoyomi 600 30 5") == "= \n\n" and engine.clock.system == "byoyomi"
    assert engine.handle("kgs-time_settings canadian 600 300 25") == "= \n\n"
    assert engine.handle("kgs-time_settings absolute 900") == "= \n\n" and engine.clock.main_time == 900
    assert engine.handle("kgs-time_settings none") == "= \n\n" and engine.clock.system == "none"
    before = state(engine)
    for bad in ("time_settings 1 2", "time_settings a b c", "time_settings -1 0 0", "time_left x 1 1",
                "time_left b 1", "kgs-time_settings", "kgs-time_settings absolute", "kgs-time_settings fischer 1 2",
                "kgs-time_settings byoyomi 1 2", "kgs-time_settings none 5"):
        assert engine.handle(bad).startswith("? "), bad
    assert engine.handle("time_left x 1 1") == "? invalid color\n\n"
    assert state(engine) == before


# ------------------------------------------------------------------ SGF
def test_loadsgf_whole_game_and_up_to_a_move(tmp_path):
    path = tmp_path / "game.sgf"
    path.write_bytes(b"(;GM[1]SZ[13]KM[0.5];B[dd];W[jj];B[dj];W[])")
    engine = make_engine()
    shared = engine.game
    assert engine.handle(f"1 loadsgf {path}") == "=1 \n\n"
    assert engine.game is shared
    assert (engine.game.size, engine.game.komi, len(engine.game.moves)) == (13, 0.5, 4)
    assert engine.handle(f"2 loadsgf {path} 3") == "=2 \n\n"  # the position before move 3
    assert engine.game.moves == [(BLACK, (3, 3)), (WHITE, (9, 9))] and engine.game.to_play == BLACK
    assert engine.handle(f"loadsgf {path} 99") == "= \n\n" and len(engine.game.moves) == 4
    assert engine.handle("undo") == "= \n\n"


def test_loadsgf_errors_leave_the_game_alone(tmp_path):
    engine = make_engine()
    run(engine, "play b E5\nkomi 3")
    before = state(engine)
    broken = tmp_path / "broken.sgf"
    broken.write_bytes(b"(;GM[1]SZ[9];B[ee];W[ee])")  # a move on an occupied point
    garbage = tmp_path / "garbage.sgf"
    garbage.write_bytes(os.urandom(300))
    for args, message in ((str(tmp_path / "missing.sgf"), "cannot load file"), (str(broken), "cannot load file"),
                          (str(garbage), "cannot load file"), (str(tmp_path), "cannot load file"),
                          (f"{broken} 0", "syntax error"), (f"{broken} x", "syntax error"), ("", "syntax error")):
        assert engine.handle(f"loadsgf {args}") == f"? {message}\n\n", args
    assert state(engine) == before


def test_printsgf_round_trips_and_writes_files(tmp_path):
    engine = make_engine()
    run(engine, "boardsize 9\nfixed_handicap 2\nplay w E5\nplay b pass\nplay w D4")
    answer = engine.handle("printsgf")
    assert answer.startswith("= (;FF[4]") and answer.endswith(")\n\n") and "\n\n" not in answer[:-2]
    record = parse_collection(answer[2:-2])[0]
    assert record.handicap == 2 and record.komi == 6.5 and record.moves == engine.game.moves
    target = tmp_path / "out.sgf"
    assert engine.handle(f"printsgf {target}") == "= \n\n"
    assert parse_collection(target.read_bytes())[0].moves == engine.game.moves
    assert engine.handle(f"printsgf {tmp_path}/no/such/dir/x.sgf") == "? cannot save file\n\n"
    assert engine.handle("printsgf a b") == "? syntax error\n\n"
    before = dump_game(engine.game, date="x")
    assert engine.handle(f"loadsgf {target}") == "= \n\n"
    assert dump_game(engine.game, date="x") == before


def test_printsgf_gives_a_result_only_for_a_finished_game():
    # A viewer takes RE for the game's outcome: a game in progress has none.
    engine = make_engine()
    run(engine, "boardsize 9\nkomi 7\nplay b E5")
    assert parse_collection(engine.handle("printsgf")[2:-2])[0].result == ""
    run(engine, "play w pass\nplay b pass")
    assert parse_collection(engine.handle("printsgf")[2:-2])[0].result == "B+74"


def test_line_too_long_is_refused_with_its_id():
    engine = make_engine()
    assert engine.handle("12 name " + "x" * protocol.MAX_LINE) == "?12 line too long\n\n"
    assert engine.handle("x" * (protocol.MAX_LINE + 1)) == "? line too long\n\n"
    assert engine.handle("name " + " " * (protocol.MAX_LINE - 10)) == "= videoworld-go\n\n"


# ------------------------------------------------------------------ fuzz
FRAME = re.compile(r"([=?])(\d*) ([^\n]*(?:\n[^\n]+)*)\n\n", re.DOTALL)
TOKENS = ["b", "w", "B", "white", "black", "x", "", "A1", "a1", "J9", "E5", "T19", "Z25", "I5", "A0", "A26",
          "J10", "pass", "PASS", "resign", "0", "1", "2", "7", "9", "19", "25", "26", "-1", "3.5", "1e9",
          "nan", "inf", "99999999999999999999", "alive", "dead", "seki", "none", "absolute", "byoyomi",
          "canadian", "#", "\t", "\x00", "\x1b[31m", "é", "\ufffd", "🀄", "%s", "{}", "\\"]


def fuzz_line(rng: random.Random, names: list[str]) -> str:
    kind = rng.random()
    if kind < 0.55:  # a real command with random arguments
        parts = [rng.choice(names)] + [rng.choice(TOKENS) for _ in range(rng.randrange(4))]
        if rng.random() < 0.3:
            parts.insert(0, rng.choice(["1", "42", "007", "-3", "1.5", "0x1f", "99999999999999999999999"]))
        if rng.random() < 0.1:
            parts = [f"{p}{rng.choice(['#', chr(rng.randrange(32)), chr(127)])}" for p in parts]
        return " ".join(parts)
    if kind < 0.65:
        return f"boardsize {rng.randrange(-5, 40)}"
    if kind < 0.75:
        size = rng.randrange(1, 30)
        return f"play {rng.choice('bwBWxz')} {chr(rng.randrange(64, 92))}{rng.randrange(-2, size + 2)}"
    if kind < 0.85:  # binary junk, decoded the way the entry point does
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))).decode("utf-8", "replace")
    if kind < 0.9:  # huge lines
        return rng.choice(["", "5 ", "play b "]) + "".join(rng.choice("ab #\t\x01") for _ in range(rng.randrange(4000, 9000)))
    return "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(0, 40)))


def test_fuzz_every_answer_is_framed_and_errors_change_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # printsgf <junk> writes its files here
    rng = random.Random(20250101)
    engine = make_engine(RandomPlayer(seed=7))
    names = list(engine.commands) + ["frobnicate", "PLAY", "genmove_black"]
    answered = 0
    for _ in range(4000):
        line = fuzz_line(rng, names)
        before = state(engine)
        answer = engine.handle(line)
        engine.quit_requested = False
        if answer is None:
            assert protocol.preprocess(line) is None and len(line) <= protocol.MAX_LINE
            continue
        m = FRAME.fullmatch(answer)
        assert m, (line, answer)
        text = protocol.preprocess(line[: protocol.MAX_LINE + 1]) or ""
        sent_id = protocol.parse(text).id if len(line) <= protocol.MAX_LINE else protocol.leading_id(line[:64])
        assert m.group(2) == (sent_id or ""), (line, answer)
        if m.group(1) == "?":
            assert state(engine) == before, (line, answer)
            assert "internal error" not in answer, (line, answer)
        answered += 1
    assert answered > 3000
    assert engine.handle("protocol_version") == "= 2\n\n"
    assert engine.handle("7 name") == "=7 videoworld-go\n\n"


# ------------------------------------------------------------------ the entry point over real pipes
@contextlib.contextmanager
def gtp_model(*args, **kwargs):
    """The 9x9 analyzer behind ``gtp.cli.make_player(*args, **kwargs)`` (the search or the network),
    its batcher closed afterwards."""
    from gtp.cli import make_player

    player = make_player(*args, **kwargs)
    try:
        yield player.batcher.analyzer.for_size(9)
    finally:
        player.batcher.close()


def gtp_process(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gtp", *args], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def read_answer(proc: subprocess.Popen, timeout: float = 20.0) -> bytes:
    """One answer, read as it arrives: it must come without closing stdin (flushed)."""
    out = b""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while not out.endswith(b"\n\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no answer within {timeout} s; got {out!r}"
        chunk = os.read(fd, 4096)
        assert chunk, f"stdout closed; got {out!r}"
        out += chunk
    return out


def test_python_m_gtp_answers_each_line_as_it_comes():
    proc = gtp_process("--seed", "3", "--size", "9", "--komi", "5.5")
    try:
        for line, expected in ((b"1 protocol_version\n", b"=1 2\n\n"), (b"2 name\n", b"=2 videoworld-go\n\n"),
                               (b"\x00\xff\xfe garbage\r\n", b"? unknown command\n\n"),
                               (b"3 play b E5\n", b"=3 \n\n"), (b"4 play b E5\n", b"?4 illegal move\n\n")):
            proc.stdin.write(line)
            proc.stdin.flush()
            assert read_answer(proc) == expected
        proc.stdin.write(b"5 genmove w\n")
        proc.stdin.flush()
        assert re.fullmatch(rb"=5 [A-HJ]\d\n\n", read_answer(proc))
        proc.stdin.write(b"6 final_score\n")
        proc.stdin.flush()
        assert read_answer(proc) == b"=6 W+5.5\n\n"  # one stone each, all empty points neutral: komi 5.5 only
        proc.stdin.write(b"7 quit\n")
        proc.stdin.flush()
        assert read_answer(proc) == b"=7 \n\n"
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
        proc.communicate()


def test_python_m_gtp_survives_junk_and_huge_lines_then_exits_at_eof():
    script = (b"1 name\n" + b"\x00\x01\x02\xff" * 1000 + b"\n" + b"2 " + b"y" * 200_000 + b"\n"
              + b"3 boardsize 99\n" + b"# comment\n\n" + b"4 protocol_version")  # last line without LF
    proc = gtp_process()
    out, err = proc.communicate(script, timeout=60)
    assert proc.returncode == 0
    assert out == (b"=1 videoworld-go\n\n? unknown command\n\n?2 line too long\n\n"
                   b"?3 unacceptable size\n\n=4 2\n\n")
    assert b"Traceback" not in err


def test_neural_player_without_weights_is_a_clear_error(tmp_path):
    proc = gtp_process("--player", "neural", "--weights", str(tmp_path / "nothing-here"))
    out, err = proc.communicate(b"name\n", timeout=60)
    assert proc.returncode == 2 and out == b""
    assert b"no model bundle at" in err and b"Traceback" not in err


CONSOLE_SCRIPT = shutil.which("videoworld-go", path=str(Path(sys.executable).parent)) or shutil.which("videoworld-go")


@pytest.mark.skipif(CONSOLE_SCRIPT is None, reason="package not installed (pip install -e .)")
def test_console_script_speaks_gtp():
    proc = subprocess.Popen([CONSOLE_SCRIPT, "gtp", "--seed", "1", "--player", "random"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(b"1 protocol_version\n2 boardsize 19\n3 play w Q16\n4 quit\n5 name\n", timeout=60)
    assert proc.returncode == 0, err
    assert out == b"=1 2\n\n=2 \n\n=3 \n\n=4 \n\n"  # nothing after quit


@pytest.mark.parametrize("option, bad, message, setting, attr, cases", [
    ("--branches", "0", b"branches must be 1..256", "branches", "top_k", ((3, 3), (None, 4))),
    ("--symmetries", "3", b"--symmetries", "symmetries", "symmetries", ((8, 8), (None, 1))),
])
def test_player_options_are_checked_and_reach_the_neural_player(tiny_bundle, option, bad, message, setting, attr,
                                                                cases):
    proc = gtp_process("--player", "neural", "--weights", str(tiny_bundle), option, bad)
    out, err = proc.communicate(b"name\n", timeout=60)
    assert proc.returncode == 2 and message in err and out == b""
    for value, expected in cases:  # None: the bundle's default
        with gtp_model("neural", 0, str(tiny_bundle), **{setting: value}) as model:
            assert getattr(model, attr) == expected
