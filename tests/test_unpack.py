"""A shipped bundle unpacks into training states that the stages accept, and fine-tuning
starts from its weights (loop.init_from) with its vocabulary."""

from __future__ import annotations

import json

import numpy as np
import torch

from models.bundle import load_bundle
from models.checkpoint import load_training_state
from models.ldm import ldm_codes, ldm_inputs
from models.train.transformer_stage import load_dynamics
from models.train.windows import load_tokenizer
from models.train.cli import apply_overrides
from models.train.unpack import unpack_bundle


def test_unpacked_states_hold_the_bundle_weights_and_load_as_frozen_models(tiny_bundle, tmp_path):
    from models.train.outcome_stage import load_transformer
    from models.train.transformer_stage import load_dynamics
    from models.train.windows import load_tokenizer

    bundle = load_bundle(tiny_bundle)
    paths = unpack_bundle(tiny_bundle, tmp_path / "runs")
    assert set(paths) == {"tokenizer", "dynamics", "transformer", "idm", "value"}
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
    value = load_training_state(paths["value"])  # the value stage resumes from it (or init_from)
    for k, v in bundle.value.state_dict().items():
        assert torch.equal(v, value["model"][k]), k
    assert json.loads(value["config"])["model"] == bundle.manifest["configs"]["value"]


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


def test_vocabulary_rows_follow_the_codes():
    from models.vocab import N_SPECIAL, CodeVocab

    old = CodeVocab(np.array([3, 7, 9]), np.array([1, 2]))  # ids: frames 5,6,7 unk 8; ldm 9,10 unk 11
    new = CodeVocab(np.array([3, 8, 9, 12]), np.array([2, 5]))  # frames 5..8 unk 9; ldm 10,11 unk 12
    rows = new.rows_from(old).tolist()
    assert rows[:N_SPECIAL] == [0, 1, 2, 3, 4]
    assert rows[5:10] == [5, 8, 7, 8, 8]  # 3 kept, 8 new -> old unk, 9 kept, 12 new -> unk, unk -> unk
    assert rows[10:13] == [10, 11, 11]  # ldm 2 kept, 5 new -> old ldm unk, unk -> unk


def test_fine_tuning_on_a_renamed_vocabulary_carries_rows_by_code(tiny_bundle, tmp_path):
    """remap_vocab: the run builds its own vocabulary from the data; a code the init run knew
    keeps its embedding and output rows, a code it did not know starts from its <unk> rows."""
    import models.train.transformer_stage as trs
    from models.train.windows import load_tokenizer
    from models.vocab import CodeVocab

    root = tiny_bundle.parent
    paths = unpack_bundle(tiny_bundle, tmp_path / "runs")
    init_dir = paths["transformer"].parent
    true = CodeVocab.load(init_dir / "vocab.npz")
    # pretend the init run's tokenizer named the last frame code differently (a code no frame has)
    renamed = true.frame_codes.copy()
    lost = int(renamed[-1])
    renamed[-1] = 64000 + 7
    CodeVocab(renamed, true.ldm_codes).save(init_dir / "vocab.npz")
    run = tmp_path / "ft"
    cfg = apply_overrides(trs.TransformerTrainConfig(size_name="tiny"), [
        "loop.progress=false", f"data_dir={root / 'data'}", "loop.steps=2", "eval_every=2", "loop.lr=0",
        f"cache_dir={tmp_path / 'cache'}", f"tokenizer_state={paths['tokenizer']}",
        f"dynamics_state={paths['dynamics']}", f"loop.run_dir={run}", "batch=4", "eval_windows=8",
        "vocab_windows=50", f"loop.init_from={paths['transformer']}", "remap_vocab=true"])
    start = load_training_state(paths["transformer"])["model"]
    end = load_training_state(trs.train(cfg))["model"]
    new = CodeVocab.load(run / "vocab.npz")
    assert 64007 not in new.frame_codes and lost in new.frame_codes  # built from the data, not copied
    old = CodeVocab(renamed, true.ldm_codes)
    for key in ("tok_embeddings.weight", "output.weight"):
        assert end[key].shape[0] == new.size
        assert torch.equal(end[key][int(new.frame_ids(np.array([lost]))[0])], start[key][old.frame_unk])
        for code in new.frame_codes[:-1]:
            if code in renamed:  # known to the init run: the same row, found by code
                i_new = int(np.searchsorted(new.frame_codes, code)) + new.frame_offset
                i_old = int(np.searchsorted(renamed, code)) + old.frame_offset
                assert torch.equal(end[key][i_new], start[key][i_old]), (key, code)
        for code in new.ldm_codes:
            if code in true.ldm_codes:
                i_new = int(np.searchsorted(new.ldm_codes, code)) + new.ldm_offset
                i_old = int(np.searchsorted(true.ldm_codes, code)) + old.ldm_offset
                assert torch.equal(end[key][i_new], start[key][i_old]), (key, code)
    levels = (tuple(load_tokenizer(str(paths["tokenizer"])).cfg.levels),
              tuple(trs.load_dynamics(str(paths["dynamics"])).cfg.levels))
    assert torch.equal(end["digit_table"], new.digit_table(*levels)[0])  # the digits of the new codes
    for k, v in start.items():  # everything else is carried unchanged (lr 0)
        if k not in ("tok_embeddings.weight", "output.weight", "digit_table"):
            assert torch.equal(v, end[k]), k


def _nudge(state: dict, prefix: str, delta: float) -> None:
    """Shift every float tensor of a training state whose name starts with ``prefix`` ("" = all): a "retrained" part."""
    for k in state["model"]:
        if k.startswith(prefix) and state["model"][k].is_floating_point():
            state["model"][k] = state["model"][k] + delta


def _export_over(base, runs, out):
    import argparse

    from models.train.export import run

    return run(argparse.Namespace(runs=str(runs), out=str(out), base=str(base), data_dir="data", size=9,
                                  metrics=None, branches=None, symmetries=None, visits=None, c_puct=None,
                                  leaf_symmetries=None, leaf_branches=None,
                                  branches_note=""))


def test_export_over_a_base_replaces_the_idm_or_decoder_and_keeps_every_other_file(tiny_bundle, tmp_path, capsys):
    from models.checkpoint import sha256_file
    from models.train.export import _same_encoder

    paths = unpack_bundle(tiny_bundle, tmp_path / "all")
    idm = load_training_state(paths["idm"])
    _nudge(idm, "", 0.01)  # a "retrained" IDM
    part = tmp_path / "part"
    (part / "idm").mkdir(parents=True)
    torch.save(idm, part / "idm" / "state.pt")
    out = tmp_path / "out"
    assert _export_over(tiny_bundle, part, out) == 0
    base = json.loads((tiny_bundle / "manifest.json").read_text())
    new = json.loads((out / "manifest.json").read_text())
    for fname in ("tokenizer.safetensors", "dynamics.safetensors", "transformer.safetensors"):
        assert sha256_file(out / fname) == sha256_file(tiny_bundle / fname) == new["files"][fname]["sha256"]
    assert new["files"]["idm.safetensors"]["sha256"] != base["files"]["idm.safetensors"]["sha256"]
    assert {k: v for k, v in new["training"].items() if k != "idm"} == \
        {k: v for k, v in base["training"].items() if k != "idm"}
    assert new["provenance"] == base["provenance"] and new["revisions"][-1]["replaced"] == ["idm"]
    bundle = load_bundle(out)  # every hash verifies
    assert all(torch.equal(bundle.idm.state_dict()[k], idm["model"][k]) for k in idm["model"])

    # a new decoder with the very same encoder (same ids) goes in, and the pixel LDM keeps reading
    # frames through the decoder it was trained with: its inputs, hence its codes, stay the base's
    tok = load_training_state(paths["tokenizer"])
    assert _same_encoder(tiny_bundle, str(paths["tokenizer"]))
    _nudge(tok, "decoder.", 0.05)
    (part / "tokenizer").mkdir()
    torch.save(tok, part / "tokenizer" / "state.pt")
    assert _same_encoder(tiny_bundle, str(part / "tokenizer" / "state.pt"))
    assert _export_over(tiny_bundle, part, tmp_path / "decoder") == 0
    old_b, new_b = load_bundle(tiny_bundle), load_bundle(tmp_path / "decoder")
    assert old_b.dynamics.kind == "pixel" and old_b.dynamics.reader is None and new_b.dynamics.reader is not None
    ids = torch.randint(0, old_b.tokenizer.fsq.codebook_size, (3, old_b.dynamics.cfg.horizon + 1, 16))
    assert not torch.allclose(new_b.tokenizer.decode(ids[0]), old_b.tokenizer.decode(ids[0]))  # the new decoder
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.equal(new_b.tokenizer.encode(x), old_b.tokenizer.encode(x))  # the base's encoder: the same ids
    assert torch.equal(ldm_inputs(new_b.dynamics, new_b.tokenizer, ids), ldm_inputs(old_b.dynamics, old_b.tokenizer, ids))
    assert torch.equal(ldm_codes(new_b.dynamics, new_b.tokenizer, ids), ldm_codes(old_b.dynamics, old_b.tokenizer, ids))
    rev = json.loads((tmp_path / "decoder" / "manifest.json").read_text())["revisions"][-1]
    assert rev["replaced"] == ["idm", "tokenizer"] and "dynamics" in rev
    # the training stages see the same: the unpacked LDM state carries its reader
    unpacked = unpack_bundle(tmp_path / "decoder", tmp_path / "again")
    ldm = load_dynamics(str(unpacked["dynamics"]))
    assert torch.equal(ldm_inputs(ldm, load_tokenizer(str(unpacked["tokenizer"])), ids),
                       ldm_inputs(old_b.dynamics, old_b.tokenizer, ids))
    # a second new decoder leaves the LDM's reader (the original decoder) alone
    _nudge(tok, "decoder.", 0.05)
    torch.save(tok, part / "tokenizer" / "state.pt")
    assert _export_over(tmp_path / "decoder", part, tmp_path / "decoder2") == 0
    twice = load_bundle(tmp_path / "decoder2")
    assert torch.equal(ldm_inputs(twice.dynamics, twice.tokenizer, ids), ldm_inputs(old_b.dynamics, old_b.tokenizer, ids))
    assert sha256_file(tmp_path / "decoder2" / "dynamics.safetensors") == \
        sha256_file(tmp_path / "decoder" / "dynamics.safetensors")
    # an encoder that moved would rename every token
    _nudge(tok, "encoder.", 0.01)
    torch.save(tok, part / "tokenizer" / "state.pt")
    assert not _same_encoder(tiny_bundle, str(part / "tokenizer" / "state.pt"))
    capsys.readouterr()
    assert _export_over(tiny_bundle, part, tmp_path / "refused") == 1
    assert "encoder differs" in capsys.readouterr().out and not (tmp_path / "refused").exists()
    # a transformer cannot be swapped in alone
    (part / "tokenizer" / "state.pt").unlink()
    (part / "transformer").mkdir()
    torch.save(load_training_state(paths["transformer"]), part / "transformer" / "state.pt")
    assert _export_over(tiny_bundle, part, tmp_path / "refused") == 1


def test_export_over_a_base_with_no_stage_only_merges_metrics_and_player(tiny_bundle, tmp_path, capsys):
    """A graded candidate gets its figures and play settings without touching a weight file."""
    import argparse

    from models.checkpoint import sha256_file
    from models.train.export import run

    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps({"arena": {"score": 0.54}}))
    args = dict(runs=str(tmp_path / "empty"), out=str(tmp_path / "out"), base=str(tiny_bundle), data_dir="data",
                size=9, metrics=str(metrics), branches=4, symmetries=None, visits=None, c_puct=None,
                leaf_symmetries=None, leaf_branches=None,
                branches_note="kept")
    assert run(argparse.Namespace(**args)) == 0
    base = json.loads((tiny_bundle / "manifest.json").read_text())
    new = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert new["files"] == base["files"] and new["training"] == base["training"]
    for fname, rec in new["files"].items():
        assert sha256_file(tmp_path / "out" / fname) == rec["sha256"]
    assert new["metrics"] == {**base["metrics"], "arena": {"score": 0.54}}
    assert new["player"] == {"branches": 4, "chosen_on": "kept"}
    assert new["revisions"][-1]["replaced"] == [] and new["revisions"][-1]["metrics"] == ["arena"]
    load_bundle(tmp_path / "out")  # every hash verifies
    capsys.readouterr()
    assert run(argparse.Namespace(**{**args, "metrics": None, "branches": None, "out": str(tmp_path / "x")})) == 1
    assert "nothing to do" in capsys.readouterr().out and not (tmp_path / "x").exists()
    # a later setting joins the earlier ones (branches kept), with its own note
    assert run(argparse.Namespace(**{**args, "base": str(tmp_path / "out"), "metrics": None, "branches": None,
                                     "symmetries": 8, "visits": None, "c_puct": None, "leaf_symmetries": None, "leaf_branches": None,
                                     "branches_note": "sym",
                                     "out": str(tmp_path / "y")})) == 0
    assert json.loads((tmp_path / "y" / "manifest.json").read_text())["player"] == {
        "branches": 4, "symmetries": 8, "chosen_on": "sym"}
    from models.player import NeuralPlayer

    player = NeuralPlayer(load_bundle(tmp_path / "y"))
    assert (player.top_k, player.symmetries) == (4, 8)


def test_token_cache_key_follows_the_encoder_not_the_decoder(tiny_bundle, tmp_path):
    """Token ids depend on the encoder and FSQ only: a decoder revision reuses the cache, an
    encoder change does not (models/train/windows.py tokenizer_id_hash)."""
    from models.train.windows import tokenizer_id_hash

    paths = unpack_bundle(tiny_bundle, tmp_path / "u")
    key = tokenizer_id_hash(str(paths["tokenizer"])).hexdigest()
    tok = load_training_state(paths["tokenizer"])
    for part, name in (("decoder.", "dec.pt"), ("encoder.", "enc.pt")):
        _nudge(tok, part, 0.01)
        torch.save(tok, tmp_path / name)
    assert tokenizer_id_hash(str(tmp_path / "dec.pt")).hexdigest() == key
    assert tokenizer_id_hash(str(tmp_path / "enc.pt")).hexdigest() != key
