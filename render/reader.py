"""Frame -> board: the inverse of ``render``, by nearest colour at each intersection.

Used by the tests (every render reads back exactly) and to check what the tokenizer
and the transformer produce, so it must tolerate noisy and blurred frames too.

An intersection can look three ways inside its disc's footprint: empty (background
crossed by the black grid lines), a black disc, or a white disc. The reader compares
a small patch there, pixel by pixel, with each of the three looks and takes the nearest
(least squared distance): "nearest colour" that knows where the grid is. Each look is
tried as rendered and softened by a 3x3 box blur, as a decoder draws 1-px lines; the
better fit counts. (Comparing the patch's mean colour fails on small frames, where the
grid cross is half of an empty point's patch and blur smears it over the rest.) The
patch keeps to the inner ~70% of the disc, away from the rim that blur mixes with the
board, and summing over its pixels cancels most pixel noise. No two patches share a pixel.

Robustness, measured (random 9/13/19 positions, 3x3 blur plus Gaussian noise of sigma
0.5 on the [-1, 1] scale): no errors at 64 px on 9x9 or at 128/256 px on 9x9 and 13x13,
a few in a thousand on 19x19 at 128 px. 19x19 at 64 px (3 px per line, touching 3x3
discs) reads back sharp frames exactly but not blurred ones: use ``RenderConfig.for_size``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

import numpy as np

from engine.coords import BLACK, EMPTY, WHITE
from render.frame import RenderConfig, disc_offsets, geometry, render_many

# Index of the nearest look -> board value.
_VALUES = np.array([EMPTY, BLACK, WHITE], dtype=np.uint8)


@lru_cache(maxsize=64)
def _patches(size: int, cfg: RenderConfig) -> tuple[np.ndarray, np.ndarray]:
    """(flat pixel indices (N*N, K), looks (3 values, sharp/soft, N*N, K, 3) float32 0..255)."""
    g = geometry(size, cfg)
    disc = disc_offsets(g.radius)  # (K0, 2)
    d2 = (disc**2).sum(1)
    # At least the 3x3 square: the diagonal pixels are what tell an empty point (background
    # there) from a stone once the disc is that small. Big discs are sampled on a lattice
    # (every 3rd px at 256 px on 9x9): ~30 px average the noise as well as ~300 would.
    step = max(1, g.radius // 4)
    on_lattice = (disc % step == 0).all(1)
    patch = disc[(d2 <= max(2.0, (0.7 * g.radius + 0.5) ** 2)) & on_lattice]  # (K, 2)
    lines = g.offset + g.spacing * np.arange(size)
    ys = lines[:, None, None] + patch[None, None, :, 0]  # (N, 1, K)
    xs = lines[None, :, None] + patch[None, None, :, 1]  # (1, N, K)
    flat = (ys * cfg.resolution + xs).reshape(size * size, -1)  # (N*N, K)

    res = cfg.resolution
    boards = np.stack([np.full((size, size), v, dtype=np.uint8) for v in _VALUES])
    sharp = render_many(boards, cfg).astype(np.float32)  # (3, H, W, 3)
    frames = np.stack([sharp, _box_blur3(sharp)], axis=1).reshape(3, 2, res * res, 3)
    looks = np.take(frames, flat, axis=2)  # (3, 2, N*N, K, 3)
    flat.setflags(write=False)
    looks.setflags(write=False)
    return flat, looks


def patch_mask(size: int, cfg: Optional[RenderConfig] = None) -> np.ndarray:
    """(R, R) bool: the pixels the reader looks at (its patch at every intersection). A decoder
    trained to get these right is trained on what decides the read-back board."""
    cfg = cfg or RenderConfig.for_size(size)
    flat, _ = _patches(size, cfg)
    mask = np.zeros(cfg.resolution * cfg.resolution, dtype=bool)
    mask[flat.ravel()] = True
    return mask.reshape(cfg.resolution, cfg.resolution)


def _box_blur3(frames: np.ndarray) -> np.ndarray:
    """3x3 mean filter over (..., H, W, C): roughly how soft a decoder draws 1-px lines."""
    h, w = frames.shape[-3], frames.shape[-2]
    pad = [(0, 0)] * (frames.ndim - 3) + [(1, 1), (1, 1), (0, 0)]
    p = np.pad(frames, pad, mode="edge")
    return sum(p[..., dy : dy + h, dx : dx + w, :] for dy in range(3) for dx in range(3)) / 9


def _as_uint8_scale(frames: np.ndarray) -> np.ndarray:
    """Pixels on the 0..255 scale as float32; float frames are taken to be in [-1, 1]."""
    if frames.dtype == np.uint8:
        return frames.astype(np.float32)
    if not np.issubdtype(frames.dtype, np.floating):
        raise ValueError(f"frames must be uint8 or float in [-1, 1], got {frames.dtype}")
    return (frames.astype(np.float32) + 1) * 127.5


def read_boards(frames: np.ndarray, size: int, cfg: Optional[RenderConfig] = None) -> np.ndarray:
    """(T, H, W, 3) frames (uint8, or float in [-1, 1]) -> (T, N, N) uint8 EMPTY/BLACK/WHITE."""
    cfg = cfg or RenderConfig()
    frames = np.asarray(frames)
    res = cfg.resolution
    if frames.ndim != 4 or frames.shape[1:] != (res, res, 3):
        raise ValueError(f"frames must be (T, {res}, {res}, 3) for this config, got {frames.shape}")
    flat, looks = _patches(size, cfg)
    t = frames.shape[0]
    patch = _as_uint8_scale(np.take(frames.reshape(t, res * res, 3), flat, axis=1))  # (T, N*N, K, 3)
    # Squared distance to each look, sharp or soft, whichever fits better: (T, N*N, 3).
    dist = np.stack([np.minimum(*(((patch - v) ** 2).sum(axis=(2, 3)) for v in look)) for look in looks], -1)
    return _VALUES[dist.argmin(-1)].reshape(t, size, size)


def read_board(frame: np.ndarray, size: int, cfg: Optional[RenderConfig] = None) -> np.ndarray:
    """(H, W, 3) frame -> (N, N) uint8 of EMPTY/BLACK/WHITE."""
    return read_boards(np.asarray(frame)[None], size, cfg)[0]
