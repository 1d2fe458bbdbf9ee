"""`videoworld-go arena`: round-robin or gauntlet tournaments between GTP engines, resumable.

A config file (JSON) lists the engines and the schedule (``engine.arena_config``): games
2k and 2k+1 of a pairing share an opening from one seeded set with the colours swapped,
so no pairing is favoured by its openings and games differ. Each finished game is written
as SGF, then appended to ``results.jsonl`` (fsynced); a killed arena, rerun with the same
config, skips the games already in the file, so at most the games in flight are lost.
Adding engines or raising ``games_per_pair`` later plays only the missing games.

A fault (crash, timeout, illegal move, refusing to start) loses the game for the side
at fault, is recorded with the reason, and that engine is restarted for its next game.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterator, Optional

from engine.arena_config import ArenaConfig, EngineEntry, Task, pairings, schedule
from engine.coords import BLACK, WHITE, to_gtp
from engine.elo import DEFAULT_ANCHOR, DEFAULT_ANCHOR_RATING, EloConfig
from engine.engines import REPO
from engine.game import Game
from engine.match import play_match
from engine.sgf import dump_game
from gtp.client import GtpClient, GtpClientError

__all__ = ["ArenaConfig", "EngineEntry", "Task", "pairings", "schedule", "run_arena", "read_results", "outcomes"]


# ---------------------------------------------------------------- results file
def read_results(path: Path) -> list[dict]:
    """Records of results.jsonl, first of each id; a torn last line (killed writer) is ignored."""
    if not path.exists():
        return []
    out, seen = [], set()
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n") or not line.strip():
                continue
            rec = json.loads(line)
            if rec["id"] not in seen:
                seen.add(rec["id"])
                out.append(rec)
    return out


def append_result(path: Path, record: dict) -> None:
    data = path.read_bytes() if path.exists() else b""
    if data and not data.endswith(b"\n"):  # a torn line from a killed run: cut it off first
        with open(path, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)
    with open(path, "ab") as f:
        f.write((json.dumps(record, sort_keys=True) + "\n").encode())
        f.flush()
        os.fsync(f.fileno())


def outcomes(records: list[dict]) -> Iterator[tuple[str, str, float]]:
    """(black, white, black's score) of every rated game (void games are not rated)."""
    for r in records:
        if r.get("reason") == "void":
            continue
        s = 0.5 if r["winner"] is None else 1.0 if r["winner"] == r["black"] else 0.0
        yield r["black"], r["white"], s


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def sgf_name(task: Task) -> str:
    safe = lambda s: re.sub(r"[^A-Za-z0-9_.-]+", "_", s)  # noqa: E731
    return f"games/{safe(task.a)}__{safe(task.b)}__{task.index:04d}.sgf"


# ---------------------------------------------------------------- playing (worker side)
class EnginePool:
    """Clients by engine name, started on first use, kept across games, dropped after a fault."""

    def __init__(self, cfg: ArenaConfig, log_dir: Path) -> None:
        self.cfg = cfg
        self.log_dir = log_dir
        self.entries = {e.name: e for e in cfg.engines}
        self.clients: dict[str, GtpClient] = {}

    def get(self, name: str) -> GtpClient:
        c = self.clients.get(name)
        if c is None or not c.alive:
            if c is not None:
                c.close(grace=0.5)
            spec = self.entries[name].spec(self.cfg.size, self.cfg.komi)
            log = self.log_dir / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".stderr.log")
            c = self.clients[name] = GtpClient(spec, timeout=self.cfg.move_timeout, stderr_path=str(log))
        return c

    def drop(self, name: str) -> None:
        """Close an engine so its next game starts a fresh process (after a fault)."""
        c = self.clients.pop(name, None)
        if c is not None:
            c.close(grace=1.0)

    def close(self) -> None:
        for name in list(self.clients):
            self.drop(name)


def _prepare(client: GtpClient, cfg: ArenaConfig, task: Task) -> None:
    """Set up the board on one engine alone, so a setup failure is blamed on the right side."""
    client.send(f"boardsize {cfg.size}", timeout=cfg.move_timeout)
    client.send("clear_board", timeout=cfg.move_timeout)
    for i, move in enumerate(task.opening):
        client.send(f"play {'B' if i % 2 == 0 else 'W'} {to_gtp(move, cfg.size)}", timeout=cfg.move_timeout)


def _opening_sgf(cfg: ArenaConfig, task: Task, result: str, why: str = "") -> bytes:
    """The SGF of a game that ended before the engines moved: the opening and the verdict."""
    game = Game(size=cfg.size, komi=cfg.komi)
    for move in task.opening:
        game.play(move)
    return dump_game(game, black=task.black, white=task.white, result=result,
                     comment=f"arena game {task.id}; ended before play: {why}")


def play_task(task: Task, pool: EnginePool) -> dict:
    """Play one game; return its record (with the SGF bytes under "_sgf", not stored in the JSONL)."""
    cfg = pool.cfg
    t0 = time.monotonic()
    clients, faults = {}, {}
    for name in (task.black, task.white):
        try:
            clients[name] = pool.get(name)
            _prepare(clients[name], cfg, task)
        except GtpClientError as e:
            faults[name] = f"setup: {type(e).__name__}: {e}"
            pool.drop(name)
    base = {"id": task.id, "a": task.a, "b": task.b, "index": task.index, "black": task.black,
            "white": task.white, "opening": [to_gtp(m, cfg.size) for m in task.opening],
            "size": cfg.size, "komi": cfg.komi}
    if faults:
        if len(faults) == 2:
            return {**base, "winner": None, "result": "Void", "reason": "void", "fault": faults, "faulty": None,
                    "moves": 0, "seconds": time.monotonic() - t0, "_sgf": _opening_sgf(cfg, task, "Void")}
        (bad, what), = faults.items()
        winner = task.white if bad == task.black else task.black
        result = ("W" if bad == task.black else "B") + "+F"
        return {**base, "winner": winner, "result": result, "reason": "fault", "fault": what, "faulty": bad,
                "moves": 0, "seconds": time.monotonic() - t0, "_sgf": _opening_sgf(cfg, task, result, what)}
    black, white = clients[task.black], clients[task.white]
    try:
        res = play_match(black, white, cfg.match_config(), task.opening)
    except GtpClientError as e:  # setup failed although both engines took it a moment ago
        pool.drop(task.black)
        pool.drop(task.white)
        return {**base, "winner": None, "result": "Void", "reason": "void", "fault": str(e), "faulty": None,
                "moves": 0, "seconds": time.monotonic() - t0, "_sgf": _opening_sgf(cfg, task, "Void", str(e))}
    names = {BLACK: task.black, WHITE: task.white}
    faulty = names[WHITE if res.winner == BLACK else BLACK] if res.reason == "fault" else None
    if faulty:
        pool.drop(faulty)
    comment = f"arena game {task.id}; opening {len(task.opening)} stones; end: {res.reason}"
    if res.fault:
        comment += f"; fault: {res.fault}"
    sgf = dump_game(res.game, black=task.black, white=task.white, result=res.result, comment=comment)
    return {**base, "winner": None if res.winner is None else names[res.winner], "result": res.result,
            "reason": res.reason, "fault": res.fault, "faulty": faulty, "moves": res.game.move_number,
            "seconds": round(time.monotonic() - t0, 3), **res.info, "_sgf": sgf}


_worker_pool: Optional[EnginePool] = None  # per worker process, made by _init_worker


def _init_worker(cfg: ArenaConfig, log_dir: str) -> None:
    from multiprocessing import util

    global _worker_pool
    _worker_pool = EnginePool(cfg, Path(log_dir))
    util.Finalize(None, _worker_pool.close, exitpriority=10)  # quit the engines when the worker exits


def _worker_play(task: Task) -> dict:
    assert _worker_pool is not None
    return play_task(task, _worker_pool)


# ---------------------------------------------------------------- the tournament (parent side)
@dataclass
class ArenaSummary:
    planned: int
    done_before: int
    played: int = 0
    faults: dict = field(default_factory=dict)  # engine -> count


def _check_compatible(out: Path, cfg: ArenaConfig) -> None:
    """Refuse to mix games of different board size, komi or openings in one results file."""
    path = out / "arena.json"
    if path.exists():
        old = json.loads(path.read_text())
        for key in ("size", "komi", "seed", "opening_moves", "time_control"):
            new = asdict(cfg)[key]
            if json.loads(json.dumps(new)) != old.get(key, new):
                raise ValueError(f"{out} holds an arena with {key}={old.get(key)}, the config says {new}: "
                                 "use another output folder")
    _write_atomic(path, (json.dumps(asdict(cfg), indent=2) + "\n").encode())


def _file(out: Path, task: Task, rec: dict) -> None:
    """SGF first, then the JSONL line: a recorded game always has its SGF."""
    sgf = rec.pop("_sgf", None)
    if sgf is not None:
        rec["sgf"] = sgf_name(task)
        _write_atomic(out / rec["sgf"], sgf)
    rec["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    append_result(out / "results.jsonl", rec)


def run_arena(cfg: ArenaConfig, out: Path, progress: bool = True) -> ArenaSummary:
    """Play every scheduled game not yet in ``out/results.jsonl``."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    (out / "games").mkdir(exist_ok=True)
    log_dir = out / "logs"
    log_dir.mkdir(exist_ok=True)
    _check_compatible(out, cfg)
    tasks = schedule(cfg)
    done = {r["id"] for r in read_results(out / "results.jsonl")}
    pending = [t for t in tasks if t.id not in done]
    summary = ArenaSummary(planned=len(tasks), done_before=len(tasks) - len(pending))
    bar = tqdm(total=len(tasks), initial=summary.done_before, desc="arena", unit="game", disable=not progress)

    def record(task: Task, rec: dict) -> None:
        _file(out, task, rec)
        summary.played += 1
        if rec.get("faulty"):
            summary.faults[rec["faulty"]] = summary.faults.get(rec["faulty"], 0) + 1
        bar.update(1)
        bar.set_postfix_str(f"{task.black} vs {task.white}: {rec['result']} ({rec['reason']})", refresh=False)

    try:
        if cfg.workers == 1:
            pool = EnginePool(cfg, log_dir)
            try:
                for task in pending:
                    record(task, play_task(task, pool))
            finally:
                pool.close()
        else:
            with ProcessPoolExecutor(cfg.workers, initializer=_init_worker, initargs=(cfg, str(log_dir))) as ex:
                queue = iter(pending)
                inflight = {}
                for task in queue:
                    inflight[ex.submit(_worker_play, task)] = task
                    if len(inflight) >= cfg.workers:
                        break
                while inflight:
                    finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        record(inflight.pop(fut), fut.result())
                        nxt = next(queue, None)
                        if nxt is not None:
                            inflight[ex.submit(_worker_play, nxt)] = nxt
    finally:
        bar.close()
    return summary


# ---------------------------------------------------------------- CLI
def add_parser(sub) -> None:
    p = sub.add_parser("arena", help="round-robin / gauntlet between GTP engines, with Bradley-Terry ratings")
    p.add_argument("config", nargs="?", help="arena config (JSON): engines, mode, games_per_pair, size, ...")
    p.add_argument("--out", default=None, help="output folder (default: the config's 'out', else runs/arena/<name>; with --ratings-only: "
                        "the results file's folder)")
    p.add_argument("--workers", type=int, default=None, help="games in parallel (overrides the config; default 1)")
    p.add_argument("--games-per-pair", type=int, default=None, help="overrides the config")
    p.add_argument("--ratings-only", metavar="RESULTS_JSONL", nargs="+", default=None,
                   help="only recompute ratings from results.jsonl files (several: one rating list over all their games)")
    p.add_argument("--alias", metavar="OLD=NEW", action="append", default=[],
                   help="with --ratings-only: engine OLD's games count as NEW's (one player named differently in two "
                        "runs); repeatable")
    p.add_argument("--anchor", default=None, help=f"engine pinned at --anchor-rating (default {DEFAULT_ANCHOR})")
    p.add_argument("--anchor-rating", type=float, default=None)
    p.add_argument("--prior-draws", type=float, default=1.0, help="virtual draws per pair that met (default 1)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def merged_results(paths: list[Path], aliases: dict[str, str]) -> list[dict]:
    """The records of several results files (each read as ``read_results`` does; the same game id in two
    files is two games), engines renamed by ``aliases`` (old name -> new)."""
    out = []
    for path in paths:
        for r in read_results(path):
            out.append({**r, **{k: aliases.get(r[k], r[k]) for k in ("black", "white", "winner", "a", "b") if k in r}})
    return out


def parse_aliases(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise ValueError(f"--alias wants OLD=NEW, got {pair!r}")
        out[old] = new
    return out


def _report(results: list[Path], elo: EloConfig, out: Path, aliases: dict[str, str] | None = None) -> None:
    from engine import elo as elo_mod

    records = merged_results(results, aliases or {})
    ratings = elo_mod.fit(outcomes(records), elo)
    (out / "ratings.json").write_text(json.dumps(ratings.to_dict(), indent=2) + "\n")
    if ratings.names:
        elo_mod.plot(ratings, out / "ratings.png")
    faults = [r for r in records if r.get("reason") in ("fault", "void")]
    on_time = [r for r in records if r.get("reason") == "time"]
    print(f"{len(records)} games in {', '.join(map(str, results))}" + (f", {len(faults)} ended by a fault" if faults else "")
          + (f", {len(on_time)} lost on time" if on_time else ""))
    print(elo_mod.format_table(ratings))
    thinking = thinking_time(records)
    if thinking:
        print("thinking time per move (genmove to answer, as the referee's clock charges it):")
        for name, t in thinking.items():
            print(f"  {name}: mean {t['mean']:.3f} s over {t['moves']} moves, longest {t['longest']:.2f} s, "
                  f"lost on time {t['lost_on_time']}")
    print(f"wrote {out / 'ratings.json'} and {out / 'ratings.png'}")


def thinking_time(records: list[dict]) -> dict:
    """Per engine: moves, mean and longest thinking time, games lost on time (records with "think")."""
    out: dict = {}

    def entry(name: str) -> dict:
        return out.setdefault(name, {"moves": 0, "seconds": 0.0, "longest": 0.0, "lost_on_time": 0})

    for r in records:
        for colour, name in (("B", r.get("black")), ("W", r.get("white"))):
            t = (r.get("think") or {}).get(colour)
            if t is None:
                continue
            e = entry(name)
            e["moves"] += t["moves"]
            e["seconds"] += t["seconds"]
            e["longest"] = max(e["longest"], t["longest"])
        if r.get("reason") == "time":
            entry(r["white"] if r.get("winner") == r.get("black") else r["black"])["lost_on_time"] += 1
    for e in out.values():
        e["mean"] = e["seconds"] / e["moves"] if e["moves"] else 0.0
    return out


def run(args: argparse.Namespace) -> int:
    elo = EloConfig(anchor=args.anchor or DEFAULT_ANCHOR,
                    anchor_rating=DEFAULT_ANCHOR_RATING if args.anchor_rating is None else args.anchor_rating,
                    prior_draws=args.prior_draws)
    if args.ratings_only:
        results = [Path(r) for r in args.ratings_only]
        missing = [str(r) for r in results if not r.exists()]
        if missing:
            print(f"arena: no results file {', '.join(missing)}")
            return 2
        try:
            aliases = parse_aliases(args.alias)
        except ValueError as e:
            print(f"arena: {e}")
            return 2
        out = Path(args.out) if args.out else results[0].parent  # --out keeps ratings.json/.png away from, e.g., docs/
        out.mkdir(parents=True, exist_ok=True)
        _report(results, elo, out, aliases)
        return 0
    if args.alias:
        print("arena: --alias goes with --ratings-only")
        return 2
    if not args.config:
        print("arena: give a CONFIG.json, or --ratings-only RESULTS.jsonl")
        return 2
    raw = json.loads(Path(args.config).read_text())
    cfg = ArenaConfig.from_dict(raw)
    overrides = {k: v for k, v in (("workers", args.workers), ("games_per_pair", args.games_per_pair)) if v is not None}
    if args.anchor is not None:
        overrides["anchor"] = args.anchor
    if args.anchor_rating is not None:
        overrides["anchor_rating"] = args.anchor_rating
    cfg = replace(cfg, **overrides)
    out = Path(args.out or raw.get("out") or REPO / "runs" / "arena" / Path(args.config).stem)
    summary = run_arena(cfg, out, progress=not args.no_progress)
    print(f"{summary.played} games played now, {summary.done_before} before, {summary.planned} planned"
          + (f"; faults: {summary.faults}" if summary.faults else ""))
    _report([out / "results.jsonl"], EloConfig(cfg.anchor, cfg.anchor_rating, args.prior_draws), out)
    return 0
