"""Arena: the schedule is fair, faults are losses, a SIGKILLed arena resumes; Elo recovers known strengths."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.arena import ArenaConfig, EngineEntry, outcomes, read_results, run_arena, schedule
from engine.elo import ELO_PER_NAT, EloConfig, fit, format_table, plot
from engine.engines import REPO, gnugo_available

needs_gnugo = pytest.mark.skipif(not gnugo_available(), reason="GNU Go is not installed")

# A GTP engine that answers everything and always plays A1: its second A1 is an illegal move.
A1_BOT = """
import os, sys
sys.stderr.write(f"pid {os.getpid()}\\n"); sys.stderr.flush()
for line in sys.stdin:
    parts = line.split()
    if not parts:
        continue
    cid, cmd = (parts[0], parts[1:]) if parts[0].isdigit() else ("", parts)
    if cmd and cmd[0] == "quit":
        break
    answer = "A1" if cmd and cmd[0] == "genmove" else ""
    sys.stdout.write(f"={cid} {answer}\\n\\n"); sys.stdout.flush()
"""


def config(**kw) -> ArenaConfig:
    engines = kw.pop("engines", (EngineEntry("a", preset="gnugo:0"), EngineEntry("b", preset="gnugo:1"),
                                 EngineEntry("c", preset="random")))
    return ArenaConfig(engines=tuple(engines), **kw)


# ---------------------------------------------------------------- schedule
def test_schedule_alternates_colours_and_shares_openings_between_colour_swaps() -> None:
    cfg = config(games_per_pair=6, seed=3, opening_moves=(1, 3))
    tasks = schedule(cfg)
    assert len(tasks) == 3 * 6 and len({t.id for t in tasks}) == len(tasks)
    by_pair: dict = {}
    for t in tasks:
        by_pair.setdefault((t.a, t.b), []).append(t)
    for (a, b), ts in by_pair.items():
        ts.sort(key=lambda t: t.index)
        assert [t.black for t in ts] == [a, b] * 3  # colours alternate
        for k in range(3):
            assert ts[2 * k].opening == ts[2 * k + 1].opening  # both colour assignments, same opening
        assert 1 <= len(ts[0].opening) <= 3
    # every pairing sees the same opening set, and openings differ within it
    sets = {tuple(t.opening for t in sorted(ts, key=lambda t: t.index)) for ts in by_pair.values()}
    assert len(sets) == 1
    assert len({t.opening for t in tasks}) == 3
    assert schedule(cfg) == tasks  # seeded: the same every time


def test_gauntlet_pairs_the_hero_with_each_other_engine_only() -> None:
    cfg = config(mode="gauntlet", hero="c", games_per_pair=2)
    assert sorted({(t.a, t.b) for t in schedule(cfg)}) == [("c", "a"), ("c", "b")]


def test_config_from_json_accepts_command_lines_and_options() -> None:
    cfg = ArenaConfig.from_dict({
        "engines": [{"name": "g", "preset": "gnugo:3"},
                    {"name": "x", "command": "/usr/games/gnugo --mode gtp --level 2", "options": ["komi 7"]}],
        "games_per_pair": 4, "opening_moves": 2, "out": "ignored"})
    assert cfg.engines[1].command[-1] == "2" and cfg.engines[1].setup == ("komi 7",)
    assert cfg.opening_moves == (2, 2)
    with pytest.raises(ValueError):
        ArenaConfig.from_dict({"engines": [{"name": "g", "preset": "gnugo:1"}, {"name": "g", "preset": "random"}]})


# ---------------------------------------------------------------- faults
@needs_gnugo
@pytest.mark.parametrize("workers", [1, 2])
def test_illegal_move_is_a_recorded_loss_and_the_engine_is_restarted(tmp_path: Path, workers: int) -> None:
    bot = EngineEntry("a1bot", command=(sys.executable, "-c", A1_BOT))
    cfg = config(engines=(bot, EngineEntry("gnugo", preset="gnugo:0")), games_per_pair=2, move_timeout=20,
                 workers=workers)
    summary = run_arena(cfg, tmp_path, progress=False)
    assert summary.played == 2 and summary.faults == {"a1bot": 2}
    records = read_results(tmp_path / "results.jsonl")
    for r in records:
        assert r["reason"] == "fault" and r["faulty"] == "a1bot" and r["winner"] == "gnugo"
        assert "illegal move A1" in r["fault"]
        assert r["result"] == ("W+F" if r["black"] == "a1bot" else "B+F")
        assert (tmp_path / r["sgf"]).exists()
    pids = {line for line in (tmp_path / "logs" / "a1bot.stderr.log").read_text().splitlines() if line.startswith("pid")}
    assert len(pids) == 2  # restarted after its first fault (or one per worker)
    assert list(outcomes(records)) == [(r["black"], r["white"], 0.0 if r["black"] == "a1bot" else 1.0) for r in records]


def test_an_engine_that_cannot_start_loses_by_fault(tmp_path: Path) -> None:
    cfg = config(engines=(EngineEntry("broken", command=("/nonexistent/engine",)), EngineEntry("c", preset="random")),
                 games_per_pair=2)
    run_arena(cfg, tmp_path, progress=False)
    records = read_results(tmp_path / "results.jsonl")
    assert [r["winner"] for r in records] == ["c", "c"]
    assert all(r["faulty"] == "broken" and "setup" in r["fault"] for r in records)


# ---------------------------------------------------------------- resume after SIGKILL
def _arena_cli(config_path: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "arena", str(config_path), "--out", str(out),
                             "--no-progress"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@needs_gnugo
def test_arena_killed_with_sigkill_resumes_without_losing_or_repeating_games(tmp_path: Path) -> None:
    planned = 8
    cfg = {"engines": [{"name": "GNUGo-L0", "preset": "gnugo:0"}, {"name": "GNUGo-L1", "preset": "gnugo:1"}],
           "games_per_pair": planned, "size": 9, "move_timeout": 30, "seed": 7, "anchor": "GNUGo-L0"}
    cfg_path = tmp_path / "arena.json"
    cfg_path.write_text(json.dumps(cfg))
    out = tmp_path / "out"
    results = out / "results.jsonl"
    proc = _arena_cli(cfg_path, out)
    deadline = time.monotonic() + 120
    while len(_lines(results)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = [json.loads(x) for x in _lines(results)]
    assert 2 <= len(before) < planned, "the arena should have been killed part-way"
    with open(results, "ab") as f:  # as if the kill had torn a line
        f.write(b'{"id": "GNUGo-L0|GNUGo-L1|99", "tor')
    proc = _arena_cli(cfg_path, out)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert f"{planned - len(before)} games played now, {len(before)} before, {planned} planned" in stdout.decode()
    after = read_results(results)
    ids = [r["id"] for r in after]
    assert len(_lines(results)) == planned and len(set(ids)) == planned  # exactly the plan, no duplicates
    assert sorted(ids) == sorted(f"GNUGo-L0|GNUGo-L1|{g}" for g in range(planned))
    assert after[:len(before)] == before  # games finished before the kill were kept, not replayed
    for r in after:
        assert (out / r["sgf"]).exists()
        assert r["reason"] in ("score", "resign", "move cap")
    assert (out / "ratings.json").exists() and (out / "ratings.png").stat().st_size > 1000
    # --ratings-only recomputes from the JSONL alone
    ro = subprocess.run([sys.executable, "-m", "engine.cli", "arena", "--ratings-only", str(results),
                         "--anchor", "GNUGo-L0", "--anchor-rating", "1000"], cwd=REPO, capture_output=True, timeout=120)
    assert ro.returncode == 0 and b"GNUGo-L0" in ro.stdout and b"(anchor)" in ro.stdout
    # --out puts the ratings elsewhere (a results file kept in docs/ stays alone there)
    elsewhere = tmp_path / "ratings_elsewhere"
    ro = subprocess.run([sys.executable, "-m", "engine.cli", "arena", "--ratings-only", str(results),
                         "--out", str(elsewhere)], cwd=REPO, capture_output=True, timeout=120)
    assert ro.returncode == 0 and (elsewhere / "ratings.json").exists() and (elsewhere / "ratings.png").exists()


def test_ratings_over_several_results_files_with_an_engine_renamed(tmp_path):
    """``--ratings-only A B --alias OLD=NEW``: one rating list over the games of both files, the player
    that two runs named differently counted as one (what links a match against KataGo to one against
    GNU Go); without the alias the two names stay apart and the link is lost."""
    from engine.arena import merged_results, parse_aliases

    def write(path: Path, hero: str, rival: str, wins: int, losses: int) -> None:
        rows = []
        for i in range(wins + losses):
            black, white = (hero, rival) if i % 2 == 0 else (rival, hero)
            rows.append({"id": f"{hero}|{rival}|{i}", "black": black, "white": white, "reason": "score",
                         "winner": hero if i < wins else rival})
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write(a, "ours-v1", "GNUGo-L10", wins=6, losses=4)
    write(b, "ours-renamed", "strong", wins=1, losses=9)
    merged = merged_results([a, b], {"ours-renamed": "ours-v1"})
    assert len(merged) == 20 and {r["black"] for r in merged} | {r["white"] for r in merged} == {"ours-v1", "GNUGo-L10", "strong"}
    assert sum(r["winner"] == "ours-v1" for r in merged) == 7
    with pytest.raises(ValueError, match="OLD=NEW"):
        parse_aliases(["no-equals-sign"])

    def ratings(*extra: str) -> dict:
        out = tmp_path / "out"
        ro = subprocess.run([sys.executable, "-m", "engine.cli", "arena", "--ratings-only", str(a), str(b),
                             "--anchor", "GNUGo-L10", "--anchor-rating", "1800", "--out", str(out), *extra],
                            cwd=REPO, capture_output=True, timeout=120)
        assert ro.returncode == 0, ro.stderr.decode()[-2000:]
        return json.loads((out / "ratings.json").read_text())

    joined = ratings("--alias", "ours-renamed=ours-v1")
    names = json.dumps(joined)
    assert "ours-renamed" not in names and "ours-v1" in names and "strong" in names
    apart = json.dumps(ratings())
    assert "ours-renamed" in apart
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "arena", "--ratings-only", str(tmp_path / "none.jsonl")],
                         cwd=REPO, capture_output=True, timeout=120)
    assert bad.returncode == 2 and b"no results file" in bad.stdout


# ---------------------------------------------------------------- Elo
TRUTH = {"weak": 1200.0, "mid": 1550.0, "GNUGo-L10": 1800.0, "strong": 2000.0, "top": 2400.0}


def simulate(truth: dict, games_per_pair: int, rng: random.Random, draw: float = 0.05) -> list:
    names = list(truth)
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            p = 1.0 / (1.0 + 10 ** ((truth[names[j]] - truth[names[i]]) / 400.0))
            d = draw * 4 * p * (1 - p)  # draws, most common between equals, never more than 2 min(p, 1-p)
            for _ in range(games_per_pair):
                u = rng.random()
                # a draw takes half its probability from each side, keeping the expected score p
                s = 0.5 if u < d else 1.0 if u < d + (p - d / 2) else 0.0
                out.append((names[i], names[j], s) if rng.random() < 0.5 else (names[j], names[i], 1.0 - s))
    return out


def test_elo_recovers_known_ratings_within_intervals_and_respects_the_anchor() -> None:
    r = fit(simulate(TRUTH, 300, random.Random(2024)))
    assert r.anchor == "GNUGo-L10"
    a = r.names.index("GNUGo-L10")
    assert r.elo[a] == pytest.approx(1800.0) and r.se[a] == pytest.approx(0.0, abs=1e-6)
    for name, true in TRUTH.items():
        i = r.names.index(name)
        lo, hi = r.interval(i)
        assert lo <= true <= hi, (name, true, lo, hi)
        if name != "GNUGo-L10":
            assert 10 < r.se[i] < 60  # ~300 games a pair: a few tens of Elo
    assert [r.names[i] for i in r.order()] == sorted(TRUTH, key=lambda n: -TRUTH[n])


def test_elo_intervals_have_about_95_percent_coverage() -> None:
    rng = random.Random(5)
    hits = total = 0
    for _ in range(60):
        r = fit(simulate(TRUTH, 80, rng))
        for name, true in TRUTH.items():
            if name == "GNUGo-L10":
                continue
            lo, hi = r.interval(r.names.index(name))
            hits += lo <= true <= hi
            total += 1
    assert 0.90 <= hits / total <= 0.99, hits / total


def test_perfect_records_give_finite_ratings_thanks_to_the_prior() -> None:
    games = [("god", "GNUGo-L10", 1.0)] * 40 + [("GNUGo-L10", "patzer", 1.0)] * 40
    r = fit(games)
    god, patzer = r.names.index("god"), r.names.index("patzer")
    assert all(np.isfinite(r.elo)) and all(np.isfinite(r.se))
    # 40-0 plus one virtual draw reads as 40.5 : 0.5
    assert r.elo[god] - 1800 == pytest.approx(ELO_PER_NAT * math.log(81), abs=1.0)
    assert r.elo[patzer] < 1800 - 500
    assert "prior 1 virtual draw" in format_table(r)


def test_draws_count_half_and_no_anchor_means_mean_zero() -> None:
    r = fit([("x", "y", 0.5)] * 10 + [("x", "y", 1.0)] * 10 + [("y", "x", 1.0)] * 10, EloConfig(anchor="absent"))
    assert r.anchor is None
    assert r.elo.mean() == pytest.approx(0.0, abs=1e-9)
    assert r.elo[0] == pytest.approx(r.elo[1], abs=1e-6)  # 15 : 15
    assert r.winrates()[0, 1] == pytest.approx(0.5)


def test_ratings_png_is_written(tmp_path: Path) -> None:
    r = fit(simulate(TRUTH, 10, random.Random(1)))
    plot(r, tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
