"""The video the models learn from: games -> board-state sequences -> frames.

This is the *camera*, not the learner: it replays each SGF with the engine (as a video
recorder would film a real board) and hands on stone arrays only, which ``render``
turns into frames. Nothing here returns a move, a label or a rule; what leaves this
module is pixels (or, after the tokenizer, token ids).

Two camera conventions, both visible in every frame sequence and documented in
docs/model.md:
- **mover's view**: a window starting at frame t is filmed with colours swapped when
  t is odd (White to move in a game without handicap), so the side about to move
  always looks black. One model then plays both colours.
- **symmetry**: the 8 rotations/reflections of the board, applied to whole sequences.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np

from engine.corpus import iter_records
from engine.sgf import SgfError, record_to_game


def game_videos(data_dir: Path | str, corpora: Optional[Sequence[str]] = None, split: str = "train",
                size: int = 9, limit: Optional[int] = None) -> Iterator[tuple[str, np.ndarray]]:
    """(corpus name, (T+1, N, N) uint8 stones) per game (empty board first; a pass repeats a frame)."""
    n = 0
    for name, rec in iter_records(data_dir, list(corpora) if corpora else None, split=split, size=size):
        if rec.black_setup or rec.white_setup:
            continue  # handicap games break the mover's-view parity; none in our corpora
        try:
            game = record_to_game(rec)
        except SgfError:
            continue
        yield name, game_stones(game)
        n += 1
        if limit is not None and n >= limit:
            return


def game_stones(game) -> np.ndarray:
    """(T+1, N, N) uint8 stones of every position of a replayed game, the empty board first."""
    n = game.size
    return np.stack([np.frombuffer(p.stones, dtype=np.uint8).reshape(n, n) for p in game.positions])


def swap_colours(stones: np.ndarray) -> np.ndarray:
    """BLACK <-> WHITE, EMPTY stays: (..., N, N) uint8."""
    out = stones.copy()
    out[stones == 1] = 2
    out[stones == 2] = 1
    return out


def symmetry(stones: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 board symmetries on the last two axes of (..., N, N)."""
    out = np.rot90(stones, k % 4, axes=(-2, -1))
    if k >= 4:
        out = np.flip(out, axis=-1)
    return np.ascontiguousarray(out)


def mover_view(stones: np.ndarray, start: int) -> np.ndarray:
    """A window of frames filmed from the view of the side moving at frame ``start``."""
    return swap_colours(stones) if start % 2 else stones


def random_boards(rng: np.random.Generator, batch: int, size: int = 9, max_density: float = 0.8) -> np.ndarray:
    """(B, N, N) boards with random stone density, colours uniform: the tokenizer's unbounded frame supply."""
    density = rng.uniform(0, max_density, size=(batch, 1, 1))
    occupied = rng.random((batch, size, size)) < density
    colours = rng.integers(1, 3, size=(batch, size, size))
    return np.where(occupied, colours, 0).astype(np.uint8)
