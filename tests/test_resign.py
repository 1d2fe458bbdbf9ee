"""Resigning lost games (engine/resign.py): only after N low winrates in a row, never in cleanup."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis import Analysis
from engine.coords import RESIGN, from_gtp
from engine.game import Game
from engine.resign import ResignConfig, ResigningPlayer
from gtp.engine import GtpEngine


class ScriptedAnalyzer:
    """Plays the first legal point; its winrate for each call comes from ``winrates`` in turn."""

    name = "scripted"

    def __init__(self, winrates):
        self.winrates = list(winrates)

    def analyze_many(self, requests, cleanup=False, move_winrates=0):
        out = []
        for g, c in requests:
            n = g.size
            mask = g.position.legal_mask(c)
            probs = mask / mask.sum()
            flat = int(np.flatnonzero(mask[:-1])[0])
            move = (flat // n, flat % n)
            out.append(Analysis(probs, probs, move, True, move, self.winrates.pop(0), [], g.position.array(), None))
        return out


def play(player, game, moves):
    """Alternate: our genmove for Black, then ``moves`` for White; returns what Black answered."""
    answers = []
    for w in moves:
        m = player.genmove(game, 1)
        answers.append(m)
        if m is RESIGN:
            break
        game.play(m, 1)
        game.play(from_gtp(w, game.size), 2)
    return answers


def test_resigns_only_after_the_set_number_of_low_winrates_in_a_row():
    cfg = ResignConfig(below=0.1, turns=3, min_moves=0)
    p = ResigningPlayer(ScriptedAnalyzer([0.05, 0.05, 0.5, 0.05, 0.05, 0.02]), cfg)
    answers = play(p, Game(9), ["J9", "J8", "J7", "J6", "J5", "J4"])
    assert [a is RESIGN for a in answers] == [False] * 5 + [True]  # the 0.5 broke the first run


def test_no_resignation_before_min_moves_in_cleanup_or_without_a_winrate():
    early = ResigningPlayer(ScriptedAnalyzer([0.01] * 6), ResignConfig(below=0.1, turns=2, min_moves=8))
    answers = play(early, Game(9), ["J9", "J8", "J7", "J6", "J5", "J4"])
    assert [a is RESIGN for a in answers] == [False] * 4 + [True]  # move 8 is the first allowed
    g = Game(9)
    cleanup = ResigningPlayer(ScriptedAnalyzer([0.01] * 3), ResignConfig(below=0.1, turns=1, min_moves=0))
    assert all(cleanup.genmove(g, 1, cleanup=True) is not RESIGN for _ in range(3))
    blind = ResigningPlayer(ScriptedAnalyzer([None] * 3), ResignConfig(below=0.1, turns=1, min_moves=0))
    assert all(blind.genmove(g, 1) is not RESIGN for _ in range(3))


def test_an_undo_or_a_new_game_starts_the_count_again():
    cfg = ResignConfig(below=0.1, turns=2, min_moves=0)
    p = ResigningPlayer(ScriptedAnalyzer([0.01] * 4), cfg)
    g = Game(9)
    assert p.genmove(g, 1) is not RESIGN  # move 0: one low
    g2 = Game(9)  # a new game: move 0 again, not this colour's next move
    assert p.genmove(g2, 1) is not RESIGN
    g2.play(from_gtp("A1", 9), 1)
    g2.play(from_gtp("J9", 9), 2)
    assert p.genmove(g2, 1) is RESIGN  # move 2 follows move 0 of this line


def test_a_bad_threshold_is_refused():
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError):
            ResignConfig(below=bad)
    with pytest.raises(ValueError):
        ResignConfig(turns=0)


def test_gtp_genmove_answers_resign_and_analysis_still_works():
    p = ResigningPlayer(ScriptedAnalyzer([0.01, 0.01, 0.5]), ResignConfig(below=0.1, turns=1, min_moves=0))
    engine = GtpEngine(lambda: Game(size=9, komi=7), p)
    assert engine.handle("1 genmove b") == "=1 resign\n\n"
    assert "lz-analyze" in engine.handle("list_commands")
    assert engine.handle("2 lz-analyze b").startswith("=2\ninfo move")


def test_the_gtp_command_line_resigns_with_the_shipped_model_and_refuses_a_bad_threshold():
    """End to end: the shipped engine's winrate at the empty board (its search's win share) is far below 0.99."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", "gtp", "--resign-turns", "1", "--resign-min-moves", "0"]
    done = subprocess.run(cmd + ["--resign-below", "0.99"], input="boardsize 9\ngenmove b\nquit\n", cwd=repo,
                          capture_output=True, text=True, timeout=120, env={"OMP_NUM_THREADS": "1", "PATH": ""})
    assert done.stdout.split("\n\n")[1] == "= resign", done.stdout + done.stderr[-2000:]
    rnd = subprocess.run(cmd + ["--resign-below", "0.99", "--player", "random"], input="genmove b\nquit\n", cwd=repo,
                         capture_output=True, text=True, timeout=60)
    assert rnd.stdout.startswith("= ") and "resign" not in rnd.stdout  # no winrate: it plays on
    bad = subprocess.run(cmd + ["--resign-below", "1.5"], input="quit\n", cwd=repo, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "strictly between 0 and 1" in bad.stderr
