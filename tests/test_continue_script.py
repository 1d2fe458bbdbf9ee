"""scripts/continue_9x9.sh end to end on the tiny bundle: unpack, grow the transformer deeper,
train it, the outcome head, export; the bundle it writes loads and keeps the frozen stages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from models.bundle import load_bundle
from models.checkpoint import load_training_state

ROOT = Path(__file__).resolve().parents[1]


def start_script(tiny_bundle: Path, runs: Path, **settings: str) -> subprocess.Popen:
    """scripts/continue_9x9.sh on the tiny bundle, 2 steps a stage, writing to ``runs``."""
    runs.mkdir(parents=True)
    env = {**os.environ, "PY": sys.executable, "RUNS": str(runs), "SNAPSHOT": str(tiny_bundle.parent / "data"),
           "FROM": str(tiny_bundle), "STEPS": "2", "LR": "1e-3", "THREADS": "1", "BF16": "false",
           "CACHE_DIR": str(runs.parent / "cache"), "OUTCOME_STEPS": "2",
           "EXTRA": "--set batch=4 --set eval_windows=8 --set eval_every=5 --set loop.progress=false", **settings}
    with open(runs / "stderr.log", "w") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(["bash", str(ROOT / "scripts/continue_9x9.sh")], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)


@pytest.fixture(scope="module")
def script_runs(tiny_bundle, tmp_path_factory) -> dict[str, Path]:
    """Both variants of the script at once (each on one thread, in its own folder): the two runs share
    nothing but the read-only tiny bundle, and the two cores halve the wait. Returns the RUNS folders."""
    settings = {"deepen": {"SIZE": "tiny4", "DEEPEN": "true"}, "scratch": {"SIZE": "tiny", "SCRATCH": "true"}}
    base = tmp_path_factory.mktemp("continue")
    runs = {name: base / name / "runs" for name in settings}
    procs = {name: start_script(tiny_bundle, runs[name], **env) for name, env in settings.items()}
    for name, proc in procs.items():
        assert proc.wait(timeout=600) == 0, (runs[name] / "stderr.log").read_text()[-3000:]
    return runs


def test_continue_script_grows_and_exports_a_loadable_bundle(tiny_bundle, script_runs):
    runs = script_runs["deepen"]
    old, new = load_bundle(tiny_bundle), load_bundle(runs / "bundle")
    assert new.transformer.args.n_layers == 4 and old.transformer.args.n_layers == 2
    for part in ("tokenizer", "dynamics", "idm", "value"):  # frozen stages carried unchanged
        a, b = getattr(old, part).state_dict(), getattr(new, part).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), part
    records = [json.loads(line) for line in (runs / "transformer/metrics.jsonl").read_text().splitlines()]
    assert next(r for r in records if r.get("eval"))["step"] == 0  # the grown model measured before step 1
    assert load_training_state(runs / "transformer/state.pt")["step"] == 2  # STEPS=2 ran
    # provenance: the snapshot the transformer read (not the checkout's data/), and the bundle the rest came from
    snapshot = json.loads((tiny_bundle.parent / "data" / "manifest.json").read_text())
    provenance = new.manifest["provenance"]
    assert provenance["corpora"].keys() == snapshot["corpora"].keys()
    assert all(provenance["corpora"][k]["sha256"] == v["sha256"] for k, v in snapshot["corpora"].items())
    assert provenance["stages_from"]["provenance"] == old.manifest["provenance"]


def test_continue_script_from_scratch_keeps_the_bundles_vocabulary_and_frozen_stages(tiny_bundle, script_runs):
    """SCRATCH=true: a transformer of SIZE from random weights (no init_from), on the bundle's vocabulary."""
    runs = script_runs["scratch"]
    old, new = load_bundle(tiny_bundle), load_bundle(runs / "bundle")
    assert new.transformer.args == old.transformer.args
    assert (new.vocab.frame_codes == old.vocab.frame_codes).all() and (new.vocab.ldm_codes == old.vocab.ldm_codes).all()
    for part in ("tokenizer", "dynamics", "idm", "value"):
        a, b = getattr(old, part).state_dict(), getattr(new, part).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), part
    # the run started from no state (init_from itself: tests/test_unpack.py, test_deepen.py), on the bundle's vocabulary
    config = json.loads((runs / "transformer/config.json").read_text())
    assert config["loop"]["init_from"] == "" and config["vocab_from"].endswith("from/transformer/vocab.npz")
