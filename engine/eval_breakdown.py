"""Best-Action Accuracy split by corpus and by phase of the game, from one `eval run --answers` file.

The aggregate figure says how often a player plays KataGo's first choice; this says where it does
not. Beside the player's rate each row gives two references on the same positions: how often the
video itself (the move really played in the game the position comes from) is KataGo's first choice,
which bounds what imitating that video can reach, and how often the player plays the video's move.
All three use `engine.metrics.same_move` (a move equals another up to a symmetry of the position),
as the reported metric does.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from engine.labels import Label
from engine.metrics import Answer, Rate, same_move

DEFAULT_PHASES = "0-9,10-29,30-59,60-"  # moves played before the position (a label's k)
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Phase:
    first: int
    last: Optional[int]  # None: no upper end

    @property
    def name(self) -> str:
        return f"{self.first}-{'' if self.last is None else self.last}"

    def holds(self, k: int) -> bool:
        return k >= self.first and (self.last is None or k <= self.last)


def parse_phases(text: str) -> list[Phase]:
    """"0-9,10-29,60-" -> phases (moves before the position); ValueError for overlaps or bad bounds."""
    phases = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        if not sep or not lo.isdigit() or (hi and not hi.isdigit()):
            raise ValueError(f"a phase is FIRST-LAST or FIRST- (moves before the position), got {part!r}")
        phase = Phase(int(lo), int(hi) if hi else None)
        if phase.last is not None and phase.last < phase.first:
            raise ValueError(f"phase {part!r} ends before it starts")
        phases.append(phase)
    phases.sort(key=lambda p: p.first)
    for a, b in zip(phases, phases[1:]):
        if a.last is None or a.last >= b.first:
            raise ValueError(f"phases {a.name} and {b.name} overlap")
    return phases


@dataclass
class Row:
    corpus: str  # "all" for every corpus
    phase: str  # "all" for every phase
    ours: Rate  # the player's move is KataGo's first choice (BAA, policy)
    video: Rate  # the game's own move is KataGo's first choice (positions whose label knows it)
    ours_played: Rate  # the player's move is the game's own move

    def to_dict(self) -> dict:
        return {"corpus": self.corpus, "phase": self.phase, "best_policy": self.ours.to_dict(),
                "video_best": self.video.to_dict(), "same_as_video": self.ours_played.to_dict()}


def breakdown(labels: dict[str, Label], answers: Iterable[Answer], phases: list[Phase]) -> list[Row]:
    """One row per (corpus, phase) with positions, then each corpus over all phases, each phase over all
    corpora, and the total ("all", "all"). Positions outside every phase count in the corpus totals only."""
    counts: dict[tuple[str, str], list[int]] = {}  # (corpus, phase) -> the three rates' k and n, in turn

    def add(key: tuple[str, str], ours: bool, video: Optional[bool], played: Optional[bool]) -> None:
        c = counts.setdefault(key, [0, 0, 0, 0, 0, 0])  # ours k, n, video k, video n, played k, played n
        c[0] += ours
        c[1] += 1
        if video is not None:
            c[2] += video
            c[3] += 1
        if played is not None:
            c[4] += played
            c[5] += 1

    for a in answers:
        lb = labels.get(a.id)
        if lb is None:
            raise ValueError(f"answer for {a.id}, which the labels do not hold: give the labels it was made on")
        best = lb.policy_best
        ours = same_move(lb, a.move, best)
        video = None if lb.played is None or best is None else same_move(lb, lb.played, best)
        played = None if lb.played is None else same_move(lb, a.move, lb.played)
        corpus = str(lb.source.get("corpus") or "?")
        phase = next((p.name for p in phases if p.holds(len(lb.moves))), None)  # the moves before it: the label's k
        keys = [(corpus, "all"), ("all", "all")]
        if phase is not None:
            keys += [(corpus, phase), ("all", phase)]
        for key in keys:
            add(key, ours, video, played)
    order = {p.name: i for i, p in enumerate(phases)}
    order["all"] = len(phases)
    rows = [Row(c, p, Rate(v[0], v[1]), Rate(v[2], v[3]), Rate(v[4], v[5])) for (c, p), v in counts.items()]
    rows.sort(key=lambda r: (r.corpus == "all", r.corpus, order[r.phase]))
    return rows


def format_rows(rows: list[Row]) -> str:
    def pct(r: Rate) -> str:
        return "-" if not r.n else f"{100 * r.value:.1f}"

    lines = ["| corpus | moves before | positions | BAA policy % | video's move = KataGo's first % | "
             "same move as the video % |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.corpus} | {r.phase} | {r.ours.n} | {pct(r.ours)} | {pct(r.video)} | {pct(r.ours_played)} |")
    return "\n".join(lines)


def add_parser(ev) -> None:
    """`videoworld-go eval breakdown` (under `eval`'s subcommands)."""
    b = ev.add_parser("breakdown", help="Best-Action Accuracy by corpus and phase from an `eval run --answers` file")
    b.add_argument("answers", help="answers file of `eval run --answers`")
    b.add_argument("--player", default=None, help="the player's name (needed when the file holds several)")
    b.add_argument("--phases", default=DEFAULT_PHASES,
                   help=f"moves played before the position, FIRST-LAST or FIRST-, comma-separated (default {DEFAULT_PHASES})")
    b.add_argument("--data-dir", default=str(REPO / "data"))
    b.add_argument("--size", type=int, default=9)
    b.add_argument("--split", choices=("test", "val"), default="test", help="which label cache (see eval label)")
    b.add_argument("--labels", default=None, help="label cache (default DATA_DIR/oracle/{split}{size}.jsonl)")
    b.add_argument("--out", default=None, help="also write the rows as JSON here")
    b.set_defaults(func=run_breakdown)


def run_breakdown(args: argparse.Namespace) -> int:
    import sys

    from engine.eval_answers import pick_player, read_answers
    from engine.evaluate import _labels_path
    from engine.labels import load_labels

    path = _labels_path(args)
    try:
        phases = parse_phases(args.phases)
        name, answers = pick_player(read_answers(Path(args.answers), args.size), args.player, Path(args.answers))
        rows = breakdown(load_labels(path), answers, phases)
    except (OSError, ValueError) as e:
        print(f"videoworld-go eval breakdown: {e}", file=sys.stderr)
        return 2
    print(f"{name}: {len(answers)} answers, labels {path}")
    print(format_rows(rows))
    if args.out:
        Path(args.out).write_text(json.dumps({"player": name, "answers": args.answers, "labels": str(path),
                                              "phases": args.phases, "rows": [r.to_dict() for r in rows]},
                                             indent=2) + "\n")
    return 0
