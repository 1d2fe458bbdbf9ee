"""The frame-difference move reader on ground-truth val pairs, through the old and the revised tokenizer
decoder (the IDM reads FSQ codes and does not depend on the decoder).

    .venv/bin/python scripts/frame_diff_decoders.py --data-dir runs/snapE --old runs/v4/tokenizer/state.pt \
        --new runs/v4c_dec/unpacked/tokenizer/state.pt --dynamics runs/v4c_dec/unpacked/dynamics/state.pt
"""
import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from models.train.idm_stage import IdmTrainConfig, frame_diff_accuracy, labelled_transitions
    from models.train.transformer_stage import load_dynamics
    from models.train.windows import load_tokenizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ("--data-dir", "--old", "--new", "--dynamics"):
        ap.add_argument(flag, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    cfg = IdmTrainConfig(data_dir=args.data_dir)  # the IDM stage's validation pairs (max_eval_games)
    old, new = load_tokenizer(args.old), load_tokenizer(args.new)
    val = labelled_transitions(cfg, "val", new, load_dynamics(args.dynamics), labelled_only=False,
                               max_games=cfg.max_eval_games)
    print(json.dumps({"n": int(len(val["move"])), "games": val["games"],
                      "frame_diff_old_decoder": frame_diff_accuracy(val, old, cfg.size),
                      "frame_diff_new_decoder": frame_diff_accuracy(val, new, cfg.size)}))


if __name__ == "__main__":
    main()
