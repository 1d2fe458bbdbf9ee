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
def encode_boards(tokenizer: FrameTokenizer, boards: np.ndarray, rcfg: RenderConfig, batch: int = 512,
                  pad_multiple: int = 1) -> np.ndarray:
    """(M, N, N) stones -> (M, 16) int32 token ids.

    ``pad_multiple``: each batch is padded with empty boards to a multiple of it, so a long
    build sees few distinct batch shapes. Every new shape costs the CPU backend memory it does
    not give back: the session-14 cache build of 5,452 games (a different remainder per game)
    grew to 24 GB and was OOM-killed; padded to 64 it stays flat (~0.35 GB)."""
    out = []
    dev = next(tokenizer.parameters()).device
    for i in range(0, len(boards), batch):
        chunk = boards[i:i + batch]
        n, pad = len(chunk), (-len(chunk)) % pad_multiple
        if pad:
            chunk = np.concatenate([chunk, np.zeros((pad,) + chunk.shape[1:], chunk.dtype)])
        frames = torch.from_numpy(to_float(render_many(chunk, rcfg))).permute(0, 3, 1, 2).to(dev)
        out.append(tokenizer.encode(frames)[:n].cpu().numpy().astype(np.int32))
    return np.concatenate(out) if out else np.zeros((0, 16), np.int32)


@torch.no_grad()
def decode_boards(tokenizer, ids: torch.Tensor, size: int, rcfg: RenderConfig, batch: int = 256) -> np.ndarray:
    """(M, 16) token ids -> (M, N, N) uint8 stones: the frames decoded and read back by the renderer's reader
    (the twin of ``encode_boards``; how imagined frames are turned into boards for the frame-difference reader)."""
    from render.reader import read_boards

    out = [read_boards(tokenizer.decode(ids[i:i + batch]).permute(0, 2, 3, 1).cpu().numpy(), size, rcfg)
           for i in range(0, len(ids), batch)]
    return np.concatenate(out) if out else np.zeros((0, size, size), np.uint8)


def _game_variants(tokenizer: FrameTokenizer, stones: np.ndarray, rcfg: RenderConfig) -> np.ndarray:
    """(T, N, N) stones -> (T, 8, 2, 16) ids: every symmetry and view of every frame, in one pass."""
    size = stones.shape[-1]
    variants = np.stack([np.stack([symmetry(stones, k), swap_colours(symmetry(stones, k))], 1)
                         for k in range(8)], 1)  # (T, 8, 2, N, N)
    return encode_boards(tokenizer, variants.reshape(-1, size, size), rcfg,
                         pad_multiple=64).reshape(len(stones), 8, 2, -1)


_worker_tokenizer: Optional[FrameTokenizer] = None  # set in each cache-building worker process
FRESH_PROCESS_GAMES = 500  # games a cache-building process encodes before a fresh one takes over


def _init_worker(cfg, state: dict) -> None:
    global _worker_tokenizer
    torch.set_num_threads(1)  # one process per core: threads would only fight over it
    _worker_tokenizer = FrameTokenizer(cfg)
    _worker_tokenizer.load_state_dict(state)
    _worker_tokenizer.eval()


def _encode_chunk(games: list[np.ndarray]) -> list[np.ndarray]:
    rcfg = RenderConfig(resolution=_worker_tokenizer.cfg.resolution)
    with torch.no_grad():
        return [_game_variants(_worker_tokenizer, stones, rcfg) for stones in games]


def build_cache(tokenizer: FrameTokenizer, data_dir: str, split: str, size: int = 9,
                corpora: Optional[Sequence[str]] = None, limit: Optional[int] = None,
                progress: bool = True, workers: int = 1) -> TokenCache:
    """``workers`` > 1: games encoded in that many processes (spawned, one thread each), in
    contiguous chunks so the cache comes out in corpus order, identical to a serial build."""
    from tqdm import tqdm

    rcfg = RenderConfig(resolution=tokenizer.cfg.resolution)
    tokenizer.eval()
    videos = list(game_videos(data_dir, corpora, split, size, limit))
    names = list(dict.fromkeys(name for name, _ in videos))
    bar = tqdm(total=len(videos), desc=f"tokens:{split}", disable=not progress, unit="game")
    if (workers > 1 and len(videos) > 1) or len(videos) > FRESH_PROCESS_GAMES:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # chunks of ~20 games: small enough for an even load and a moving progress bar. Fresh worker
        # processes every FRESH_PROCESS_GAMES * workers games: a long build in one process grew without
        # bound (24 GB after ~3,300 games, OOM-killed, session 22) although a few hundred games in a row
        # stay flat. (The executor's own max_tasks_per_child hangs on Python 3.11.)
        chunks = [[stones for _, stones in videos[i:i + 20]] for i in range(0, len(videos), 20)]
        per_pool = max(1, FRESH_PROCESS_GAMES // 20) * workers
        state = {k: v.cpu() for k, v in tokenizer.state_dict().items()}
        encoded = []
        for first in range(0, len(chunks), per_pool):
            with ProcessPoolExecutor(workers, mp.get_context("spawn"), _init_worker, (tokenizer.cfg, state)) as pool:
                for part in pool.map(_encode_chunk, chunks[first:first + per_pool]):
                    encoded.extend(part)
                    bar.update(len(part))
    else:
        encoded = []
        with torch.no_grad():
            for _, stones in videos:
                encoded.append(_game_variants(tokenizer, stones, rcfg))
                bar.update(1)
    bar.close()
    starts = np.cumsum([0] + [len(e) for e in encoded]).astype(np.int64)
    tokens = np.concatenate(encoded) if encoded else np.zeros((0, 8, 2, 16), np.int32)
    src = np.array([names.index(name) for name, _ in videos], dtype=np.int16)
    return TokenCache(tokens, starts, src, names)


def window(cache: TokenCache, g: int, t: int, s: int, length: int) -> np.ndarray:
    """Frames t .. t+length-1 of game g (last frame repeated past the end), symmetry s, in the
    mover's view of frame t (colours swapped for odd t): (length, 16) int32."""
    frames = cache.game_tokens(g)
    idx = np.minimum(np.arange(t, t + length), len(frames) - 1)
    return frames[idx, s, t % 2]
