"""The frame slots' code sets: built from frame tokens only, shipped in a bundle, obeyed by generation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from models.frame_slots import FrameSlots, slot_mask
from models.vocab import CodeVocab


def test_a_slot_mask_marks_the_codes_each_slot_holds_and_leaves_out_unknown_codes():
    vocab = CodeVocab(np.array([3, 7, 11, 20]), np.array([0, 1]))
    tokens = np.full((2, 5, 16), 3)  # any layout ending in the 16 slots
    tokens[0, 0, 4] = 11
    tokens[1, 2, 4] = 20
    tokens[1, 3, 9] = 99  # not in the vocabulary: left out
    mask = slot_mask(vocab, tokens)
    assert mask.shape == (16, 4)
    assert mask[4].tolist() == [True, False, True, True] and mask[9].tolist() == [True, False, False, False]
    assert mask[:, 1].sum() == 0  # code 7 was never seen


def test_frame_slots_refuse_a_mask_that_does_not_fit():
    vocab = CodeVocab(np.array([3, 7, 11, 20]), np.array([0, 1]))
    weight = torch.randn(vocab.size, 8)
    with pytest.raises(ValueError, match="does not fit"):
        FrameSlots.build(weight, vocab, np.ones((16, 5), bool))
    empty = np.ones((16, 4), bool)
    empty[2] = False
    with pytest.raises(ValueError, match="at least one"):
        FrameSlots.build(weight, vocab, empty)
    slots = FrameSlots.build(weight, vocab, np.eye(16, 4, dtype=bool) | np.eye(16, 4, k=-4, dtype=bool)
                             | np.eye(16, 4, k=-8, dtype=bool) | np.eye(16, 4, k=-12, dtype=bool))
    assert slots.sizes == [1] * 16 and torch.equal(slots.weights[5], weight[slots.ids[5]])


def _tiny_prefixes(bundle, n: int = 6) -> torch.Tensor:
    from models.vocab import ACT_START, frame_block

    g = torch.Generator().manual_seed(0)
    raw = torch.from_numpy(bundle.vocab.frame_codes)[torch.randint(len(bundle.vocab.frame_codes), (n, 16), generator=g)]
    return torch.cat([frame_block(bundle.vocab.frame_ids(raw)), torch.full((n, 1), ACT_START)], 1)


def test_generation_keeps_each_frame_token_in_its_slots_set_and_all_codes_change_nothing(tiny_bundle):
    from models.bundle import load_bundle
    from models.generate import imagine

    b = load_bundle(tiny_bundle)
    prefix = _tiny_prefixes(b)
    kx = len(b.vocab.frame_codes)
    plain = imagine(b.transformer, b.vocab, prefix, b.layout.horizon)
    every = FrameSlots.build(b.transformer.output.weight, b.vocab, np.ones((16, kx), bool))
    same = imagine(b.transformer, b.vocab, prefix, b.layout.horizon, slots=every)
    assert torch.equal(same.z, plain.z)
    # the unknown-code row is not a slot's: equal wherever the plain generation did not emit it
    known = plain.frame != b.vocab.frame_unk
    assert torch.equal(same.frame[known], plain.frame[known])
    # a mask that forbids, at every slot, the code the plain generation chose there: a different frame, inside the sets
    mask = np.ones((16, kx), bool)
    for s in range(16):
        chosen = plain.frame[:, s][known[:, s]] - b.vocab.frame_offset
        mask[s, chosen.numpy()] = False
        if not mask[s].any():
            mask[s, 0] = True
    narrow = FrameSlots.build(b.transformer.output.weight, b.vocab, mask)
    out = imagine(b.transformer, b.vocab, prefix, b.layout.horizon, slots=narrow)
    for s in range(16):
        assert np.all(mask[s, (out.frame[:, s] - b.vocab.frame_offset).numpy()])
    assert not torch.equal(out.frame, plain.frame)


def test_the_script_adds_the_sets_to_a_bundle_which_loads_verifies_and_plays_with_them(tiny_bundle, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from engine.game import Game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer
    from test_models import assert_a_changed_file_is_refused

    caches = sorted((tiny_bundle.parent / "cache").rglob("train*.npz"))
    assert caches, "the tiny pipeline's token cache"
    out = tmp_path / "bundle"
    script = Path(__file__).resolve().parent.parent / "scripts" / "frame_slots.py"
    done = subprocess.run([sys.executable, str(script), "--weights", str(tiny_bundle), "--cache", str(caches[0]),
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["codes_per_slot"]  # the record, printed
    assert not (tiny_bundle / "slots.safetensors").exists()  # the source bundle is untouched
    manifest = json.loads((out / "manifest.json").read_text())
    record = manifest["provenance"]["frame_slots"]
    assert "slots.safetensors" in manifest["files"] and record["cache"] == caches[0].name
    b = load_bundle(out)
    tokens = np.load(caches[0])["tokens"]
    assert np.array_equal(b.frame_slots.numpy(), slot_mask(b.vocab, tokens))
    assert record["codes_per_slot"] == b.frame_slots.sum(1).tolist()
    game = Game(9, 7.0)
    game.play((4, 4), 1)
    player = NeuralPlayer(b)
    a = player.analyze_many([(game, 2)])[0]
    assert game.position.is_legal(a.move)
    rows = b.slot_rows()
    assert rows is b.slot_rows() and rows.sizes == b.frame_slots.sum(1).tolist()  # built once, shared
    imagined = player.imagine_views(player._views(game, 2)[None])
    for s in range(16):  # the imagined frame's tokens are in their slots' sets
        assert set(b.vocab.frame_ids(imagined.x_next[:, s]).tolist()) <= set(rows.ids[s].tolist())
    assert_a_changed_file_is_refused(out, "slots.safetensors", tmp_path)  # hashed like the weights


def test_export_over_a_base_keeps_its_frame_slots(tiny_bundle, tmp_path):
    """``export --base`` never replaces the transformer, so the slot sets stay valid and travel along."""
    import subprocess
    import sys
    from pathlib import Path

    from models.bundle import load_bundle
    from models.checkpoint import sha256_file
    from test_value import export_value_over

    caches = sorted((tiny_bundle.parent / "cache").rglob("train*.npz"))
    base = tmp_path / "base"
    script = Path(__file__).resolve().parent.parent / "scripts" / "frame_slots.py"
    subprocess.run([sys.executable, str(script), "--weights", str(tiny_bundle), "--cache", str(caches[0]),
                    "--out", str(base)], check=True, capture_output=True, timeout=300)
    out = export_value_over(tiny_bundle, base, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["slots.safetensors"]["sha256"] == sha256_file(out / "slots.safetensors") \
        == sha256_file(base / "slots.safetensors")
    assert manifest["provenance"]["frame_slots"]["cache"] == caches[0].name
    assert load_bundle(out).frame_slots is not None
