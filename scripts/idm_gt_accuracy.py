"""IDM accuracy on ground-truth frame pairs of validation games, for several bundles' IDMs on the same pairs.

    .venv/bin/python scripts/idm_gt_accuracy.py --bundles weights/9x9 runs/idmctx2/bundle \
        [--data-dir runs/snapL --games 40 --symmetries 2] [--out docs/idm_gt_accuracy.json]

The pairs come from models/train/idm_stage.labelled_transitions (every transition of the first --games
validation games, in --symmetries board symmetries, mover's view), read with the first bundle's
tokenizer and LDM (the bundles must share them: only the IDM differs). Also prints the
frame-difference baseline on the same pairs.
"""
import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    import models.train.idm_stage as ids
    from models.bundle import load_bundle

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundles", nargs="+", required=True)
    ap.add_argument("--data-dir", default="runs/snapL")
    ap.add_argument("--games", type=int, default=40)
    ap.add_argument("--symmetries", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    bundles = [load_bundle(b) for b in args.bundles]
    first = bundles[0]
    cfg = dataclasses.replace(ids.IdmTrainConfig(), data_dir=args.data_dir, label_symmetries=args.symmetries)
    val = ids.labelled_transitions(cfg, "val", first.tokenizer, first.dynamics, labelled_only=False,
                                   max_games=args.games)
    base = ids.frame_diff_accuracy(val, first.tokenizer, cfg.size)
    out = {"data_dir": args.data_dir, "games": val["games"], "symmetries": args.symmetries, "pairs": int(len(val["move"])),
           "frame_diff_acc": base, "idm_acc": {}}
    for path, b in zip(args.bundles, bundles):
        out["idm_acc"][path] = ids.evaluate_idm(b.idm, val, first.tokenizer.fsq, first.tokenizer, cfg.size,
                                                first.dynamics.fsq, base)["idm_acc"]
    print(json.dumps(out, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
