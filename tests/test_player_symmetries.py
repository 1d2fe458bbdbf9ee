"""Test-time symmetry averaging in NeuralPlayer: views built right, mapped back right."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine.coords import BLACK, WHITE
from engine.game import Game
from engine.player import RandomPlayer
from engine.symmetry import TRANSFORMS, transform_move, transform_stones


def _random_game(moves: int, seed: int) -> Game:
    g = Game(9)
    rnd = RandomPlayer(seed=seed)
    for _ in range(moves):
        g.play(rnd.genmove(g, g.to_play), g.to_play)
    return g


@pytest.mark.parametrize("t", range(len(TRANSFORMS)))
def test_views_move_stones_as_the_engine_symmetries_do(t):
    from models.player import _transform_views, symmetry_permutation

    rng = np.random.default_rng(t)
    views = rng.integers(0, 3, (3, 2, 9, 9)).astype(np.uint8)  # (B, F, N, N)
    out = _transform_views(views, symmetry_permutation(t, 9))
    for b in range(3):
        for f in range(2):
            want = np.frombuffer(transform_stones(views[b, f].tobytes(), t, 9), np.uint8).reshape(9, 9)
            assert np.array_equal(out[b, f], want)


@pytest.mark.parametrize("pool", ["mean", "geomean"])
def test_all_eight_symmetries_make_the_player_equivariant(tiny_bundle, pool):
    """Averaged over the whole group, the move distribution of a rotated or mirrored position is
    the original one moved by the same symmetry (whatever the network learned); with 1 view it
    is not (the tiny network is not symmetric), which shows the test can fail."""
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    bundle = load_bundle(tiny_bundle)
    game = _random_game(9, seed=5)
    color = game.to_play
    for sym, must_match in ((8, True), (1, False)):
        player = NeuralPlayer(bundle, top_k=2, symmetries=sym, view_pool=pool)
        base = player.analyze_many([(game, color)])[0].probs
        worst = 0.0
        for t in range(1, len(TRANSFORMS)):
            moved = Game(9)
            for c, m in game.moves:
                moved.play(transform_move(m, t, 9), c)
            probs = player.analyze_many([(moved, color)])[0].probs
            for p in range(81):
                r, c = TRANSFORMS[t](*divmod(p, 9), 8)
                worst = max(worst, abs(probs[r * 9 + c] - base[p]))
            worst = max(worst, abs(probs[81] - base[81]))
        if must_match:
            assert worst < 1e-5, worst
        else:
            assert worst > 1e-3, worst


def test_views_pool_by_their_mean_or_their_normalised_geometric_mean():
    from models.player import NeuralPlayer, pool_views

    views = np.array([[[0.5, 0.5, 0.0]], [[0.9, 0.05, 0.05]]])  # (S=2, B=1, M=3)
    np.testing.assert_allclose(pool_views(views, "mean"), [[0.7, 0.275, 0.025]])
    geo = np.sqrt(views[0, 0] * views[1, 0])  # (0.671, 0.158, 0): one view's 0 leaves nothing
    np.testing.assert_allclose(pool_views(views, "geomean"), [geo / geo.sum()], atol=1e-12)
    # the mean follows the views that are sure; the geometric mean the move every view supports
    split = np.array([[[0.1, 0.9, 0.0]], [[0.3, 0.05, 0.65]], [[0.3, 0.05, 0.65]]])
    assert pool_views(split, "mean").argmax() == 2 and pool_views(split, "geomean").argmax() == 0
    with pytest.raises(ValueError, match="view_pool"):
        NeuralPlayer(None, view_pool="max")


def test_symmetries_keep_a_batch_equal_to_its_positions_alone(tiny_bundle):
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    player = NeuralPlayer(load_bundle(tiny_bundle), top_k=2, symmetries=4)
    games = [(g, g.to_play) for g in (_random_game(n, seed=n) for n in (0, 4, 7))]
    together = player.analyze_many(games)
    for (g, c), a in zip(games, together):
        alone = player.analyze_many([(g, c)])[0]
        assert np.allclose(alone.probs, a.probs, atol=1e-5)
        assert alone.move == a.move and alone.z_codes == a.z_codes
        assert abs(alone.winrate - a.winrate) < 1e-5
        assert g.position.is_legal(a.move, c)
    assert {c for _, c in games} == {BLACK, WHITE}  # both colours' views


def test_symmetries_come_from_the_manifest_unless_given(tiny_bundle, tmp_path):
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    assert NeuralPlayer(load_bundle(tiny_bundle)).symmetries == 1
    tuned = tmp_path / "tuned"
    shutil.copytree(tiny_bundle, tuned)
    m = json.loads((tuned / "manifest.json").read_text())
    m["player"] = {"branches": 1, "symmetries": 8, "chosen_on": "a test"}
    (tuned / "manifest.json").write_text(json.dumps(m))
    bundle = load_bundle(tuned)
    assert NeuralPlayer(bundle).symmetries == 8 and NeuralPlayer(bundle, symmetries=2).symmetries == 2
    for bad in (0, 3, 16):
        with pytest.raises(ValueError):
            NeuralPlayer(bundle, symmetries=bad)
