"""Board -> frame: the flat Video-GoBench style (DESIGN.md section 1).

Orange background, 1-px black grid between the outer lines, flat black and white discs;
no last-move marker, no coordinates, no star points. ``render`` is pure: the same stones
and config give a byte-identical frame.

Speed: every intersection owns an s x s tile of the frame (s = line spacing) that holds
its part of the grid and its whole disc, and a tile looks one of three ways (empty, black,
white). Those looks are drawn once per (size, cfg), lazily (``lru_cache``); a frame is
then one gather of N*N tiles and one strided copy into a blank board, a whole game's
frames the same two steps over a (T, N, N) batch.

Geometry, for N lines on an R-px square frame:

    spacing  s = R // N                      (integer, so every line is exactly 1 px)
    offset   o = (R - (N-1)*s - 1) // 2      (grid centred; the margin is >= (s-1)/2)
    line i   at pixel o + i*s
    disc     pixels with dy^2 + dx^2 <= (r + 0.5)^2, r = max(1, (s-2) // 2)

so a disc is 2r+1 px across and neighbouring discs never overlap (1-2 px gap once
s >= 4). Tile i spans pixels line_i - (s-1)//2 .. line_i + s//2 in each direction: it
holds its disc (r <= (s-1)//2) and fits in the margin at the edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Union

import numpy as np

from engine.board import Position
from engine.coords import MAX_SIZE, MIN_SIZE, check_size

RGB = tuple[int, int, int]

# Below 3 px between lines an empty intersection (a black grid cross) and a stone can no
# longer be told apart: the disc would have to be a single pixel on the cross itself.
MIN_SPACING = 3

# Frames are composed in chunks of about this many bytes: larger batches fall out of the
# CPU cache in the strided tile copy and get slower per frame (measured: 256-px frames).
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class RenderConfig:
    """How a board becomes pixels. Frozen and hashable: it keys the geometry cache.

    Default 64 px: the tokenizer turns a frame into 4x4 tokens with stride-2 convs, so
    64 px needs 4 downsamples (256 px needs 6) and costs 16x fewer pixels than the paper's
    256 in every conv of the tokenizer and the LDM, which all train on a 2-core CPU. A
    9x9 board still gets 7 px between lines and 5-px discs with a 2-px gap: every stone
    is a clear blob of 21 px, every line exactly 1 px. Larger boards need more pixels
    (64 px gives 19x19 only 3 px per line): use ``RenderConfig.for_size``.
    """

    resolution: int = 64  # frame height = width, in px
    background: RGB = (230, 160, 60)  # board orange; far from black and white in RGB
    line: RGB = (0, 0, 0)  # the grid
    black: RGB = (0, 0, 0)
    white: RGB = (255, 255, 255)

    def __post_init__(self) -> None:
        if not isinstance(self.resolution, int) or self.resolution < MIN_SPACING * MIN_SIZE:
            raise ValueError(f"resolution must be an int >= {MIN_SPACING * MIN_SIZE}, got {self.resolution!r}")
        for name in ("background", "line", "black", "white"):
            rgb = getattr(self, name)
            if len(rgb) != 3 or not all(0 <= int(v) <= 255 for v in rgb):
                raise ValueError(f"{name} must be an (r, g, b) of 0..255, got {rgb!r}")
            object.__setattr__(self, name, tuple(int(v) for v in rgb))  # lists (JSON) stay hashable

    @classmethod
    def for_size(cls, size: int, min_spacing: int = 5, **kwargs) -> "RenderConfig":
        """The smallest of 64, 128, 256, ... px giving at least ``min_spacing`` px per line.

        With the default: 64 px up to 12x12, 128 px for 13x13 to 25x25 (6 px per line
        on 19x19: 5-px discs with a 1-px gap).
        """
        check_size(size)
        res = 64
        while res // size < min_spacing:
            res *= 2
        return cls(resolution=res, **kwargs)


@dataclass(frozen=True)
class Geometry:
    """Pixel layout of one (size, cfg); see the module docstring."""

    size: int
    spacing: int
    offset: int
    radius: int  # disc half-width in px (the disc is 2*radius+1 across)

    def line_px(self, i: int) -> int:
        """Pixel row/column of grid line i (0 = top/left)."""
        return self.offset + i * self.spacing


@lru_cache(maxsize=None)
def geometry(size: int, cfg: RenderConfig) -> Geometry:
    check_size(size)
    s = cfg.resolution // size
    if s < MIN_SPACING:
        raise ValueError(
            f"{cfg.resolution} px is too small for {size}x{size} (needs >= {MIN_SPACING * size} px; "
            f"RenderConfig.for_size({size}) picks one)"
        )
    offset = (cfg.resolution - (size - 1) * s - 1) // 2
    return Geometry(size=size, spacing=s, offset=offset, radius=max(1, (s - 2) // 2))


def disc_offsets(radius: int) -> np.ndarray:
    """(K, 2) int (dy, dx) of the pixels of a disc centred on (0, 0)."""
    d = np.arange(-radius, radius + 1)
    dy, dx = np.meshgrid(d, d, indexing="ij")
    inside = dy * dy + dx * dx <= (radius + 0.5) ** 2
    return np.stack([dy[inside], dx[inside]], axis=1)


def _draw(size: int, cfg: RenderConfig, value: int) -> np.ndarray:
    """uint8 (H, W, 3): the board with every intersection holding ``value`` (0 = empty)."""
    g = geometry(size, cfg)
    res = cfg.resolution
    img = np.empty((res, res, 3), dtype=np.uint8)
    img[...] = cfg.background
    lines = g.offset + g.spacing * np.arange(size)
    lo, hi = lines[0], lines[-1]
    img[lines, lo : hi + 1] = cfg.line  # the grid stops at the outer lines
    img[lo : hi + 1, lines] = cfg.line
    if value:
        disc = disc_offsets(g.radius)  # (K, 2)
        ys = lines[:, None, None] + disc[None, None, :, 0]  # (N, 1, K)
        xs = lines[None, :, None] + disc[None, None, :, 1]  # (1, N, K)
        img[ys, xs] = cfg.black if value == 1 else cfg.white  # indices broadcast to (N, N, K)
    return img


@lru_cache(maxsize=64)
def _tiles(size: int, cfg: RenderConfig) -> tuple[np.ndarray, np.ndarray, int]:
    """(empty board (H, W, 3), tiles (N*N*3, s, s, 3), first tile pixel), read-only.

    ``tiles[3*i + v]`` is intersection i (row-major) holding v = EMPTY/BLACK/WHITE.
    """
    g = geometry(size, cfg)
    n, s = size, g.spacing
    looks = np.stack([_draw(size, cfg, v) for v in (0, 1, 2)])  # (3, H, W, 3)
    a = g.offset - (s - 1) // 2
    region = looks[:, a : a + n * s, a : a + n * s]  # (3, N*s, N*s, 3)
    tiles = region.reshape(3, n, s, n, s, 3).transpose(1, 3, 0, 2, 4, 5).reshape(n * n * 3, s, s, 3).copy()
    empty = looks[0].copy()
    empty.setflags(write=False)
    tiles.setflags(write=False)
    return empty, tiles, a


Stones = Union[Position, np.ndarray, bytes]


def stones_array(position_or_stones: Stones) -> np.ndarray:
    """(N, N) uint8 of EMPTY/BLACK/WHITE from a Position, an array or raw bytes."""
    if isinstance(position_or_stones, Position):
        n = position_or_stones.size
        return np.frombuffer(position_or_stones.stones, dtype=np.uint8).reshape(n, n)
    if isinstance(position_or_stones, (bytes, bytearray)):
        n = int(round(len(position_or_stones) ** 0.5))
        return np.frombuffer(bytes(position_or_stones), dtype=np.uint8).reshape(n, n)
    a = np.asarray(position_or_stones)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"stones must be (N, N), got shape {a.shape}")
    return a.astype(np.uint8, copy=False)


def render(position_or_stones: Stones, cfg: Optional[RenderConfig] = None) -> np.ndarray:
    """One frame, uint8 (H, W, 3). Pure and deterministic."""
    return render_many(stones_array(position_or_stones)[None], cfg)[0]


def render_many(stones: np.ndarray, cfg: Optional[RenderConfig] = None) -> np.ndarray:
    """Frames for a batch of boards: (T, N, N) EMPTY/BLACK/WHITE -> uint8 (T, H, W, 3).

    A few numpy calls per chunk of frames, so a whole game costs little more than one frame.
    """
    cfg = cfg or RenderConfig()
    stones = np.asarray(stones)
    if stones.ndim != 3 or stones.shape[1] != stones.shape[2]:
        raise ValueError(f"stones must be (T, N, N), got shape {stones.shape}")
    t, n = stones.shape[0], stones.shape[1]
    if not MIN_SIZE <= n <= MAX_SIZE:
        raise ValueError(f"board size must be {MIN_SIZE}..{MAX_SIZE}, got {n}")
    if stones.size and (stones.max() > 2 or stones.min() < 0):
        raise ValueError("stones must hold EMPTY=0, BLACK=1, WHITE=2 only")
    empty, tiles, a = _tiles(n, cfg)
    s = geometry(n, cfg).spacing
    res = cfg.resolution
    out = np.empty((t, res, res, 3), dtype=np.uint8)
    idx = np.arange(n * n) * 3 + stones.reshape(t, n * n)  # (T, N*N) tile per intersection
    step = max(1, _CHUNK_BYTES // empty.nbytes)  # frames per chunk, so a chunk stays in cache
    for i in range(0, t, step):
        j = min(t, i + step)
        chosen = np.take(tiles, idx[i:j], axis=0).reshape(j - i, n, n, s, s, 3)  # (t', row, col, y, x, rgb)
        out[i:j] = empty  # the margins
        # A (t', row, y, col, x, rgb) view of the tiled region; copy=False: a view or an error.
        region = np.reshape(out[i:j, a : a + n * s, a : a + n * s], (j - i, n, s, n, s, 3), copy=False)
        region[...] = chosen.transpose(0, 1, 3, 2, 4, 5)
    return out


def to_float(frame: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [-1, 1] (the model's input scale)."""
    # Divide by 127.5 (not multiply by 2/255) so 0 and 255 map to exactly -1 and 1.
    return np.asarray(frame, dtype=np.float32) / np.float32(127.5) - np.float32(1)


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """float pixels in [-1, 1] -> uint8, rounded and clipped (for decoded frames)."""
    x = (np.asarray(frame, dtype=np.float32) + 1) * 127.5
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)
