"""The dead-stone judgement behind GTP's final_score / final_status_list (engine/deadstones.py).

Hand-made boards where the answer is not in doubt (dead stones in the opponent's area, a seki,
a group with two eyes), and real game ends against GNU Go 3.8's own judgement: five games of an
arena match (the shipped search against GNU Go level 10) up to their first double pass, where a
controller asks for the count, in tests/data/double_pass9.sgf.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.board import from_ascii
from engine.coords import color_name, to_gtp
from engine.deadstones import DeadStoneConfig, _judged, agreed_score, config_for, dead_chains, ownership
from engine.game import Game
from engine.player import RandomPlayer
from engine.engines import gnugo_spec
from engine.sgf import parse_collection, record_to_game
from gtp.client import GtpClient
from gtp.engine import GtpEngine

FIXTURE = Path(__file__).parent / "data" / "double_pass9.sgf"
GNUGO = "/usr/games/gnugo"

# Black's area on the left, White's on the right; one stone of each lies in the other's area.
DEAD_INSIDE = """
. . . X O . . . .
. . . X O . . . .
. . . X O . . . .
. . . X O . . . .
. O . X O . . X .
. . . X O . . . .
. . . X O . . . .
. . . X O . . . .
. . . X O . . . .
"""
# White's six stones and Black's four in the corner share C2 and C1 and have no eye: whoever
# fills one is taken, so both live (seki) and C2, C1 are nobody's.
SEKI = """
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
X X X X X . . . .
O O O O X . . . .
X X . O X . . . .
X X . O X . . . .
"""
# White's group inside Black's area has two eyes (A9, C9): it lives.
TWO_EYES = """
. O . O X . . . .
O O O O X . . . .
X X X X X . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
"""


def test_stones_in_the_opponents_area_are_dead_and_the_count_takes_them_off():
    pos = from_ascii(DEAD_INSIDE)
    assert dead_chains(pos, config_for(9)) == [[37], [43]]  # B5 and H5
    # Tromp-Taylor counts neither side's area around a dead stone (W+7); taken off: 36 - 45 - 7
    assert pos.score(7.0) == -7.0
    assert agreed_score(pos, 7.0, config_for(9)) == -16.0


def test_seki_lives_on_both_sides():
    pos = from_ascii(SEKI)
    assert dead_chains(pos, config_for(9)) == []
    assert agreed_score(pos, 7.0, config_for(9)) == 81 - 6 - 2 - 6 - 7.0  # B+60: C2, C1 are dame


def test_a_group_with_two_eyes_lives_and_ownership_says_whose_points_are_whose():
    pos = from_ascii(TWO_EYES)
    assert dead_chains(pos, config_for(9)) == []
    own = ownership(pos, DeadStoneConfig(playouts=50))
    assert own.shape == (81,) and own.min() >= -1.0 and own.max() <= 1.0
    assert own[0] < -0.9 and own[2] < -0.9 and own[1] < -0.9  # White's eyes and stones
    assert own[20] > 0.5 and own[22] > 0.5  # Black's wall (C7, E7) stands in most playouts


def test_the_same_board_gets_the_same_answer():
    game = Game(9)
    player = RandomPlayer(seed=5)
    for _ in range(60):
        game.play(player.genmove(game, game.to_play), game.to_play)
    cfg = DeadStoneConfig(playouts=40)
    first = dead_chains(game.position, cfg)
    hits = _judged.cache_info().hits
    assert dead_chains(game.position, cfg) == first
    assert _judged.cache_info().hits == hits + 1  # asked again (final_score, then final_status_list): no new playouts


def test_gtp_counts_with_the_dead_stones_off():
    engine = GtpEngine(lambda: Game(9), RandomPlayer(seed=0))
    black = [(r, 3) for r in range(9)] + [(4, 7)]
    white = [(r, 4) for r in range(9)] + [(4, 1)]
    engine.game.setup(black, white)
    assert engine.handle("komi 7") == "= \n\n"
    assert engine.handle("final_score") == "= W+16\n\n"
    assert engine.handle("final_status_list dead") == "= B5\nH5\n\n"
    alive = engine.handle("final_status_list alive")[2:-2].split("\n")
    assert sorted(alive) == ["D9 D8 D7 D6 D5 D4 D3 D2 D1", "E9 E8 E7 E6 E5 E4 E3 E2 E1"]
    assert engine.handle("final_status_list seki") == "= \n\n"


@pytest.mark.skipif(not os.access(GNUGO, os.X_OK), reason=f"GNU Go not found at {GNUGO}")
def test_real_game_ends_are_judged_as_gnugo_judges_them():
    records = parse_collection(FIXTURE.read_bytes())
    assert len(records) == 5
    with GtpClient(gnugo_spec(10)) as gnugo:
        for index, record in enumerate(records):
            game = record_to_game(record)
            engine = GtpEngine(lambda: Game(9), RandomPlayer(seed=0))
            for command in ("boardsize 9", "clear_board", f"komi {game.komi}"):
                gnugo.send(command)
                engine.handle(command)
            for colour, move in game.moves:
                gnugo.send(f"play {color_name(colour)} {to_gtp(move, 9)}")
                assert engine.handle(f"play {color_name(colour)} {to_gtp(move, 9)}") == "= \n\n"
            theirs = sorted(gnugo.send("final_status_list dead", timeout=120).split())
            ours = sorted(engine.handle("final_status_list dead")[2:-2].split())
            assert theirs, "each fixture game has dead stones"
            assert ours == theirs, index
            score = gnugo.send("final_score", timeout=120)
            assert engine.handle("final_score") == f"= {score.replace('.0', '')}\n\n", index



def test_the_compiled_count_owns_each_point_as_the_python_playouts_do():
    """The count's playouts are compiled (engine/fastcount.py); the Python ones (engine/playout.py) are
    the reference: at the fixture's five game ends, the share of playouts each point ends Black's minus
    White's agrees within sampling noise (800 playouts each: the difference's s.d. is at most 0.05)."""
    import random

    import numpy as np

    from engine.board import empty_regions
    from engine.playout import playout

    contested = 0
    for rec in parse_collection(FIXTURE.read_bytes()):
        position = record_to_game(rec).position
        size, n = position.size, 800
        compiled = ownership(position, DeadStoneConfig(playouts=n))
        rng, total = random.Random(5), np.zeros(size * size)
        for _ in range(n):
            end = playout(position.stones, size, position.to_play, rng)
            sign = np.array([1.0 if v == 1 else -1.0 if v == 2 else 0.0 for v in end])
            for points, borders in empty_regions(end, size):
                sign[points] = 1.0 if borders == 1 else -1.0 if borders == 2 else 0.0
            total += sign
        python = total / n
        assert np.abs(compiled - python).max() < 0.2  # 4 s.d.
        assert np.abs(compiled - python).mean() < 0.03
        contested += int(np.sum(np.abs(python) < 0.9))
    assert contested >= 5  # the comparison saw points the playouts disagree about
