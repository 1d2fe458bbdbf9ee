"""The arena's configuration (engines, schedule settings) and its schedule of games.

The schedule is a pure function of the config: every pairing plays ``games_per_pair``
games; games 2k and 2k+1 of a pairing share the k-th opening of one seeded set (the
same set for every pairing) with the colours swapped. Game ids ("A|B|7") are stable,
which is what lets a killed arena resume and a grown config play only what is missing.
"""

from __future__ import annotations

import random
import shlex
from dataclasses import dataclass
from typing import Optional

from engine.coords import Move
from engine.elo import DEFAULT_ANCHOR, DEFAULT_ANCHOR_RATING, EloConfig
from engine.engines import spec_from_preset
from engine.match import MatchConfig, random_opening
from engine.match_clock import TimeControl
from gtp.client import EngineSpec

MODES = ("round-robin", "gauntlet")


@dataclass(frozen=True)
class EngineEntry:
    """One participant: a preset ("gnugo:10", "katago:1", "random") or a command line."""

    name: str  # unique; the key in results and ratings
    preset: Optional[str] = None
    command: Optional[tuple[str, ...]] = None
    setup: tuple[str, ...] = ()  # options: GTP commands sent after start (e.g. "kata-set-param ...")
    cwd: Optional[str] = None
    env: Optional[dict] = None  # extra environment variables

    @classmethod
    def from_dict(cls, d: dict) -> "EngineEntry":
        unknown = set(d) - {"name", "preset", "command", "setup", "options", "cwd", "env"}
        if unknown:
            raise ValueError(f"engine {d.get('name')!r}: unknown keys {sorted(unknown)}")
        command = d.get("command")
        if isinstance(command, str):
            command = shlex.split(command)
        if not d.get("name") or (command is None) == (d.get("preset") is None):
            raise ValueError(f"engine {d}: needs a name and exactly one of preset / command")
        setup = tuple(d.get("setup", ())) + tuple(d.get("options", ()))
        return cls(d["name"], d.get("preset"), tuple(command) if command else None, setup, d.get("cwd"), d.get("env"))

    def spec(self, size: int, komi: float) -> EngineSpec:
        if self.preset is not None:
            base = spec_from_preset(self.preset, size=size, komi=komi)
            return EngineSpec(self.name, base.command, tuple(base.setup) + self.setup, base.cwd,
                              {**(base.env or {}), **(self.env or {})} or None)
        return EngineSpec(self.name, list(self.command or ()), self.setup, self.cwd, self.env)


@dataclass(frozen=True)
class ArenaConfig:
    engines: tuple[EngineEntry, ...]
    mode: str = "round-robin"  # or "gauntlet": `hero` against each of the others
    hero: Optional[str] = None  # gauntlet only (default: the first engine)
    games_per_pair: int = 40  # even, so each opening is played with both colour assignments
    size: int = 9
    komi: float = 7.0
    move_timeout: float = 60.0  # seconds per genmove; exceeding it is a fault
    # a tournament clock ({"main": s, "period": s, "stones": n}; engine/match_clock.py): a side whose
    # clock runs out loses on time; off by default
    time_control: TimeControl = TimeControl()
    max_moves: int = 0  # 0: the referee's cap, 3 * N * N
    seed: int = 0  # of the opening set
    opening_moves: tuple[int, int] = (2, 2)  # random opening stones per game, min..max (0 = empty board)
    workers: int = 1  # games in parallel (worker processes, each with its own engines)
    anchor: str = DEFAULT_ANCHOR
    anchor_rating: float = DEFAULT_ANCHOR_RATING

    def __post_init__(self) -> None:
        names = [e.name for e in self.engines]
        if len(set(names)) != len(names):
            raise ValueError(f"engine names must be unique: {names}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if self.hero is not None and self.hero not in names:
            raise ValueError(f"hero {self.hero!r} is not an engine")
        if self.games_per_pair < 1 or self.workers < 1:
            raise ValueError("games_per_pair and workers must be >= 1")

    @classmethod
    def from_dict(cls, d: dict) -> "ArenaConfig":
        d = dict(d)
        d.pop("out", None)  # where to write is the CLI's business
        d.pop("comment", None)
        d["engines"] = tuple(EngineEntry.from_dict(e) for e in d.get("engines", ()))
        if "opening_moves" in d:
            om = d["opening_moves"]
            d["opening_moves"] = (int(om), int(om)) if isinstance(om, (int, float)) else (int(om[0]), int(om[1]))
        if "time_control" in d:
            tc = d["time_control"]
            if not isinstance(tc, dict) or set(tc) - {"main", "period", "stones"}:
                raise ValueError(f"time_control: expected {{main, period, stones}}, got {tc!r}")
            d["time_control"] = TimeControl(float(tc.get("main", 0)), float(tc.get("period", 0)), int(tc.get("stones", 0)))
        return cls(**d)

    def match_config(self) -> MatchConfig:
        return MatchConfig(size=self.size, komi=self.komi, max_moves=self.max_moves, move_timeout=self.move_timeout,
                           time_control=self.time_control)

    def elo_config(self) -> EloConfig:
        return EloConfig(anchor=self.anchor, anchor_rating=self.anchor_rating)


# ---------------------------------------------------------------- the schedule
@dataclass(frozen=True)
class Task:
    id: str  # "A|B|7": pairing (config order) and game index; the resume key
    a: str
    b: str
    index: int
    black: str
    white: str
    opening: tuple[Move, ...]


def pairings(cfg: ArenaConfig) -> list[tuple[str, str]]:
    names = [e.name for e in cfg.engines]
    if cfg.mode == "gauntlet":
        hero = cfg.hero or names[0]
        return [(hero, n) for n in names if n != hero]
    return [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]


def opening(cfg: ArenaConfig, k: int) -> tuple[Move, ...]:
    """The k-th opening of the seeded set (string seeds hash stably across runs and machines)."""
    rng = random.Random(f"arena-opening:{cfg.seed}:{cfg.size}:{k}")
    return tuple(random_opening(cfg.size, rng.randint(*cfg.opening_moves), rng))


def schedule(cfg: ArenaConfig) -> list[Task]:
    """All games, round by round (every pairing's game 0, then game 1 ...), so a partial run is balanced."""
    tasks = []
    for g in range(cfg.games_per_pair):
        for a, b in pairings(cfg):
            black, white = (a, b) if g % 2 == 0 else (b, a)
            tasks.append(Task(f"{a}|{b}|{g}", a, b, g, black, white, opening(cfg, g // 2)))
    return tasks
