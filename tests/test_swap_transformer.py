"""scripts/swap_transformer.py: a bundle with another bundle's transformer loads, lists its files' true hashes,
and keeps at the top of its manifest only the figures that still describe it."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from script_module import load_script


def _script():
    return load_script("swap_transformer")


def test_a_swapped_bundle_carries_the_new_transformer_and_moves_the_old_figures_aside(tiny_bundle, tmp_path,
                                                                                     monkeypatch):
    from engine.corpus import sha256_file
    from models.bundle import load_bundle

    base = tmp_path / "base"
    shutil.copytree(tiny_bundle, base)
    manifest = json.loads((base / "manifest.json").read_text())
    manifest["metrics"] = {"tokenizer_heldout": {"boards_exact": 1.0}, "oracle_test": {"bap": 0.4},
                           "arena": {"score": 0.7}}
    (base / "manifest.json").write_text(json.dumps(manifest))
    source = json.loads(json.dumps(manifest))
    source["training"]["transformer"] = {"steps": 12345, "config": {"stage": "transformer"}}
    source["provenance"]["corpora"] = {"katago9": {"games": 7}}
    source["metrics"] = {"test_labels": {"bap": 0.44}}
    (tmp_path / "source.json").write_text(json.dumps(source))
    weights = tmp_path / "t.safetensors"  # the same weights, renamed: what matters here is the bookkeeping
    shutil.copyfile(base / "transformer.safetensors", weights)
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["swap", "--base", str(base), "--transformer", str(weights),
                                      "--manifest", str(tmp_path / "source.json"), "--out", str(out)])
    assert _script().main() == 0
    got = json.loads((out / "manifest.json").read_text())
    assert got["training"]["transformer"]["steps"] == 12345
    assert got["provenance"]["transformer_corpora"] == {"katago9": {"games": 7}}
    assert got["provenance"].get("corpora") == manifest["provenance"].get("corpora")  # the other stages' data
    assert set(got["metrics"]) == {"tokenizer_heldout", "previous_transformer", "transformer_source"}
    assert got["metrics"]["previous_transformer"]["oracle_test"] == {"bap": 0.4}
    assert got["metrics"]["previous_transformer"]["arena"] == {"score": 0.7}
    assert got["metrics"]["transformer_source"] == {"test_labels": {"bap": 0.44}}
    assert got["revisions"][-1]["replaced"] == ["transformer"] and got["candidate"]
    for name, info in got["files"].items():
        assert sha256_file(out / name) == info["sha256"] and (out / name).stat().st_size == info["bytes"]
    assert load_bundle(out).transformer is not None
    source["layout"] = {"other": True}
    with pytest.raises(ValueError, match="layout"):
        _script().swapped_manifest(manifest, source, got["files"]["transformer.safetensors"], "x")
