"""`videoworld-go selfplay`: grow an SGF corpus from real engines, resumably.

Worker processes each own their engines (GTP clients kept across games) and play
whole games; the parent is the only writer: it dedups, appends each finished game to
the corpus file (fsynced), shows games/hour, and refreshes ``data/manifest.json``.
Killing the job loses only the games in flight; rerunning it continues the corpus.
Games that end by a fault or the move cap are not stored (their score is no result).
SIGTERM (``kill``) stops the job cleanly: the parent cancels what is queued, terminates its
workers, and every worker quits its engines first, so no KataGo or GNU Go is left running.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from engine.corpus import CorpusFile, game_key, other_corpus_keys, update_manifest, write_corpus_info
from engine.engines import REPO, spec_from_preset
from engine.match import MatchConfig, play_match, random_opening
from engine.sgf import dump_game


@dataclass(frozen=True)
class SelfPlayConfig:
    engines: tuple[str, ...] = ("katago:1",)  # presets; every pair (incl. self-pairs) is played
    size: int = 9
    komi: float = 7.0
    opening_min: int = 0  # random opening moves imposed before the engines play, drawn per game
    opening_max: int = 2
    move_timeout: float = 120.0
    katago_dir: Optional[str] = None


# ---------------------------------------------------------------- worker side
_clients: dict = {}  # per worker process: preset -> GtpClient (made lazily, kept across games)


def _drop_clients(presets) -> None:
    """Quit these presets' engines (started again on the next game that needs them)."""
    for p in set(presets):
        c = _clients.pop(p, None)
        if c:
            c.close(grace=1.0)


def _kill_engines(grace: float = 1.0) -> None:
    """Stop this worker's engines from inside a signal handler: raw syscalls only. The interrupted
    code may hold a Popen lock (seen: SIGTERM inside ``poll()``, then ``close()`` -> ``wait()``
    waited for that lock forever, leaving the worker hung and its GNU Go a zombie)."""
    pending = {c.pid for c in _clients.values() if c.pid}
    for pid in list(pending):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pending.discard(pid)
    deadline = time.monotonic() + grace
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    pending.discard(pid)
            except ChildProcessError:
                pending.discard(pid)
        time.sleep(0.02)
    for pid in pending:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def _worker_init() -> None:
    """A worker told to stop (SIGTERM from the parent) quits its engines, then exits."""
    def stop(signum, frame):  # noqa: ARG001
        # `pkill -f selfplay` signals the worker and the parent, whose handler signals the worker
        # again: a nested call would os._exit while the first close still waits for the engine
        # to quit (seen: KataGo left running as an orphan), so further signals are ignored.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _kill_engines()
        os._exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides


class Stop(Exception):
    """Raised in the parent by SIGTERM (installed by the CLI): stop now, keep what is stored."""


def raise_stop(signum, frame):  # noqa: ARG001
    raise Stop(f"signal {signum}")


def _client(preset: str, cfg: SelfPlayConfig, log_dir: str):
    from gtp.client import GtpClient

    c = _clients.get(preset)
    if c is None or not c.alive:
        spec = spec_from_preset(preset, cfg.size, cfg.komi, katago_dir=Path(cfg.katago_dir) if cfg.katago_dir else None)
        stderr = str(Path(log_dir) / f"{preset.replace(':', '_')}.stderr.log")
        c = _clients[preset] = GtpClient(spec, timeout=cfg.move_timeout, stderr_path=stderr)
    return c


def play_one(cfg: SelfPlayConfig, pair: tuple[str, str], seed: int, log_dir: str) -> dict:
    """Play one game in a worker; returns the SGF and what the parent needs to file it.

    Never raises: an unexpected error drops this game (reported) instead of the whole job."""
    try:
        return _play_one(cfg, pair, seed, log_dir)
    except Exception as e:  # noqa: BLE001 - one bad game must not stop a night of self-play
        _drop_clients(pair)
        return {"ok": False, "reason": f"error: {type(e).__name__}: {e}", "seed": seed}


def _play_one(cfg: SelfPlayConfig, pair: tuple[str, str], seed: int, log_dir: str) -> dict:
    from gtp.client import GtpClientError

    rng = random.Random(seed)
    opening = random_opening(cfg.size, rng.randint(cfg.opening_min, cfg.opening_max), rng)
    try:
        black = _client(pair[0], cfg, log_dir)
        white = black if pair[1] == pair[0] else _client(pair[1], cfg, log_dir)
        t0 = time.monotonic()
        res = play_match(black, white, MatchConfig(cfg.size, cfg.komi, move_timeout=cfg.move_timeout), opening)
    except GtpClientError as e:
        _drop_clients(pair)  # restart on the next game
        return {"ok": False, "reason": f"setup: {e}", "seed": seed}
    if res.reason == "fault":
        _drop_clients(pair)
    gc = f"opening={len(opening)} seed={seed} end={res.reason}"
    sgf = dump_game(res.game, black=black.spec.name, white=white.spec.name, result=res.result, comment=gc)
    return {"ok": res.reason in ("score", "resign"), "reason": res.reason, "fault": res.fault, "seed": seed,
            "sgf": sgf, "key": game_key(res.game), "moves": res.game.move_number, "result": res.result,
            "seconds": time.monotonic() - t0}


# ---------------------------------------------------------------- parent side
def pairs_of(engines: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(a, b) for a in engines for b in engines]


def run_selfplay(cfg: SelfPlayConfig, out: Path, games: int, workers: int = 2, seed: Optional[int] = None,
                 data_dir: Optional[Path] = None, log_dir: Optional[Path] = None, progress: bool = True,
                 max_stale: int = 200) -> dict:
    """Grow ``out/games.sgf`` until it holds ``games`` games; returns counters. Stops early (with
    ``stats["stopped"]`` saying why) after ``max_stale`` games in a row that added nothing."""
    from tqdm import tqdm

    corpus = CorpusFile(out)
    # games in the other corpora of data_dir count as duplicates too (read once: a sibling job's
    # new games are not seen, the odds of the same game in two jobs at once are negligible)
    elsewhere = other_corpus_keys(data_dir, out) if data_dir else set()
    write_corpus_info(out, {"generator": "videoworld-go selfplay", "config": asdict(cfg)})
    log_dir = Path(log_dir or REPO / "runs" / "selfplay" / out.name)
    log_dir.mkdir(parents=True, exist_ok=True)
    pairs = pairs_of(cfg.engines)
    base = seed if seed is not None else random.SystemRandom().randrange(2**31)
    stats = {"stored": 0, "duplicates": 0, "dropped": {}, "start": corpus.count}
    next_index = corpus.count
    metrics = open(log_dir / "metrics.jsonl", "a")
    bar = tqdm(total=games, initial=corpus.count, desc=out.name, unit="game", disable=not progress, smoothing=0.1)
    t0 = time.monotonic()
    stale = 0  # games in a row that added nothing
    try:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
        inflight: dict = {}
        try:

            def submit() -> None:
                nonlocal next_index
                i = next_index
                next_index += 1
                inflight[pool.submit(play_one, cfg, pairs[i % len(pairs)], base + i, str(log_dir))] = i

            for _ in range(min(workers, max(games - corpus.count, 0))):
                submit()
            while inflight:
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    inflight.pop(fut)
                    r = fut.result()
                    if r["ok"] and r["key"] not in elsewhere and corpus.append(r["sgf"], r["key"], r["moves"]):
                        stats["stored"] += 1
                        stale = 0
                        bar.update(1)
                    elif r["ok"]:
                        stats["duplicates"] += 1
                        stale += 1
                    else:
                        stats["dropped"][r["reason"]] = stats["dropped"].get(r["reason"], 0) + 1
                        stale += 1
                    rate = stats["stored"] / max(time.monotonic() - t0, 1e-9) * 3600
                    bar.set_postfix(games_per_h=f"{rate:.0f}", dup=stats["duplicates"], drop=sum(stats["dropped"].values()))
                    metrics.write(json.dumps({"t": time.time(), "count": corpus.count, "games_per_h": rate,
                                              **{k: r.get(k) for k in ("reason", "result", "moves", "seconds", "fault")}}) + "\n")
                    metrics.flush()
                    if data_dir and stats["stored"] and stats["stored"] % 50 == 0:
                        update_manifest(data_dir)
                    if stale >= max_stale:
                        # deterministic engines without opening randomness replay the same games
                        stats["stopped"] = f"{stale} games in a row were duplicates or dropped"
                    elif corpus.count + len(inflight) < games:
                        submit()
        except (Stop, KeyboardInterrupt) as e:
            stats["stopped"] = f"interrupted ({e or 'Ctrl-C'}): {len(inflight)} game(s) in flight lost"
            workers_now = list(getattr(pool, "_processes", {}).values())  # no public handle on them
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in workers_now:
                proc.terminate()  # -> _worker_init's handler quits the engines
            for proc in workers_now:
                proc.join(timeout=10)
        else:
            pool.shutdown(wait=True)
    finally:
        bar.close()
        metrics.close()
        if data_dir:
            update_manifest(data_dir)
    stats["count"] = corpus.count
    stats["games_per_h"] = stats["stored"] / max(time.monotonic() - t0, 1e-9) * 3600
    return stats


# ---------------------------------------------------------------- CLI
def add_parser(sub) -> None:
    p = sub.add_parser("selfplay", help="generate an SGF corpus with KataGo / GNU Go (resumable)")
    p.add_argument("--engines", default="katago:1", help="comma-separated presets: katago:V, gnugo:L, random")
    p.add_argument("--out", required=True, help="corpus folder, e.g. data/katago9")
    p.add_argument("--games", type=int, required=True, help="target size of the corpus (games)")
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--komi", type=float, default=7.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--opening", default="0-2", help="random opening moves per game, MIN-MAX")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--move-timeout", type=float, default=120.0)
    p.add_argument("--data-dir", default=None, help="refresh DATA_DIR/manifest.json (default: parent of --out)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    lo, _, hi = args.opening.partition("-")
    cfg = SelfPlayConfig(engines=tuple(e.strip() for e in args.engines.split(",") if e.strip()), size=args.size,
                         komi=args.komi, opening_min=int(lo), opening_max=int(hi or lo), move_timeout=args.move_timeout,
                         katago_dir=os.environ.get("VIDEOWORLD_KATAGO"))
    out = Path(args.out)
    signal.signal(signal.SIGTERM, raise_stop)
    stats = run_selfplay(cfg, out, args.games, args.workers, args.seed, Path(args.data_dir or out.parent))
    print(json.dumps(stats), flush=True)
    if str(stats.get("stopped") or "").startswith("interrupted"):
        # Everything is on disk (games fsynced, manifest renamed into place) and the workers were
        # terminated and joined (10 s at most each). Interpreter exit would join ProcessPoolExecutor's
        # manager thread, which waits for any worker that did not go: leave without it.
        sys.stderr.flush()
        os._exit(0)
    return 0
