"""The value model: frames -> P(side to move wins), trained on results only, shipped in the bundle."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO


def without_value(bundle: Path, folder: Path) -> tuple[Path, dict]:
    """A copy of ``bundle`` in ``folder`` as bundles were before the value model: (folder, its manifest)."""
    shutil.copytree(bundle, folder)
    m = json.loads((folder / "manifest.json").read_text())
    del m["files"]["value.safetensors"], m["configs"]["value"]
    (folder / "manifest.json").write_text(json.dumps(m))
    (folder / "value.safetensors").unlink()
    return folder, m


def test_each_patch_of_the_value_model_is_one_board_point():
    """The patchify layer is aligned with the renderer's tiles: a stone at (r, c) changes the
    features of cell (r, c) and of no other cell."""
    from models.value import VALUE_SIZES, ValueNet, frames_of
    from render.frame import RenderConfig

    torch.manual_seed(0)
    net = ValueNet(VALUE_SIZES["tiny"]).eval()
    empty = np.zeros((1, 9, 9), np.uint8)
    base = net.points(frames_of(empty, RenderConfig()))
    assert base.shape == (1, 8, 9, 9)
    for r, c, colour in ((0, 0, 1), (4, 4, 2), (8, 3, 1), (2, 8, 2)):
        board = empty.copy()
        board[0, r, c] = colour
        changed = (net.points(frames_of(board, RenderConfig())) - base).abs().sum(1)[0] > 1e-6  # (9, 9)
        assert changed[r, c] and changed.sum() == 1, (r, c)


def test_value_samples_are_mover_view_frames_with_the_movers_result():
    from models.train.value_stage import every_position, sample

    # one 3-frame "game": Black plays at (0, 0), White at (1, 1); Black won
    v = np.zeros((3, 9, 9), np.uint8)
    v[1:, 0, 0] = 1
    v[2, 1, 1] = 2
    boards, y, t = every_position([v], np.array([1.0], np.float32))
    assert list(y) == [1.0, 0.0, 1.0] and list(t) == [0, 1, 2]
    assert boards[1][0, 0] == 2  # White to move at t=1: Black's stone looks white, the mover looks black
    assert boards[2][0, 0] == 1 and boards[2][1, 1] == 2
    x, yy, last = sample([v], np.array([0.5], np.float32), np.random.default_rng(0), 16)
    assert x.shape == (16, 9, 9) and x.dtype == np.uint8 and set(yy) == {0.5}  # a draw is 1/2 for both
    assert last.shape == x.shape


def test_ownership_target_is_the_last_frame_in_the_samples_view_and_symmetry():
    """The ownership target is the game's last frame seen as the sample's input is seen: the mover's
    colours and the same board symmetry, so input and target line up point for point."""
    from models.train.value_stage import last_frames, sample
    from models.video_data import swap_colours, symmetry

    v = np.zeros((4, 9, 9), np.uint8)  # Black (0, 1), White (2, 5), Black (7, 3): the last frame has all three
    v[1:, 0, 1] = 1
    v[2:, 2, 5] = 2
    v[3, 7, 3] = 1
    x, y, last = sample([v], np.array([1.0], np.float32), np.random.default_rng(3), 64)
    seen = set()
    for b, yy, end in zip(x, y, last):
        # find the sample's (t, k): the one whose view of frame t is the input
        hits = [(t, k) for t in range(4) for k in range(8)
                if np.array_equal(symmetry(v[t] if t % 2 == 0 else swap_colours(v[t]), k), b)]
        assert hits
        ok = [(t, k) for t, k in hits
              if np.array_equal(end, symmetry(v[-1] if t % 2 == 0 else swap_colours(v[-1]), k))]
        assert ok, "the target is not the last frame in the input's view"
        assert all(yy == (1.0 if t % 2 == 0 else 0.0) for t, _ in ok)
        seen.update(t % 2 for t, _ in ok)
        assert (end == 1).sum() == (2 if ok[0][0] % 2 == 0 else 1)  # the mover's stones at the end look black
    assert seen == {0, 1}
    assert last_frames([v]).shape == (4, 9, 9)
    assert np.array_equal(last_frames([v])[1], swap_colours(v[-1]))


def test_a_deeper_value_model_starts_as_the_state_it_grows_from(tiny_bundle):
    """Blocks added past the state's last one start as the identity: the deeper model's win
    logits equal the smaller one's before any training."""
    import models.train.value_stage as vs
    from models.checkpoint import dataclass_from_dict, load_training_state
    from models.value import ValueConfig, ValueNet

    state = load_training_state(tiny_bundle.parent / "value" / "state.pt")
    cfg = dataclass_from_dict(ValueConfig, json.loads(state["config"])["model"])
    small = ValueNet(cfg)
    small.load_state_dict(state["model"])
    deep = ValueNet(dataclasses.replace(cfg, blocks=cfg.blocks + 2))
    deep.load_state_dict(vs.with_new_parts(deep.state_dict())(state["model"]))
    frames = torch.rand(4, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(deep(frames), small(frames))
    assert len(deep.convs) == cfg.blocks + 2


def test_ownership_head_trains_from_a_state_without_it_and_ships_in_the_bundle(tiny_bundle, tmp_path):
    """A value model with the ownership head starts from a state without it (the head new, every
    other weight loaded), learns the last frames, and its bundle loads and plays: the player reads
    the win logit only, which the head does not change."""
    import models.train.value_stage as vs
    from models.checkpoint import dataclass_from_dict, load_training_state
    from models.train.cli import apply_overrides
    from models.value import VALUE_SIZES, ValueConfig, ValueNet

    data = tiny_bundle.parent / "data"
    base = tiny_bundle.parent / "value" / "state.pt"
    common = ["loop.progress=false", f"data_dir={data}", f"loop.run_dir={tmp_path / 'own'}", "batch=8",
              "eval_every=5", "eval_positions=32", "model.ownership=true", f"loop.init_from={base}", "loop.lr=0.01",
              "loop.warmup=1"]
    cfg = apply_overrides(vs.ValueTrainConfig(model=VALUE_SIZES["tiny"]), common + ["loop.steps=30"])
    assert cfg.model.ownership
    vs.train(cfg)
    state = load_training_state(tmp_path / "own" / "state.pt")
    old = load_training_state(base)["model"]
    assert set(state["model"]) - set(old) == {"own.weight", "own.bias"}
    rows = [json.loads(line) for line in (tmp_path / "own" / "metrics.jsonl").read_text().splitlines()]
    own = [r["own_loss"] for r in rows if "own_loss" in r]
    assert len(own) >= 2 and own[-1] < 0.8 * own[0]  # the head learns the last frames (logged every few steps)
    rep = json.loads((tmp_path / "own" / "calibration.json").read_text())
    assert 0.34 < rep["ownership_accuracy"] <= 1  # above a coin among the three classes
    net = ValueNet(dataclass_from_dict(ValueConfig, json.loads(state["config"])["model"]))
    net.load_state_dict(state["model"])
    frames = torch.rand(2, 3, 64, 64)
    win, owner = net(frames, ownership=True)
    assert owner.shape == (2, 3, 9, 9) and torch.equal(win, net(frames))
    with pytest.raises(ValueError):
        ValueNet(VALUE_SIZES["tiny"])(frames, ownership=True)
    # a state lacking anything but the ownership head is refused
    bad = {k: v for k, v in old.items() if not k.startswith("head.")}
    with pytest.raises(ValueError, match="only the ownership head"):
        vs.with_new_parts(net.state_dict())(bad)

    # exported over the tiny bundle, it loads with its head and the player's winrate is its win logit
    import argparse

    from engine.game import Game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer
    from models.train.export import run as export_run
    from models.value import frames_of
    from render.frame import RenderConfig

    runs = tmp_path / "runs"
    (runs / "value").mkdir(parents=True)
    shutil.copy(tmp_path / "own" / "state.pt", runs / "value" / "state.pt")
    args = argparse.Namespace(runs=str(runs), out=str(tmp_path / "out"), data_dir="data", size=9, metrics=None,
                              branches=None, symmetries=None, visits=None, c_puct=None, leaf_symmetries=None,
                              leaf_branches=None, branches_note="", base=str(tiny_bundle))
    assert export_run(args) == 0
    bundle = load_bundle(tmp_path / "out")
    assert bundle.value.cfg.ownership and bundle.value.own is not None
    game = Game(9)
    game.play((4, 4), game.to_play)
    a = NeuralPlayer(bundle, top_k=1, symmetries=1).analyze_many([(game, game.to_play)])[0]
    stones = np.frombuffer(game.position.stones, np.uint8).reshape(1, 9, 9)
    from models.video_data import swap_colours
    want = bundle.value.win_probability(frames_of(swap_colours(stones), RenderConfig())).item()
    assert a.winrate == pytest.approx(want, abs=1e-6)


def test_value_stage_reports_calibration_by_phase_and_resumes(tiny_bundle, tmp_path):
    import models.train.value_stage as vs
    from models.checkpoint import load_training_state
    from models.train.cli import apply_overrides
    from models.value import VALUE_SIZES

    data = tiny_bundle.parent / "data"
    common = ["loop.progress=false", f"data_dir={data}", f"loop.run_dir={tmp_path / 'v'}", "batch=8",
              "eval_every=3", "eval_positions=32"]
    vs.train(apply_overrides(vs.ValueTrainConfig(model=VALUE_SIZES["tiny"]), common + ["loop.steps=4"]))
    vs.train(apply_overrides(vs.ValueTrainConfig(model=VALUE_SIZES["tiny"]), common + ["loop.steps=7"]))
    assert load_training_state(tmp_path / "v" / "state.pt")["step"] == 7
    rows = [json.loads(line) for line in (tmp_path / "v" / "metrics.jsonl").read_text().splitlines()]
    finals = [r for r in rows if r.get("final")]
    assert [r["step"] for r in finals] == [4, 7]  # the second run went on from step 4
    rep = json.loads((tmp_path / "v" / "calibration.json").read_text())
    assert 0 <= rep["brier"] <= 1 and sum(r["n"] for r in rep["reliability"]) == rep["n"]
    assert sum(p["n"] for p in rep["brier_by_phase"].values()) == rep["n"]
    assert (tmp_path / "v" / "reliability.png").stat().st_size > 1000


def test_player_winrate_comes_from_the_value_model_and_falls_back_to_the_outcome_head(tiny_bundle, tmp_path):
    from engine.game import Game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer
    from models.value import frames_of
    from models.video_data import swap_colours
    from render.frame import RenderConfig

    bundle = load_bundle(tiny_bundle)
    assert bundle.value is not None
    game = Game(9)
    for mv in ((2, 2), (6, 6), (2, 6)):
        game.play(mv, game.to_play)
    a = NeuralPlayer(bundle, top_k=1, symmetries=1).analyze_many([(game, game.to_play)])[0]
    stones = np.frombuffer(game.position.stones, np.uint8).reshape(1, 9, 9)
    want = bundle.value.win_probability(frames_of(swap_colours(stones), RenderConfig())).item()  # White to move
    assert a.winrate == pytest.approx(want, abs=1e-6)

    # a bundle without a value model (every one before 2026-12-01) still loads; the outcome head answers
    b_old = load_bundle(without_value(tiny_bundle, tmp_path / "old")[0])
    assert b_old.value is None
    a_old = NeuralPlayer(b_old, top_k=1, symmetries=1).analyze_many([(game, game.to_play)])[0]
    assert a_old.winrate is not None and a_old.winrate != pytest.approx(want, abs=1e-6)
    assert a_old.move == a.move  # the value model changes the winrate, not the move
    a_off = NeuralPlayer(bundle, top_k=1, symmetries=1, use_value=False).analyze_many([(game, game.to_play)])[0]
    assert a_off.winrate == pytest.approx(a_old.winrate, abs=1e-6)  # how the benchmark prices the value model


def export_value_over(tiny_bundle, base, tmp_path):
    """``videoworld-go export --base BASE --runs RUNS --out OUT``, in-process, RUNS holding only the tiny
    pipeline's value state: the exported folder (``tmp_path``/out)."""
    import argparse

    from models.train.export import run as export_run

    runs, out = tmp_path / "runs", tmp_path / "out"
    (runs / "value").mkdir(parents=True)
    shutil.copy(tiny_bundle.parent / "value" / "state.pt", runs / "value" / "state.pt")
    args = argparse.Namespace(runs=str(runs), out=str(out), data_dir="data", size=9, metrics=None, branches=None,
                              symmetries=None, visits=None, c_puct=None, leaf_symmetries=None, leaf_branches=None,
                              branches_note="", base=str(base))
    assert export_run(args) == 0
    return out


def test_export_over_a_base_adds_the_value_model_and_keeps_every_other_file(tiny_bundle, tmp_path):
    from models.checkpoint import sha256_file
    from models.train.unpack import unpack_bundle

    base, m = without_value(tiny_bundle, tmp_path / "base")
    out = export_value_over(tiny_bundle, base, tmp_path)
    new = json.loads((out / "manifest.json").read_text())
    assert new["revisions"][-1]["replaced"] == ["value"]
    assert new["files"]["value.safetensors"]["sha256"] == sha256_file(out / "value.safetensors")
    for f in ("tokenizer", "dynamics", "transformer", "idm"):
        assert sha256_file(out / f"{f}.safetensors") == m["files"][f"{f}.safetensors"]["sha256"]
    # and the bundle unpacks back into a value state for further training
    assert "value" in unpack_bundle(out, tmp_path / "unpacked")


SHIPPED = REPO / "weights" / "9x9"


@pytest.mark.skipif(not (SHIPPED / "value.safetensors").exists(), reason="the shipped bundle has no value model")
def test_shipped_value_model_beats_the_base_rate_on_held_out_games(all_cores):
    """On every position from move 40 on of every validation game (never trained on), the shipped
    value model's Brier score is well below the constant prediction's (measured when it shipped:
    0.137 against 0.215 on the 8,791 such positions of the 351 val games at commit 912c658)."""
    from models.bundle import load_bundle
    from models.train.value_stage import every_position, game_results, predict
    from render.frame import RenderConfig

    b = load_bundle(SHIPPED)
    videos, scores = game_results(str(REPO / "data"), "val", 9, ("katago9", "gnugo9"))
    boards, y, t = every_position(videos, scores)
    late = t >= 40
    p = predict(b.value, boards[late], RenderConfig(resolution=b.value.cfg.resolution), b.device)
    brier, constant = float(np.mean((p - y[late]) ** 2)), float(np.mean((y[late].mean() - y[late]) ** 2))
    assert late.sum() > 5000 and brier < 0.75 * constant, (brier, constant)


def _eval_value_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("eval_value", REPO / "scripts" / "eval_value.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_script_reads_the_outcome_head_as_the_player_does(tiny_bundle, tmp_path):
    """scripts/eval_value.py compares the value model with the outcome head: its outcome-head
    winrates must be the ones a player without a value model reports."""
    from engine.game import Game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    bundle = load_bundle(without_value(tiny_bundle, tmp_path / "old")[0])
    game = Game(9)
    for mv in ((4, 4), (2, 3)):
        game.play(mv, game.to_play)
    a = NeuralPlayer(bundle, top_k=1, symmetries=1).analyze_many([(game, game.to_play)])[0]  # Black to move
    stones = np.frombuffer(game.position.stones, np.uint8).reshape(1, 9, 9)
    assert _eval_value_module().outcome_head(bundle, stones)[0] == pytest.approx(a.winrate, abs=1e-5)


def test_eval_script_reports_both_winrates_and_a_paired_difference(tiny_bundle, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "v.json"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "eval_value.py"), "--weights", str(tiny_bundle),
                           "--data-dir", str(tiny_bundle.parent / "data"), "--split", "train", "--max-games", "4",
                           "--threads", "1", "--out", str(out), "--plot", str(tmp_path / "r.png")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rep = json.loads(out.read_text())
    assert rep["games"] == 4 and rep["value_model"]["n"] == rep["outcome_head"]["n"] == rep["positions"]
    diff = rep["value_minus_outcome_head_brier"]
    assert diff["mean"] == pytest.approx(rep["value_model"]["brier"] - rep["outcome_head"]["brier"], abs=1e-6)
    assert diff["ci95"][0] <= diff["ci95"][1]
    assert (tmp_path / "r.png").stat().st_size > 1000 and "value model" in done.stdout


def test_move_winrates_are_the_value_model_on_the_board_each_top_move_leaves(tiny_bundle):
    from engine.analysis import top_moves
    from engine.batcher import Batcher
    from engine.coords import from_flat
    from engine.game import Game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer
    from models.value import frames_of
    from models.video_data import symmetry
    from render.frame import RenderConfig

    bundle = load_bundle(tiny_bundle)
    player = NeuralPlayer(bundle, top_k=1, symmetries=2)
    game = Game(9)
    for mv in ((2, 2), (6, 6), (2, 6)):
        game.play(mv, game.to_play)  # White to move
    plain = player.analyze_many([(game, game.to_play)])[0]
    assert plain.move_winrates is None  # only when asked: genmove does not pay for it
    a = player.analyze_many([(game, game.to_play)], move_winrates=4)[0]
    assert a.winrate == plain.winrate and a.move == plain.move
    top = [flat for flat, _ in top_moves(a, 4)]
    assert sorted(np.flatnonzero(np.isfinite(a.move_winrates))) == sorted(top)
    for flat in top:
        after = game.position.play(from_flat(flat, 9), game.to_play)
        stones = np.frombuffer(after.stones, np.uint8).reshape(9, 9)  # Black moves next: it looks black as is
        views = np.stack([symmetry(stones, t) for t in range(2)])  # the player's 2 symmetries, averaged
        p_black = bundle.value.win_probability(frames_of(views, RenderConfig())).mean().item()
        assert a.move_winrates[flat] == pytest.approx(1 - p_black, abs=1e-5)
    with Batcher(player, max_batch=4, max_wait=0.0) as batcher:  # the option travels through the batcher
        b = batcher.predict(game, game.to_play, move_winrates=4)
        assert np.allclose(b.move_winrates, a.move_winrates, equal_nan=True, atol=1e-6)
        assert batcher.predict(game, game.to_play).move_winrates is None


def test_the_resignation_replay_applies_the_engines_rule():
    """Two games of 30 frames. Game 0: Black's winrate drops under 0.05 from frame 20 on and Black lost;
    White's stays high. Game 1: White's drops from frame 25 (three own moves: 25, 27, 29) but White won."""
    check = _eval_value_module().resignation_check
    t = np.tile(np.arange(30), 2)
    games = np.repeat([0, 1], 30)
    p = np.full(60, 0.5)
    y = np.where(t % 2 == 0, 0.0, 1.0)  # game 0: Black lost
    p[(games == 0) & (t % 2 == 0) & (t >= 20)] = 0.01
    p[(games == 1) & (t % 2 == 1) & (t >= 25)] = 0.01
    y[games == 1] = np.where(t[games == 1] % 2 == 1, 1.0, 0.0)  # game 1: White won
    (row,) = check(p, y, t, games, thresholds=(0.05,), turns=3, min_moves=20)
    assert row["sides"] == 4 and row["resigned"] == 2 and row["won_anyway"] == 1 and row["drawn_anyway"] == 0
    # Black resigns at frame 24 (20, 22, 24), White at 29: 1 - 24/29 and 1 - 29/29 of the game left
    assert row["mean_share_of_game_left"] == pytest.approx(((1 - 24 / 29) + 0) / 2)
    (strict,) = check(p, y, t, games, thresholds=(0.05,), turns=4, min_moves=20)
    assert strict["resigned"] == 1  # White had only 3 low moves in a row


def test_eval_script_scores_sgf_games_and_judges_one_named_side(tiny_bundle, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "a.json"
    corpus = tiny_bundle.parent / "data" / "rand9" / "games.sgf"  # 30 games, PB and PW both "random"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "eval_value.py"), "--weights", str(tiny_bundle),
                           "--sgf", str(corpus), "--side", "random", "--threads", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rep = json.loads(out.read_text())
    assert rep["games"] == 30 and all(r["sides"] == 30 for r in rep["resignation"])  # one side (Black) per game
    nobody = subprocess.run([sys.executable, str(REPO / "scripts" / "eval_value.py"), "--weights", str(tiny_bundle),
                             "--sgf", str(corpus), "--side", "katago", "--threads", "1", "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert nobody.returncode == 1 and "no 9x9 games" in nobody.stdout
