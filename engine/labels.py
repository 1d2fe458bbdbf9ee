"""Oracle labels for held-out positions: sampled from the test split, cached as JSONL, resumable.

A position is a game of the test split cut after k moves (the side to move is the
colour of move k). Positions are ranked by a seeded hash of their id and labelled in
that order, so "the first n" is a fixed, uniform sample of all test positions and a
rerun continues where the last one stopped. The cache (``data/oracle/test9.jsonl``)
holds two kinds of lines, merged by id on load:

- policy: KataGo's raw policy at 1 visit (the paper's Action-Value is a ratio of priors);
- search: KataGo's chosen move after ``visits`` playouts, with its top candidates (the
  paper's Best-Action Accuracy compares against the oracle *with search*).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from engine.coords import Move, color_name, from_flat, from_gtp, parse_color, to_gtp
from engine.corpus import iter_records, record_key
from engine.game import Game
from engine.oracle import Analysis, KataGoAnalysis


@dataclass
class Label:
    id: str
    size: int
    komi: float
    moves: list[tuple[int, Move]]  # the game up to this position
    to_play: int
    played: Optional[Move] = None  # what was played here in the game
    policy: Optional[np.ndarray] = None  # (N*N+1,) priors, -1 for illegal, pass last
    search: Optional[dict] = None  # {"visits", "best", "top": [...]} from a searched query
    source: dict = field(default_factory=dict)  # corpus, game key, k

    @property
    def policy_best(self) -> Optional[Move]:
        return None if self.policy is None else from_flat(int(np.argmax(self.policy)), self.size)

    @property
    def search_best(self) -> Optional[Move]:
        return None if not self.search else from_gtp(self.search["best"], self.size)

    def game(self) -> Game:
        """The position as a Game (our rules replay the moves)."""
        g = Game(size=self.size, komi=self.komi)
        for c, m in self.moves:
            g.play(m, c)
        return g


# ---------------------------------------------------------------- which positions
@dataclass(frozen=True)
class Candidate:
    rank: str  # seeded hash: the labelling order
    id: str
    corpus: str
    key: str
    k: int
    size: int
    komi: float
    moves: tuple[tuple[int, Move], ...]  # the whole game


def candidates(data_dir: Path, size: int = 9, seed: int = 0, corpora: Optional[list[str]] = None,
               split: str = "test") -> list[Candidate]:
    """Every position of every game of the split, in labelling order."""
    out = []
    for corpus, rec in iter_records(data_dir, corpora, split=split, size=size):
        if rec.black_setup or rec.white_setup:
            continue  # handicap games: the analysis query would need initialStones; none in our corpora
        key = record_key(rec.size, rec.moves)
        moves = tuple(rec.moves)
        for k in range(len(moves)):
            pid = f"{key[:16]}:{k}"
            rank = hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest()
            out.append(Candidate(rank, pid, corpus, key, k, rec.size, rec.komi if rec.komi is not None else 7.0,
                                 moves))
    out.sort(key=lambda c: c.rank)
    return out


# ---------------------------------------------------------------- the cache
def _moves_json(moves: Sequence[tuple[int, Move]], size: int) -> list[list[str]]:
    return [[color_name(c), to_gtp(m, size)] for c, m in moves]


def load_labels(path: Path) -> dict[str, Label]:
    """All labels in the cache, policy and search lines merged by id (torn last line ignored)."""
    labels: dict[str, Label] = {}
    searches: dict[str, dict] = {}
    if not Path(path).exists():
        return labels
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n") or not line.strip():
                continue
            d = json.loads(line)
            if "search" in d:
                searches[d["id"]] = d["search"]
                continue
            size = d["size"]
            moves = [(parse_color(c), from_gtp(m, size)) for c, m in d["moves"]]
            labels[d["id"]] = Label(
                id=d["id"], size=size, komi=d["komi"], moves=moves, to_play=parse_color(d["to_play"]),
                played=from_gtp(d["played"], size) if d.get("played") else None,
                policy=np.asarray(d["policy"], dtype=np.float64) if d.get("policy") is not None else None,
                source={k: d.get(k) for k in ("corpus", "game", "k")})
    for pid, s in searches.items():
        if pid in labels:
            labels[pid].search = s
    return labels


def _append(path: Path, record: dict) -> None:
    with open(path, "ab") as f:
        f.write((json.dumps(record, separators=(",", ":")) + "\n").encode())
        f.flush()
        os.fsync(f.fileno())


def _repair(path: Path) -> None:
    """Cut a torn last line left by a killed labeller, so the next append starts clean."""
    if path.exists():
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(path, "r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)


# ---------------------------------------------------------------- labelling
@dataclass(frozen=True)
class LabelConfig:
    positions: int = 300  # policy labels wanted in the cache (the paper: 56k; the issue: >= 5,000)
    searched: int = 50  # of those, how many also get a searched best move (issue: >= 500)
    search_visits: int = 32  # playouts of the searched label (the paper's oracle searches)
    policy_visits: int = 1  # 1 = the raw network policy
    seed: int = 0  # of the position order


def policy_record(c: Candidate, a: Analysis) -> dict:
    size = c.size
    moves = c.moves[:c.k]
    to_play = c.moves[c.k][0]  # our corpora alternate colours, as KataGo assumes after `moves`
    policy = [round(float(x), 6) for x in a.policy]
    best = from_flat(int(np.argmax(policy)), size)
    return {"id": c.id, "corpus": c.corpus, "game": c.key, "k": c.k, "size": size, "komi": c.komi,
            "moves": _moves_json(moves, size), "to_play": color_name(to_play),
            "played": to_gtp(c.moves[c.k][1], size), "policy": policy, "policy_best": to_gtp(best, size),
            "root": {k: a.root.get(k) for k in ("rawWinrate", "rawLead", "winrate", "scoreLead", "visits")}}


def search_record(label: Label, a: Analysis, visits: int) -> dict:
    top = [{k: m.get(k) for k in ("move", "order", "visits", "winrate", "prior", "scoreLead", "isSymmetryOf")}
           for m in a.move_infos[:8]]
    if not top:
        raise ValueError(f"searched query for {label.id} returned no moveInfos")
    return {"id": label.id, "search": {"visits": visits, "best": top[0]["move"], "top": top,
                                       "root": {k: a.root.get(k) for k in ("winrate", "scoreLead", "visits")}}}


def label_positions(oracle: KataGoAnalysis, path: Path, cands: list[Candidate], cfg: LabelConfig,
                    progress: bool = True) -> dict:
    """Grow the cache to ``cfg.positions`` policy labels and ``cfg.searched`` searched ones."""
    from tqdm import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    _repair(path)
    labels = load_labels(path)
    todo = [c for c in cands if c.id not in labels][:max(cfg.positions - len(labels), 0)]
    stats = {"policy_before": len(labels), "policy_added": 0, "search_added": 0}
    for c in tqdm(todo, desc="policy labels", unit="pos", disable=not progress):
        a = oracle.analyze(c.moves[:c.k], size=c.size, komi=c.komi, visits=cfg.policy_visits, include_policy=True)
        _append(path, policy_record(c, a))
        stats["policy_added"] += 1
    labels = load_labels(path)
    rank = {c.id: c.rank for c in cands}
    ordered = sorted(labels.values(), key=lambda lb: rank.get(lb.id, "~" + lb.id))
    have = sum(1 for lb in ordered if lb.search)
    todo_s = [lb for lb in ordered if not lb.search][:max(cfg.searched - have, 0)]
    for lb in tqdm(todo_s, desc=f"searched labels ({cfg.search_visits} visits)", unit="pos", disable=not progress):
        a = oracle.analyze(lb.moves, size=lb.size, komi=lb.komi, visits=cfg.search_visits, include_policy=False)
        _append(path, search_record(lb, a, cfg.search_visits))
        stats["search_added"] += 1
    stats["policy_total"] = stats["policy_before"] + stats["policy_added"]
    stats["search_total"] = have + stats["search_added"]
    return stats
