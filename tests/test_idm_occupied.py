"""The IDM that also reads the points holding a stone in x_t (models/idm.py ``occupied=True``): the map, its
zero start from an emptied-map IDM, training only its columns, the training maps read from the frames, and the
player handing it over."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine.coords import BLACK, WHITE
from engine.game import Game


def test_occupied_points_are_where_a_stone_stands():
    from models.idm import occupied_points

    board = np.zeros((2, 3, 3), np.uint8)
    board[0, 0, 0], board[0, 2, 1] = 1, 2
    got = occupied_points(board)
    assert got.shape == (2, 9) and got.dtype == np.uint8
    assert got[0].tolist() == [1, 0, 0, 0, 0, 0, 0, 1, 0] and not got[1].any()


def test_an_occupied_idm_needs_its_map_and_widened_from_an_emptied_one_starts_as_its_function():
    from models.idm import IdmConfig, InverseDynamics, narrower_config, new_input_columns, widen_to

    plain = IdmConfig(hidden=32, layers=3, code_dim=3)
    emptied = dataclasses.replace(plain, emptied=True)
    cfg = dataclasses.replace(emptied, occupied=True)
    assert cfg.in_dim == emptied.in_dim + 81
    torch.manual_seed(0)
    old = InverseDynamics(emptied)
    new = InverseDynamics(cfg)
    new.load_state_dict(widen_to(old.state_dict(), cfg))  # strict: every weight has its place
    x, nxt = (torch.rand(5, 16, 6) * 2 - 1 for _ in range(2))
    z = torch.rand(5, 5, 3) * 2 - 1
    emp = (torch.rand(5, 81) < 0.1).float()
    occ = (torch.rand(5, 81) < 0.4).float()
    with pytest.raises(ValueError, match="occupied"):
        new(x, nxt, z, None, emp)
    torch.testing.assert_close(new(x, nxt, z, None, emp, occ), old(x, nxt, z, None, emp))  # zero columns
    cols = new_input_columns(cfg, emptied)
    assert cols.sum() == 81 and cols[-81:].all()  # the occupied map's columns only, last
    assert narrower_config(cfg, emptied.in_dim) == emptied and narrower_config(cfg, plain.in_dim) == plain
    with pytest.raises(ValueError, match="narrower"):
        narrower_config(cfg, emptied.in_dim + 1)
    # from the plain IDM: the emptied map's columns, then the occupied map's
    first = InverseDynamics(plain)
    both = InverseDynamics(cfg)
    both.load_state_dict(widen_to(first.state_dict(), cfg))
    torch.testing.assert_close(both(x, nxt, z, None, emp, occ), first(x, nxt, z))
    cols = new_input_columns(cfg, plain)
    assert cols.sum() == 2 * 81 and cols[-2 * 81:].all()
    with torch.no_grad():
        new.net[0].weight[:, -81:] = 1.0
    assert not torch.allclose(new(x, nxt, z, None, emp, occ), old(x, nxt, z, None, emp))  # trained, it counts


def test_the_training_maps_are_the_stones_the_frames_picture():
    """``_occupied`` reads the map from x_t's frame decoded (the shipped tokenizer), which must be the board
    the player hands over at play."""
    import models.train.idm_stage as ids
    from models.bundle import load_bundle
    from models.idm import occupied_points
    from models.token_cache import encode_boards
    from render.frame import RenderConfig

    tok = load_bundle("weights/9x9").tokenizer
    rng = np.random.default_rng(5)
    boards = np.zeros((40, 9, 9), np.uint8)
    for i, b in enumerate(boards):  # 0 to 39 stones of both colours
        pts = rng.choice(81, i, replace=False)
        b.reshape(-1)[pts] = rng.integers(1, 3, i)
    ids_ = encode_boards(tok, np.concatenate([boards, boards[:5]]), RenderConfig(resolution=tok.cfg.resolution))
    got = ids._occupied(np.asarray(ids_), tok, 9)
    assert got.shape == (45, 81) and got.dtype == torch.float32
    want = occupied_points(np.concatenate([boards, boards[:5]]))
    assert torch.equal(got, torch.from_numpy(want).float())


def test_training_only_the_occupied_map_moves_its_columns_and_nothing_else(tmp_path):
    """From the shipped IDM cut to an emptied-map IDM: the shipped tokenizer reads the frames back, so the
    occupied maps hold stones and their columns get a gradient."""
    import models.train.idm_stage as ids
    from models.bundle import load_bundle
    from models.checkpoint import atomic_torch_save, load_training_state
    from models.train.cli import apply_overrides
    from models.train.unpack import unpack_bundle
    from tiny_pipeline import make_corpus

    make_corpus(tmp_path / "data", games=4, max_moves=40, seed=3)
    unpacked = unpack_bundle("weights/9x9", tmp_path / "u")
    emptied = dataclasses.replace(load_bundle("weights/9x9").idm.cfg, occupied=False)
    assert emptied.emptied
    state = torch.load(unpacked["idm"], weights_only=True)
    # the shipped IDM without its occupied map's columns (if it has them): an emptied-map IDM to start from
    state["model"]["net.0.weight"] = state["model"]["net.0.weight"][:, :emptied.in_dim]
    start = tmp_path / "emptied" / "state.pt"
    atomic_torch_save(state, start)
    cfg = apply_overrides(ids.IdmTrainConfig(model=dataclasses.replace(emptied, occupied=True)), [
        f"data_dir={tmp_path / 'data'}", "label_share=1.0", "label_symmetries=1", "batch=64", "max_eval_games=1",
        "eval_every=4", f"tokenizer_state={unpacked['tokenizer']}", f"dynamics_state={unpacked['dynamics']}",
        f"loop.run_dir={tmp_path / 'runs' / 'idm'}", "loop.steps=4", "loop.progress=false", "loop.lr=0.01",
        f"loop.init_from={start}", "train_only=new_inputs"])
    before = state["model"]
    after = load_training_state(ids.train(cfg))["model"]
    for name, w in before.items():
        if name != "net.0.weight":
            assert torch.equal(after[name], w), name
    assert torch.equal(after["net.0.weight"][:, :-81], before["net.0.weight"])  # the emptied map's columns too
    assert after["net.0.weight"][:, -81:].abs().sum() > 0  # the occupied map's columns learned
    with pytest.raises(ValueError, match="train_only"):  # the IDM it starts from already reads both maps
        ids.train(dataclasses.replace(cfg, loop=dataclasses.replace(
            cfg.loop, init_from=str(tmp_path / "runs" / "idm" / "state.pt"), run_dir=str(tmp_path / "r2"))))


def test_the_player_hands_the_idm_the_points_holding_a_stone(tiny_bundle):
    from models.bundle import load_bundle
    from models.idm import InverseDynamics, occupied_points, widen_to
    from models.player import NeuralPlayer

    bundle = load_bundle(tiny_bundle)
    game = Game(9)
    for colour, move in ((BLACK, (3, 4)), (WHITE, (4, 4)), (BLACK, (2, 2))):
        game.play(move, colour)
    plain = NeuralPlayer(bundle, symmetries=8, top_k=1).analyze_many([(game, game.to_play)])[0].probs
    cfg = dataclasses.replace(bundle.idm.cfg, occupied=True)
    idm = InverseDynamics(cfg)
    idm.load_state_dict(widen_to(bundle.idm.state_dict(), cfg))
    seen = []
    forward = idm.forward
    idm.forward = lambda *a: seen.append(a[5]) or forward(*a)
    wide = NeuralPlayer(dataclasses.replace(bundle, idm=idm), symmetries=8, top_k=1)
    np.testing.assert_allclose(wide.analyze_many([(game, game.to_play)])[0].probs, plain, atol=1e-6)
    maps = seen[0]  # (8 views, 81): the three stones in each view
    want = occupied_points(game.position.array())  # view 0 is the board as it stands
    assert maps.shape == (8, 81) and torch.equal(maps[0], torch.from_numpy(want).float())
    assert (maps.sum(1) == 3).all()
    with torch.no_grad():
        idm.net[0].weight[:, -81:] = torch.randn(idm.net[0].weight.shape[0], 81)
    assert not np.allclose(wide.analyze_many([(game, game.to_play)])[0].probs, plain, atol=1e-4)
