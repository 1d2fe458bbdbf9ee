"""A shipped bundle unpacks into training states that the stages accept, and fine-tuning
starts from its weights (loop.init_from) with its vocabulary."""

from __future__ import annotations

import json

import numpy as np
import torch

from models.bundle import load_bundle
from models.checkpoint import load_training_state
from models.train.cli import apply_overrides
from models.train.unpack import unpack_bundle


def test_unpacked_states_hold_the_bundle_weights_and_load_as_frozen_models(tiny_bundle, tmp_path):
    from models.train.outcome_stage import load_transformer
    from models.train.transformer_stage import load_dynamics
    from models.train.windows import load_tokenizer

    bundle = load_bundle(tiny_bundle)
    paths = unpack_bundle(tiny_bundle, tmp_path / "runs")
    assert set(paths) == {"tokenizer", "dynamics", "transformer", "idm"}
    tok = load_tokenizer(str(paths["tokenizer"]))
    frames = torch.rand(3, 3, bundle.tokenizer.cfg.resolution, bundle.tokenizer.cfg.resolution) * 2 - 1
    assert torch.equal(tok.encode(frames), bundle.tokenizer.encode(frames))
    dyn = load_dynamics(str(paths["dynamics"]))
    for k, v in bundle.dynamics.state_dict().items():
        assert torch.equal(v, dyn.state_dict()[k]), k
    tr, vocab, layout = load_transformer(str(paths["transformer"]))
    for k, v in bundle.transformer.state_dict().items():
        assert torch.equal(v, tr.state_dict()[k]), k
    assert np.array_equal(vocab.frame_codes, bundle.vocab.frame_codes)
    assert np.array_equal(vocab.ldm_codes, bundle.vocab.ldm_codes)
    assert (layout.context, layout.horizon) == (bundle.layout.context, bundle.layout.horizon)
    rec = json.loads(load_training_state(paths["idm"])["config"])
    assert rec["unpacked_from"]["sha256"] == bundle.manifest["files"]["idm.safetensors"]["sha256"]


def test_fine_tuning_starts_from_the_unpacked_transformer(tiny_bundle, tmp_path):
    import models.train.transformer_stage as trs

    root = tiny_bundle.parent  # the tiny pipeline's folder: its corpus and configs
    paths = unpack_bundle(tiny_bundle, tmp_path / "runs")
    run = tmp_path / "ft"
    # lr 0: AdamW moves nothing, so the run must end with exactly the weights it started from
    cfg = apply_overrides(trs.TransformerTrainConfig(size_name="tiny"), [
        "loop.progress=false", f"data_dir={root / 'data'}", "loop.steps=3", "eval_every=2", "loop.lr=0",
        f"cache_dir={tmp_path / 'cache'}", f"tokenizer_state={paths['tokenizer']}",
        f"dynamics_state={paths['dynamics']}", f"loop.run_dir={run}", "batch=4", "eval_windows=8",
        f"loop.init_from={paths['transformer']}"])
    state_path = trs.train(cfg)
    start = load_training_state(paths["transformer"])["model"]
    end = load_training_state(state_path)["model"]
    assert start.keys() == end.keys()
    for k, v in start.items():
        assert torch.equal(v, end[k]), k
    a, b = np.load(paths["transformer"].parent / "vocab.npz"), np.load(run / "vocab.npz")
    assert np.array_equal(a["frame_codes"], b["frame_codes"]) and np.array_equal(a["ldm_codes"], b["ldm_codes"])
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    first_eval = next(r for r in records if r.get("eval"))
    assert first_eval["step"] == 0  # the starting model is measured before any update


def test_init_from_a_missing_state_is_a_clear_error(tiny_bundle, tmp_path):
    import pytest

    import models.train.transformer_stage as trs

    root = tiny_bundle.parent
    paths = unpack_bundle(tiny_bundle, tmp_path / "runs")
    cfg = apply_overrides(trs.TransformerTrainConfig(size_name="tiny"), [
        "loop.progress=false", f"data_dir={root / 'data'}", "loop.steps=1", f"cache_dir={tmp_path / 'cache'}",
        f"tokenizer_state={paths['tokenizer']}", f"dynamics_state={paths['dynamics']}",
        f"loop.run_dir={tmp_path / 'ft'}", "batch=4", "eval_windows=8", "vocab_windows=50",
        f"loop.init_from={tmp_path / 'nowhere' / 'state.pt'}"])
    with pytest.raises(FileNotFoundError, match="init_from"):
        trs.train(cfg)
