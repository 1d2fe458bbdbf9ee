"""Serving: genmove latency and throughput at 1, 8, 32, 64 concurrent games, through the batcher.

    .venv/bin/python benchmarks/bench_serving.py [--weights DIR] [--seconds 8] [--threads 1] [--workers 2]
        [--precision fp32|bf16]

Two paths, both through one dynamic batcher with the server's defaults (--workers 2 batches
computed at once on one shared model, --max-batch 16, --max-wait-ms 5, --max-hold-ms 100;
before 2026-11-30 20:00: --workers 1 --max-batch 32 --max-hold-ms -1):
- "http": the real server (``videoworld-go serve`` in a subprocess, one uvicorn worker);
  each concurrent game is a client that creates a 9x9 game and asks
  ``POST /v1/games/{id}/genmove`` for every move, the engine playing both sides; a game
  that ends (or reaches 150 moves) is replaced by a new one. Server RSS is read from
  /proc after each level (and its peak, VmHWM).
- "batcher": the same games in-process, one thread per game with a ``BatchedPlayer``
  sharing one ``Batcher``: the batching gain without HTTP.

Latency is per genmove as the client sees it (queueing + batch + forward + HTTP);
moves/s counts every move of every game in the measured window. The model is the shipped
weights/9x9 when present, else a tiny bundle trained on the spot (tests/tiny_pipeline.py),
and the output says which. Writes benchmarks/results/serving.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing
RESULTS = REPO / "benchmarks" / "results" / "serving.json"
SHIPPED = REPO / "weights" / "9x9"
LEVELS = (1, 8, 32, 64)
MAX_MOVES = 150  # a game is replaced after this many moves (keeps positions mid-game-like)


def pick_weights(arg: str | None, tmp: Path) -> tuple[Path, str]:
    if arg:
        return Path(arg), f"bundle {arg}"
    if (SHIPPED / "manifest.json").exists():
        return SHIPPED, "shipped weights/9x9"
    sys.path.insert(0, str(REPO / "tests"))
    import torch

    from tiny_pipeline import train_tiny

    torch.set_num_threads(1)
    torch.manual_seed(0)
    return train_tiny(tmp), "tiny test bundle (weights/9x9 absent): trained 10 steps per stage on random games"


def summary(latencies: list[float], moves: int, seconds: float) -> dict:
    ms = np.array(latencies) * 1000
    return {"moves": moves, "seconds": round(seconds, 2), "moves_per_s": round(moves / seconds, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1)}


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def thread_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) of a process's main thread (uvicorn's event loop) and of all
    its other threads together (the batch workers, the thread pool), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    main = other = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended between listing and reading
            continue
        cpu = (int(fields[11]) + int(fields[12])) / tick  # utime, stime: fields 14 and 15 of stat
        if int(task.name) == pid:
            main += cpu
        else:
            other += cpu
    return main, other


# ------------------------------------------------------------------ through HTTP
def start_server(weights: Path, args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "engine.cli", "serve", "--weights", str(weights), "--port", str(port),
           "--max-batch", str(args.max_batch), "--max-wait-ms", str(args.max_wait_ms), "--threads", str(args.threads),
           "--workers", str(args.workers), "--max-hold-ms", str(args.max_hold_ms),
           "--max-concurrency", "1000", "--log-level", "WARNING"]
    if args.branches:
        cmd += ["--branches", str(args.branches)]
    if args.symmetries:
        cmd += ["--symmetries", str(args.symmetries)]
    cmd += ["--precision", args.precision]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


class Connection:
    """A minimal keep-alive HTTP/1.1 JSON client on one socket: the benchmark measures the
    server, and httpx's own cost per request (and its pool at 64 connections) would dominate
    the client side on 2 busy cores."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> "Connection":
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer, f"{host}:{port}")

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        data = b"" if body is None else json.dumps(body).encode()
        head = (f"{method} {path} HTTP/1.1\r\nhost: {self.host}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(data)}\r\n\r\n")
        self.writer.write(head.encode() + data)
        await self.writer.drain()
        status_line, *header_lines = (await self.reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in header_lines if ": " in line)
        payload = await self.reader.readexactly(int(headers.get("content-length", 0)))
        status = int(status_line.split()[1])
        return status, json.loads(payload) if payload and "json" in headers.get("content-type", "") else None

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def http_level(url: str, games: int, seconds: float) -> dict:
    latencies: list[float] = []
    moves = 0
    stop = time.monotonic() + seconds

    async def one_game_after_another() -> None:
        nonlocal moves
        conn = await Connection.open(url)
        try:
            while time.monotonic() < stop:
                _, game = await conn.request("POST", "/v1/games", {"board_size": 9})
                for _ in range(MAX_MOVES):
                    t0 = time.perf_counter()
                    status, out = await conn.request("POST", f"/v1/games/{game['id']}/genmove", {})
                    if status != 200:
                        raise RuntimeError(f"{status}: {out}")
                    if time.monotonic() < stop:
                        latencies.append(time.perf_counter() - t0)
                        moves += 1
                    if out["game"]["over"] or time.monotonic() >= stop:
                        break
                await conn.request("DELETE", f"/v1/games/{game['id']}")
        finally:
            await conn.close()

    start = time.monotonic()
    await asyncio.gather(*(one_game_after_another() for _ in range(games)))
    return summary(latencies, moves, min(seconds, time.monotonic() - start))


def batch_delta(before: dict, after: dict) -> dict:
    """The batcher's statistics over one level (the server's counters run from its start)."""
    sizes = {k: v - before["sizes"].get(k, 0) for k, v in after["sizes"].items() if v - before["sizes"].get(k, 0)}
    batches, requests = after["batches"] - before["batches"], after["requests"] - before["requests"]
    return {"batches": batches, "requests": requests, "mean_batch": requests / batches if batches else 0.0,
            "largest": max((int(k) for k in sizes), default=0), "sizes": sizes}


def bench_http(weights: Path, args: argparse.Namespace) -> tuple[list[dict], dict]:
    import httpx

    proc, url = start_server(weights, args)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        asyncio.run(http_level(url, 2, 1.0))  # warm-up: first forward passes, allocator
        rows = []
        for games in LEVELS:
            before = httpx.get(url + "/healthz").json()["batcher"]
            cpu0, client0 = thread_cpu(proc.pid), time.process_time()
            row = {"path": "http", "games": games, **asyncio.run(http_level(url, games, args.seconds))}
            cpu1, client1 = thread_cpu(proc.pid), time.process_time()
            # where the 2 cores went: the server's event loop (HTTP, routes, JSON), its other
            # threads (model workers), and this process (the clients)
            row["cpu_seconds"] = {"server_loop": round(cpu1[0] - cpu0[0], 2), "server_other": round(cpu1[1] - cpu0[1], 2),
                                  "clients": round(client1 - client0, 2)}
            row["rss_mb"], row["peak_rss_mb"] = (round(x, 1) for x in rss_mb(proc.pid))
            row["batcher"] = batch_delta(before, httpx.get(url + "/healthz").json()["batcher"])
            rows.append(row)
        version = httpx.get(url + "/version").json()
        return rows, {"player": version["player"], "batching": version["batching"]}
    finally:
        proc.terminate()
        proc.wait(30)


# ------------------------------------------------------------------ in-process
def bench_batcher(weights: Path, args: argparse.Namespace) -> list[dict]:
    import torch

    from engine.batcher import Batcher, BatchedPlayer
    from engine.game import Game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    torch.set_num_threads(args.threads)
    neural = NeuralPlayer(load_bundle(weights), top_k=args.branches, symmetries=args.symmetries,
                          precision=args.precision)
    rows = []
    for games in LEVELS:
        with Batcher(neural, max_batch=args.max_batch, max_wait=args.max_wait_ms / 1000, workers=args.workers,
                     max_hold=None if args.max_hold_ms < 0 else args.max_hold_ms / 1000) as batcher:
            player = BatchedPlayer(batcher)
            player.genmove(Game(9), 1)  # warm-up
            latencies: list[float] = []
            counts = [0] * games
            stop = time.monotonic() + args.seconds

            def play(i: int) -> None:
                while time.monotonic() < stop:
                    g = Game(9)
                    while not g.is_over() and g.move_number < MAX_MOVES and time.monotonic() < stop:
                        t0 = time.perf_counter()
                        move = player.genmove(g, g.to_play)
                        latencies.append(time.perf_counter() - t0)  # list.append is atomic under the GIL
                        g.play(move, g.to_play)
                        counts[i] += 1

            threads = [threading.Thread(target=play, args=(i,)) for i in range(games)]
            start = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - start
            stats = batcher.stats().as_dict()
        rows.append({"path": "batcher", "games": games, **summary(latencies, sum(counts), elapsed),
                     "rss_mb": round(rss_mb(os.getpid())[0], 1), "batcher": stats})
    return rows


def table(rows: list[dict]) -> str:
    head = ("| path | games | moves/s | p50 ms | p99 ms | mean batch | largest | RSS MB | CPU ms/move: loop, workers, clients |"
            "\n|---|---|---|---|---|---|---|---|---|")

    def cpu(r: dict) -> str:
        c, n = r.get("cpu_seconds"), max(r["moves"], 1)
        return "" if c is None else f"{1000 * c['server_loop'] / n:.1f}, {1000 * c['server_other'] / n:.1f}, {1000 * c['clients'] / n:.1f}"

    lines = [f"| {r['path']} | {r['games']} | {r['moves_per_s']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
             f"{r['batcher']['mean_batch']:.1f} | {r['batcher']['largest']} | {r['rss_mb']:.0f} | {cpu(r)} |" for r in rows]
    return "\n".join([head, *lines])


def main(argv: list[str] | None = None) -> int:
    from engine.symmetry import VIEW_COUNTS
    from models.precisions import PRECISIONS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None, help="model bundle (default: weights/9x9, else a tiny bundle)")
    ap.add_argument("--seconds", type=float, default=8.0, help="measured time per level")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads of the model")
    # defaults: the server's (server/settings.py)
    from server.settings import Settings

    d = Settings()  # defaults: the server's
    ap.add_argument("--workers", type=int, default=d.workers, help="batches computed at once, each on its own thread")
    ap.add_argument("--max-batch", type=int, default=d.max_batch)
    ap.add_argument("--max-wait-ms", type=float, default=d.max_wait_ms)
    ap.add_argument("--max-hold-ms", type=float, default=-1.0 if d.max_hold_ms is None else d.max_hold_ms,
                    help="engine/batcher.py max_hold; negative: none")
    ap.add_argument("--paths", default="http,batcher", help="which paths to measure")
    ap.add_argument("--branches", type=int, default=None, help="imagined branches per position (default: the bundle's)")
    ap.add_argument("--symmetries", type=int, choices=VIEW_COUNTS, default=None,
                    help="board symmetries averaged per position (default: the bundle's)")
    ap.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                    help="the transformer's matrix products (models/low_precision.py; default: the server's)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        weights, model = pick_weights(args.weights, Path(tmp))
        print(f"model: {model}", flush=True)
        rows: list[dict] = []
        served: dict = {}
        if "http" in args.paths:
            http_rows, served = bench_http(weights, args)
            rows += http_rows
        if "batcher" in args.paths:
            rows += bench_batcher(weights, args)
    speedups = {}
    for path in ("http", "batcher"):
        by = {r["games"]: r for r in rows if r["path"] == path}
        if 1 in by and 32 in by:
            speedups[path] = round(by[32]["moves_per_s"] / by[1]["moves_per_s"], 2)
    result = {"model": model, "levels": list(LEVELS), "seconds_per_level": args.seconds, "threads": args.threads,
              "precision": args.precision,
              "workers": args.workers,
              "max_batch": args.max_batch, "max_wait_ms": args.max_wait_ms,
              "max_hold_ms": None if args.max_hold_ms < 0 else args.max_hold_ms, "branches": args.branches or "bundle default",
              "symmetries": args.symmetries or "bundle default",
              "server": served,
              "speedup_32_over_1": speedups, "rows": rows, "python": platform.python_version(),
              "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
              "date": time.strftime("%Y-%m-%d")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(rows))
    print(f"speed-up of 32 games over 1: {speedups}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
