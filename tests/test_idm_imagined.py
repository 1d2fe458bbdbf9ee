"""The IDM trained also on the frames the model imagines (models/train/idm_stage.py ``imagined_from``)."""

from __future__ import annotations

import numpy as np
import torch

from engine.corpus import iter_records, record_key


def test_imagined_pairs_come_from_labelled_games_only_and_train(tiny_bundle, tmp_path):
    import models.train.idm_stage as ids
    from models.checkpoint import load_training_state
    from models.idm import IDM_SIZES
    from models.train.cli import apply_overrides
    from models.train.unpack import unpack_bundle

    data = tiny_bundle.parent / "data"
    cfg = apply_overrides(ids.IdmTrainConfig(model=IDM_SIZES["tiny"]), [
        f"data_dir={data}", "label_share=0.3", f"imagined_from={tiny_bundle}", "imagined_batch=7"])
    raw = ids.imagined_transitions(cfg, str(tiny_bundle))
    labelled = [rec for _, rec in iter_records(str(data), split="train", size=9)
                if ids.is_labelled(record_key(rec.size, rec.moves), 0.3)]
    assert raw["games"] == len(labelled) > 0
    m, k = len(raw["move"]), raw["k"]
    assert m == sum(len(rec.moves) for rec in labelled)  # every move of those games, no other
    assert raw["x"].shape == (m, 16) and raw["nxt"].shape == (m * k, 16) and raw["w"].shape == (m * k,)
    np.testing.assert_allclose(raw["w"].reshape(m, k).sum(1), 1.0, rtol=1e-5)  # p(z_1) over the branches
    assert ((raw["move"] >= 0) & (raw["move"] <= 81)).all()

    # a short fine-tune from the bundle's IDM, half of each batch imagined pairs, kept for a resume
    unpacked = unpack_bundle(tiny_bundle, tmp_path / "u")
    run = tmp_path / "idm"
    cfg = apply_overrides(ids.IdmTrainConfig(model=IDM_SIZES["tiny"]), [
        f"data_dir={data}", "label_share=0.3", f"imagined_from={tiny_bundle}", "loop.progress=false",
        f"loop.run_dir={run}", "loop.steps=4", "batch=16", "max_eval_games=2", "eval_every=2",
        f"tokenizer_state={unpacked['tokenizer']}", f"dynamics_state={unpacked['dynamics']}",
        f"loop.init_from={unpacked['idm']}"])
    state = load_training_state(ids.train(cfg))
    assert int(state["step"]) == 4 and (run / "imagined.npz").exists()
    start = load_training_state(unpacked["idm"])["model"]
    assert any(not torch.equal(v, start[k]) for k, v in state["model"].items())  # it learned from them
