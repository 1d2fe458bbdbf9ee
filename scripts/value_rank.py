"""Does a value model rank sibling positions? The one-ply test of a search's evaluator.

    .venv/bin/python scripts/value_rank.py --value weights/9x9 --value runs/value11o/state.pt \
        [--split val] [--positions 300] [--symmetries 8] [--threads 1] [--out docs/value_rank_val.json]

For each KataGo-labelled held-out position (data/oracle/{split}9.jsonl, in its labelling order),
every legal move but pass is played by the rules and the value model judges the position after
it from the opponent's side (averaged over S board symmetries, as the player does); the move it
likes best is the one after which it rates the opponent lowest. A value model that ranks
siblings well picks KataGo's move (the searched best where labelled, else the raw policy's best)
often and ranks it high. Reported per model, on the same positions: the share of positions where
its favourite is KataGo's move (top-1), where KataGo's move is in its top 3, the mean percentile
of KataGo's move among the legal moves (1 = its favourite, 0 = its least liked), and KataGo's
policy at the favourite over KataGo's policy at its own best (the paper's Action-Value of the
choice). The network's own move is not involved: this measures the evaluator alone.

``--value`` takes a bundle folder (its value model) or a value stage's state.pt (a run in progress).
``--playouts N`` adds two judges on the same positions: N random playouts over the rules
(engine/deadstones.playout_wins, as the search's ``--playouts`` uses them) alone, and mixed into each
value model with ``--playout-weight`` (the search's mix).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing


def load_value(path: str):
    """A ValueNet in eval mode from a bundle folder or a value stage's training state."""
    from models.checkpoint import dataclass_from_dict, load_training_state
    from models.value import ValueConfig, ValueNet

    p = Path(path)
    if p.is_dir():
        from models.bundle import load_bundle

        value = load_bundle(p).value
        if value is None:
            raise SystemExit(f"{path} has no value model")
        return value.eval()
    state = load_training_state(p)
    if state is None:
        raise SystemExit(f"no training state at {path}")
    net = ValueNet(dataclass_from_dict(ValueConfig, json.loads(state["config"])["model"]))
    net.load_state_dict(state["model"])
    return net.eval()


def children(label) -> tuple[list[int], list[tuple]]:
    """The legal non-pass moves (flat indices) of a labelled position and, for each, the position
    after it with the opponent to move."""
    from engine.coords import from_flat, opponent

    game = label.game()
    color = label.to_play
    flats = [int(f) for f in np.flatnonzero(game.position.legal_mask(color)[:-1])]
    return flats, [(game.position.play(from_flat(f, label.size), color), opponent(color)) for f in flats]


def rank_stats(flats: list[int], mover_winrate: np.ndarray, best: int, policy) -> dict:
    """Where KataGo's move ``best`` (flat) stands in the value model's order of the children."""
    order = np.argsort(-mover_winrate, kind="stable")  # best first
    ranked = [flats[i] for i in order]
    pos = ranked.index(best) if best in ranked else None
    fav = ranked[0]
    out = {"top1": fav == best, "top3": pos is not None and pos < 3,
           "percentile": None if pos is None else (1.0 if len(ranked) == 1 else 1 - pos / (len(ranked) - 1))}
    if policy is not None:
        pol = np.asarray(policy, dtype=np.float64)
        out["action_value"] = float(max(pol[fav], 0.0) / pol.max())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--value", action="append", required=True, help="bundle folder or value state.pt (repeatable)")
    ap.add_argument("--split", default="val", choices=("val", "test"))
    ap.add_argument("--positions", type=int, default=300)
    ap.add_argument("--symmetries", type=int, default=8, choices=(1, 2, 4, 8))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-dir", default=str(REPO / "data"))
    ap.add_argument("--playouts", type=int, default=0, help="also rank by N random playouts, alone and mixed")
    ap.add_argument("--playout-weight", type=float, default=0.5, help="the playouts' share of the mix")
    ap.add_argument("--tactical", action="store_true", help="playouts capture and escape atari (engine/playout.py)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from engine.coords import to_flat
    from engine.labels import load_labels
    from models.player import mover_boards
    from models.value import mean_win_probability

    labels = [lb for lb in load_labels(Path(args.data_dir) / "oracle" / f"{args.split}9.jsonl").values()
              if lb.search_best is not None or lb.policy is not None]
    labels = labels[:args.positions]
    models = {name: load_value(name) for name in args.value}
    rows = {name: [] for name in models}
    w = args.playout_weight
    if args.playouts:
        from engine.deadstones import playout_wins

        rows[f"playouts {args.playouts}"] = []
        rows.update({f"{name} + playouts {args.playouts} (weight {w})": [] for name in models})
    skipped = 0
    for lb in labels:
        best_move = lb.search_best if lb.search_best is not None else lb.policy_best
        try:
            best = to_flat(best_move, lb.size)
        except (TypeError, ValueError):  # KataGo passed: no sibling to rank
            skipped += 1
            continue
        flats, afters = children(lb)
        if best not in flats:
            skipped += 1
            continue
        boards = mover_boards(afters)  # (M, N, N): the opponent, who moves next, looks black
        if args.playouts:
            komi = lb.game().komi
            played = 1.0 - np.array([playout_wins(pos, c, komi, args.playouts, tactical=args.tactical) for pos, c in afters])
            rows[f"playouts {args.playouts}"].append(rank_stats(flats, played, best, lb.policy))
        for name, value in models.items():
            mover = 1.0 - mean_win_probability(value, boards, args.symmetries)
            rows[name].append(rank_stats(flats, mover, best, lb.policy))
            if args.playouts:
                rows[f"{name} + playouts {args.playouts} (weight {w})"].append(
                    rank_stats(flats, (1 - w) * mover + w * played, best, lb.policy))
    result = {"command": " ".join(["scripts/value_rank.py"] + sys.argv[1:]), "split": args.split,
              "positions": len(next(iter(rows.values()))), "skipped": skipped, "symmetries": args.symmetries,
              "models": {}}
    print(f"{'judge':40s} {'top1':>6s} {'top3':>6s} {'pctile':>7s} {'AV':>6s}   ({result['positions']} positions)")
    for name, rs in rows.items():
        top1 = np.array([r["top1"] for r in rs], float)
        summary = {"top1": float(top1.mean()), "top3": float(np.mean([r["top3"] for r in rs])),
                   "percentile": float(np.mean([r["percentile"] for r in rs])),
                   "action_value": float(np.mean([r["action_value"] for r in rs if "action_value" in r] or [np.nan])),
                   "top1_hits": [bool(r["top1"]) for r in rs]}
        result["models"][name] = summary
        print(f"{name:40s} {100 * summary['top1']:6.1f} {100 * summary['top3']:6.1f} {summary['percentile']:7.3f} "
              f"{100 * summary['action_value']:6.1f}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
