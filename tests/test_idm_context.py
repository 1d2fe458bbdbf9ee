"""The IDM that also reads the previous frame (models/idm.py ``context=1``): its pairs, its training
on imagined frames, its export into a bundle and its place in the player."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from engine.coords import BLACK, WHITE
from engine.corpus import iter_records, record_key
from engine.game import Game


def test_context_idm_needs_and_reads_the_previous_frame():
    from models.idm import IdmConfig, InverseDynamics

    with pytest.raises(ValueError, match="context"):
        IdmConfig(context=2)
    cfg = IdmConfig(hidden=32, layers=2, context=1, code_dim=3)
    assert cfg.in_dim == IdmConfig(hidden=32, layers=2, code_dim=3).in_dim + 2 * 16 * 6
    torch.manual_seed(0)
    idm = InverseDynamics(cfg)
    x, nxt, prev = (torch.rand(4, 16, 6) * 2 - 1 for _ in range(3))
    z = torch.rand(4, 5, 3) * 2 - 1
    with pytest.raises(ValueError, match="x_prev"):
        idm(x, nxt, z)
    out = idm(x, nxt, z, prev)
    assert out.shape == (4, 82)
    assert not torch.allclose(out, idm(x, nxt, z, -prev))  # the previous frame changes the answer


def test_a_context_idm_widened_from_a_trained_one_starts_as_its_exact_function():
    from models.idm import IdmConfig, InverseDynamics, widen_to_context

    torch.manual_seed(1)
    old = InverseDynamics(IdmConfig(hidden=32, layers=3, code_dim=3))
    cfg = IdmConfig(hidden=32, layers=3, code_dim=3, context=1)
    new = InverseDynamics(cfg)
    new.load_state_dict(widen_to_context(old.state_dict(), cfg))  # strict: every weight has its place
    x, nxt, prev = (torch.rand(5, 16, 6) * 2 - 1 for _ in range(3))
    z = torch.rand(5, 5, 3) * 2 - 1
    torch.testing.assert_close(new(x, nxt, z, prev), old(x, nxt, z))
    same = widen_to_context(new.state_dict(), cfg)
    assert torch.equal(same["net.0.weight"], new.state_dict()["net.0.weight"])  # already wide: unchanged
    with pytest.raises(ValueError, match="widen"):
        widen_to_context(InverseDynamics(IdmConfig(hidden=32, layers=3, code_dim=6)).state_dict(), cfg)


def _cfg(tiny_bundle, *extra):
    import models.train.idm_stage as ids
    from models.idm import IDM_SIZES
    from models.train.cli import apply_overrides

    data = tiny_bundle.parent / "data"
    model = dataclasses.replace(IDM_SIZES["tiny"], context=1)
    return apply_overrides(ids.IdmTrainConfig(model=model), [f"data_dir={data}", "label_share=0.3", *extra])


def test_labelled_pairs_carry_the_previous_frame_in_the_movers_view(tiny_bundle, tmp_path):
    import models.train.idm_stage as ids
    from models.train.transformer_stage import load_dynamics
    from models.train.unpack import unpack_bundle
    from models.train.windows import load_tokenizer

    unpacked = unpack_bundle(tiny_bundle, tmp_path / "u")
    cfg = _cfg(tiny_bundle)
    tokenizer, ldm = load_tokenizer(unpacked["tokenizer"]), load_dynamics(unpacked["dynamics"])
    data = ids.labelled_transitions(cfg, "train", tokenizer, ldm, labelled_only=True, max_games=1)
    key = next(record_key(rec.size, rec.moves) for _, rec in iter_records(str(cfg.data_dir), split="train", size=9)
               if ids.is_labelled(record_key(rec.size, rec.moves), 0.3) and not (rec.black_setup or rec.white_setup))
    t = len(data["move"]) // 8  # one game, its moves in each of 8 symmetries
    assert t >= 3 and data["prev"].shape == data["x"].shape
    x, nxt, prev = (data[k][:t] for k in ("x", "nxt", "prev"))  # the first symmetry
    assert (prev[0] == x[0]).all()  # before the start: the first frame repeated
    # x_{t-1} seen by the mover at t is the frame the mover of t-2 saw next (same colours up)
    assert (prev[2:] == nxt[:-2]).all()
    assert not (prev[1:] == x[1:]).all(axis=1).all()
    # fewer symmetries: the game's pairs in the hash-chosen ones only, the same pairs as in the full set
    two = ids.labelled_transitions(dataclasses.replace(cfg, label_symmetries=2), "train", tokenizer, ldm,
                                   labelled_only=True, max_games=1)
    first = ids.game_symmetries(key, 2)
    assert len(two["move"]) == 2 * t and first == [(first[0] + j) % 8 for j in range(2)]
    for j, k in enumerate(first):
        for name in ("x", "nxt", "prev", "z", "move"):
            assert (two[name][j * t:(j + 1) * t] == data[name][k * t:(k + 1) * t]).all()
    with pytest.raises(ValueError, match="label_symmetries"):
        ids.labelled_transitions(dataclasses.replace(cfg, label_symmetries=0), "train", tokenizer, ldm, True, max_games=1)


def test_imagined_pairs_in_several_symmetries_train_a_context_idm_that_the_player_reads(tiny_bundle, tmp_path,
                                                                                        monkeypatch):
    import models.train.idm_stage as ids
    from models.bundle import load_bundle
    from models.checkpoint import load_training_state
    from models.player import NeuralPlayer
    from engine.cli import main as cli_main
    from models.train.unpack import unpack_bundle

    cfg = _cfg(tiny_bundle, f"imagined_from={tiny_bundle}", "imagined_batch=7", "imagined_symmetries=2")
    raw = ids.imagined_transitions(cfg, str(tiny_bundle))
    one = ids.imagined_transitions(dataclasses.replace(cfg, imagined_symmetries=1), str(tiny_bundle))
    m = len(raw["move"])
    assert m == 2 * len(one["move"]) and raw["prev"].shape == raw["x"].shape == (m, 16)
    # game by game, the first of its symmetries is the one-symmetry set's
    labelled = [len(rec.moves) for _, rec in iter_records(str(cfg.data_dir), split="train", size=9)
                if ids.is_labelled(record_key(rec.size, rec.moves), 0.3)]
    first = np.concatenate([np.arange(t) + 2 * sum(labelled[:g]) for g, t in enumerate(labelled)])
    assert (raw["x"][first] == one["x"]).all() and (raw["prev"][first] == one["prev"]).all()
    assert not (np.delete(raw["x"], first, 0) == one["x"]).all()  # the second symmetry: other frames
    with pytest.raises(ValueError, match="imagined_symmetries"):
        ids.imagined_transitions(dataclasses.replace(cfg, imagined_symmetries=9), str(tiny_bundle))

    # from the bundle's context-0 IDM, widened (models/idm.widen_to_context), then exported over the tiny bundle
    unpacked = unpack_bundle(tiny_bundle, tmp_path / "u")
    runs = tmp_path / "runs"
    cfg = dataclasses.replace(cfg, tokenizer_state=str(unpacked["tokenizer"]), dynamics_state=str(unpacked["dynamics"]),
                              batch=16, max_eval_games=2, eval_every=2,
                              loop=dataclasses.replace(cfg.loop, run_dir=str(runs / "idm"), steps=4, progress=False,
                                                       init_from=str(unpacked["idm"])))
    state = load_training_state(ids.train(cfg))
    assert int(state["step"]) == 4 and json.loads(state["config"])["model"]["context"] == 1
    # the pairs are kept in the run folder: a resumed run builds none of them again
    assert all((runs / "idm" / f).exists() for f in ("pairs_train.npz", "pairs_val.npz", "imagined.npz"))

    def built_again(*a, **k):
        raise AssertionError("pairs built again")

    monkeypatch.setattr(ids, "labelled_transitions", built_again)
    monkeypatch.setattr(ids, "imagined_transitions", built_again)
    longer = dataclasses.replace(cfg, loop=dataclasses.replace(cfg.loop, steps=6))
    assert int(load_training_state(ids.train(longer))["step"]) == 6
    monkeypatch.undo()
    out = tmp_path / "bundle"
    assert cli_main(["export", "--base", str(tiny_bundle), "--runs", str(runs), "--out", str(out)]) == 0
    bundle = load_bundle(out)
    assert bundle.idm.cfg.context == 1

    # the player hands the IDM the previous position, drawn in the mover's view
    seen = []
    forward = bundle.idm.forward
    bundle.idm.forward = lambda *a: (seen.append(a), forward(*a))[1]
    player = NeuralPlayer(bundle, symmetries=1, top_k=1)
    game = Game(9, 7.0)
    game.play((2, 2), BLACK)
    game.play((4, 4), WHITE)
    a = player.analyze_many([(game, BLACK)])[0]
    assert a.legal_probs.shape == (82,) and np.isclose(a.legal_probs.sum(), 1.0)
    x_t, _, _, x_prev, emptied, occupied = seen[-1]
    assert emptied is None and occupied is None  # a context IDM without the emptied or occupied map
    fsq = bundle.tokenizer.fsq
    from models.token_cache import encode_boards
    from render.frame import RenderConfig

    before = np.frombuffer(game.positions[-2].stones, np.uint8).reshape(9, 9)  # after Black's move, Black to move
    want = encode_boards(bundle.tokenizer, before[None], RenderConfig(resolution=bundle.tokenizer.cfg.resolution))
    assert torch.equal(x_prev, fsq.indices_to_codes(torch.from_numpy(want.astype(np.int64))))
    assert not torch.equal(x_prev, x_t)


def test_imagined_pairs_can_be_only_the_positions_after_a_capture(tiny_bundle, tmp_path, monkeypatch):
    """``imagined_filter="capture"``: only the positions whose previous transition removed stones (seen in the
    frames), the same rows the full set has at exactly those moves."""
    import models.train.idm_stage as ids
    from engine.sgf import record_to_game
    from models.video_data import game_stones
    from tiny_pipeline import make_corpus

    make_corpus(tmp_path / "data", games=6, max_moves=120, seed=3)  # long random games: captures
    cfg = dataclasses.replace(_cfg(tiny_bundle, f"imagined_from={tiny_bundle}", "imagined_batch=64"),
                              data_dir=str(tmp_path / "data"), label_share=1.0)
    full = ids.imagined_transitions(cfg, str(tiny_bundle))
    cap = ids.imagined_transitions(dataclasses.replace(cfg, imagined_filter="capture"), str(tiny_bundle))
    after, start = [], 0
    for _, rec in iter_records(str(cfg.data_dir), split="train", size=9):
        st = game_stones(record_to_game(rec))
        after += [start + t for t in range(1, len(rec.moves)) if ((st[t - 1] > 0) & (st[t] == 0)).any()]
        start += len(rec.moves)
    assert start == len(full["move"]) and 0 < len(after) < start // 2
    assert len(cap["move"]) == len(after)
    for name in ("x", "prev", "move"):
        assert (cap[name] == full[name][after]).all()
    # x_{t-1} -> x_t differs at each kept position (a stone went); the frames are the full set's
    assert not (cap["prev"] == cap["x"]).all(axis=1).any()
    # "recapture" keeps the positions its reading picks (here every other one, the reading stubbed: the tiny
    # network imagines no recapture) with all k branch rows of each, the rest of the capture set's rows
    def every_other(views, nxt, player):
        m, k = nxt.shape[:2]
        return np.arange(m * k).reshape(m, k), (np.arange(m) % 2 == 0)[:, None].repeat(k, 1)

    monkeypatch.setattr(ids, "_onto_emptied", every_other)
    rec = ids.imagined_transitions(dataclasses.replace(cfg, imagined_filter="recapture"), str(tiny_bundle))
    k, m = cap["k"], len(cap["move"])
    for name in ("x", "prev", "move", "emptied"):
        assert (rec[name] == cap[name][::2]).all(), name
    for name in ("nxt", "z", "w"):
        assert (rec[name] == cap[name].reshape(m, k, *cap[name].shape[1:])[::2].reshape(-1, *cap[name].shape[1:])).all()
    assert k > 1 and (rec["read"] == np.arange(m * k).reshape(m, k)[::2].reshape(-1)).all()
    with pytest.raises(ValueError, match="imagined_filter"):
        ids.imagined_transitions(dataclasses.replace(cfg, imagined_filter="ko"), str(tiny_bundle))


def test_recapture_keeps_the_imagined_frames_whose_new_stone_fills_a_point_just_emptied():
    """``imagined_filter="recapture"``'s reading (models/train/idm_stage._onto_emptied), on rendered frames: the
    imagined new stone of the mover on the point the last transition emptied (a ko retake's picture) is kept;
    one elsewhere, or on a point that was empty before too, is not."""
    from types import SimpleNamespace

    from models.train.idm_stage import _onto_emptied
    from render.frame import RenderConfig, render_many

    rcfg = RenderConfig(resolution=64)
    prev = np.zeros((9, 9), np.uint8)
    prev[4, 4] = 1  # the mover's stone, then captured by the opponent's stone at (4, 5)
    prev[3, 5] = prev[5, 5] = prev[4, 6] = 1
    prev[3, 4] = prev[5, 4] = prev[4, 3] = 2
    now = prev.copy()
    now[4, 4], now[4, 5] = 0, 2
    retake, elsewhere, into_old_hole = now.copy(), now.copy(), now.copy()
    retake[4, 4], retake[4, 5] = 1, 0
    elsewhere[0, 0] = 1
    into_old_hole[8, 8] = 1
    imagined = [retake, elsewhere, into_old_hole]

    class Decoder:
        def decode(self, ids):  # frame "ids" here: an index into ``imagined`` in the first slot
            frames = render_many(np.stack([imagined[int(i)] for i in ids[:, 0]]), rcfg)
            return torch.from_numpy(frames).permute(0, 3, 1, 2)

    player = SimpleNamespace(bundle=SimpleNamespace(tokenizer=Decoder()), rcfg=rcfg)
    views = np.stack([np.stack([prev, now])] * 3)  # (3 positions, x_{t-1} and x_t)
    nxt = np.zeros((3, 2, 16), np.int64)  # two branches a position
    nxt[:, 0, 0] = [0, 1, 2]
    nxt[:, 1, 0] = [1, 1, 0]
    read, onto = _onto_emptied(views, nxt, player)
    assert onto.tolist() == [[True, False], [False, False], [False, True]]
    assert read.tolist() == [[40, 0], [0, 0], [80, 40]]  # the flat point of each imagined new stone


def test_the_unlikely_loss_pushes_down_the_move_shown_only_where_it_was_not_played():
    import models.train.idm_stage as ids

    logits = torch.tensor([[2.0, 1.0, 0.0], [2.0, 1.0, 0.0]], requires_grad=True)
    played, shown = torch.tensor([1, 0]), torch.tensor([0, 0])
    loss = ids._imagined_loss("unlikely", logits, played, shown)
    p = torch.softmax(logits.detach(), -1)
    # row 0: the frame shows 0, 1 was played -> -log(1 - p0); row 1: shown = played -> cross-entropy
    torch.testing.assert_close(loss.detach(), torch.stack([-torch.log(1 - p[0, 0]), -torch.log(p[1, 0])]))
    loss[0].backward()
    assert logits.grad[0, 0] > 0 and logits.grad[0, 1] < 0 and logits.grad[0, 2] < 0  # away from 0 only
    ce = ids._imagined_loss("ce", logits.detach(), played, shown)
    torch.testing.assert_close(ce, torch.nn.functional.cross_entropy(logits.detach(), played, reduction="none"))


def test_the_unlikely_loss_needs_the_moves_the_frames_show(tiny_bundle, tmp_path):
    import models.train.idm_stage as ids

    cfg = dataclasses.replace(_cfg(tiny_bundle, f"imagined_from={tiny_bundle}", "imagined_loss=unlikely"),
                              loop=dataclasses.replace(ids.IdmTrainConfig().loop, run_dir=str(tmp_path / "idm")))
    with pytest.raises(ValueError, match="recapture"):
        ids._imagined(cfg, None, None, ("x", "nxt"), None)
    with pytest.raises(ValueError, match="imagined_loss"):
        ids.train(dataclasses.replace(cfg, imagined_loss="hinge"))
