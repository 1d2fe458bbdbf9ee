"""Named presets for the real engines: "gnugo:10", "katago:1" (visits), "random", "videoworld".

A preset turns into an ``EngineSpec`` (command line + setup commands) for the GTP
client. KataGo is found in the folder ``scripts/install_katago.sh`` installed it to
(passed in explicitly; the entry points read ``VIDEOWORLD_KATAGO``, default ``.katago``
in the repository).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Optional

from gtp.client import EngineSpec

GNUGO = "/usr/games/gnugo"
REPO = Path(__file__).resolve().parent.parent

# Our rules for KataGo: area scoring, positional superko, no suicide, and
# friendlyPassOk=false so it captures dead stones before passing (area score = result).
KATAGO_RULES = json.dumps({"ko": "POSITIONAL", "scoring": "AREA", "tax": "NONE", "suicide": False,
                           "hasButton": False, "whiteHandicapBonus": "0", "friendlyPassOk": False},
                          separators=(",", ":"))
# Move sampling for varied self-play (tested recipe: root noise is needed above 1 visit,
# or the NN cache replays the previous game).
KATAGO_SAMPLING = ("chosenMoveTemperatureEarly=0.8,chosenMoveTemperatureHalflife=10,"
                   "chosenMoveTemperature=0.2,rootNoiseEnabled=true")


def default_katago_dir() -> Path:
    return Path(os.environ.get("VIDEOWORLD_KATAGO", REPO / ".katago"))


def katago_available(katago_dir: Optional[Path] = None) -> bool:
    d = Path(katago_dir or default_katago_dir())
    return (d / "bin" / "katago").exists() and (d / "default_model.bin.gz").exists()


def gnugo_available() -> bool:
    return Path(GNUGO).exists() or shutil.which("gnugo") is not None


def katago_spec(visits: int, size: int = 9, sample: bool = True, katago_dir: Optional[Path] = None,
                name: Optional[str] = None) -> EngineSpec:
    d = Path(katago_dir or default_katago_dir())
    cfg = d / "configs" / ("gtp9.cfg" if size == 9 else "gtp.cfg")
    overrides = f"maxVisits={visits}" + ("," + KATAGO_SAMPLING if sample else "")
    cmd = [str(d / "bin" / "katago"), "gtp", "-model", str(d / "default_model.bin.gz"), "-config", str(cfg),
           "-override-config", overrides]
    return EngineSpec(name=name or f"KataGo-v{visits}" + ("-T" if sample else ""), command=cmd,
                      setup=(f"kata-set-rules {KATAGO_RULES}",))


def gnugo_spec(level: int, komi: float = 7.0, seed: Optional[int] = None, name: Optional[str] = None) -> EngineSpec:
    gnugo = GNUGO if Path(GNUGO).exists() else (shutil.which("gnugo") or GNUGO)
    # --positional-superko: our rules; by default GNU Go checks simple ko only, and in the arena's
    # cleanup phase it once retook a position (docs/gnugo10_v7_100, game 28: a fault, not a blunder)
    cmd = [gnugo, "--mode", "gtp", "--level", str(level), "--chinese-rules", "--positional-superko",
           "--komi", f"{komi:g}"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    return EngineSpec(name=name or f"GNUGo-L{level}", command=cmd)


def ours_spec(player: str = "random", seed: int = 0, extra: tuple[str, ...] = (), name: Optional[str] = None) -> EngineSpec:
    """Our own engine as a subprocess: `python -m gtp --player ...`."""
    cmd = [sys.executable, "-m", "gtp", "--player", player, "--seed", str(seed), *extra]
    return EngineSpec(name=name or f"videoworld-{player}", command=cmd, cwd=str(REPO))


def spec_from_preset(preset: str, size: int = 9, komi: float = 7.0, seed: Optional[int] = None,
                     katago_dir: Optional[Path] = None) -> EngineSpec:
    """'gnugo:LEVEL', 'katago:VISITS' (sampling), 'katago-greedy:VISITS', 'random', 'videoworld'."""
    kind, _, arg = preset.partition(":")
    if kind == "gnugo":
        return gnugo_spec(int(arg or 10), komi, seed)
    if kind in ("katago", "katago-greedy"):
        return katago_spec(int(arg or 1), size, sample=kind == "katago", katago_dir=katago_dir)
    if kind in ("random", "videoworld", "neural"):
        return ours_spec("random" if kind == "random" else "neural", seed or 0)
    raise ValueError(f"unknown engine preset {preset!r} (gnugo:L, katago:V, katago-greedy:V, random, videoworld)")
