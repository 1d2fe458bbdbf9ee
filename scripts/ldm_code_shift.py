"""How many LDM codes change when the pixel LDM reads frames through another tokenizer decoder
(same encoder, so the same token ids): the codes are the transformer's training targets.

    .venv/bin/python scripts/ldm_code_shift.py --old runs/v4/tokenizer/state.pt --new runs/tokdec2/state.pt \
        --dynamics runs/v4/dynamics/state.pt --cache cache/tokens/val9-<hash>.npz
    # the LDM of a bundle exported with the new decoder (export --base, unpacked): it keeps its own
    .venv/bin/python scripts/ldm_code_shift.py ... --new-dynamics runs/v4c_dec/unpacked/dynamics/state.pt
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from models.ldm import ldm_codes
    from models.token_cache import TokenCache
    from models.train.transformer_stage import load_dynamics
    from models.train.windows import WindowSampler, load_tokenizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--dynamics", required=True)
    ap.add_argument("--cache", required=True, help="a token cache (.npz) to draw windows from")
    ap.add_argument("--windows", type=int, default=2048)
    ap.add_argument("--new-dynamics", default=None, help="the LDM to read the new tokenizer's frames (default: --dynamics)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ldm = load_dynamics(args.dynamics)
    ids = torch.from_numpy(WindowSampler(TokenCache.load(Path(args.cache)), ldm.cfg.horizon + 1)
                           .sample(np.random.default_rng(0), args.windows))  # (W, H+1, 16)
    a = ldm_codes(ldm, load_tokenizer(args.old), ids)  # (W, H)
    b = ldm_codes(load_dynamics(args.new_dynamics) if args.new_dynamics else ldm, load_tokenizer(args.new), ids)
    print(f"{args.windows} windows: codes equal {100 * (a == b).float().mean():.1f} %, z_1 equal "
          f"{100 * (a[:, 0] == b[:, 0]).float().mean():.1f} %, all {a.shape[1]} equal {100 * (a == b).all(1).float().mean():.1f} %")


if __name__ == "__main__":
    main()
