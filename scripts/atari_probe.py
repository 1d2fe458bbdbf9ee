"""Replay the positions where a player ignored an atari in arena games, and ask other players.

An "ignored atari" (engine/blunders.py): the mover had a group of >= 2 stones in atari, its move
left that group in atari and the reply took it. For every such position (before the game's first
pass, where games are still open), each --player chooses a move; the table gives how often the
group is still in atari after that move (lower is better; some groups cannot be saved, so 0 is
not the floor), and how often the player repeats the game's move.

    .venv/bin/python scripts/atari_probe.py docs/gnugo10_v10kg_100.results.jsonl \
        --games-dir runs/arena/gnugo10_v10kg_100 --hero videoworld-v10kg-sym8k1 \
        --player py:models.player:shipped:symmetries=8,top_k=1 --player gnugo:10 --out docs/atari_probe.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.blunders import first_pass, groups, ignored_ataris, load_arena, replay  # noqa: E402
from engine.board import neighbours  # noqa: E402
from engine.coords import PASS, RESIGN, color_name, from_gtp, to_gtp  # noqa: E402
from engine.evaluate import resolve  # noqa: E402
from engine.game import Game  # noqa: E402
from gtp.client import GtpClient  # noqa: E402


def ignored_positions(games, hero: str, limit: int) -> list[dict]:
    """[{game, moves (up to the position), colour, anchors (points of the groups in atari), played}]."""
    out = []
    for row, rec in games:
        history = replay(rec)
        split = first_pass(rec)
        nbrs = neighbours(rec.size)
        for i, (c, move) in enumerate(rec.moves[: len(history) - 2]):
            if rec.names[c] != hero or move in (PASS, RESIGN) or (split is not None and i > split):
                continue
            P, Q, R = history[i], history[i + 1], history[i + 2]
            anchors = [next(iter(pts)) for pts in
                       ignored_ataris(c, groups(P.stones, rec.size, nbrs), groups(Q.stones, rec.size, nbrs), R)]
            if anchors:
                out.append({"sgf": row["sgf"], "move_number": i, "colour": c, "anchors": anchors, "played": move,
                            "size": rec.size, "moves": rec.moves[:i], "setup": (rec.black_setup, rec.white_setup)})
                if len(out) >= limit:
                    return out
    return out


def still_in_atari(game: Game, colour: int, move, anchors: list[int]) -> bool:
    after = game.position.play(move, colour)
    libs = {x: l for col, pts, l in groups(after.stones, game.size, neighbours(game.size)) if col == colour for x in pts}
    return any(a in libs and len(libs[a]) == 1 for a in anchors)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--games-dir", required=True)
    ap.add_argument("--hero", required=True)
    ap.add_argument("--player", action="append", required=True)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--komi", type=float, default=7.0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    positions = ignored_positions(load_arena(Path(args.results), Path(args.games_dir)), args.hero, args.limit)

    def game_of(p) -> Game:
        g = Game(size=p["size"], komi=args.komi)
        black, white = p["setup"]
        if black or white:
            raise ValueError(f"{p['sgf']}: setup stones are not replayed over GTP; arena openings are moves")
        for c, m in p["moves"]:
            g.play(m, c)
        return g

    table = {}
    for name in args.player:
        kind, obj = resolve(name, positions[0]["size"], 0)
        client = GtpClient(obj) if kind == "gtp" else None
        t0, left, same = time.time(), 0, 0
        for p in positions:
            g = game_of(p)
            if client is not None:  # an engine over GTP: the game from an empty board, then genmove
                client.send(f"boardsize {g.size}")
                client.send(f"komi {g.komi:g}")
                client.send("clear_board")
                for c, m in p["moves"]:
                    client.send(f"play {color_name(c)} {to_gtp(m, g.size)}")
                move = from_gtp(client.send(f"genmove {color_name(p['colour'])}"), g.size)
            else:
                move = obj.genmove(g, p["colour"])
            left += still_in_atari(g, p["colour"], move, p["anchors"]) if move not in (PASS, RESIGN) else 1
            same += move == p["played"]
        if client is not None:
            client.close()
        table[name] = {"positions": len(positions), "left_in_atari": left, "left_share": round(left / len(positions), 4),
                       "same_as_game": same, "seconds": round(time.time() - t0, 1)}
        print(f"{name}: {left}/{len(positions)} left in atari, {same} as in the game, {table[name]['seconds']} s",
              flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"results": args.results, "hero": args.hero, "players": table}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
