"""Two gauntlets on the same seeded openings and colours, game by game (a paired comparison).

    .venv/bin/python scripts/paired_arena.py docs/gnugo10_v11kg_search32_100.results.jsonl \
        docs/gnugo10_v11kg_reuse32_100.results.jsonl [--out docs/paired.json] \
        [--games A.games.sgf B.games.sgf]

Each file is an arena's ``results.jsonl`` with one hero (the engine that is not the shared
opponent). Games pair by index; a pair must have the same opening and the hero on the same
colour, else the files are not comparable and the script says so. Per file: wins-draws-losses,
by colour, faults. Per pair: the points of each hero (1 / 1/2 / 0), and how often the second
did better or worse; the two-sided sign test over the pairs that differ. With ``--games`` (each run's
games packed by scripts/pack_arena_games.py), also move by move: how many pairs are the same game, and
at which ply the others first differ.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def load(path: Path) -> tuple[str, dict[int, dict]]:
    """(hero, {index: record}) of a gauntlet's results; the hero is the engine in every game but one side."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{path}: no games")
    names = [{r["black"], r["white"]} for r in rows]
    common = set.intersection(*names)
    heroes = {r["a"] for r in rows} & common
    if len(heroes) != 1:
        raise ValueError(f"{path}: expected one engine in every game as side a, found {sorted(heroes)}")
    return heroes.pop(), {int(r["index"]): r for r in rows}


def points(record: dict, hero: str) -> float:
    winner = record.get("winner")
    if winner is None:
        return 0.5  # a draw (jigo)
    return 1.0 if winner == hero else 0.0


def summary(hero: str, games: dict[int, dict]) -> dict:
    out = {"hero": hero, "games": len(games), "faults": sum(1 for r in games.values() if r.get("fault"))}
    for name, subset in (("all", games.values()), ("as_black", [r for r in games.values() if r["black"] == hero]),
                         ("as_white", [r for r in games.values() if r["white"] == hero])):
        pts = [points(r, hero) for r in subset]
        out[name] = {"wins": pts.count(1.0), "draws": pts.count(0.5), "losses": pts.count(0.0),
                     "score": round(sum(pts) / len(pts), 4) if pts else None}
    return out


def sign_test(better: int, worse: int) -> float:
    """Two-sided exact binomial p-value of ``better`` against ``worse`` under p = 1/2 (ties left out)."""
    n = better + worse
    if n == 0:
        return 1.0
    k = min(better, worse)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def compare(a: Path, b: Path, games: tuple[Path, Path] | None = None) -> dict:
    """The paired figures of two results files; with ``games`` (their packed SGF collections), also
    move by move (``divergence``) over the same paired games."""
    hero_a, ga = load(a)
    hero_b, gb = load(b)
    common = sorted(set(ga) & set(gb))
    for i in common:
        ra, rb = ga[i], gb[i]
        if ra["opening"] != rb["opening"] or (ra["black"] == hero_a) != (rb["black"] == hero_b):
            raise ValueError(f"game {i}: openings or colours differ between the files: not a paired comparison")
    pa = [points(ga[i], hero_a) for i in common]
    pb = [points(gb[i], hero_b) for i in common]
    better = sum(y > x for x, y in zip(pa, pb))
    worse = sum(y < x for x, y in zip(pa, pb))
    out = {"a": summary(hero_a, ga), "b": summary(hero_b, gb),
           "paired": {"games": len(common), "points_a": sum(pa), "points_b": sum(pb), "b_better": better,
                      "b_worse": worse, "sign_test_p": round(sign_test(better, worse), 4)}}
    if games is not None:
        out["moves"] = divergence(*games, common)
    return out


def game_moves(path: Path) -> dict[int, list[tuple]]:
    """{index: [(colour, point), ...]} of a packed SGF collection (one game a line, GN ``hero|opponent|index``)."""
    from sgfmill import sgf

    out = {}
    for n, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        game = sgf.Sgf_game.from_bytes(line)
        name = game.get_root().get("GN") if game.get_root().has_property("GN") else ""
        try:
            index = int(name.rsplit("|", 1)[-1])
        except ValueError:
            raise ValueError(f"{path}: line {n}: game name {name!r} does not end in |index") from None
        out[index] = [node.get_move() for node in game.get_main_sequence()[1:]]
    return out


def divergence(a: Path, b: Path, common: list[int]) -> dict:
    """Per paired game, the first ply (1-based, the opening stones included) where the two records differ;
    a pair whose records are equal is the same game."""
    ma, mb = game_moves(a), game_moves(b)
    missing = [i for i in common if i not in ma or i not in mb]
    if missing:
        raise ValueError(f"games {missing[:5]} of the results are not in both game files")
    first = {}
    for i in common:
        x, y = ma[i], mb[i]
        ply = next((k + 1 for k, (u, v) in enumerate(zip(x, y)) if u != v), None)
        if ply is None and len(x) != len(y):
            ply = min(len(x), len(y)) + 1
        first[i] = ply
    differ = sorted(p for p in first.values() if p is not None)
    mid = differ[len(differ) // 2] if differ else None
    return {"games": len(common), "same_game": sum(p is None for p in first.values()),
            "median_first_difference": mid, "first_difference": {str(i): p for i, p in first.items()}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path, help="the reference gauntlet's results.jsonl")
    p.add_argument("b", type=Path, help="the gauntlet compared with it")
    p.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    p.add_argument("--games", type=Path, nargs=2, metavar=("A_SGF", "B_SGF"), default=None,
                   help="the two runs' games (scripts/pack_arena_games.py): compare them move by move too")
    args = p.parse_args(argv)
    try:
        result = compare(args.a, args.b, args.games)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for side in ("a", "b"):
        s = result[side]
        line = " ".join(f"{k} {s[k]['wins']}-{s[k]['draws']}-{s[k]['losses']}" for k in ("all", "as_black", "as_white"))
        print(f"{side}: {s['hero']}: {line} ({100 * s['all']['score']:.1f} %), faults {s['faults']}")
    q = result["paired"]
    print(f"paired over {q['games']} games: a {q['points_a']} points, b {q['points_b']}; b better in {q['b_better']}, "
          f"worse in {q['b_worse']} (sign test p = {q['sign_test_p']})")
    if args.games:
        m = result["moves"]
        print(f"move by move: {m['same_game']} of {m['games']} pairs are the same game; the others first differ at "
              f"ply {m['median_first_difference']} (median, opening stones counted)")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
