"""The committed corpora under data/: the manifest tells the truth, no game is stored twice, and
every game was played to the end, so its area score is its result (GNU Go as the judge of dead
stones)."""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from pathlib import Path

import pytest

from engine.blunders import replay_on
from engine.corpus import SPLITS, read_records, record_key, sha256_file, split_of
from engine.engines import gnugo_available, gnugo_spec
from engine.sgf import record_to_game
from gtp.client import GtpClient

DATA = Path(__file__).resolve().parent.parent / "data"


def manifest() -> dict:
    return json.loads((DATA / "manifest.json").read_text())


def corpora() -> list[str]:
    return sorted(manifest()["corpora"])


@functools.lru_cache(maxsize=None)
def records(name: str) -> tuple:
    """Every game of one corpus (the file its manifest entry names), parsed once for all the tests."""
    return tuple(read_records(DATA / manifest()["corpora"][name]["file"]))


def test_every_corpus_on_disk_is_in_the_manifest() -> None:
    on_disk = sorted(p.parent.name for p in DATA.glob("*/games.sgf"))
    assert on_disk and on_disk == corpora()


@pytest.mark.parametrize("name", corpora())
def test_the_manifest_matches_the_corpus(name: str) -> None:
    entry = manifest()["corpora"][name]
    path = DATA / entry["file"]
    assert sha256_file(path) == entry["sha256"]
    assert path.read_bytes().endswith(b"\n")  # no torn last game
    games = records(name)
    assert len(games) == entry["games"]
    assert sum(len(r.moves) for r in games) == entry["moves"]
    splits = Counter(split_of(record_key(r.size, r.moves)) for r in games)
    assert {s: splits.get(s, 0) for s in SPLITS} == entry["splits"]
    assert (DATA / name / "corpus.json").exists() and entry["source"]["config"]["engines"]


def test_no_game_is_stored_twice_in_all_of_data() -> None:
    keys = Counter(record_key(r.size, r.moves) for name in corpora() for r in records(name))
    twice = [k for k, n in keys.items() if n > 1]
    assert not twice, f"{len(twice)} games stored more than once"


def sample(name: str, n: int, seed: int) -> list:
    games = records(name)
    return random.Random(seed).sample(games, min(n, len(games)))


@pytest.mark.parametrize("name", corpora())
def test_games_replay_under_our_rules_and_their_result_is_the_area_score(name: str) -> None:
    for rec in sample(name, 200, seed=0):
        assert rec.size == 9 and rec.komi == 7.0 and rec.result
        game = record_to_game(rec)  # raises on any move our rules (superko, no suicide) forbid
        if game.resigned is None:
            assert game.position.passes >= 2, "a scored game ends with two passes"
            assert game.result() == rec.result


@pytest.mark.skipif(not gnugo_available(), reason="GNU Go is not installed")
@pytest.mark.parametrize("name", corpora())
def test_gnugo_finds_no_dead_stone_left_on_the_final_board(name: str) -> None:
    # "played to the end": dead stones were captured, so area scoring needs no dead-stone judgement
    with GtpClient(gnugo_spec(10), timeout=60) as judge:
        for rec in sample(name, 25, seed=1):
            if record_to_game(rec).resigned is not None:
                continue
            replay_on(judge, rec, rec.komi)
            assert judge.send("final_status_list dead").split() == [], rec.result


def test_the_corpora_hold_what_the_issue_asks_for() -> None:
    # issue 3: at least 5,000 KataGo games for the first shipped model, at least 20,000 9x9 games in all;
    # a corpus is append-only, so these can only fail if games were lost
    entries = manifest()["corpora"]
    games = {name: entry["games"] for name, entry in entries.items()}
    katago = sum(entry["games"] for entry in entries.values()
                 if all(e.startswith("katago") for e in entry["source"]["config"]["engines"]))
    assert katago >= 5000, games
    assert sum(games.values()) >= 20000, games


def test_the_corpus_table_script_counts_the_committed_games_and_refuses_a_folder_without_a_manifest(tmp_path):
    """scripts/corpus_stats.py prints docs/data.md's table: one row per corpus with the games on disk."""
    import subprocess
    import sys

    script = DATA.parent / "scripts" / "corpus_stats.py"
    done = subprocess.run([sys.executable, str(script), str(DATA)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[1].strip(): line for line in done.stdout.splitlines()[2:]}
    assert set(rows) == set(corpora()) | {"**all**"}
    for name in corpora():
        assert rows[name].split("|")[2].strip().startswith(f"{len(records(name)):,} (")
    bad = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no manifest.json" in bad.stderr and "Traceback" not in bad.stderr
