"""How many games an engine won or drew in an arena run passed, at one of its own moves, through a position that is
over for it and lost by the count (engine/mc_player.pass_option: ``over`` and value 0), where passing once the game
is over, won or lost, would have passed: the games that rule could have given away.

    .venv/bin/python scripts/lost_pass_risk.py runs/arena/gnugo10_emptied_idm_100 [more run folders]

A run folder holds the arena's ``results.jsonl`` and the games it names (``sgf``). The engine is the player whose
name contains "videoworld". Positions before move 21 and after the first two passes in a row are not looked at.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def risky_games(folder: Path) -> tuple[int, list[tuple[int, int]]]:
    """(games won or drawn, [(game index, moves played) where the position was over and lost at its move])."""
    from engine.blunders import load_arena
    from engine.coords import BLACK, PASS, WHITE
    from engine.game import Game
    from engine.mc_player import pass_option

    good, risky = 0, []
    for r, rec in load_arena(folder / "results.jsonl", folder):
        hero = r["a"] if "videoworld" in r["a"] else r["b"]
        if r["winner"] not in (hero, None, "", "draw"):
            continue
        good += 1
        hero_colour = BLACK if r["black"] == hero else WHITE
        game, passes = Game(rec.size, r["komi"]), 0
        if rec.black_setup or rec.white_setup:
            game.setup(rec.black_setup, rec.white_setup, BLACK)
        for colour, move in rec.moves:
            if colour == hero_colour and passes < 2 and len(game.moves) > 20:
                option = pass_option(game, colour)
                if option is not None and option.over and option.value == 0.0:
                    risky.append((int(r["index"]), len(game.moves)))
                    break
            passes = passes + 1 if move is PASS else 0
            game.play(move, colour)
    return good, risky


def main() -> int:
    for folder in sys.argv[1:]:
        good, risky = risky_games(Path(folder))
        print(f"{folder}: {good} games won or drawn, {len(risky)} over and lost at an own move (game, move): {risky}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
