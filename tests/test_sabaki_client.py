"""A real GUI client: @sabaki/gtp (Sabaki's own GTP controller) runs a full 9x9 game of
`python -m gtp --player neural` against GNU Go and reads our lz-analyze / kata-analyze
output with Sabaki's parsing rules (tests/js/sabaki_game.js).

npm installs the pinned client from tests/js/package-lock.json on first use (``npm ci``);
the test is skipped only when npm or node (or GNU Go) is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
JS = REPO / "tests" / "js"
GNUGO = "/usr/games/gnugo"

pytestmark = [
    pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                       reason="npm/node not found: the @sabaki/gtp client cannot be installed"),
    pytest.mark.skipif(not os.access(GNUGO, os.X_OK), reason=f"GNU Go not found at {GNUGO} (apt-get install -y gnugo)"),
]


@pytest.fixture(scope="module")
def node_modules() -> Path:
    if not (JS / "node_modules" / "@sabaki" / "gtp").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, timeout=600,
                       stdout=subprocess.DEVNULL)
    return JS / "node_modules"


def test_sabaki_controller_plays_a_full_game_against_gnugo_and_parses_our_analysis(node_modules, tiny_bundle):
    cfg = {
        "engine": [sys.executable, "-m", "gtp", "--player", "neural", "--weights", str(tiny_bundle)],
        "gnugo": [GNUGO, "--mode", "gtp", "--level", "1", "--chinese-rules"],
        "cwd": str(REPO), "maxMoves": 600, "analyzeEvery": 12,
    }
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # inherited by our engine's process
    proc = subprocess.run(["node", str(JS / "sabaki_game.js"), json.dumps(cfg)], cwd=JS, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)

    assert re.fullmatch(r"\d+\.\d+", out["version"])  # Lizzie reads the version as X.Y
    assert out["sabakiChoice"] == "kata-analyze" and "lz-analyze" in out["commands"]
    # A full game: both programs accepted every move of the other, and it ended by two passes.
    assert out["passes"] == 2, out["moves"][-6:]
    assert len(out["moves"]) >= 10
    for score in (out["ourScore"], out["gnugoScore"]):
        assert re.fullmatch(r"[BW]\+\d+(\.\d+)?|0", score), score

    assert len(out["analyses"]) >= 2
    with_moves = 0
    for a in out["analyses"]:
        assert not a["error"] and len(a["lines"]) >= 2 and len(set(a["lines"])) == 1
        variations = a["variations"][0]
        if set(re.findall(r"info move (\S+)", a["lines"][0])) == {"pass"}:
            # at the end of the game the model may put all its mass on pass: Sabaki shows no variation
            assert variations == [], a["lines"][0]
            continue
        with_moves += 1
        assert variations, a["lines"][0]
        for v in variations:
            assert v["vertex"] is not None and v["pv"] == [v["move"]]
            assert 0 <= v["winrate"] <= 100 and v["visits"] >= 1 and 0 < v["prior"] <= 100
        priors = [v["prior"] for v in variations]
        assert priors == sorted(priors, reverse=True)
    assert with_moves >= 2
    lz, kata = out["analyses"][0]["variations"][0], out["analyses"][1]["variations"][0]
    assert [v["move"] for v in lz] == [v["move"] for v in kata]
    assert all(abs(x["winrate"] - y["winrate"]) <= 0.01 for x, y in zip(lz, kata))  # x10000 ints vs floats


def test_sabaki_reads_a_monte_carlo_analysis_whose_visits_climb_until_it_ends_it(node_modules):
    # the Monte Carlo tree behind --player montecarlo (as behind the shipped 9x9 player) goes on searching while
    # Sabaki listens (engine/mc_live.py): each line Sabaki parses has at least as many visits as the one before
    cfg = {
        "engine": [sys.executable, "-m", "gtp", "--player", "montecarlo", "--mc-playouts", "500"],
        "gnugo": [GNUGO, "--mode", "gtp", "--level", "1", "--chinese-rules"],
        "cwd": str(REPO), "maxMoves": 40, "analyzeEvery": 10, "analysisLines": 4,
    }
    proc = subprocess.run(["node", str(JS / "sabaki_game.js"), json.dumps(cfg)], cwd=JS,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert len(out["analyses"]) >= 4
    for a in out["analyses"]:
        assert not a["error"] and len(a["lines"]) >= 4
        totals = [sum(v["visits"] for v in variations) for variations in a["variations"]]
        assert all(v["pv"] and v["pv"][0] == v["move"] for variations in a["variations"] for v in variations)
        assert totals == sorted(totals) and totals[-1] > totals[0], totals


def test_sabaki_sees_the_monte_carlo_search_think_through_genmove_analyze(node_modules):
    # a GUI showing the engine's thinking: each of our moves is asked as `lz-genmove_analyze B 10`; the info lines
    # come while the tree grows (gtp/analyze.py), each with more visits, the last one leading with the move played
    cfg = {
        "engine": [sys.executable, "-m", "gtp", "--player", "montecarlo", "--mc-playouts", "6000"],
        "gnugo": [GNUGO, "--mode", "gtp", "--level", "1", "--chinese-rules"],
        "cwd": str(REPO), "maxMoves": 16, "analyzeEvery": 1000, "analysisLines": 1,
        "genmoveAnalyze": "lz-genmove_analyze",
    }
    proc = subprocess.run(["node", str(JS / "sabaki_game.js"), json.dumps(cfg)], cwd=JS,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert len(out["thinking"]) == 8  # GNU Go accepted each of the 8 moves read from the "play" lines
    streamed = 0
    for move in out["thinking"]:
        assert move["lines"], move
        totals = [sum(v["visits"] for v in variations) for variations in move["variations"]]
        assert totals == sorted(totals), totals
        assert move["variations"][-1][0]["move"] == move["vertex"]  # the final line leads with the move played
        # a line that arrived well before the answer ended was sent during the search, not after it
        streamed += len(move["lines"]) >= 3 and move["at"][0] < move["ms"] - 100
    assert streamed >= 6, [(m["at"], m["ms"]) for m in out["thinking"]]
