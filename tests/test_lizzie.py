"""Lizzie itself drives the engine: Debian's liblizzie-java (Lizzie 0.7.4, its own main and window on a virtual
display), configured with `videoworld-go gtp --override-version 0.17` as its engine, analyses the empty 9x9 board,
then the positions after two moves placed through Lizzie's board. tests/java/LizzieProbe.java prints what Lizzie
holds: its best moves with playouts, winrate, policy and lines, parsed by Lizzie's own code from our lz-analyze.

Skipped only when java/javac, Lizzie or xvfb-run is missing (`bash scripts/install.sh --test` installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.coords import from_gtp
from engine.game import Game

ROOT = Path(__file__).resolve().parent.parent
LIZZIE = Path("/usr/share/java/lizzie.jar")
ENGINE = [str(Path(sys.executable).parent / "videoworld-go"), "gtp"]

pytestmark = pytest.mark.skipif(
    not LIZZIE.exists() or not all(shutil.which(c) for c in ("java", "javac", "xvfb-run")),
    reason="needs Lizzie (apt-get install liblizzie-java), java/javac and xvfb-run (apt-get install xvfb xauth)")


def run_lizzie(tmp_path: Path, engine: list[str], moves: list[str], seconds: float) -> str:
    """Lizzie's probe run with ``engine`` as Lizzie's engine command; its stdout (Lizzie echoes the GTP it sends
    and the answers, print-comms, and the probe prints what Lizzie understood)."""
    classes = tmp_path / "classes"
    subprocess.run(["javac", "-cp", str(LIZZIE), "-d", str(classes), str(ROOT / "tests/java/LizzieProbe.java")],
                   check=True, capture_output=True, timeout=120)
    home = tmp_path / "home"
    config = home / ".config/leela-zero/lizzie-config.txt"  # where Lizzie 0.7.4 looks, under user.home
    config.parent.mkdir(parents=True)
    # Only what differs from Lizzie's defaults (it fills in the rest and keeps them)
    config.write_text(json.dumps({"leelaz": {"engine-command": " ".join(engine), "print-comms": True},
                                  "ui": {"board-size": 9, "resume-previous-game": False}}))
    env = dict(os.environ, HOME=str(home))
    out = subprocess.run(["xvfb-run", "-a", "java", f"-Duser.home={home}", "-cp", f"{LIZZIE}:{classes}",
                          "LizzieProbe", str(seconds), *moves],
                         cwd=home, env=env, capture_output=True, text=True, timeout=seconds + 90)
    return out.stdout


def positions(stdout: str) -> list[tuple[dict, list[dict]]]:
    """(Lizzie's state, its best moves) per analysed position, in order."""
    found: list[tuple[dict, list[dict]]] = []
    for line in stdout.splitlines():
        word, *rest = line.split() or [""]
        if word == "POSITION":
            found.append((dict(kv.split("=") for kv in rest[1:]), []))
        elif word == "MOVE":
            found[-1][1].append({"move": rest[0], "playouts": int(rest[1]), "winrate": float(rest[2]),
                                 "policy": float(rest[3]), "pv": rest[4:]})
    return found


def test_lizzie_shows_the_engines_analysis_and_follows_the_game(tmp_path):
    moves = ["E5", "C3"]
    stdout = run_lizzie(tmp_path, ENGINE + ["--override-version", "0.17"], moves, seconds=120)
    assert "DONE" in stdout, stdout[-3000:]
    seen = positions(stdout)
    assert len(seen) == 3
    for k, (state, best) in enumerate(seen):
        assert state["pondering"] == "true" and best
        assert 0 < float(state["winrate"]) < 100  # Lizzie's winrate for the position, from our lines
        assert sum(m["policy"] for m in best) <= 100.0 + 1e-6
        for m in best:
            assert 0 <= m["winrate"] <= 100 and m["playouts"] > 0
            assert m["pv"] and m["pv"][0] == m["move"]
            line = Game(9)
            for v in moves[:k] + m["pv"]:  # each line is a legal sequence from the position Lizzie shows
                assert line.position.is_legal(from_gtp(v, 9), line.to_play), (k, m)
                line.play(from_gtp(v, 9), line.to_play)
        playouts = [m["playouts"] for m in best]
        assert playouts == sorted(playouts, reverse=True)  # Lizzie's order: most simulated first
    assert "> 6 play B E5" in stdout and "> 8 play W C3" in stdout
    # the lz-analyze lines Lizzie asked for, after each move (print-comms echoes the commands it sent)
    assert stdout.count("lz-analyze") >= 3


def test_without_override_version_lizzie_stops_at_its_leela_zero_version_check(tmp_path):
    # Lizzie reads a non-KataGo engine's `version` as Leela Zero's and, under 0.15, opens a modal dialog on the
    # thread that reads the engine: nothing more is read until someone clicks. The reason for --override-version.
    stdout = run_lizzie(tmp_path, ENGINE + ["--player", "random"], [], seconds=8)
    assert "=2 0.1" in stdout and "POSITION" not in stdout and "TIMEOUT 0" in stdout
