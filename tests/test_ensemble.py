"""EnsemblePlayer (models/ensemble.py): the members' move distributions averaged by their weights."""

from __future__ import annotations

import numpy as np
import pytest

from engine.coords import from_flat, to_flat
from test_player_symmetries import _random_game as _game  # a 9x9 game of random legal moves


def _members(tiny_bundle):
    """Two readings of the tiny bundle that differ (1 and 2 board views: the tiny network is not symmetric)."""
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    bundle = load_bundle(tiny_bundle)
    return NeuralPlayer(bundle, top_k=2, symmetries=1), NeuralPlayer(bundle, top_k=2, symmetries=2)


def test_the_ensemble_plays_the_weighted_mean_of_its_members(tiny_bundle):
    from models.ensemble import EnsemblePlayer

    a, b = _members(tiny_bundle)
    requests = [(g, g.to_play) for g in (_game(7, seed=3), _game(12, seed=4))]
    pa = [x.probs for x in a.analyze_many(requests)]
    pb = [x.probs for x in b.analyze_many(requests)]
    assert max(np.abs(x - y).max() for x, y in zip(pa, pb)) > 1e-3  # the members differ: the test can fail
    out = EnsemblePlayer([a, b], [3, 1]).analyze_many(requests)
    for i, (game, color) in enumerate(requests):
        want = 0.75 * pa[i] + 0.25 * pb[i]
        assert np.allclose(out[i].probs, want, atol=1e-6)
        assert out[i].raw_move == from_flat(int(np.argmax(want)), 9)
        legal = game.position.legal_mask(color)
        assert np.allclose(out[i].legal_probs, np.where(legal, want, 0) / np.where(legal, want, 0).sum(), atol=1e-6)
        assert legal[to_flat(out[i].move, 9)]


def test_a_member_of_weight_zero_changes_nothing(tiny_bundle):
    from models.ensemble import EnsemblePlayer

    a, b = _members(tiny_bundle)
    game = _game(9, seed=6)
    alone = a.analyze_many([(game, game.to_play)])[0]
    both = EnsemblePlayer([a, b], [1, 0]).analyze_many([(game, game.to_play)])[0]
    assert np.allclose(both.probs, alone.probs, atol=1e-7)
    assert both.move == alone.move and both.z_codes == alone.z_codes and both.winrate == alone.winrate


def test_variant_reaches_every_member(tiny_bundle):
    from models.ensemble import EnsemblePlayer

    a, b = _members(tiny_bundle)
    one = EnsemblePlayer([a, b]).variant(symmetries=4, top_k=1)
    assert [m.symmetries for m in one.members] == [4, 4] and [m.top_k for m in one.members] == [1, 1]
    assert one.symmetries == 4 and np.allclose(one.mix, [0.5, 0.5])


@pytest.mark.parametrize("weights", [[1.0], [1.0, -1.0], [0.0, 0.0], [1.0, 1.0, 1.0]])
def test_bad_weights_are_refused(tiny_bundle, weights):
    from models.ensemble import EnsemblePlayer

    a, b = _members(tiny_bundle)
    members = [a] if len(weights) == 1 else [a, b]
    with pytest.raises(ValueError):
        EnsemblePlayer(members, weights)


def test_the_steered_tree_takes_an_ensemble_prior(tiny_bundle):
    """``steered_mc:weights=A+B``: the tree's network is the ensemble, its prior the members' mean."""
    from models.ensemble import EnsemblePlayer
    from models.steered_mc import steered_mc

    player = steered_mc(weights=f"{tiny_bundle}+{tiny_bundle}", mix="2+1", playouts=200, symmetries=2)
    assert isinstance(player.network, EnsemblePlayer) and np.allclose(player.network.mix, [2 / 3, 1 / 3])
    game = _game(10, seed=8)
    a = player.analyze_many([(game, game.to_play)])[0]
    assert game.position.legal_mask(game.to_play)[to_flat(a.move, 9)]


def test_the_steered_tree_takes_the_networks_branches(tiny_bundle):
    from models.steered_mc import steered_mc

    assert steered_mc(weights=str(tiny_bundle), top_k=3, playouts=100).network.top_k == 3
    both = steered_mc(weights=f"{tiny_bundle}+{tiny_bundle}", top_k=2, playouts=100).network
    assert [m.top_k for m in both.members] == [2, 2]
