"""The IDM that also reads the points the last move emptied (models/idm.py ``emptied=True``): the map, its
zero start from a plain IDM, training only its columns, and the player handing it over."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine.coords import BLACK, WHITE
from engine.game import Game


def test_emptied_points_are_where_a_stone_vanished():
    from models.idm import emptied_points

    before = np.zeros((2, 3, 3), np.uint8)
    after = before.copy()
    before[0, 1, 1], before[0, 0, 2] = 2, 1  # a white stone at (1, 1) goes, the black one stays
    after[0, 0, 2], after[0, 2, 0] = 1, 1  # and a new stone comes: not "emptied"
    got = emptied_points(before, after)
    assert got.shape == (2, 9) and got.dtype == np.uint8
    assert got[0].tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0] and not got[1].any()


def test_an_emptied_idm_needs_its_map_and_widened_from_a_plain_one_starts_as_its_function():
    from models.idm import IdmConfig, InverseDynamics, new_input_columns, widen_to

    plain = IdmConfig(hidden=32, layers=3, code_dim=3)
    cfg = dataclasses.replace(plain, emptied=True)
    assert cfg.in_dim == plain.in_dim + 81 and cfg.frames_before == 1 and plain.frames_before == 0
    torch.manual_seed(0)
    old = InverseDynamics(plain)
    new = InverseDynamics(cfg)
    new.load_state_dict(widen_to(old.state_dict(), cfg))  # strict: every weight has its place
    x, nxt = (torch.rand(5, 16, 6) * 2 - 1 for _ in range(2))
    z = torch.rand(5, 5, 3) * 2 - 1
    emptied = (torch.rand(5, 81) < 0.1).float()
    with pytest.raises(ValueError, match="emptied"):
        new(x, nxt, z)
    torch.testing.assert_close(new(x, nxt, z, None, emptied), old(x, nxt, z))  # the map's columns start at 0
    cols = new_input_columns(cfg, plain)
    assert cols.sum() == 81 and cols[-81:].all()
    # both new inputs at once, from the plain IDM
    both = dataclasses.replace(cfg, context=1)
    wide = InverseDynamics(both)
    wide.load_state_dict(widen_to(old.state_dict(), both))
    prev = torch.rand(5, 16, 6) * 2 - 1
    torch.testing.assert_close(wide(x, nxt, z, prev, emptied), old(x, nxt, z))
    assert new_input_columns(both, plain).sum() == 2 * 16 * 6 + 81
    with torch.no_grad():
        new.net[0].weight[:, -81:] = 1.0
    assert not torch.allclose(new(x, nxt, z, None, emptied), old(x, nxt, z))  # once trained, the map counts


def test_training_only_the_new_inputs_moves_the_map_columns_and_nothing_else(tiny_bundle, tmp_path):
    import models.train.idm_stage as ids
    from engine.corpus import iter_records, record_key
    from engine.sgf import record_to_game
    from models.checkpoint import load_training_state
    from models.idm import IDM_SIZES, emptied_points
    from models.train.cli import apply_overrides
    from models.train.unpack import unpack_bundle
    from models.video_data import game_stones, symmetry
    from tiny_pipeline import make_corpus

    make_corpus(tmp_path / "data", games=6, max_moves=120, seed=3)  # long random games: captures
    unpacked = unpack_bundle(tiny_bundle, tmp_path / "u")
    model = dataclasses.replace(IDM_SIZES["tiny"], emptied=True)
    cfg = apply_overrides(ids.IdmTrainConfig(model=model), [
        f"data_dir={tmp_path / 'data'}", "label_share=1.0", "label_symmetries=1", "batch=64", "max_eval_games=2",
        "eval_every=4", f"tokenizer_state={unpacked['tokenizer']}", f"dynamics_state={unpacked['dynamics']}",
        f"loop.run_dir={tmp_path / 'runs' / 'idm'}", "loop.steps=4", "loop.progress=false", "loop.lr=0.01",
        f"loop.init_from={unpacked['idm']}", "train_only=new_inputs"])
    state = load_training_state(ids.train(cfg))
    before = torch.load(unpacked["idm"], weights_only=True)["model"]
    after = state["model"]
    for name, w in before.items():
        if name != "net.0.weight":
            assert torch.equal(after[name], w), name
    assert torch.equal(after["net.0.weight"][:, :-81], before["net.0.weight"])  # no weight decay either
    assert after["net.0.weight"][:, -81:].abs().sum() > 0  # the map's columns learned
    # the kept pairs' maps are the stones' own: the first game, in its one symmetry
    pairs = dict(np.load(tmp_path / "runs" / "idm" / "pairs_train.npz"))
    rec = next(r for _, r in iter_records(str(tmp_path / "data"), split="train", size=9))
    sym = symmetry(game_stones(record_to_game(rec)), ids.game_symmetries(record_key(rec.size, rec.moves), 1)[0])
    t = len(rec.moves)
    want = emptied_points(sym[np.maximum(np.arange(t) - 1, 0)], sym[:t])
    assert (pairs["emptied"][:t] == want).all() and want.any()
    with pytest.raises(ValueError, match="train_only"):
        ids.train(dataclasses.replace(cfg, model=IDM_SIZES["tiny"]))  # nothing new to train


def test_the_player_hands_the_idm_the_points_the_last_move_emptied(tiny_bundle):
    from models.bundle import load_bundle
    from models.idm import InverseDynamics, emptied_points, widen_to
    from models.player import NeuralPlayer

    bundle = load_bundle(tiny_bundle)
    plain_probs = {}
    game = Game(9)
    # White's stone at E5 captured by Black: then White to play, E5 just emptied
    for colour, move in ((BLACK, (3, 4)), (WHITE, (4, 4)), (BLACK, (5, 4)), (WHITE, (0, 0)), (BLACK, (4, 3)),
                         (WHITE, (0, 1)), (BLACK, (4, 5))):
        game.play(move, colour)
    assert game.position.array()[4, 4] == 0
    quiet = Game(9)
    quiet.play((2, 2), BLACK)
    for name, g in (("capture", game), ("quiet", quiet)):
        plain_probs[name] = NeuralPlayer(bundle, symmetries=8, top_k=1).analyze_many([(g, g.to_play)])[0].probs
    cfg = dataclasses.replace(bundle.idm.cfg, emptied=True)
    idm = InverseDynamics(cfg)
    idm.load_state_dict(widen_to(bundle.idm.state_dict(), cfg))
    seen = []
    forward = idm.forward
    idm.forward = lambda *a: seen.append(a[4]) or forward(*a)
    wide = NeuralPlayer(dataclasses.replace(bundle, idm=idm), symmetries=8, top_k=1)
    for name, g in (("capture", game), ("quiet", quiet)):
        np.testing.assert_allclose(wide.analyze_many([(g, g.to_play)])[0].probs, plain_probs[name], atol=1e-6)
    maps = seen[0]  # (8 views, 81): E5 in each view; the quiet position's maps are all 0
    want = emptied_points(np.frombuffer(game.positions[-2].stones, np.uint8).reshape(9, 9),
                          game.position.array())
    assert maps.shape == (8, 81) and torch.equal(maps[0], torch.from_numpy(want).float())
    assert (maps.sum(1) == 1).all() and not seen[1].any()
    with torch.no_grad():
        idm.net[0].weight[:, -81:] = torch.randn(idm.net[0].weight.shape[0], 81)
    moved = wide.analyze_many([(game, game.to_play)])[0].probs
    assert not np.allclose(moved, plain_probs["capture"], atol=1e-4)  # after the capture the map counts
    np.testing.assert_allclose(wide.analyze_many([(quiet, quiet.to_play)])[0].probs, plain_probs["quiet"], atol=1e-6)
