"""scripts/paired_arena.py: two gauntlets on the same openings, compared game by game."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _module():
    spec = importlib.util.spec_from_file_location("paired_arena", REPO / "scripts" / "paired_arena.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


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
