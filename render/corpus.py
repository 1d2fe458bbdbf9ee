"""A corpus of SGF games rendered to disk as frame shards, resumable.

Layout of a cache directory::

    index.json          config, shards, one entry per game, skipped games
    shard_00000.npy     uint8 (T, H, W, 3), whole games back to back (>= shard_frames frames)
    shard_00001.npy     ...

Each game entry is ``{"game", "size", "shard", "start", "length"}``: frames
``start:start+length`` of shard number ``shard``. Games never straddle two shards, so a
loader memory-maps one file per game. Only frames are stored, never moves: the video
models learn from pixels alone (DESIGN.md section 1), and the few move labels the
inverse dynamics model needs come from the SGF files themselves.

Resuming: a shard is written to a temporary file and renamed; the index is rewritten
the same way, at most every ``index_every`` seconds (rewriting it after every shard would
cost time quadratic in the corpus), at the end, and when the run is interrupted. Games
already in the index (or already skipped) are not rendered again, so a second run over
the same files writes nothing. A shard written after the last index write of a killed run
is rendered again, byte for byte the same and under the same name: rendering is
deterministic and games are taken in the same order.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Union

import numpy as np

from engine.sgf import SgfError, parse_collection, record_to_game
from render.frame import RenderConfig
from render.video import game_frames

INDEX = "index.json"
FORMAT = 1

PathLike = Union[str, Path]


@dataclass(frozen=True)
class CorpusReport:
    """What one ``render_corpus`` call did."""

    games_rendered: int
    frames_written: int
    shards_written: int
    games_skipped: int  # unreadable files and games with an illegal move, this run


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, path)


def _new_index(cfg: RenderConfig, shard_frames: int, compress: bool) -> dict:
    return {
        "format": FORMAT,
        "config": dataclasses.asdict(cfg),
        "shard_frames": shard_frames,
        "compress": compress,
        "shards": [],  # [{"file", "frames"}]
        "files": {},  # source file -> games it holds (lets a resume skip it unparsed)
        "games": [],
        "skipped": [],  # [{"game", "reason"}]
    }


def read_index(cache_dir: PathLike) -> dict:
    with open(Path(cache_dir) / INDEX, encoding="utf-8") as f:
        return json.load(f)


def _open_index(cache_dir: Path, cfg: RenderConfig, shard_frames: int, compress: bool) -> dict:
    fresh = _new_index(cfg, shard_frames, compress)
    if not (cache_dir / INDEX).exists():
        return fresh
    index = read_index(cache_dir)
    for key in ("format", "config", "shard_frames", "compress"):
        if json.dumps(index.get(key)) != json.dumps(fresh[key]):
            raise ValueError(f"{cache_dir} holds a cache with another {key}; use another directory")
    for shard in index["shards"]:
        if not (cache_dir / shard["file"]).exists():
            raise ValueError(f"{cache_dir / shard['file']} is listed in the index but missing")
    return index


class _ShardWriter:
    """Buffers whole games and writes a shard once it holds ``shard_frames`` frames."""

    def __init__(self, cache_dir: Path, index: dict, index_every: float) -> None:
        self.dir, self.index, self.index_every = cache_dir, index, index_every
        self.frames: list[np.ndarray] = []
        self.entries: list[dict] = []
        self.buffered = 0
        self.shards_written = self.frames_written = 0
        self.last_index_write = -math.inf
        self.dirty = False  # the index on disk lags behind self.index

    def add(self, game_id: str, size: int, frames: np.ndarray) -> None:
        shard = len(self.index["shards"])
        self.entries.append(
            {"game": game_id, "size": size, "shard": shard, "start": self.buffered, "length": len(frames)}
        )
        self.frames.append(frames)
        self.buffered += len(frames)
        if self.buffered >= self.index["shard_frames"]:
            self.flush()

    def flush(self) -> None:
        """Write the buffered games as one shard (and the index, if it is due)."""
        if not self.frames:
            return
        compress = self.index["compress"]
        name = f"shard_{len(self.index['shards']):05d}." + ("npz" if compress else "npy")
        data = np.concatenate(self.frames)
        if compress:
            _atomic_write(self.dir / name, lambda f: np.savez_compressed(f, frames=data))
        else:
            _atomic_write(self.dir / name, lambda f: np.save(f, data))
        self.index["shards"].append({"file": name, "frames": len(data)})
        self.index["games"].extend(self.entries)
        self.dirty = True
        if time.monotonic() - self.last_index_write >= self.index_every:
            self.write_index()
        self.shards_written += 1
        self.frames_written += len(data)
        self.frames, self.entries, self.buffered = [], [], 0

    def write_index(self) -> None:
        text = json.dumps(self.index, separators=(",", ":")).encode("utf-8")
        _atomic_write(self.dir / INDEX, lambda f: f.write(text))
        self.last_index_write, self.dirty = time.monotonic(), False


def _file_key(path: Path, root: Optional[Path]) -> str:
    return (path.relative_to(root) if root is not None else path).as_posix()


def _render_file(path: Path, key: str, index: dict, done: set, writer: _ShardWriter,
                 cfg: RenderConfig, default_komi: float) -> tuple[int, int]:
    """Render the games of one SGF file not yet done; (games rendered, games skipped)."""
    rendered = skipped = 0
    try:
        records = parse_collection(path.read_bytes())
    except (OSError, SgfError) as e:
        records = []
        if key + "#*" not in done:
            index["skipped"].append({"game": key + "#*", "reason": str(e)})
            skipped += 1
    index["files"][key] = len(records)
    writer.dirty = True
    for k, rec in enumerate(records):
        gid = f"{key}#{k}"
        if gid in done:
            continue
        try:
            frames = game_frames(record_to_game(rec, default_komi), cfg)
        except (SgfError, ValueError) as e:  # an illegal move; a board too big for the resolution
            index["skipped"].append({"game": gid, "reason": str(e)})
            skipped += 1
            continue
        writer.add(gid, rec.size, frames)
        rendered += 1
    return rendered, skipped


def render_corpus(
    sgf_paths: Iterable[PathLike],
    cache_dir: PathLike,
    cfg: Optional[RenderConfig] = None,
    shard_frames: int = 1000,
    root: Optional[PathLike] = None,
    compress: bool = False,
    default_komi: float = 7.0,
    progress: bool = True,
    index_every: float = 30.0,
) -> CorpusReport:
    """Render every game of every SGF file into shards under ``cache_dir``, skipping done ones.

    Game ids are ``<path relative to root>#<index in the file>``. Files that are not SGF
    and games with an illegal move are listed under "skipped" with the reason.
    ``compress`` writes ``.npz`` (about 50x smaller for these flat frames, not mmap-able).
    ``index_every`` bounds how often (seconds) the index is rewritten during the run.
    """
    from tqdm import tqdm  # only the corpus job needs it

    cfg = cfg or RenderConfig()
    if shard_frames < 1:
        raise ValueError("shard_frames must be >= 1")
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    index = _open_index(cache, cfg, shard_frames, compress)
    done = {g["game"] for g in index["games"]} | {s["game"] for s in index["skipped"]}
    writer = _ShardWriter(cache, index, index_every)
    root_path = Path(root) if root is not None else None
    rendered = skipped = 0
    bar = tqdm([Path(p) for p in sgf_paths], desc="render", unit="file", disable=not progress)
    try:
        for path in bar:
            key = _file_key(path, root_path)
            known = index["files"].get(key)
            if known is not None and all(f"{key}#{k}" in done for k in range(known)):
                continue  # every game of this file is already in a shard (or skipped)
            r, s = _render_file(path, key, index, done, writer, cfg, default_komi)
            rendered, skipped = rendered + r, skipped + s
            bar.set_postfix(shards=len(index["shards"]), frames=writer.frames_written + writer.buffered)
        writer.flush()
    finally:
        # Also on Ctrl-C: keep what the finished shards hold (unflushed games are redone).
        if writer.dirty:
            writer.write_index()
        bar.close()
    return CorpusReport(rendered, writer.frames_written, writer.shards_written, skipped)


class Corpus:
    """Read side of a cache: ``corpus.frames(i)`` is game i's uint8 (T, H, W, 3)."""

    def __init__(self, cache_dir: PathLike) -> None:
        self.dir = Path(cache_dir)
        self.index = read_index(self.dir)
        self.games: list[dict] = self.index["games"]
        self._open: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.games)

    def config(self) -> RenderConfig:
        return RenderConfig(**self.index["config"])

    def _shard(self, i: int) -> np.ndarray:
        if i not in self._open:
            path = self.dir / self.index["shards"][i]["file"]
            if path.suffix == ".npz":
                self._open = {}  # decompressed shards are large: keep one
                with np.load(path) as z:
                    self._open[i] = z["frames"]
            else:
                self._open[i] = np.load(path, mmap_mode="r")
        return self._open[i]

    def frames(self, i: int) -> np.ndarray:
        g = self.games[i]
        return self._shard(g["shard"])[g["start"] : g["start"] + g["length"]]
