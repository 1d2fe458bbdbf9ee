"""KaTrain's own core drives `videoworld-go analysis` (KataGo's analysis protocol, server/analysis_engine.py):
tests/katrain/katrain_probe.py runs in .venv-katrain (KaTrain 1.20.0 from PyPI, kept out of the product's venv;
`bash scripts/install.sh --test` makes it) and uses KaTrain's engine client, game and nodes without a window, as
the KaTrain app does: each node of a short game analysed as it is played (KaTrain's queries: its overrideSettings,
includeMovesOwnership, priorities, reports during the search), pondering and its stop (10,000,000 visits, then
terminate), and "find alternatives" (avoidMoves). The shipped weights answer.

Skipped only when .venv-katrain is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.coords import from_gtp
from engine.game import Game

ROOT = Path(__file__).resolve().parent.parent
KATRAIN_PYTHON = ROOT / ".venv-katrain/bin/python"
# KaTrain's "custom command" runs under `sh -c`: exec, so that KaTrain's terminate reaches the engine (docs/gtp.md)
ENGINE = f"exec {Path(sys.executable).parent / 'videoworld-go'} analysis"

pytestmark = pytest.mark.skipif(not KATRAIN_PYTHON.exists(),
                                reason="needs KaTrain in .venv-katrain (bash scripts/install.sh --test)")


def test_katrain_analyses_a_game_ponders_stops_and_finds_alternatives(tmp_path):
    moves = ["E5", "C3"]
    env = dict(os.environ, HOME=str(tmp_path))  # KaTrain writes its config and logs under ~/.katrain
    try:
        out = subprocess.run([str(KATRAIN_PYTHON), str(ROOT / "tests/katrain/katrain_probe.py"), ENGINE,
                              ",".join(moves), "20"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=400)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"KaTrain's probe did not end: {(e.stdout or b'')[-2000:]!r} {(e.stderr or b'')[-3000:]!r}")
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 6, out.stdout[-2000:] + out.stderr[-3000:]
    nodes, ponder, alternatives, log = lines[:3], lines[3], lines[4], lines[5]

    for k, node in enumerate(nodes):
        assert node["move"] == ([None] + moves)[k] and node["next"] == "BW"[k % 2]
        assert node["complete"] and node["visits"] >= 300  # KaTrain's max_visits, set to 300 by the probe
        assert 0 < node["winrate"] < 1 and node["score"] is not None  # KaTrain reads them as Black's
        assert node["policy"] == 82 and node["ownership"] == 81  # 9x9 + pass; includeOwnership is on by default
        cands = node["candidates"]
        assert cands and all(c["visits"] > 0 and 0 <= c["winrate"] <= 1 for c in cands)
        assert sum(c["prior"] for c in cands) <= 1 + 1e-6
        for c in cands:  # KaTrain's lines are legal from the node's position
            game = Game(9)
            for v in moves[:k] + c["pv"]:
                assert game.position.is_legal(from_gtp(v, 9), game.to_play), (k, c)
                game.play(from_gtp(v, 9), game.to_play)
        # points lost: KaTrain's difference between the node's score and each move's, finite for every candidate
        assert all(isinstance(c["pointsLost"], float) for c in cands)

    # pondering grows the analysis; KaTrain's stop (terminate) frees the engine for the next query at once
    assert ponder["ponder_grew"] and ponder["visits_pondering"] > ponder["visits_before"] + 1000
    assert ponder["back_after_stop"] and ponder["seconds_to_answer_after_stop"] < 10
    assert ponder["visits_after_stop"] >= 300
    # find alternatives: the engine's answer lists other moves, none of those KaTrain asked it to avoid
    assert alternatives["alternatives_answered"] and alternatives["moves"] and len(alternatives["avoided"]) >= 5
    assert not set(alternatives["moves"]) & set(alternatives["avoided"])
    assert log["messages"] == []  # no error KaTrain logged, no popup it raised
