"""Calibration of a bundle's winrates on held-out games: the value model against the outcome head.

    .venv/bin/python scripts/eval_value.py --weights weights/9x9 --split test --out docs/value_test.json \
        [--plot docs/value_reliability.png] [--data-dir data] [--max-games 0] [--threads 2]

Every position of every game of the split (mover's view, the camera's convention), labelled with the
game's result for the side to move (1 / 0 / 1/2 for a draw). Both winrates are computed on the same
positions, so their Brier scores compare paired; the base rate is the constant prediction's. It also
replays ``gtp --resign-below``'s rule on these games: how often a side would have resigned a game it
went on to win or draw.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing


@torch.no_grad()
def outcome_head(bundle, boards: np.ndarray, chunk: int = 512) -> np.ndarray:
    """(M, N, N) mover's-view stones -> (M,) the transformer's outcome head (context-0 bundles)."""
    from models.token_cache import encode_boards
    from models.train.outcome_stage import prefixes
    from render.frame import RenderConfig

    tr = bundle.transformer
    raw = encode_boards(bundle.tokenizer, boards, RenderConfig(resolution=bundle.tokenizer.cfg.resolution))
    out = []
    for i in range(0, len(raw), chunk):
        ids = torch.from_numpy(raw[i:i + chunk].astype(np.int64))[:, None]  # (B, 1, 16): context 0
        h = tr.hidden(prefixes(ids, bundle.vocab, bundle.layout))[:, -2]  # x_t's <im_end>
        out.append(torch.sigmoid(tr.outcome_logit(h).float()).numpy())
    return np.concatenate(out)


def sgf_games(paths: list[str], size: int, side: Optional[str]) -> tuple[list[np.ndarray], np.ndarray, Optional[dict]]:
    """Videos and Black's scores of SGF games (as ``game_results`` gives a split's); with ``side``, the frame
    parity of the colour whose player name contains it, per game (games where neither does are left out)."""
    from engine.sgf import parse_collection
    from models.train.value_stage import video_and_score

    videos, scores, sides = [], [], {}
    for path in sorted(paths):
        for rec in parse_collection(Path(path).read_bytes()):
            parity = None if side is None else (0 if side in rec.black_player else 1 if side in rec.white_player else -1)
            got = None if rec.size != size or parity == -1 else video_and_score(rec)
            if got is None:
                continue
            if parity is not None:
                sides[len(videos)] = (parity,)
            videos.append(got[0])
            scores.append(got[1])
    return videos, np.array(scores, dtype=np.float32), (sides if side is not None else None)


def paired_brier_difference(a: np.ndarray, b: np.ndarray, y: np.ndarray, games: np.ndarray, seed: int = 0,
                            reps: int = 1000) -> dict:
    """Brier(a) - Brier(b) with a 95 % interval from a bootstrap over games (positions of a game are not independent)."""
    d = (a - y) ** 2 - (b - y) ** 2
    ids = np.unique(games)
    per_game = np.array([d[games == g].sum() for g in ids])
    counts = np.array([(games == g).sum() for g in ids])
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(reps):
        pick = rng.integers(0, len(ids), len(ids))
        boots.append(per_game[pick].sum() / counts[pick].sum())
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"mean": float(d.mean()), "ci95": [float(lo), float(hi)]}


def resignation_check(p: np.ndarray, y: np.ndarray, t: np.ndarray, games: np.ndarray,
                      thresholds=(0.02, 0.05, 0.1), turns: int = 3, min_moves: int = 20,
                      sides: Optional[dict] = None) -> list[dict]:
    """What ``gtp --resign-below`` would have done in these games: for each side of each game, the first
    own move (move number >= min_moves) ending ``turns`` own moves in a row with a winrate under the
    threshold (engine/resign.py's rule), and whether that side in fact lost (a resignation is wrong when
    the side won or drew). ``sides``: game -> the frame parities to judge (0 Black, 1 White); default both."""
    rows = []
    for below in thresholds:
        resigned = wrong = drawn = 0
        left = []
        judged = 0
        for g in np.unique(games):
            m = games == g
            pg, yg, tg = p[m], y[m], t[m]
            parities = (0, 1) if sides is None else sides[int(g)]
            judged += len(parities)
            for parity in parities:  # Black moves at even frames, White at odd
                own = np.flatnonzero(tg % 2 == parity)
                run = 0
                for i in own:
                    run = run + 1 if pg[i] < below else 0
                    if run >= turns and tg[i] >= min_moves:
                        resigned += 1
                        wrong += int(yg[i] == 1.0)
                        drawn += int(yg[i] == 0.5)
                        left.append(1 - tg[i] / tg.max())
                        break
        rows.append({"below": below, "turns": turns, "min_moves": min_moves, "sides": judged,
                     "resigned": resigned, "won_anyway": wrong, "drawn_anyway": drawn,
                     "mean_share_of_game_left": float(np.mean(left)) if left else None})
    return rows


def _command(args: argparse.Namespace) -> str:
    """The command line, an expanded ``--sgf`` glob written back as one (``DIR/*.sgf``) when the files share a folder."""
    argv = sys.argv[1:]
    if args.sgf and len(args.sgf) > 1 and len({str(Path(f).parent) for f in args.sgf}) == 1:
        i = argv.index("--sgf")
        argv = argv[:i + 1] + [f"{Path(args.sgf[0]).parent}/*.sgf"] + argv[i + 1 + len(args.sgf):]
    return " ".join(["scripts/eval_value.py"] + argv)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default=str(REPO / "weights" / "9x9"))
    ap.add_argument("--data-dir", default=str(REPO / "data"))
    ap.add_argument("--split", choices=("train", "val", "test"), default="val")
    ap.add_argument("--max-games", type=int, default=0)
    ap.add_argument("--sgf", nargs="+", default=None,
                    help="score these SGF games instead of a split (e.g. an arena's runs/arena/NAME/games/*.sgf)")
    ap.add_argument("--side", default=None,
                    help="with --sgf: judge resignation only for the colour whose PB/PW contains this name")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot", default=None, help="reliability diagram of the value model (PNG)")
    args = ap.parse_args()

    from models.bundle import load_bundle
    from models.train.outcome_stage import plot_reliability
    from models.train.value_stage import every_position, game_results, predict, report
    from render.frame import RenderConfig

    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.weights)
    if bundle.value is None:
        print(f"{args.weights} has no value model")
        return 1
    sides = None
    if args.sgf:
        videos, scores, sides = sgf_games(args.sgf, bundle.board_size, args.side)
        source = f"{len(args.sgf)} SGF files"
    else:
        videos, scores = game_results(args.data_dir, args.split, bundle.board_size, max_games=args.max_games)
        source = f"the {args.split} split of {args.data_dir}"
    if not videos:
        print(f"no {bundle.board_size}x{bundle.board_size} games in {source}")
        return 1
    boards, y, t = every_position(videos, scores)
    games = np.repeat(np.arange(len(videos)), [len(v) for v in videos])
    p_value = predict(bundle.value, boards, RenderConfig(resolution=bundle.value.cfg.resolution), bundle.device)
    result = {"weights": str(args.weights), "games_from": source, "games": len(videos), "positions": int(len(y)),
              "command": _command(args),
              "value_model": report(p_value, y, t)}
    result["resignation"] = resignation_check(p_value, y, t, games, sides=sides)
    if bundle.layout.context == 0 and bundle.transformer.outcome is not None:
        p_head = outcome_head(bundle, boards)
        result["outcome_head"] = report(p_head, y, t)
        result["value_minus_outcome_head_brier"] = paired_brier_difference(p_value, p_head, y, games)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    if args.plot:
        plot_reliability(result["value_model"], args.plot,
                         title=f"Value model: reliability ({source}, every position)")
    rows = [("value model", result["value_model"])] + ([("outcome head", result["outcome_head"])]
                                                       if "outcome_head" in result else [])
    print(f"{source}: {len(videos)} games, {len(y)} positions")
    print(f"{'winrate from':14s} {'Brier':>7s} {'base':>7s}  " + "  ".join(f"{k:>9s}" for k in result["value_model"]["brier_by_phase"]))
    for name, rep in rows:
        print(f"{name:14s} {rep['brier']:7.4f} {rep['brier_constant']:7.4f}  "
              + "  ".join(f"{v['brier']:9.4f}" for v in rep["brier_by_phase"].values()))
    for r in result["resignation"]:
        print(f"resign below {r['below']:.2f} ({r['turns']} moves in a row, from move {r['min_moves']}): "
              f"{r['resigned']} of {r['sides']} sides, {r['won_anyway']} of them won and {r['drawn_anyway']} drew; "
              f"{0 if r['mean_share_of_game_left'] is None else 100 * r['mean_share_of_game_left']:.0f} % of the game left")
    if "value_minus_outcome_head_brier" in result:
        d = result["value_minus_outcome_head_brier"]
        print(f"value minus outcome head (paired, 95 % bootstrap over games): {d['mean']:+.4f} "
              f"[{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
