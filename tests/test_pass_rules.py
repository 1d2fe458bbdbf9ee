"""When the engine lets a player pass: the game over for the mover (engine/deadstones.finished_for), and the
network's pass masked or allowed by it (models/player.play_mask)."""

from __future__ import annotations

import numpy as np

from engine.board import from_ascii
from engine.coords import BLACK, WHITE
from engine import deadstones
from engine.deadstones import finished_for
from engine.game import Game
from models.player import play_mask
from test_mc_player import settled_game

N = 9
PASS_INDEX = N * N


def _probs(first: int) -> np.ndarray:
    """A move distribution whose first choice is the flat index ``first`` (N*N: pass)."""
    p = np.full(N * N + 1, 0.001)
    p[first] = 0.9
    return p / p.sum()


def test_the_game_is_over_for_a_side_only_with_nothing_to_save_take_or_fill(monkeypatch):
    finished = settled_game(BLACK)
    assert finished_for(finished.position, BLACK) and finished_for(finished.position, WHITE)
    # a dead White stone in Black's area: Black must take it first; for White it is its own dead stone
    stone = settled_game(BLACK, white_extra=[(4, 3)]).position
    assert not finished_for(stone, BLACK) and finished_for(stone, WHITE)
    # the walls a column apart: nine dame between them (area scoring counts them once filled), over for neither
    dame = Game(9, 7.0)
    black = [(r, 4) for r in range(9)] + [(r, c) for r in range(9) for c in range(4) if (r + c) % 3 == 0]
    white = [(r, 6) for r in range(9)] + [(1, 8), (4, 8), (7, 8)]
    dame.setup(black, white, BLACK)
    assert dame.position.unsettled_points() == 9
    assert not finished_for(dame.position, BLACK) and not finished_for(dame.position, WHITE)
    # two Black stones in atari in the corner, their one liberty A9 touching Black only, so every empty region
    # touches one colour: were the count to call them alive, there would still be a chain to save (Black) or to
    # take (White), so the game is over for neither
    atari = from_ascii("""
        . X O . O . O . O
        X O . O . O . O .
        O . O . O . O . O
        . O . O . O . O .
        O . O . O . O . O
        . O . O . O . O .
        O . O . O . O . O
        . O . O . O . O .
        O . O . O . O . O""", BLACK)
    assert atari.unsettled_points() == 0
    monkeypatch.setattr(deadstones, "dead_chains", lambda position, cfg: [])
    assert not finished_for(atari, BLACK) and not finished_for(atari, WHITE)
    assert finished_for(finished.position, BLACK)  # the patched count changes nothing on the finished board
    monkeypatch.undo()
    # the opening: a few stones are never a finished game (the count does not even run)
    opening = Game(9, 7.0)
    opening.setup([(2, 2), (6, 6)], [(2, 6)], BLACK)
    assert not finished_for(opening.position, BLACK)


def test_the_network_may_pass_once_only_its_own_dead_stones_are_left_and_never_before_taking_the_opponents():
    finished = settled_game(BLACK)
    rules = finished.position.legal_mask(BLACK)
    point = int(np.flatnonzero(rules[:-1])[0])
    # a settled board: its pass is allowed when it is the network's first choice (not in cleanup), else it plays
    assert play_mask(finished, BLACK, rules, _probs(PASS_INDEX), cleanup=False)[PASS_INDEX]
    assert not play_mask(finished, BLACK, rules, _probs(PASS_INDEX), cleanup=True)[PASS_INDEX]
    mask = play_mask(finished, BLACK, rules, _probs(point), cleanup=False)
    assert not mask[PASS_INDEX] and mask[point]
    # White to move with its own dead stone in Black's area: the board is not settled, the game is over for
    # White: its pass is allowed when it is the network's first choice, else it plays on
    own_dead = settled_game(WHITE, white_extra=[(4, 3)])
    assert own_dead.position.unsettled_points() > 2
    rules = own_dead.position.legal_mask(WHITE)
    assert play_mask(own_dead, WHITE, rules, _probs(PASS_INDEX), cleanup=False)[PASS_INDEX]
    point = int(np.flatnonzero(rules[:-1])[0])
    mask = play_mask(own_dead, WHITE, rules, _probs(point), cleanup=False)
    assert not mask[PASS_INDEX] and mask[point]
    # Black, with the opponent's dead stone in its area: no pass before taking it, even as its first choice
    theirs = settled_game(BLACK, white_extra=[(4, 3)])
    rules = theirs.position.legal_mask(BLACK)
    assert not play_mask(theirs, BLACK, rules, _probs(PASS_INDEX), cleanup=False)[PASS_INDEX]
