"""The Monte Carlo tree search with RAVE (engine/mc_tree.py) and its moves on the playout board."""

import random
import time

import numpy as np
import pytest

from engine.coords import BLACK, EMPTY, WHITE, to_flat
from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer, candidates
from engine.mc_tree import TreeConfig, TreeSearch, quiet_edge_moves
from engine.playout import Playout


def board(size: int, black=(), white=()) -> bytes:
    stones = bytearray(size * size)
    for points, colour in ((black, BLACK), (white, WHITE)):
        for r, c in points:
            stones[r * size + c] = colour
    return bytes(stones)


def test_play_legal_follows_the_rules_where_the_policy_is_stricter():
    # Black's (0,0)-(0,1) has one liberty, (0,2); filling it leaves the three stones one liberty, (1,2)
    stones = board(5, black=[(0, 0), (0, 1)], white=[(1, 0), (1, 1), (0, 3)])
    po = Playout(stones, 5, BLACK, random.Random(0))
    assert not po._play(2)  # the policy refuses putting a chain of two or more in atari ...
    assert po.play_legal(2)  # ... the rules allow it
    assert po.board[2] == BLACK and po.colour == WHITE and po.moves == 1
    assert not po.play_legal(2) and po.colour == WHITE  # occupied
    # suicide: a lone Black stone in the corner between two White stones that keep their liberties
    po = Playout(board(5, white=[(0, 3), (1, 4)]), 5, BLACK, random.Random(0))
    assert not po.play_legal(4) and po.colour == BLACK and po.board[4] == EMPTY


def test_a_ko_capture_cannot_be_taken_back_at_once_on_the_playout_board():
    # White's (1,1) has one liberty, (1,2), where Black's stone would have none but the captured one's
    stones = board(5, black=[(0, 1), (1, 0), (2, 1)], white=[(1, 1), (0, 2), (2, 2), (1, 3)])
    po = Playout(stones, 5, BLACK, random.Random(0))
    assert po.play_legal(to_flat((1, 2), 5))  # captures (1,1)
    assert po.board[to_flat((1, 1), 5)] == EMPTY
    assert not po.play_legal(to_flat((1, 1), 5))  # White's immediate retake is the ko
    assert po.play_legal(to_flat((4, 4), 5)) and po.play_legal(to_flat((3, 3), 5))  # a move each elsewhere
    assert po.play_legal(to_flat((1, 1), 5))  # then it may


def test_the_edge_rule_drops_low_moves_in_empty_areas_only():
    empty = bytes(81)
    kept = quiet_edge_moves(empty, 9, list(range(81)))
    assert kept == [r * 9 + c for r in range(2, 7) for c in range(2, 7)]  # the 5x5 centre of lines 3-5
    near = board(9, black=[(2, 2)])  # a stone on the 3-3 point: low moves within distance 3 of it stay
    kept = set(quiet_edge_moves(near, 9, list(range(81))))
    assert to_flat((0, 2), 9) in kept and to_flat((1, 4), 9) in kept and to_flat((0, 8), 9) not in kept
    assert quiet_edge_moves(empty, 9, [0, 1, 9]) == [0, 1, 9]  # nothing else: all stay
    assert quiet_edge_moves(bytes(25), 5, [0, 1]) == [0, 1]  # small boards: left alone


def test_the_tree_captures_a_big_group_in_atari_and_its_visits_are_its_simulations():
    # White's six stones in the middle have one liberty, (4,6); Black to move
    white = [(3, 3), (3, 4), (3, 5), (4, 3), (4, 4), (4, 5)]
    black = [(2, 3), (2, 4), (2, 5), (5, 3), (5, 4), (5, 5), (3, 2), (4, 2), (3, 6)]
    game = Game(9, 7.0)
    game.setup(black, white, BLACK)
    cfg = MonteCarloConfig(playouts=300, search="tree")
    a = MonteCarloPlayer(cfg).analyze(game, BLACK)
    assert a.move == (4, 6)
    assert a.visits.sum() == 300 and a.visits[-1] == 0  # one root visit a simulation; pass is not a tree move
    played = to_flat(a.move, 9)
    assert a.visits[played] == a.visits.max() and a.winrate == a.move_winrates[played] > 0.9
    # each move tried has its line from the tree (the move, then the most visited answers), for lz-analyze's pv
    assert set(a.pvs) == set(np.flatnonzero(a.visits)) and a.pvs[played][0] == played and len(a.pvs[played]) >= 2
    assert MonteCarloPlayer(cfg).analyze(game, BLACK).move == a.move  # seeded by the board


def test_the_tree_grows_below_the_root_and_credits_rave_to_the_movers_points():
    game = Game(9, 7.0)
    points = candidates(game.position, BLACK)
    search = TreeSearch(game.position, BLACK, 7.0, points, TreeConfig())  # the edge rule leaves the 5x5 centre
    assert search.run(400) == 400
    root = search.root
    assert root.total == 400 and root.n.sum() == 400 and len(root.points) == 25
    assert root.children and all(child.colour == WHITE for child in root.children.values())
    # a child is made on its move's second visit, which then plays out at random: it saw every later one
    for i, child in root.children.items():
        assert root.n[i] >= 2 and child.total == root.n[i] - 2
    # every root move gets RAVE credit from most simulations (Black plays it first in about half the playouts)
    assert np.all(root.rave_n - TreeConfig().rave_prior > 100)
    assert np.all((root.wins >= 0) & (root.wins <= root.n))


def test_a_deadline_leaves_one_simulation():
    game = Game(13, 7.0)
    started = time.monotonic()
    a = MonteCarloPlayer(MonteCarloConfig(playouts=100_000, search="tree")).analyze(game, BLACK, deadline=started)
    assert a.visits.sum() == 1 and game.position.is_legal(a.move)
    assert time.monotonic() - started < 5


def test_bad_tree_settings_are_refused():
    with pytest.raises(ValueError):
        MonteCarloConfig(search="uct")
    with pytest.raises(ValueError):
        TreeConfig(margin_weight=0.7)


def test_the_tactical_setting_reaches_the_tree_playouts(monkeypatch):
    import engine.mc_tree as mc_tree

    seen = []

    class Recording(Playout):
        def __init__(self, *args, **kwargs):
            seen.append(args[4])  # (stones, size, to_play, rng, tactical, last)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(mc_tree, "Playout", Recording)
    game = Game(7, 7.0)
    for tactical in (True, False):
        seen.clear()
        MonteCarloPlayer(MonteCarloConfig(playouts=20, search="tree", tactical=tactical)).analyze(game, BLACK)
        assert seen == [tactical] * 20
