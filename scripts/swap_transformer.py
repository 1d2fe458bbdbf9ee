"""A bundle folder made of another bundle with the transformer of a third (its weights, its config and its
training record), the manifest's hashes rewritten: to grade one stage's weights with the rest of the shipped model
(e.g. v18base's transformer with session 44's IDM, which v18base's own bundle predates), and to ship it.

What the base measured with its own transformer (the player's figures: oracle, arena, latency, outcome head...)
no longer describes the bundle: it moves under ``metrics.previous_transformer``; the figures of the stages the
swap leaves alone (``STAGE_METRICS``) stay, and the source manifest's metrics come along under
``metrics.transformer_source``, its corpora under ``provenance.transformer_corpora``.

    git show a11f403:weights/candidates/v18base/transformer.safetensors > /tmp/v18base_transformer.safetensors
    git show a11f403:weights/candidates/v18base/manifest.json > /tmp/v18base_manifest.json
    .venv/bin/python scripts/swap_transformer.py --base weights/9x9 --transformer /tmp/v18base_transformer.safetensors \\
        --manifest /tmp/v18base_manifest.json --out runs/v18mix
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


# metrics of one untouched stage alone (tokenizer, LDM, value model, IDM on ground-truth pairs)
STAGE_METRICS = ("tokenizer_heldout", "decoder_revision_check", "ldm_val", "value_val", "value_test",
                 "idm_val_gt_pairs")


def swapped_manifest(manifest: dict, source: dict, transformer_file: dict, note: str) -> dict:
    """The base bundle's manifest with the source manifest's transformer (config, training record, corpora)
    and ``transformer_file`` ({sha256, bytes}); the base's player metrics moved aside."""
    if source.get("layout") != manifest.get("layout"):  # the frame layout the transformer's tokens follow
        raise ValueError("the source transformer was trained on another frame layout than the base bundle's")
    out = json.loads(json.dumps(manifest))  # a deep copy
    out["configs"]["transformer"] = source["configs"]["transformer"]
    out["training"]["transformer"] = source["training"]["transformer"]
    out["files"]["transformer.safetensors"] = transformer_file
    out["provenance"]["transformer_corpora"] = source["provenance"]["corpora"]
    old = out.get("metrics", {})
    out["metrics"] = {k: v for k, v in old.items() if k in STAGE_METRICS}
    moved = {k: v for k, v in old.items() if k not in STAGE_METRICS}
    if moved:
        out["metrics"]["previous_transformer"] = {
            "note": "measured with the transformer this bundle replaced (sha256 "
                    f"{manifest['files']['transformer.safetensors']['sha256']}), not with this one", **moved}
    out["metrics"]["transformer_source"] = source.get("metrics", {})
    out["candidate"] = note
    out.setdefault("revisions", []).append({
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "replaced": ["transformer"], "base_created": manifest.get("created"), "transformer_from": note})
    return out


def main() -> int:
    from engine.corpus import sha256_file

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the bundle folder whose other files are kept")
    ap.add_argument("--transformer", required=True, help="the transformer.safetensors to put in")
    ap.add_argument("--manifest", required=True, help="the manifest giving that transformer's config")
    ap.add_argument("--out", required=True)
    ap.add_argument("--note", default=None, help="where the transformer comes from (default: the paths given)")
    args = ap.parse_args()
    base, out = Path(args.base), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((base / "manifest.json").read_text())
    for name in manifest["files"]:
        shutil.copyfile(base / name, out / name)
    shutil.copyfile(args.transformer, out / "transformer.safetensors")
    path = out / "transformer.safetensors"
    manifest = swapped_manifest(manifest, json.loads(Path(args.manifest).read_text()),
                                {"sha256": sha256_file(path), "bytes": path.stat().st_size},
                                args.note or f"{args.base} with the transformer {args.transformer} (config from "
                                             f"{args.manifest})")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
