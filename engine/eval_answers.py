"""Each position's answer from `videoworld-go eval run --answers FILE`, so two runs made on different days
(a shipped player, a candidate) can be paired position by position later (`videoworld-go eval paired`):
the aggregate report alone cannot say how many answers changed.

One JSON line per (player, position): ``{"player", "id", "move", "raw_move", "raw_legal", "legal",
"error"}``, moves as GTP vertices ("E5", "pass"; null: none).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Optional

from engine.coords import Move, from_gtp, to_gtp
from engine.metrics import Answer


def _vertex(move: Optional[Move], size: int) -> Optional[str]:
    return None if move is None else to_gtp(move, size)


def write_answers(path: Path, answers: dict[str, Iterable[Answer]], size: int) -> None:
    """All players' answers (``{player name: answers}``) to ``path``, replacing it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for player, rows in answers.items():
            for a in rows:
                f.write(json.dumps({"player": player, "id": a.id, "move": _vertex(a.move, size),
                                    "raw_move": _vertex(a.raw_move, size), "raw_legal": a.raw_legal,
                                    "legal": a.legal, "error": a.error}) + "\n")


def read_text(path: Path) -> str:
    """A file's text, gunzipped when its name ends in .gz (the answers and probe records kept in docs/)."""
    if path.suffix == ".gz":
        import gzip

        return gzip.decompress(path.read_bytes()).decode()
    return path.read_text()


def read_answers(path: Path, size: int) -> dict[str, list[Answer]]:
    """``{player name: answers}`` from a file ``write_answers`` wrote (or its .gz); ValueError (with the line)
    for a line that is not one."""
    out: dict[str, list[Answer]] = {}
    for i, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            move = None if r["move"] is None else from_gtp(r["move"], size)
            raw = None if r["raw_move"] is None else from_gtp(r["raw_move"], size)
            answer = Answer(str(r["id"]), move, raw, r["raw_legal"], r["legal"], str(r.get("error", "")))
            out.setdefault(str(r["player"]), []).append(answer)
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{i}: not an answer line ({e})") from None
    return out


def pick_player(answers: dict[str, list[Answer]], name: Optional[str], path: Path) -> tuple[str, list[Answer]]:
    """The answers of player ``name`` in a file (None: its only player); ValueError naming the players
    otherwise."""
    if name is None and len(answers) == 1:
        return next(iter(answers.items()))
    if name in answers:
        return name, answers[name]
    raise ValueError(f"{path} holds the answers of {', '.join(sorted(answers)) or 'no player'}: name one")
