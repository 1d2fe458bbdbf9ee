"""Append-only SGF corpora: one game per line, dedup by move sequence, fixed splits, manifest.

A corpus is a folder under ``data/`` holding ``games.sgf`` (one SGF game per line,
appended and fsynced one at a time, so a killed writer loses at most the game it was
writing: a torn last line is cut off on the next open) and ``corpus.json`` (source
engine and settings). ``data/manifest.json`` lists every corpus with counts and
SHA-256. The split of a game is a pure function of its moves (hash bucket), so it is
fixed forever and does not move when the corpus grows.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path
from typing import Iterator, Optional

from engine.coords import PASS, RESIGN, color_name, to_sgf
from engine.game import Game
from engine.sgf import SgfRecord, parse_collection

SPLITS = {"train": (0, 90), "val": (90, 95), "test": (95, 100)}  # hash bucket ranges out of 100
SPLIT_RULE = "bucket = int(sha256(key)[:8], 16) % 100; train <90, val 90-94, test 95-99"


def record_key(size: int, moves) -> str:
    """Identity of a game for dedup and splits: board size + the move sequence."""
    text = f"{size}:" + ";".join(f"{color_name(c)}{to_sgf(m, size) if m is not PASS else 'tt'}" for c, m in moves)
    return hashlib.sha256(text.encode()).hexdigest()


def game_key(game: Game) -> str:
    """Key of a game's moves; a resignation is not a board move (the SGF records it in RE only)."""
    return record_key(game.size, [(c, m) for c, m in game.moves if m is not RESIGN])


def split_of(key: str) -> str:
    bucket = int(key[:8], 16) % 100
    for name, (lo, hi) in SPLITS.items():
        if lo <= bucket < hi:
            return name
    raise AssertionError(bucket)


class CorpusFile:
    """The append-only ``games.sgf`` of one corpus, with the keys of the games in it."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "games.sgf"
        self.keys: set[str] = set()
        self.count = 0
        self.moves = 0
        self._repair_and_index()

    def _repair_and_index(self) -> None:
        if not self.path.exists():
            self.path.touch()
            return
        data = self.path.read_bytes()
        good = data.rfind(b"\n") + 1  # a torn last line (no newline) is dropped
        if good != len(data):
            with open(self.path, "r+b") as f:
                f.truncate(good)
        for line in data[:good].splitlines():
            if not line.strip():
                continue
            rec = parse_collection(line)[0]
            self.keys.add(record_key(rec.size, rec.moves))
            self.count += 1
            self.moves += len(rec.moves)

    def append(self, sgf: bytes, key: str, n_moves: int) -> bool:
        """Append one game (False, nothing written, if it is a duplicate)."""
        if key in self.keys:
            return False
        line = sgf.replace(b"\r", b"").replace(b"\n", b"") + b"\n"
        with open(self.path, "ab") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self.keys.add(key)
        self.count += 1
        self.moves += n_moves
        return True

    def records(self) -> Iterator[SgfRecord]:
        return read_records(self.path)


def read_records(path: Path) -> Iterator[SgfRecord]:
    """The games of one ``games.sgf``, one per line."""
    with open(path, "rb") as f:
        for line in f:
            if line.endswith(b"\n") and line.strip():
                yield parse_collection(line)[0]


def iter_records(data_dir: Path | str, corpora: Optional[list[str]] = None, split: Optional[str] = None,
                 size: Optional[int] = None) -> Iterator[tuple[str, SgfRecord]]:
    """(corpus name, record) for every game in the named corpora (all by default) and split."""
    root = Path(data_dir)
    names = corpora or sorted(p.parent.name for p in root.glob("*/games.sgf"))
    for name in names:
        path = root / name / "games.sgf"
        if not path.exists():
            raise FileNotFoundError(path)
        for rec in read_records(path):
            if size is not None and rec.size != size:
                continue
            if split is None or split_of(record_key(rec.size, rec.moves)) == split:
                yield name, rec


def other_corpus_keys(data_dir: Path | str, corpus: Path | str) -> set[str]:
    """Keys of every game in the corpora of ``data_dir`` but ``corpus``: a game already stored in a
    sibling corpus (GNU Go at the same levels from the same opening plays it again) is a duplicate."""
    own = Path(corpus).resolve()
    keys: set[str] = set()
    for games in sorted(Path(data_dir).glob("*/games.sgf")):
        if games.parent.resolve() != own:
            keys.update(record_key(r.size, r.moves) for r in read_records(games))
    return keys


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_corpus_info(folder: Path, info: dict) -> None:
    path = Path(folder) / "corpus.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    old.update(info)
    path.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")


def update_manifest(data_dir: Path | str) -> dict:
    """Rewrite data/manifest.json from what is on disk: per corpus count, moves, splits, SHA-256."""
    root = Path(data_dir)
    manifest = {"split_rule": SPLIT_RULE, "updated": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "corpora": {}}
    for games in sorted(root.glob("*/games.sgf")):
        cf = CorpusFile(games.parent)
        splits = {k: 0 for k in SPLITS}
        for key in cf.keys:
            splits[split_of(key)] += 1
        info_path = games.parent / "corpus.json"
        manifest["corpora"][games.parent.name] = {
            "file": str(games.relative_to(root)),
            "games": cf.count,
            "moves": cf.moves,
            "splits": splits,
            "sha256": sha256_file(games),
            "source": json.loads(info_path.read_text()) if info_path.exists() else {},
        }
    # two self-play jobs (KataGo and GNU Go corpora) may refresh it at once: write, then rename
    tmp = root / f".manifest.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, root / "manifest.json")
    return manifest
