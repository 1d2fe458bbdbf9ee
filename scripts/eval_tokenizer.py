"""The tokenizer's figure of merit on held-out positions: decode(encode(frame)) read back by the
renderer's reader gives exactly the original board (issue target: >= 99.9 % of boards, 100.00 %
of intersections, on 10,000 held-out 9x9 positions).

    .venv/bin/python scripts/eval_tokenizer.py [--weights weights/9x9] [--positions 10000] [--out docs/tokenizer_eval.json]

Positions: the distinct boards of the test- and validation-split games (the tokenizer trained on
training-split positions and random boards only), each in one seeded
random symmetry and colour view (the tokenizer sees both views), taken in a seeded order; if the
split holds fewer distinct boards than asked, all of them are used and the JSON says so.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def held_out_boards(data_dir: str, splits: list[str], size: int, n: int, seed: int) -> tuple[np.ndarray, dict]:
    from models.video_data import game_videos, swap_colours, symmetry

    seen: dict[bytes, np.ndarray] = {}
    games = 0
    for split in splits:
        for _, stones in game_videos(data_dir, split=split, size=size):
            games += 1
            for b in stones:
                seen.setdefault(b.tobytes(), b)
    rng = np.random.default_rng(seed)
    boards = np.stack(list(seen.values()))
    boards = boards[rng.permutation(len(boards))[:n]]
    boards = np.stack([symmetry(b, int(k)) for b, k in zip(boards, rng.integers(0, 8, len(boards)))])
    flip = rng.random(len(boards)) < 0.5
    boards[flip] = swap_colours(boards[flip])
    return boards, {"splits": splits, "games": games, "distinct_boards": len(seen), "used": len(boards)}


def main() -> int:
    from models.bundle import load_bundle
    from models.train.tokenizer_stage import board_recovery
    from render.frame import RenderConfig

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=str(REPO / "weights" / "9x9"))
    ap.add_argument("--data-dir", default=str(REPO / "data"))
    ap.add_argument("--splits", default="test,val", help="held-out splits to draw from (the tokenizer trains on 'train')")
    ap.add_argument("--positions", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokenizer-state", default=None,
                    help="grade a training state (runs/.../state.pt) instead of the bundle's tokenizer")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "tokenizer_eval.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.weights)
    tokenizer, source = bundle.tokenizer, {"weights": os.path.relpath(args.weights, REPO),
                                           "tokenizer_sha256": bundle.manifest["files"]["tokenizer.safetensors"]["sha256"]}
    if args.tokenizer_state:
        from models.checkpoint import sha256_file
        from models.train.windows import load_tokenizer

        tokenizer = load_tokenizer(args.tokenizer_state)
        source = {"tokenizer_state": args.tokenizer_state, "sha256": sha256_file(Path(args.tokenizer_state))}
    splits = [x for x in args.splits.split(",") if x]
    if not splits or set(splits) - {"test", "val"}:
        ap.error("--splits: test and/or val")
    boards, info = held_out_boards(args.data_dir, splits, bundle.board_size, args.positions, args.seed)
    rcfg = RenderConfig(resolution=tokenizer.cfg.resolution)
    res = board_recovery(tokenizer, boards, rcfg, torch.device("cpu"))
    out = {**info, **res, **source}
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"{res['n']} boards ({info['distinct_boards']} distinct in {info['games']} {'+'.join(splits)} games): "
          f"boards exact {100 * res['boards_exact']:.2f} %, intersections exact {100 * res['points_exact']:.3f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
