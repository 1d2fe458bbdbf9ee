"""scripts/raw_illegal_breakdown.py's per-view reads: each board view's distribution, mapped back to the real
board, is what the player pools (so the reads shown for an illegal raw move are the player's own)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from engine.coords import BLACK, WHITE, from_gtp, to_flat
from engine.game import Game
from models.player import NeuralPlayer, shipped

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "raw_illegal_breakdown.py"


def _script():
    spec = importlib.util.spec_from_file_location("raw_illegal_breakdown", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _game(size: int, moves: str) -> Game:
    g = Game(size, 7.0)
    for i, v in enumerate(moves.split()):
        g.play(from_gtp(v, size), BLACK if i % 2 == 0 else WHITE)
    return g


@pytest.mark.parametrize("moves", ["", "E5 C3 G3 C7 G7 D5 E3 D3 E7 F4 F5 G4 H4 H5 J5 G6 H6"])
def test_the_views_mean_is_the_players_distribution_and_frames_read_empty_points(moves: str) -> None:
    mod = _script()
    player = shipped()  # the shipped bundle: one branch a view, 8 views pooled by their mean
    assert player.top_k == 1 and player.view_pool == "mean" and player.symmetries == 8
    game = _game(9, moves)
    color = BLACK if len(game.moves) % 2 == 0 else WHITE
    probs, shown, changed, clean = mod.view_probs(player, game, color)
    assert probs.shape == (8, 82) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
    analysis = player.analyze_many([(game, color)])[0]
    np.testing.assert_allclose(probs.mean(0), analysis.probs, atol=1e-5)
    board = game.position.array()
    for vertex, n, k in zip(shown, changed, clean):
        if vertex != "pass":  # a frame showing a new stone of the mover's shows it on a point empty now
            assert board[from_gtp(vertex, 9)] == 0 and n >= 1
        else:
            assert not k
    assert sum(clean) >= 4  # the shipped network pictures most of its moves cleanly in these two positions
    rows = mod.view_reads(player, game, color)
    assert [r["frame"] for r in rows] == shown
    assert all(probs[s, to_flat(from_gtp(r["idm"], 9), 9)] == pytest.approx(r["p"], abs=1e-3) for s, r in enumerate(rows))


def test_view_reads_follow_the_players_views_for_a_tiny_bundle(tiny_bundle) -> None:
    mod = _script()
    from models.bundle import load_bundle

    player = NeuralPlayer(load_bundle(tiny_bundle), symmetries=2, top_k=1)
    game = _game(player.bundle.board_size, "")
    probs, shown, _, _ = mod.view_probs(player, game, BLACK)
    assert probs.shape[0] == 2 and len(shown) == 2
    np.testing.assert_allclose(probs.mean(0), player.analyze_many([(game, BLACK)])[0].probs, atol=1e-5)


def test_picture_kind_names_what_the_voting_views_were_shown() -> None:
    kind = _script().picture_kind
    view = lambda frame, idm, changed, clean: {"frame": frame, "idm": idm, "p": 0.9, "changed": changed, "clean": clean}
    assert kind({"raw": "C3", "views": [view("C3", "C3", 1, True), view("pass", "C3", 0, False)]}) == "clean"
    assert kind({"raw": "C3", "views": [view("C3", "C3", 2, True)]}) == "clean"  # with a capture
    assert kind({"raw": "C3", "views": [view("C3", "D4", 1, True), view("pass", "C3", 0, False),
                                        view("E5", "C3", 2, False)]}) == "no new stone"
    assert kind({"raw": "C3", "views": [view("C3", "D4", 1, True), view("E5", "C3", 1, True)]}) == "other"
    assert kind({"raw": "C3", "views": [view("C3", "C3", 3, False)]}) == "other"  # the stone shown, in a muddle
