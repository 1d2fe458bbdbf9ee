"""`videoworld-go export`: training states -> the shipped bundle (safetensors + manifest).

    videoworld-go export --runs runs --out weights/9x9 [--metrics docs/model_eval.json]

Provenance recorded: the corpora the token caches were built from (data/manifest.json:
names, game counts and SHA-256 of each games.sgf), the split rule, and every stage's
config and training steps. Old files in the output folder are replaced, not kept.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from models.bundle import FILES, export_bundle


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write the shipped model bundle from training runs")
    p.add_argument("--runs", default="runs", help="folder holding tokenizer/ dynamics/ transformer/ idm/ outcome/")
    p.add_argument("--out", default="weights/9x9")
    p.add_argument("--data-dir", default="data")
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--metrics", default=None, help="JSON file of held-out metrics to embed in the manifest")
    p.add_argument("--branches", type=int, default=None,
                   help="the player's default number of imagined branches (chosen on validation labels)")
    p.add_argument("--branches-note", default="", help="how --branches was chosen (goes into the manifest)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    runs = Path(args.runs)
    stages = {s: str(runs / s / "state.pt") for s in ("tokenizer", "dynamics", "transformer", "idm", "outcome")
              if (runs / s / "state.pt").exists()}
    missing = {"tokenizer", "dynamics", "transformer", "idm"} - stages.keys()
    if missing:
        print(f"export: missing training runs: {sorted(missing)}")
        return 1
    data_manifest = json.loads((Path(args.data_dir) / "manifest.json").read_text())
    provenance = {
        "corpora": {k: {kk: v[kk] for kk in ("games", "moves", "sha256", "splits")}
                    for k, v in data_manifest["corpora"].items()},
        "split_rule": data_manifest["split_rule"],
        "note": "token caches were built from the corpora as they were when each stage started; "
                "the IDM saw move labels of a hash-chosen share of training games only",
    }
    metrics = json.loads(Path(args.metrics).read_text()) if args.metrics else {}
    out = Path(args.out)
    for f in FILES.values():  # replace, don't pile up
        (out / f).unlink(missing_ok=True)
    manifest = export_bundle(out, stages, str(runs / "transformer" / "vocab.npz"), args.size,
                             _context(stages["transformer"]), provenance, metrics,
                             {"branches": args.branches, "chosen_on": args.branches_note} if args.branches else None)
    total = sum(f["bytes"] for f in manifest["files"].values())
    print(f"exported {len(manifest['files'])} files ({total / 1e6:.1f} MB) to {out}")
    return 0


def _context(state_path: str) -> int:
    from models.checkpoint import load_training_state

    return int(json.loads(load_training_state(Path(state_path))["config"])["context"])
