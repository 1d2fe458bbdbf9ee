"""Self-play corpora on GNU Go level 0/1 games: resume, dedup, torn-line repair."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.corpus import CorpusFile, read_records, record_key
from engine.engines import gnugo_available
from engine import selfplay
from engine.selfplay import SelfPlayConfig, run_selfplay

pytestmark = pytest.mark.skipif(not gnugo_available(), reason="GNU Go is not installed")

CFG = SelfPlayConfig(engines=("gnugo:0", "gnugo:1"), size=9, komi=7.0, opening_min=1, opening_max=3, move_timeout=30)


def keys_of(folder: Path) -> list[str]:
    return [record_key(r.size, r.moves) for r in read_records(folder / "games.sgf")]


def grow(folder: Path, games: int, seed: int, log_dir: Path) -> dict:
    return run_selfplay(CFG, folder, games, workers=1, seed=seed, data_dir=None, log_dir=log_dir, progress=False)


def test_selfplay_resumes_to_the_target_without_duplicates(tmp_path: Path) -> None:
    out = tmp_path / "gnugo9"
    first = grow(out, 3, seed=11, log_dir=tmp_path / "logs")
    assert first["count"] == 3 and first["start"] == 0
    keys = keys_of(out)
    assert len(keys) == 3 and len(set(keys)) == 3
    second = grow(out, 5, seed=11, log_dir=tmp_path / "logs")
    assert second["start"] == 3 and second["count"] == 5
    keys2 = keys_of(out)
    assert len(keys2) == 5 and len(set(keys2)) == 5
    assert keys2[:3] == keys  # appended, never rewritten
    # every stored game was played to the end and carries its result
    for rec in read_records(out / "games.sgf"):
        assert rec.result and rec.size == 9 and len(rec.moves) > 10
        assert rec.black_player.startswith("GNUGo-L") and rec.white_player.startswith("GNUGo-L")


def test_rerun_drops_games_it_already_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GNU Go with a fixed --seed replays the same games in a fresh process; with empty openings
    # a rerun (fresh worker processes) therefore first reproduces the games already stored.
    real = selfplay.spec_from_preset
    monkeypatch.setattr(selfplay, "spec_from_preset", lambda preset, *a, **kw: real(preset, *a, **{**kw, "seed": 1}))
    cfg = SelfPlayConfig(engines=("gnugo:0",), opening_min=0, opening_max=0, move_timeout=30)
    out = tmp_path / "det"
    first = run_selfplay(cfg, out, 2, workers=1, seed=0, log_dir=tmp_path / "logs", progress=False)
    assert first["count"] == 2 and first["duplicates"] == 0
    second = run_selfplay(cfg, out, 3, workers=1, seed=0, log_dir=tmp_path / "logs", progress=False)
    assert second["duplicates"] == 2  # the two replayed games were recognised and dropped
    assert second["count"] == 3
    keys = keys_of(out)
    assert len(keys) == 3 and len(set(keys)) == 3


def test_a_game_stored_in_a_sibling_corpus_is_a_duplicate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # two corpora of one data dir (e.g. GNU Go at levels 1/5/10 and at 1-5) replay some of the same
    # games: the second keeps none of the first's, and the manifest lists both
    real = selfplay.spec_from_preset
    monkeypatch.setattr(selfplay, "spec_from_preset", lambda preset, *a, **kw: real(preset, *a, **{**kw, "seed": 1}))
    cfg = SelfPlayConfig(engines=("gnugo:0",), opening_min=0, opening_max=0, move_timeout=30)
    data = tmp_path / "data"
    first = run_selfplay(cfg, data / "a", 2, workers=1, seed=0, data_dir=data, log_dir=tmp_path / "la", progress=False)
    assert first["count"] == 2
    second = run_selfplay(cfg, data / "b", 3, workers=1, seed=0, data_dir=data, log_dir=tmp_path / "lb",
                          progress=False, max_stale=2)
    assert second["duplicates"] == 2 and second["count"] == 0  # both replays were a's games: none kept
    assert not set(keys_of(data / "a")) & set(keys_of(data / "b"))
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["corpora"]["a"]["games"] == 2 and manifest["corpora"]["b"]["games"] == 0


def test_a_run_that_only_replays_known_games_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = selfplay.spec_from_preset
    monkeypatch.setattr(selfplay, "spec_from_preset", lambda preset, *a, **kw: real(preset, *a, **{**kw, "seed": 1}))
    cfg = SelfPlayConfig(engines=("gnugo:0",), opening_min=0, opening_max=0, move_timeout=30)
    out = tmp_path / "det"
    run_selfplay(cfg, out, 2, workers=1, seed=0, log_dir=tmp_path / "logs", progress=False)
    again = run_selfplay(cfg, out, 50, workers=1, seed=0, log_dir=tmp_path / "logs", progress=False, max_stale=2)
    assert again["duplicates"] == 2 and again["count"] == 2  # two replays in a row: stop, not loop forever
    assert "in a row" in again["stopped"]


def test_torn_last_line_is_cut_off_and_the_corpus_keeps_growing(tmp_path: Path) -> None:
    out = tmp_path / "gnugo9"
    grow(out, 2, seed=5, log_dir=tmp_path / "logs")
    good = (out / "games.sgf").read_bytes()
    with open(out / "games.sgf", "ab") as f:
        f.write(b"(;GM[1]FF[4]SZ[9];B[ee];W[")  # a writer killed mid-game, no newline
    cf = CorpusFile(out)  # reopening repairs
    assert cf.count == 2
    assert (out / "games.sgf").read_bytes() == good
    stats = grow(out, 3, seed=6, log_dir=tmp_path / "logs")
    assert stats["count"] == 3
    assert len(set(keys_of(out))) == 3
    assert (out / "games.sgf").read_bytes().startswith(good)


def test_duplicate_append_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "c"
    grow(out, 1, seed=1, log_dir=tmp_path / "logs")
    cf = CorpusFile(out)
    line = (out / "games.sgf").read_bytes().strip()
    key = keys_of(out)[0]
    assert cf.append(line, key, 10) is False
    assert CorpusFile(out).count == 1


def test_a_resigned_game_gets_the_key_its_reloaded_sgf_gets():
    from engine.coords import RESIGN
    from engine.corpus import game_key, record_key
    from engine.game import Game
    from engine.sgf import dump_game, parse_collection

    g = Game(9)
    g.play((2, 2))
    g.play(RESIGN)
    rec = parse_collection(dump_game(g))[0]
    assert rec.result == "B+R"
    assert game_key(g) == record_key(9, rec.moves)


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc: the parent pid is field 4 of stat)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.add(c)
            todo.append(c)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("whom", ["parent", "everyone"])  # `kill PID`, and `pkill -f selfplay`
def test_sigterm_stops_workers_and_engines_and_keeps_the_stored_games(tmp_path: Path, whom: str) -> None:
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "gnugo9"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "selfplay", "--engines", "gnugo:0", "--out", str(out), "--games", "500",
         "--workers", "2", "--opening", "1-4", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])
    try:
        corpus = out / "games.sgf"
        deadline = time.monotonic() + 120
        while not (corpus.exists() and corpus.read_text().count("\n") >= 1):  # one game stored
            assert proc.poll() is None, "selfplay ended by itself"
            assert time.monotonic() < deadline, "no game stored in 120 s"
            time.sleep(0.2)
        engines = [p for p in _descendants(proc.pid) if "gnugo" in Path(f"/proc/{p}/cmdline").read_text()]
        assert engines, "no GNU Go running under the job"
        below = _descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        if whom == "everyone":
            workers = [p for p in below if "engine.cli" in Path(f"/proc/{p}/cmdline").read_text()]
            assert workers
            for p in workers:
                os.kill(p, signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "interrupted" in json.loads(stdout.decode().strip().splitlines()[-1])["stopped"]
    time.sleep(0.5)
    assert not [p for p in below if _alive(p)], "workers or engines outlived the job"
    stored = keys_of(out)  # every stored line parses: nothing torn
    assert len(stored) >= 1 and len(set(stored)) == len(stored)
    assert CorpusFile(out).count == len(stored)
