"""The network's favourite instead of the tree's most visited move when the playouts cannot tell them apart
(``MonteCarloConfig.prefer_prior``, engine/mc_player.prefer_prior; docs/model.md, session 51)."""

from dataclasses import replace

import numpy as np
import pytest

from engine.coords import BLACK, PASS, from_flat, to_flat
from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer, prefer_prior
from engine.mc_tree import TreeConfig


def test_the_favourite_replaces_the_most_visited_point_only_from_the_given_share_of_its_visits():
    visits = np.zeros(82)
    visits[[10, 20, 30]] = [100, 70, 40]
    prior = np.full(82, 0.01)
    prior[20] = 0.5
    assert prefer_prior(10, visits, prior, 0.7) == 20  # 70 of 100: at the share
    assert prefer_prior(10, visits, prior, 0.71) == 10  # just under it
    prior[20], prior[30] = 0.01, 0.5
    assert prefer_prior(10, visits, prior, 0.5) == 10  # the favourite has 40 of 100
    assert prefer_prior(10, visits, prior, 0.4) == 30
    # a move that is not the most visited came from another rule (the finishing rule): it stands
    assert prefer_prior(20, visits, prior, 0.1) == 20
    # the favourite the tree never read is not played
    prior[30], prior[50] = 0.01, 0.9
    assert prefer_prior(10, visits, prior, 0.1) == 10
    # passing is not the prior's to choose: its mass is ignored, the points' favourite counts
    prior[50], prior[81], prior[20] = 0.01, 0.95, 0.02
    assert prefer_prior(10, visits, prior, 0.5) == 20
    assert prefer_prior(10, np.zeros(82), prior, 0.5) == 10  # nothing read
    # favourites tied (8 views split 3-3): the tree's move among them stands, else the most visited of them
    prior = np.full(82, 0.01)
    prior[[10, 20]] = 0.375
    assert prefer_prior(10, visits, prior, 0.1) == 10
    prior[[10, 20, 30]] = 0.01, 0.375, 0.375 - 1e-4
    assert prefer_prior(10, visits, prior, 0.7) == 20 and prefer_prior(10, visits, prior, 0.75) == 10
    visits[30] = 90
    assert prefer_prior(10, visits, prior, 0.7) == 30  # the better read of the two favourites


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf")])
def test_a_share_outside_0_1_is_refused(bad):
    with pytest.raises(ValueError, match="prefer_prior"):
        MonteCarloConfig(prefer_prior=bad)


def opening() -> Game:
    game = Game(9, 7.0)
    for i, vertex in enumerate(((4, 4), (2, 6), (6, 2), (6, 6))):
        game.play(vertex, BLACK if i % 2 == 0 else 2)
    return game


def test_the_player_plays_the_favourite_from_the_same_search_and_nothing_else_changes():
    game = opening()
    prior = np.full(82, 1e-3)
    favourite = to_flat((4, 1), 9)  # a point this search reads second (found by trying a few)
    prior[favourite] = 0.05
    prior /= prior.sum()
    base = MonteCarloConfig(playouts=1500, seed=3, tree=TreeConfig(prior_weight=0.5))
    plain = MonteCarloPlayer(base).analyze(game, BLACK, prior=prior)
    best = to_flat(plain.move, 9)
    # the search must leave the favourite second, read, for the rule to have something to do
    assert plain.move is not PASS and best != favourite and 0 < plain.visits[favourite] < plain.visits[best]
    share = plain.visits[favourite] / plain.visits[:-1].max()
    at = MonteCarloPlayer(replace(base, prefer_prior=float(share))).analyze(game, BLACK, prior=prior)
    above = MonteCarloPlayer(replace(base, prefer_prior=min(1.0, float(share) + 1e-3))).analyze(game, BLACK, prior=prior)
    assert at.move == from_flat(favourite, 9) and above.move == plain.move
    # the same search: the statistics are those of the plain run, the winrate the favourite's
    assert np.array_equal(at.visits, plain.visits)
    assert at.winrate == pytest.approx(float(plain.move_winrates[favourite]))
    # cleanup (kgs-genmove_cleanup) and a search with no prior keep the most visited move
    preferring = MonteCarloPlayer(replace(base, prefer_prior=float(share)))
    assert preferring.analyze(game, BLACK, cleanup=True, prior=prior).move == \
        MonteCarloPlayer(base).analyze(game, BLACK, cleanup=True, prior=prior).move
    assert preferring.analyze(game, BLACK).move == MonteCarloPlayer(base).analyze(game, BLACK).move
