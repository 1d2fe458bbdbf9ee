"""The blunder counter on hand-made games, and its judge against a real GNU Go."""

from __future__ import annotations

import collections
import json

import pytest

from engine.blunders import EVENTS, GameRecord, count_game, leader_at, load_arena, report
from engine.coords import BLACK, PASS, WHITE
from engine.engines import gnugo_available, gnugo_spec
from engine.sgf import dump_game
from engine.game import Game
from gtp.client import GtpClient

needs_gnugo = pytest.mark.skipif(not gnugo_available(), reason="GNU Go is not installed")
NAMES = {BLACK: "b", WHITE: "w"}


def tally_of(black, white, moves, size=9) -> dict:
    tally = collections.defaultdict(collections.Counter)
    count_game(GameRecord(size, moves, NAMES, list(black), list(white)), tally)
    return tally


def test_ignored_atari_is_counted_once_with_the_stones_lost() -> None:
    # black's two stones in the corner have one liberty (0,2); black plays away, white takes them
    t = tally_of([(0, 0), (0, 1)], [(1, 0), (1, 1)], [(BLACK, (5, 5)), (WHITE, (0, 2))])
    assert t["b"]["ignored atari"] == 1 and t["b"]["stones lost"] == 2
    assert t["b"]["self-atari"] == 0 and t["b"]["moves"] == 1
    assert sum(t["w"][e] for e in ("ignored atari", "self-atari", "missed capture", "eye fill")) == 0


def test_saving_the_group_is_not_an_ignored_atari() -> None:
    # black extends to (0,2): three liberties-worth of room again, white cannot capture
    t = tally_of([(0, 0), (0, 1)], [(1, 0), (1, 1)], [(BLACK, (0, 2)), (WHITE, (5, 5))])
    assert t["b"]["ignored atari"] == 0 and t["b"]["stones lost"] == 0


def test_self_atari_of_three_stones() -> None:
    # black (0,0),(0,1) has liberties (0,2),(1,1); playing (1,1) leaves (0,2), white captures three
    white = [(1, 0), (1, 2), (1, 3), (0, 4), (2, 1)]
    t = tally_of([(0, 0), (0, 1)], white, [(BLACK, (1, 1)), (WHITE, (0, 2))])
    assert t["b"]["self-atari"] == 1 and t["b"]["stones lost"] == 3
    assert t["b"]["ignored atari"] == 0


def test_missed_capture_needs_the_group_to_get_away() -> None:
    # white's two stones are in atari; black plays away and white extends to two liberties
    moves = [(BLACK, (5, 5)), (WHITE, (0, 2))]
    t = tally_of([(1, 0), (1, 1)], [(0, 0), (0, 1)], moves)
    assert t["b"]["missed capture"] == 1
    # the same miss, but white does not extend: the stones are still there to take, not counted
    t = tally_of([(1, 0), (1, 1)], [(0, 0), (0, 1)], [(BLACK, (5, 5)), (WHITE, (6, 6))])
    assert t["b"]["missed capture"] == 0


def test_eye_fill_that_gets_the_group_killed() -> None:
    # black's corner group has the eye (0,0) and one outside liberty (2,1); filling the eye
    # leaves (2,1) alone and white captures the four stones
    black, white = [(0, 1), (1, 0), (1, 1)], [(0, 2), (1, 2), (2, 0)]
    t = tally_of(black, white, [(BLACK, (0, 0)), (WHITE, (2, 1))])
    assert t["b"]["eye fill"] == 1 and t["b"]["self-atari"] == 1 and t["b"]["stones lost"] == 4
    # filling the same eye when the group lives on is not counted
    t = tally_of(black + [(2, 1), (3, 1)], white, [(BLACK, (0, 0)), (WHITE, (8, 8))])
    assert t["b"]["eye fill"] == 0


def test_passes_count_as_moves_and_nothing_else() -> None:
    t = tally_of([], [], [(BLACK, (4, 4)), (WHITE, PASS), (BLACK, PASS)])
    assert t["b"]["moves"] == 2 and t["w"]["moves"] == 1
    assert sum(t["b"][e] + t["w"][e] for e in EVENTS) == 0


def test_report_reads_an_arena_folder(tmp_path) -> None:
    g = Game(9, 7.0)
    g.setup([(0, 0), (0, 1)], [(1, 0), (1, 1)], BLACK)
    for c, m in [(BLACK, (5, 5)), (WHITE, (0, 2)), (BLACK, PASS), (WHITE, PASS)]:
        g.play(m, c)
    (tmp_path / "games").mkdir()
    (tmp_path / "games" / "g0.sgf").write_bytes(dump_game(g))
    row = {"sgf": "games/g0.sgf", "black": "A", "white": "B", "winner": "B", "komi": 7.0}
    (tmp_path / "results.jsonl").write_text(json.dumps(row) + "\n")
    rep = report(load_arena(tmp_path / "results.jsonl", tmp_path))
    assert rep["games"] == 1
    assert rep["players"]["A"]["ignored atari"]["count"] == 1
    assert rep["players"]["A"]["stones lost"]["per_100_moves"] == 100.0  # 2 stones over 2 moves
    assert "at the first pass" not in rep["players"]["A"]


@needs_gnugo
def test_judge_names_the_side_ahead() -> None:
    # a wall down the board's middle column: whoever built it owns it all but a dead stone
    wall = [(r, 4) for r in range(9)]
    black_wall = GameRecord(9, [(WHITE, PASS)], NAMES, wall, [(4, 7)])
    white_wall = GameRecord(9, [(WHITE, (4, 1)), (BLACK, PASS)], NAMES, [(4, 7)], wall)
    with GtpClient(gnugo_spec(0)) as judge:
        assert leader_at(judge, black_wall, 0, 7.0) == "B"
        assert leader_at(judge, white_wall, 1, 7.0) == "W"
        rep = report([({"winner": "w", "komi": 7.0}, black_wall)], judge)
    assert rep["players"]["w"]["at the first pass"] == {"behind or even, won": 1, "passed first": 1}
    assert rep["players"]["b"]["at the first pass"] == {"ahead, did not win": 1}


def test_events_after_the_first_pass_are_also_counted_apart() -> None:
    from engine.blunders import LATE

    # black ignores the atari once before anyone passed (white does not take), once after
    moves = [(BLACK, (6, 6)), (WHITE, (5, 5)), (BLACK, PASS), (WHITE, (5, 6)), (BLACK, (7, 7)), (WHITE, (0, 2))]
    t = tally_of([(0, 0), (0, 1)], [(1, 0), (1, 1)], moves)
    assert t["b"]["ignored atari"] == 1 and t["b"][LATE + "ignored atari"] == 1
    assert t["b"]["moves"] == 3 and t["b"][LATE + "moves"] == 1
    assert t["w"][LATE + "moves"] == 2


def test_corpus_tactics_counts_ataris_and_captures() -> None:
    from engine.blunders import corpus_tactics

    # black's two stones sit in atari before black's move 1, white takes them with its move 2
    rec = GameRecord(9, [(BLACK, (5, 5)), (WHITE, (0, 2))], NAMES, [(0, 0), (0, 1)], [(1, 0), (1, 1)])
    out = corpus_tactics([rec])
    assert out["positions"] == 2
    assert out["mover in atari %"] == 50.0 and out["captures of >= 2 per 100 moves"] == 50.0


def test_blunders_cli_needs_a_source(capsys) -> None:
    from engine.cli import main

    assert main(["blunders"]) == 2
    assert "--corpus" in capsys.readouterr().out
