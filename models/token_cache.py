"""Frames encoded once: every game of a split, in all 8 symmetries and both colour views.

Layout of one cache file (``.npz``):
  tokens      (F, 8, 2, 16) int32  tokenizer ids of every frame, per symmetry and view
                                   (view 0: as filmed, view 1: colours swapped)
  game_start  (G + 1,) int64       frames of game g are tokens[game_start[g]:game_start[g+1]]
  source      (G,) int16           index into ``sources`` (corpus name) of each game
  sources     (S,) str
Only frames go in, only token ids come out: no moves, no results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from models.tokenizer import FrameTokenizer
from models.video_data import game_videos, swap_colours, symmetry
from render.frame import RenderConfig, render_many, to_float


@dataclass
class TokenCache:
    tokens: np.ndarray
    game_start: np.ndarray
    source: np.ndarray
    sources: list[str]

    @property
    def games(self) -> int:
        return len(self.game_start) - 1

    def game_tokens(self, g: int) -> np.ndarray:
        return self.tokens[self.game_start[g]:self.game_start[g + 1]]

    def save(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(path) + ".tmp.npz")
        np.savez(tmp, tokens=self.tokens, game_start=self.game_start, source=self.source,
                 sources=np.array(self.sources))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "TokenCache":
        z = np.load(path)
        return cls(z["tokens"], z["game_start"], z["source"], [str(s) for s in z["sources"]])


@torch.no_grad()
def encode_boards(tokenizer: FrameTokenizer, boards: np.ndarray, rcfg: RenderConfig, batch: int = 512) -> np.ndarray:
    """(M, N, N) stones -> (M, 16) int32 token ids."""
    out = []
    dev = next(tokenizer.parameters()).device
    for i in range(0, len(boards), batch):
        frames = torch.from_numpy(to_float(render_many(boards[i:i + batch], rcfg))).permute(0, 3, 1, 2).to(dev)
        out.append(tokenizer.encode(frames).cpu().numpy().astype(np.int32))
    return np.concatenate(out) if out else np.zeros((0, 16), np.int32)


def build_cache(tokenizer: FrameTokenizer, data_dir: str, split: str, size: int = 9,
                corpora: Optional[Sequence[str]] = None, limit: Optional[int] = None,
                progress: bool = True) -> TokenCache:
    from tqdm import tqdm

    rcfg = RenderConfig(resolution=tokenizer.cfg.resolution)
    tokenizer.eval()
    chunks, starts, src, names = [], [0], [], []
    for name, stones in tqdm(game_videos(data_dir, corpora, split, size, limit), desc=f"tokens:{split}",
                             disable=not progress, unit="game"):
        if name not in names:
            names.append(name)
        # (T, 8, 2, N, N): every symmetry and view of every frame, encoded in one pass
        variants = np.stack([np.stack([symmetry(stones, k), swap_colours(symmetry(stones, k))], 1)
                             for k in range(8)], 1)
        t = len(stones)
        ids = encode_boards(tokenizer, variants.reshape(-1, size, size), rcfg).reshape(t, 8, 2, -1)
        chunks.append(ids)
        starts.append(starts[-1] + t)
        src.append(names.index(name))
    tokens = np.concatenate(chunks) if chunks else np.zeros((0, 8, 2, 16), np.int32)
    return TokenCache(tokens, np.array(starts, dtype=np.int64), np.array(src, dtype=np.int16), names)


def window(cache: TokenCache, g: int, t: int, s: int, length: int) -> np.ndarray:
    """Frames t .. t+length-1 of game g (last frame repeated past the end), symmetry s, in the
    mover's view of frame t (colours swapped for odd t): (length, 16) int32."""
    frames = cache.game_tokens(g)
    idx = np.minimum(np.arange(t, t + length), len(frames) - 1)
    return frames[idx, s, t % 2]
