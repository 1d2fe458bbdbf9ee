"""scripts/paired_arena.py: two gauntlets on the same openings, compared game by game."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from script_module import load_script

REPO = Path(__file__).resolve().parent.parent


def _module():
    return load_script("paired_arena")


def write(path: Path, hero: str, outcomes: str, openings=None) -> Path:
    """``outcomes``: one letter per game, W / D / L for the hero; the hero is Black in even games."""
    rows = []
    for i, o in enumerate(outcomes):
        black, white = (hero, "GNUGo") if i % 2 == 0 else ("GNUGo", hero)
        winner = {"W": hero, "L": "GNUGo", "D": None}[o]
        rows.append({"a": hero, "b": "GNUGo", "black": black, "white": white, "winner": winner, "index": i,
                     "opening": (openings or {}).get(i, ["D5", "E5"]), "fault": None})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_pairs_score_by_colour_and_sign_test(tmp_path) -> None:
    mod = _module()
    a = write(tmp_path / "a.jsonl", "old", "LLLLWLDL")
    b = write(tmp_path / "b.jsonl", "new", "WLWLWWLL")
    r = mod.compare(a, b)
    assert r["a"]["all"] == {"wins": 1, "draws": 1, "losses": 6, "score": 0.1875}
    assert r["b"]["as_black"] == {"wins": 3, "draws": 0, "losses": 1, "score": 0.75}  # games 0, 2, 4, 6
    assert r["b"]["as_white"]["wins"] == 1
    q = r["paired"]
    assert (q["games"], q["points_a"], q["points_b"], q["b_better"], q["b_worse"]) == (8, 1.5, 4.0, 3, 1)
    assert q["sign_test_p"] == 0.625  # 2 * P(X <= 1), X ~ Bin(4, 1/2) = 2 * 5/16
    assert mod.sign_test(10, 0) < 0.002 and mod.sign_test(0, 0) == 1.0


def test_different_openings_are_refused_with_a_reason(tmp_path) -> None:
    a = write(tmp_path / "a.jsonl", "old", "WL")
    b = write(tmp_path / "b.jsonl", "new", "WL", openings={1: ["C3", "G7"]})
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "paired_arena.py"), str(a), str(b)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "game 1: openings or colours differ" in done.stderr
    out = tmp_path / "p.json"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "paired_arena.py"), str(a), str(a), "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "b better in 0, worse in 0" in done.stdout
    assert json.loads(out.read_text())["paired"]["sign_test_p"] == 1.0


def _arena_run(folder: Path, hero: str, games: dict[int, list[str]]) -> Path:
    """A fake arena run folder: results.jsonl and one SGF a game (moves as SGF points, Black first)."""
    from sgfmill import sgf

    (folder / "games").mkdir(parents=True)
    rows = []
    for i, moves in games.items():
        game = sgf.Sgf_game(9)
        for k, m in enumerate(moves):
            node = game.extend_main_sequence()
            node.set_move("b" if k % 2 == 0 else "w", (8 - (ord(m[1]) - 97), ord(m[0]) - 97))
        name = f"games/{hero}__GNUGo__{i:04d}.sgf"
        (folder / name).write_bytes(game.serialise())  # sgfmill wraps long lines: several lines a game
        rows.append({"a": hero, "b": "GNUGo", "black": hero, "white": "GNUGo", "winner": hero, "index": i,
                     "opening": ["D5", "E5"], "fault": None, "sgf": name, "id": f"{hero}|GNUGo|{i}"})
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reversed(rows)))
    return folder / "results.jsonl"


def test_packed_games_pair_move_by_move(tmp_path) -> None:
    long_game = ["ee", "dc", "cc", "gg", "fc", "cg", "gc", "ge", "dg", "ef", "eh", "fh", "gh", "fi", "hf", "hh", "ig"]
    a = _arena_run(tmp_path / "a", "old", {0: ["ee", "dc", "cc"], 1: long_game, 2: ["ee", "dc"]})
    b = _arena_run(tmp_path / "b", "new", {0: ["ee", "dc", "cc"], 1: long_game[:9] + ["aa"], 2: ["ee", "dc", "gg"]})
    script = REPO / "scripts" / "pack_arena_games.py"
    for run in (a, b):
        done = subprocess.run([sys.executable, str(script), str(run), "--out", str(run.parent / "games.sgf")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "3 games" in done.stdout, done.stderr
    packed = (a.parent / "games.sgf").read_bytes().splitlines()
    assert len(packed) == 3 and all(line.startswith(b"(;") and line.endswith(b")") for line in packed)
    assert b"GN[old|GNUGo|0]" in packed[0] and b"GN[old|GNUGo|2]" in packed[2]  # index order, not the file's
    out = tmp_path / "p.json"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "paired_arena.py"), str(a), str(b), "--out", str(out),
                           "--games", str(a.parent / "games.sgf"), str(b.parent / "games.sgf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 of 3 pairs are the same game" in done.stdout
    moves = json.loads(out.read_text())["moves"]
    # game 1 differs at its 10th move, game 2 where one record goes on (ply 3)
    assert moves["first_difference"] == {"0": None, "1": 10, "2": 3} and moves["median_first_difference"] == 10


def test_packing_refuses_a_game_without_its_record(tmp_path) -> None:
    run = _arena_run(tmp_path / "a", "old", {0: ["ee"], 1: ["dc"]})
    (run.parent / "games" / "old__GNUGo__0001.sgf").unlink()
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "pack_arena_games.py"), str(run), "--out",
                           str(tmp_path / "g.sgf")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "error:" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "g.sgf").exists()
