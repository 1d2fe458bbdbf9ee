"""The frozen LDM's codes of training windows, remembered instead of recomputed at every draw.

The transformer stage labels each sampled window with the LDM's codes z_1..z_H on the fly. For
the pixel LDM that means decoding the window's H+1 frames and running its encoder: 0.35 s for 64
windows against 1.2 s for a `base` step's forward, backward and update, 0.63 s for a `compact`
one (1 thread beside a training run, benchmarks/bench_ldm_memo.py, docs/training.md). The codes are a function of the window alone: (game g, start t,
symmetry s) names frames t..t+H in the mover's view, and the LDM is frozen. So each code is
computed once, kept in a (frames, 8, H) int16 table indexed by the window's first frame in the
token cache (game_start[g] + t) and its symmetry, and saved beside the token cache, so the next
run on the same corpus, tokenizer and LDM starts with it filled.

Frames only: the table holds what the LDM read off the frames, no move and no rule.
A code computed in a smaller batch may in principle differ in a rounding boundary case from the
same window computed in a larger one (floating point); the memo keeps whichever came first.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from models.ldm import ldm_codes
from models.token_cache import TokenCache

UNKNOWN = -1  # a (frame, symmetry) whose window has not been labelled yet
SYMMETRIES = 8


def memo_path(cache_dir: str | Path, token_cache_key: str, dynamics_state: str | Path,
              tokenizer_state: str | Path) -> Path:
    """Where the memo of (a token cache, an LDM, a tokenizer) lives: keyed by the cache's own key
    (its tokenizer ids and corpus) and the bytes of both state files: the pixel LDM reads frames
    decoded by the tokenizer's decoder (or its own copy), which the cache's key does not cover."""
    h = hashlib.sha256(token_cache_key.encode())
    for state in (dynamics_state, tokenizer_state):
        with open(state, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return Path(cache_dir) / f"ldm-codes-{h.hexdigest()[:16]}.npy"


class CodeMemo:
    """(frames, 8, H) int16 raw LDM code ids of the window starting at each frame of a token cache."""

    def __init__(self, frames: int, horizon: int, path: Optional[Path] = None) -> None:
        self.path = Path(path) if path is not None else None
        self.table = np.full((frames, SYMMETRIES, horizon), UNKNOWN, dtype=np.int16)
        if self.path is not None and self.path.exists():
            saved = np.load(self.path)
            if saved.shape == self.table.shape and saved.dtype == self.table.dtype:
                self.table = saved
            # else: another cache under the same key cannot happen by construction; a torn file can't
            # either (written by rename); anything else is recomputed rather than trusted
        self.hits = self.misses = 0

    @staticmethod
    def frame_index(cache: TokenCache, keys: np.ndarray) -> np.ndarray:
        """(B, 3) window keys (g, t, s) -> (B,) index of the window's first frame in the cache."""
        return cache.game_start[keys[:, 0]] + keys[:, 1]

    def codes(self, cache: TokenCache, keys: np.ndarray, windows: torch.Tensor, ldm: torch.nn.Module,
              tokenizer) -> torch.Tensor:
        """The LDM codes of B windows: (B, 3) keys and their (B, H+1, 16) raw token ids -> (B, H) raw
        code ids (int64, on the windows' device). Unknown ones are computed (one batch) and kept."""
        f, s = self.frame_index(cache, keys), keys[:, 2]
        got = self.table[f, s].astype(np.int64)  # (B, H)
        missing = np.flatnonzero((got == UNKNOWN).any(1))
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if len(missing):
            fresh = ldm_codes(ldm, tokenizer, windows[torch.from_numpy(missing).to(windows.device)]).cpu().numpy()
            got[missing] = fresh
            self.table[f[missing], s[missing]] = fresh.astype(np.int16)
        return torch.from_numpy(got).to(windows.device)

    @property
    def filled(self) -> float:
        """Share of (frame, symmetry) entries labelled (the last frame of a game starts no window)."""
        return float((self.table[:, :, 0] != UNKNOWN).mean()) if len(self.table) else 0.0

    def save(self) -> None:
        """Atomically (a kill mid-write leaves the previous file): a lost memo costs only recomputation."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npy")
        np.save(tmp, self.table)
        tmp.replace(self.path)


def fill(memo: CodeMemo, cache: TokenCache, ldm: torch.nn.Module, tokenizer, horizon: int, batch: int = 256,
         save_every: int = 50, progress: bool = True) -> int:
    """Labels every window (every transition of every game, in all 8 symmetries) the memo does not
    hold yet, in batches, saving every ``save_every`` batches: for idle machine time before a run.
    Returns the number of windows labelled. A kill loses at most the batches since the last save."""
    from tqdm import tqdm

    from models.train.windows import WindowSampler

    sampler = WindowSampler(cache, horizon + 1)
    keys = np.stack([np.repeat(sampler.games, SYMMETRIES), np.repeat(sampler.starts, SYMMETRIES),
                     np.tile(np.arange(SYMMETRIES), len(sampler.games))], 1).astype(np.int64)  # (W*8, 3)
    todo = keys[memo.table[CodeMemo.frame_index(cache, keys), keys[:, 2], 0] == UNKNOWN]
    for i, start in enumerate(tqdm(range(0, len(todo), batch), disable=not progress, desc="ldm codes")):
        part = todo[start:start + batch]
        memo.codes(cache, part, torch.from_numpy(sampler.windows(part)), ldm, tokenizer)
        if (i + 1) % save_every == 0:
            memo.save()
    memo.save()
    return len(todo)


def main() -> None:
    """python -m models.train.code_memo --tokenizer-state T --dynamics-state D --data-dir S [--cache-dir C]:
    fills the memo the transformer stage will use for that corpus, tokenizer and LDM (resumable)."""
    import argparse

    from models.train.transformer_stage import load_dynamics
    from models.train.windows import cache_path, get_cache, load_tokenizer

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--tokenizer-state", required=True)
    ap.add_argument("--dynamics-state", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--cache-dir", default="cache/tokens")
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cache = get_cache(args.cache_dir, "train", args.tokenizer_state, args.data_dir, args.size, True, args.threads)
    key = cache_path(args.cache_dir, "train", args.tokenizer_state, args.data_dir, args.size).name
    ldm = load_dynamics(args.dynamics_state)
    memo = CodeMemo(len(cache.tokens), ldm.cfg.horizon,
                    memo_path(args.cache_dir, key, args.dynamics_state, args.tokenizer_state))
    done = fill(memo, cache, ldm, load_tokenizer(args.tokenizer_state), ldm.cfg.horizon, args.batch)
    print(f"labelled {done} windows; the memo holds {memo.filled:.1%} of (frame, symmetry) entries: {memo.path}")


if __name__ == "__main__":
    main()
