"""Give a bundle its frame slots' code sets (models/frame_slots.py), from a training token cache.

    .venv/bin/python scripts/frame_slots.py --weights weights/9x9 \
        --cache cache/tokens/train9-f652aaf85e65.npz [--val cache/tokens/val9-f652aaf85e65.npz] [--out FOLDER]

Reads the cache's frame tokens (every frame, symmetry and colour view; no move, no rule), marks per slot
the vocabulary's frame codes it holds, and writes ``slots.safetensors`` into ``--out`` (default: the
bundle itself), with the manifest's file entry (SHA-256), a ``frame_slots`` provenance record (the cache,
the set sizes, and with ``--val`` how many validation tokens fall outside their slot's set) and a
revision entry. The other files are copied when ``--out`` is another folder. Prints the record as JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(REPO))
    import torch
    from safetensors.torch import save_file

    from models.bundle import OPTIONAL_FILES, load_bundle
    from models.checkpoint import sha256_file
    from models.frame_slots import SLOTS_KEY, slot_mask
    from models.vocab import FRAME_TOKENS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=REPO / "weights" / "9x9")
    ap.add_argument("--cache", type=Path, required=True, help="the training split's token cache (.npz)")
    ap.add_argument("--val", type=Path, default=None, help="a validation token cache, to count tokens outside the sets")
    ap.add_argument("--out", type=Path, default=None, help="bundle folder to write (default: --weights)")
    args = ap.parse_args(argv)

    bundle = load_bundle(args.weights)  # verifies the hashes
    vocab = bundle.vocab
    tokens = np.load(args.cache, mmap_mode="r")["tokens"]  # (F, 8, 2, 16) raw FSQ ids
    mask = slot_mask(vocab, tokens)  # (16, Kx)
    sizes = mask.sum(1)
    record = {"cache": args.cache.name, "frames": int(tokens.shape[0]),
              "tokens": int(np.prod(tokens.shape[:-1])), "frame_codes": int(mask.shape[1]),
              "codes_per_slot": sizes.tolist(), "union": int(mask.any(0).sum()),
              "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    if args.val is not None:
        val = np.load(args.val, mmap_mode="r")["tokens"].reshape(-1, FRAME_TOKENS)
        ids = vocab.frame_ids(val) - vocab.frame_offset  # (T, 16); unknown codes -> Kx
        known = ids < mask.shape[1]
        inside = np.zeros_like(known)
        for s in range(FRAME_TOKENS):
            inside[known[:, s], s] = mask[s, ids[known[:, s], s]]
        record["val"] = {"cache": args.val.name, "tokens": int(ids.size), "unknown_code": int((~known).sum()),
                         "outside_slot": int((known & ~inside).sum())}

    out = args.out or args.weights
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() != args.weights.resolve():
        for f in args.weights.iterdir():
            if f.name != OPTIONAL_FILES["slots"]:
                shutil.copyfile(f, out / f.name)
    fname = OPTIONAL_FILES["slots"]
    save_file({SLOTS_KEY: torch.from_numpy(mask.astype(np.uint8))}, str(out / fname))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"][fname] = {"sha256": sha256_file(out / fname), "bytes": (out / fname).stat().st_size}
    manifest["provenance"]["frame_slots"] = record
    manifest.setdefault("revisions", []).append({"date": record["created"], "replaced": [], "added": ["slots"],
                                                 "base_created": manifest["created"]})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    load_bundle(out)  # the written bundle loads and its slot mask fits
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
