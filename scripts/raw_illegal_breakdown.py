"""Where the shipped player's raw (unmasked) move is illegal, by the rules' reason (occupied,
suicide, ko, superko), and how crowded the board is then.

    .venv/bin/python scripts/raw_illegal_breakdown.py [--labels data/oracle/val9.jsonl] [--weights weights/9x9]
        [--symmetries 8 --top-k 1]     # player settings (default: the bundle manifest's)
    # or every position of a split's games (no oracle needed: legality is the rules'), e.g. for tuning:
    .venv/bin/python scripts/raw_illegal_breakdown.py --data-dir runs/snapM --split val --max-games 150 [--out F.json]
    # --cases F.jsonl: per illegal position, what each board view imagined and read (see ``view_reads``)
    .venv/bin/python scripts/raw_illegal_breakdown.py --summarize F.jsonl   # what pictures the raw moves came from
"""
import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from engine.board import IllegalMove
    from engine.coords import PASS, to_gtp
    from models.player import shipped

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default="data/oracle/val9.jsonl")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--symmetries", type=int, default=None, help="board views averaged (default: the manifest's)")
    ap.add_argument("--top-k", type=int, default=None, help="branches per view (default: the manifest's)")
    ap.add_argument("--view-pool", default="mean", help="how the views' distributions combine (models/player.py)")
    ap.add_argument("--data-dir", default=None, help="instead of --labels: every position of this corpus folder's games")
    ap.add_argument("--split", default="val", help="with --data-dir: the games of this split")
    ap.add_argument("--max-games", type=int, default=150, help="with --data-dir: the first N games of the split")
    ap.add_argument("--out", default=None, help="also write the counts as JSON")
    ap.add_argument("--cases", default=None, help="also write each illegal position's view reads (JSON lines)")
    ap.add_argument("--summarize", default=None, help="only count a --cases file's positions by reason and picture")
    args = ap.parse_args()
    if args.summarize:
        rows = [json.loads(line) for line in Path(args.summarize).read_text().splitlines() if line.strip()]
        counts = collections.Counter((r["reason"], picture_kind(r)) for r in rows)
        for (reason, kind), n in sorted(counts.items()):
            print(f"{reason:10s} {kind:16s} {n}")
        return
    torch.set_num_threads(1)
    player = shipped(weights=args.weights, symmetries=args.symmetries, top_k=args.top_k, view_pool=args.view_pool)
    games = list(_from_games(args) if args.data_dir else _from_labels(Path(args.labels)))
    kinds, crowd = collections.Counter(), []
    cases = open(args.cases, "w") if args.cases else None
    for i in range(0, len(games), 64):
        for (g, color), a in zip(games[i:i + 64], player.analyze_many(games[i:i + 64])):
            if a.raw_legal or a.raw_move == PASS:
                continue
            board = g.position.array()  # (N, N): 0 empty
            try:
                g.position.play(a.raw_move, color)
                reason = "legal?"  # cannot happen: raw_legal said otherwise
            except IllegalMove as e:
                reason = e.reason
            kinds[reason] += 1
            crowd.append(int((board > 0).sum()))
            if cases:
                cases.write(json.dumps({"moves": [[c, to_gtp(m, g.size)] for c, m in g.moves],
                                        "raw": to_gtp(a.raw_move, g.size),
                                        "reason": reason, "p": round(float(a.probs.max()), 3),
                                        "views": view_reads(player, g, color)}) + "\n")
    if cases:
        cases.close()
    all_crowd = [int((g.position.array() > 0).sum()) for g, _ in games]
    print(f"{len(games)} positions, raw move illegal in {sum(kinds.values())}: {dict(kinds)}")
    if crowd:
        print(f"stones on the board: median {np.median(crowd):.0f} at those, {np.median(all_crowd):.0f} over all")
    if args.out:
        source = {"data_dir": args.data_dir, "split": args.split, "max_games": args.max_games} if args.data_dir \
            else {"labels": args.labels}
        Path(args.out).write_text(json.dumps({"source": source, "weights": args.weights or "weights/9x9",
                                              "view_pool": args.view_pool,
                                              "positions": len(games), "illegal": sum(kinds.values()),
                                              "reasons": dict(kinds)}, indent=1) + "\n")


@torch.no_grad()
def view_probs(player, game, color: int) -> tuple[np.ndarray, list[str], list[int], list[bool]]:
    """Each of the player's S board views of one position, its first branch read as the player reads it
    (``NeuralPlayer.read_views``): (S, N*N+1) move distributions on the real board
    (pass last; with one branch their mean is the player's ``probs``), the move each imagined frame shows
    read back as the frame-difference baseline reads one (GTP vertex, "pass": no new stone), how many
    points each imagined frame changes, and whether it pictures that move cleanly (``models.idm.clean_move``:
    the one new stone, captures aside)."""
    from engine.coords import from_flat, to_gtp
    from models.idm import clean_move, frame_diff_move
    from models.player import _transform_views, symmetry_permutation
    from models.token_cache import decode_boards

    b, n = player.bundle, game.size
    perms = [symmetry_permutation(t, n) for t in range(player.symmetries)]
    views = player._views(game, color)[None]  # (1, F, N, N)
    views = np.concatenate([_transform_views(views, perm) for perm in perms])  # (S, F, N, N)
    im, per_branch = player.read_views(views)  # (S*k, N*N+1), view coordinates
    first = torch.arange(len(perms)) * im.k  # each view's first branch
    in_view = per_branch[first].cpu().numpy()  # (S, N*N+1)
    probs = np.stack([np.concatenate([in_view[s][perm], in_view[s][-1:]]) for s, perm in enumerate(perms)])
    nxt = decode_boards(b.tokenizer, im.x_next[first].cpu(), n, player.rcfg)  # (S, N, N)
    shown, changed, clean = [], [], []
    for s, perm in enumerate(perms):
        v = frame_diff_move(views[s, -1], nxt[s])  # a view's point; N*N: none
        shown.append("pass" if v >= n * n else to_gtp(from_flat(int(np.nonzero(perm == v)[0][0]), n), n))
        changed.append(int((views[s, -1] != nxt[s]).sum()))
        clean.append(v < n * n and clean_move(views[s, -1], nxt[s]) == v)
    return probs, shown, changed, clean


def picture_kind(case: dict) -> str:
    """What the views that voted for a case's raw move (their IDM's most likely move is it) were shown:
    "clean" when one of their imagined frames pictures that move cleanly (its one new stone, captures aside), else "no new stone"
    when one of them shows no new stone of the mover, else "other" (several changes, or another move)."""
    voters = [v for v in case["views"] if v["idm"] == case["raw"]]
    if any(v["frame"] == case["raw"] and v["clean"] for v in voters):
        return "clean"
    if any(v["frame"] == "pass" for v in voters):
        return "no new stone"
    return "other"


def view_reads(player, game, color: int) -> list[dict]:
    """``view_probs`` as JSON rows: per view, the move its frame shows, the IDM's most likely move and
    its probability, the points its frame changes, whether it pictures its move cleanly. Session 48: most of v18mix's occupied raw moves come
    from views whose imagined frame shows no new stone while the IDM, reading the codes, names a point."""
    from engine.coords import from_flat, to_gtp

    probs, shown, changed, clean = view_probs(player, game, color)
    n = game.size
    return [{"frame": f, "idm": to_gtp(from_flat(int(p.argmax()), n), n), "p": round(float(p.max()), 3), "changed": c,
             "clean": k} for p, f, c, k in zip(probs, shown, changed, clean)]


def _from_labels(path: Path):
    """(game, colour to play) of each labelled position."""
    from engine.game import Game
    from engine.labels import load_labels

    for lb in load_labels(path).values():
        g = Game(lb.size, lb.komi)
        for c, m in lb.moves:
            g.play(m, c)
        yield g, lb.to_play


def _from_games(args):
    """(game, colour to play) before every move of the first ``max_games`` games of the split."""
    from engine.corpus import iter_records
    from engine.sgf import SgfError, record_to_game

    n = 0
    for _, rec in iter_records(args.data_dir, split=args.split, size=9):
        if rec.black_setup or rec.white_setup:
            continue
        try:
            record_to_game(rec)
        except SgfError:
            continue
        for t, (colour, _) in enumerate(rec.moves):
            yield record_to_game(rec, upto=t), colour  # the position before move t (quadratic; a few games)
        n += 1
        if n >= args.max_games:
            return


if __name__ == "__main__":
    main()
