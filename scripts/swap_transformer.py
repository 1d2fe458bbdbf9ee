"""A bundle folder made of another bundle with the transformer of a third (its weights and its config), the
manifest's hashes rewritten: to grade one stage's weights with the rest of the shipped model (e.g. v18base's
transformer with session 44's IDM, which v18base's own bundle predates).

    git show a11f403:weights/candidates/v18base/transformer.safetensors > /tmp/v18base_transformer.safetensors
    git show a11f403:weights/candidates/v18base/manifest.json > /tmp/v18base_manifest.json
    .venv/bin/python scripts/swap_transformer.py --base weights/9x9 --transformer /tmp/v18base_transformer.safetensors \\
        --manifest /tmp/v18base_manifest.json --out runs/v18mix
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    from engine.corpus import sha256_file

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the bundle folder whose other files are kept")
    ap.add_argument("--transformer", required=True, help="the transformer.safetensors to put in")
    ap.add_argument("--manifest", required=True, help="the manifest giving that transformer's config")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    base, out = Path(args.base), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((base / "manifest.json").read_text())
    for name in manifest["files"]:
        shutil.copyfile(base / name, out / name)
    shutil.copyfile(args.transformer, out / "transformer.safetensors")
    path = out / "transformer.safetensors"
    manifest["configs"]["transformer"] = json.loads(Path(args.manifest).read_text())["configs"]["transformer"]
    manifest["files"]["transformer.safetensors"] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    manifest["candidate"] = f"{args.base} with the transformer {args.transformer} (config from {args.manifest})"
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
