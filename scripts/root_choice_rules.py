"""Scores rules for choosing the move from the Monte Carlo tree's root statistics against the oracle labels'
best move (KataGo's policy argmax, the Best-Action Accuracy's reference), by phase of the game, on the
records of scripts/root_stats_probe.py: every rule sees the same searches.

    .venv/bin/python scripts/root_choice_rules.py runs/probe/val_*.jsonl --split val [--out J]
        [--answers "close 0.7" REFERENCE_ANSWERS OUT]

Rules (the mover's view; "decided": the tree's own move wins at least ``t`` or at most ``1 - t`` of its
playouts; "well read": at least ``f`` of the most visited move's simulations):
- ``tree``: the tree's move (most visits), as played;
- ``network``: the network's most likely legal move;
- ``score t f``: when decided, the well-read move with the largest mean final margin; else the tree's move;
- ``net t f``: when decided, the network's most likely move among the well-read ones; else the tree's move;
- ``close f``: in any position, the network's most likely move when it has at least ``f`` of the most visited
  move's simulations (session 51; engine/mc_player.prefer_prior, ``--mc-prefer-network f``: tied favourites
  within ``PRIOR_TIE`` count as one, the tree's move among them stands);
- ``product b``: in any position, the move with the most ``visits * P ** b`` (P the network's distribution).
The tree's pass, and a move that is not the most visited (engine/finishing.py's, where only dead stones and dame
are left), stand under every rule but ``network``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PHASES = ((0, 10), (10, 30), (30, 60), (60, 10 ** 6))


def _arr(xs: list) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in xs], dtype=np.float64)


def tree_and_policy(rec: dict, size: int) -> tuple[int, np.ndarray]:
    """A probe record's tree move (flat, pass = N*N) and the network's distribution (N*N+1,)."""
    from engine.coords import PASS, from_gtp, to_flat

    move = from_gtp(rec["move"], size)
    return (size * size if move is PASS else to_flat(move, size)), _arr(rec["policy"])


def choose(rec: dict, rule: tuple, size: int) -> int:
    """The flat index (pass = N*N) a rule picks from one probe record."""
    name = rule[0]
    tree, policy = tree_and_policy(rec, size)
    if name == "network":
        return int(np.nanargmax(policy))
    if name == "tree" or tree == size * size:  # the tree's pass stands: it is the count's decision
        return tree
    visits = np.array(rec["visits"], dtype=np.float64)[:size * size]
    if visits[tree] < visits.max():  # the finishing rule's move, not the tree's: it stands
        return tree
    if name == "close":  # the player's rule itself, on the probe's rounded distribution
        from engine.mc_player import prefer_prior

        return prefer_prior(tree, np.append(visits, 0.0), np.nan_to_num(policy), rule[1])
    if name == "product":
        return int(np.argmax(visits * np.nan_to_num(policy[:size * size]) ** rule[1]))
    t, f = rule[1], rule[2]
    wr = _arr(rec["winrates"])
    if not (wr[tree] >= t or wr[tree] <= 1.0 - t):
        return tree
    ok = np.flatnonzero(visits >= f * visits.max())
    if name == "score":
        scores = _arr(rec["scores"])[ok]
        return int(ok[int(np.nanargmax(scores))]) if np.isfinite(scores).any() else tree
    if name == "net":
        return int(ok[int(np.nanargmax(policy[ok]))])
    raise ValueError(f"unknown rule {rule}")


def _rule(text: str) -> tuple:
    """"close 0.7" -> ("close", 0.7)."""
    name, *params = text.split()
    return (name, *(float(x) for x in params))


def write_rule_answers(recs: list[dict], rule: tuple, reference: Path, out: Path) -> None:
    """``reference``'s answers (``eval run --answers``, the probed player's, one player) with each probed position's
    move replaced by ``rule``'s and the rule added to the player's name; every reference position must have been
    probed."""
    from dataclasses import replace

    from engine.coords import from_flat
    from engine.eval_answers import pick_player, read_answers, write_answers

    by_id = {rec["id"]: rec for rec in recs}
    size = 9  # the probes are of the 9x9 labels
    player, answers = pick_player(read_answers(reference, size), None, reference)
    moved = [replace(a, move=from_flat(choose(by_id[a.id], rule, size), size)) for a in answers]
    write_answers(out, {f"{player} + {' '.join(str(x) for x in rule)}": moved}, size)


def main() -> int:
    from engine.coords import from_flat
    from engine.eval_answers import read_text
    from engine.labels import load_labels
    from engine.metrics import same_move

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("records", nargs="+")
    ap.add_argument("--split", choices=("test", "val"), default="val")
    ap.add_argument("--labels", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--answers", nargs=3, metavar=("RULE", "REFERENCE", "OUT"), default=None,
                    help="also write RULE's answers (e.g. 'close 0.7') as `eval run --answers` lines: REFERENCE "
                         "(the same player's answers, .jsonl or .jsonl.gz) with each move replaced by the rule's, "
                         "for `eval paired`")
    args = ap.parse_args()
    labels = load_labels(Path(args.labels) if args.labels else REPO / "data" / "oracle" / f"{args.split}9.jsonl")
    recs = [json.loads(line) for p in args.records for line in read_text(Path(p)).splitlines() if line.strip()]
    if args.answers:
        write_rule_answers(recs, _rule(args.answers[0]), Path(args.answers[1]), Path(args.answers[2]))
    rules = [("tree",), ("network",)]
    for t in (0.7, 0.8, 0.9, 0.95):
        for f in (0.02, 0.05, 0.1, 0.25):
            rules += [("score", t, f), ("net", t, f)]
    rules += [("close", f) for f in (0.3, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)] + [("product", b) for b in (0.1, 0.25, 0.5, 1.0)]
    rows = {}
    for rule in rules:
        hits = np.zeros(len(PHASES) + 1)
        counts = np.zeros(len(PHASES) + 1)
        changed = 0
        for rec in recs:
            lb = labels[rec["id"]]
            pick = choose(rec, rule, lb.size)
            ok = same_move(lb, from_flat(pick, lb.size), lb.policy_best)
            changed += pick != choose(rec, ("tree",), lb.size)
            ph = next(i for i, (a, b) in enumerate(PHASES) if a <= rec["k"] < b)
            for j in (ph, len(PHASES)):
                hits[j] += ok
                counts[j] += 1
        key = " ".join(str(x) for x in rule)
        rows[key] = {"baa": [float(h / c) if c else None for h, c in zip(hits, counts)],
                     "positions": [int(c) for c in counts], "changed": changed}
    head = " | ".join(f"{a}-{b - 1 if b < 10 ** 6 else ''}" for a, b in PHASES)
    print(f"| rule | {head} | all | moves changed |")
    for key, r in rows.items():
        cells = " | ".join("-" if x is None else f"{100 * x:.1f}" for x in r["baa"])
        print(f"| {key} | {cells} | {r['changed']} |")
    print(f"positions: {rows['tree']['positions']}")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
