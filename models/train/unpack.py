"""`videoworld-go unpack`: a shipped bundle -> training states, so training can go on from it.

    videoworld-go unpack weights/9x9 --runs runs/from_v2

The training folders (``runs/``) are not part of the repository; the bundle is. Unpacking
writes ``RUNS/{tokenizer,dynamics,transformer,idm[,value]}/state.pt`` (weights + the stage's
config record, no optimizer state) and ``RUNS/transformer/vocab.npz``, which the stages
accept wherever they take a frozen model (``tokenizer_state=``, ``dynamics_state=``) and
as a starting point (``loop.init_from=RUNS/transformer/state.pt``: fine-tuning). The
transformer's state carries its outcome head (the bundle stores them together).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from models.bundle import ALL_FILES, load_bundle
from models.checkpoint import atomic_torch_save


def unpack_bundle(bundle_dir: Path | str, runs: Path | str, verify: bool = True) -> dict[str, Path]:
    """Write one state.pt per model of the bundle under ``runs``; returns stage -> path."""
    bundle = load_bundle(bundle_dir, verify=verify)  # checks every file's SHA-256 first
    manifest = bundle.manifest
    configs = manifest["configs"]
    training = manifest.get("training", {})
    runs = Path(runs)
    out: dict[str, Path] = {}
    models = [("tokenizer", bundle.tokenizer), ("dynamics", bundle.dynamics), ("transformer", bundle.transformer),
              ("idm", bundle.idm)] + ([("value", bundle.value)] if bundle.value is not None else [])
    for stage, model in models:
        done = training.get(stage, {})
        record = dict(done.get("config", {}))
        record["stage"] = stage
        record["unpacked_from"] = {"bundle": str(bundle_dir), "sha256": manifest["files"][ALL_FILES[stage]]["sha256"]}
        if stage == "transformer":
            # what the transformer stage and the outcome stage read back (see outcome_stage.load_transformer)
            record["model_args"] = configs["transformer"]
            record["context"] = manifest["layout"]["context"]
            record["horizon"] = manifest["layout"]["horizon"]
        else:
            record["model"] = configs[stage]
        path = runs / stage / "state.pt"
        atomic_torch_save({"model": model.state_dict(), "step": int(done.get("steps", 0)),
                           "elapsed": float(done.get("seconds", 0.0)), "config": json.dumps(record)}, path)
        out[stage] = path
    bundle.vocab.save(runs / "transformer" / "vocab.npz")
    return out


def add_parser(sub) -> None:
    p = sub.add_parser("unpack", help="write training states from a shipped bundle (to fine-tune it)")
    p.add_argument("bundle", nargs="?", default="weights/9x9")
    p.add_argument("--runs", required=True, help="folder to write tokenizer/ dynamics/ transformer/ idm/ into")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for stage, path in unpack_bundle(args.bundle, args.runs).items():
        print(f"{stage}: {path}")
    return 0
