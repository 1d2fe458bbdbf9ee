"""How much of a search the kept tree carries into the next move: replay arena games move by move.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/search_reuse_probe.py runs/arena/gnugo10_v11kg_reuse64_100/games/*.sgf \
        --hero videoworld-v11kg-reuse-v64 --weights runs/v11kg/bundle --symmetries 8 --branches 1 --visits 64 \
        --c-puct 0.8 --limit 4 --out F.json

For every move the hero chose in each game (after the arena's ``--opening`` moves, before the
first two passes in a row: the cleanup moves that follow are the network's alone), the position
before it goes to a ``SearchPlayer`` with the hero's settings and the tree kept from its previous
move, as in the game; the probe records how many visits the kept subtree brought (``carried``)
and whether the search chose the move the hero played (it should, with the hero's settings: the
search is deterministic). Prints the share of visits carried over and
writes the per-move figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


class _Carried(logging.Handler):
    """Reads the search's debug line: "search: C visits carried over, T after the search"."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.last: tuple[int, int] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        m = re.match(r"search: (\d+) visits carried over, (\d+) after", record.getMessage())
        if m:
            self.last = (int(m.group(1)), int(m.group(2)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sgf", nargs="+", type=Path)
    ap.add_argument("--hero", required=True, help="the player name of the replayed side in the SGF (PB / PW)")
    ap.add_argument("--weights", default=str(REPO / "weights" / "9x9"))
    ap.add_argument("--symmetries", type=int, default=None, help="the hero's --symmetries (default: the bundle's)")
    ap.add_argument("--branches", type=int, default=None, help="the hero's --branches (default: the bundle's)")
    ap.add_argument("--visits", type=int, default=64)
    ap.add_argument("--c-puct", type=float, default=0.8)
    ap.add_argument("--limit", type=int, default=4, help="games replayed")
    ap.add_argument("--opening", type=int, default=2, help="moves the arena placed before the engines chose")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    import torch

    from engine.coords import BLACK, WHITE
    from engine.game import Game
    from engine.search import SearchConfig, with_search
    from engine.sgf import parse_collection
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    torch.set_num_threads(1)
    handler = _Carried()
    logger = logging.getLogger("engine.search")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    bundle = load_bundle(args.weights)
    rows = []
    for path in args.sgf[:args.limit]:
        rec = parse_collection(path.read_bytes())[0]
        names = {BLACK: rec.black_player, WHITE: rec.white_player}
        hero = next((c for c, n in names.items() if n == args.hero), None)
        if hero is None:
            raise SystemExit(f"{path}: no player named {args.hero!r} ({names})")
        search = with_search(NeuralPlayer(bundle, top_k=args.branches, symmetries=args.symmetries),
                             SearchConfig(visits=args.visits, c_puct=args.c_puct))
        game = Game(size=rec.size, komi=7.0 if rec.komi is None else rec.komi)
        for color, move in rec.moves:
            if game.position.passes >= 2:
                break  # the cleanup phase: not searched
            if color == hero and len(game.moves) >= args.opening:
                handler.last = None
                chosen = search.genmove(game, color)
                if handler.last is not None:
                    rows.append({"game": path.name, "move": len(game.moves), "carried": handler.last[0],
                                 "total": handler.last[1], "same_move": chosen == move})
            game.play(move, color)
    if not rows:
        raise SystemExit("no searched move replayed")
    carried = sum(r["carried"] for r in rows)
    total = sum(r["total"] for r in rows)
    same = sum(r["same_move"] for r in rows)
    summary = {"moves": len(rows), "visits_per_move": args.visits, "mean_carried": round(carried / len(rows), 2),
               "carried_share_of_root_visits": round(carried / total, 4), "same_move_as_game": same,
               "moves_with_any_carried": sum(r["carried"] > 0 for r in rows)}
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "moves": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
