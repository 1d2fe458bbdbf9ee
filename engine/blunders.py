"""Where an engine loses its games: tactical blunders counted over arena games, per player.

For every move of each side (the mover) it looks at the position before (P), after (Q) and after
the opponent's reply (R) and counts:
  ignored atari   a mover group of >= 2 stones had one liberty in P, still had one in Q, and the
                  reply captured it;
  self-atari      the group of the stone just played has >= 3 stones and one liberty in Q, and the
                  reply captured it (small throw-ins and snapbacks are left out on purpose; an
                  extension from atari into atari counts here and as an ignored atari);
  missed capture  an opponent group of >= 2 stones had one liberty in P, the mover could capture
                  it and did not, and the reply gave it two or more liberties (it got away);
  eye fill        the move filled a one-point eye (every neighbour its own colour, nothing
                  captured) and that stone was captured later in the game (filling a point inside
                  one's own settled area while cleaning up dead stones is not counted);
  stones lost     stones of the mover taken by the opponent's replies.
Each count is also given for the moves after the game's first pass alone.
Rates are per 100 moves of that side, so an engine can be set beside its opponents in the same
games. With a judge engine (GNU Go's ``final_score``) it also says who was ahead when the first
pass came, to tell games lost in the fight from games thrown away after it. Diagnostic only: the
rules judge finished games here; no player sees them.

    videoworld-go blunders docs/gnugo10_v4c_100.results.jsonl --games-dir runs/arena/gnugo10_v4c_100 \
        [--judge gnugo:10] [--out docs/blunders_v4c_gnugo10.json]
"""

from __future__ import annotations

import argparse
import collections
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from engine.board import Position, chain_at, neighbours
from engine.coords import BLACK, PASS, RESIGN, WHITE, color_name, opponent, to_gtp

EVENTS = ("ignored atari", "self-atari", "missed capture", "eye fill", "stones lost")
LATE = "after the first pass: "  # prefix of the counts of moves played after the game's first pass


@dataclass
class GameRecord:
    """What the counter needs of one finished game."""

    size: int
    moves: list  # [(colour, Move)] in order, setup stones excluded
    names: dict  # colour -> player name
    black_setup: list = field(default_factory=list)
    white_setup: list = field(default_factory=list)


def groups(stones: bytes, size: int, nbrs) -> list[tuple[int, frozenset, frozenset]]:
    """Every group on the board as (colour, points, liberties); points are flat indices."""
    seen, out = set(), []
    for p, c in enumerate(stones):
        if not c or p in seen:
            continue
        pts, libs = chain_at(stones, p, nbrs)
        seen.update(pts)
        out.append((c, frozenset(pts), frozenset(libs)))
    return out


def in_atari(pos: Position, colour: int, min_stones: int = 2) -> bool:
    """Whether ``colour`` has a group of at least ``min_stones`` stones with one liberty in ``pos``."""
    nbrs = neighbours(pos.size)
    return any(c == colour and len(pts) >= min_stones and len(libs) == 1
               for c, pts, libs in groups(pos.stones, pos.size, nbrs))


def ignored_ataris(colour: int, before: list, after: list, reply: Optional[Position]) -> list[frozenset]:
    """Groups of ``colour`` (>= 2 stones) in atari before its move, still in atari after it and
    taken by the reply: ``before`` / ``after`` are ``groups`` of the positions around the move,
    ``reply`` the position after the opponent's answer (None: the game ended there)."""
    if reply is None:
        return []
    libs_after = {x: libs for col, pts, libs in after if col == colour for x in pts}
    return [pts for col, pts, libs in before
            if col == colour and len(pts) >= 2 and len(libs) == 1
            and len(libs_after.get(next(iter(pts)), ())) == 1 and any(reply.stones[x] != colour for x in pts)]


def replay(record) -> list[Position]:
    """Positions from the start to the end (resignation ends it); ``record`` is a GameRecord or
    anything with its size, moves, black_setup and white_setup (an SgfRecord)."""
    pos = Position(record.size).with_stones(record.black_setup, record.white_setup)
    history = [pos]
    for colour, move in record.moves:
        if move is RESIGN:
            break
        pos = pos.play(move, colour)
        history.append(pos)
    return history


def count_game(record: GameRecord, tally: dict) -> None:
    """Add one game's events to tally[player name][event] (a dict of Counters)."""
    size = record.size
    n2 = size * size
    nbrs = neighbours(size)
    history = replay(record)
    # every position's groups once: P, Q and R of one move are Q, R and ... of the moves around it
    board_groups = [groups(h.stones, size, nbrs) for h in history]
    split = first_pass(record)
    for i, (c, move) in enumerate(record.moves[: len(history) - 1]):
        t = tally[record.names[c]]
        late = split is not None and i > split

        def add(event: str, k: int = 1) -> None:
            t[event] += k
            if late:
                t[LATE + event] += k

        add("moves")
        if move is PASS:
            continue
        P, Q = history[i], history[i + 1]
        R = history[i + 2] if i + 2 < len(history) else None
        flat = move[0] * size + move[1]
        if R is not None:
            add("stones lost", sum(1 for x in range(n2) if Q.stones[x] == c and R.stones[x] == 0))

        def taken_by_reply(pts) -> bool:
            return R is not None and any(R.stones[x] != c for x in pts)

        captured_now = any(P.stones[x] == opponent(c) and Q.stones[x] == 0 for x in range(n2))
        ignored = len(ignored_ataris(c, board_groups[i], board_groups[i + 1], R))
        if ignored:
            add("ignored atari", ignored)
        q_group = {x: (pts, libs) for col, pts, libs in board_groups[i + 1] if col == c for x in pts}
        for col, pts, libs in board_groups[i]:
            if len(pts) < 2 or len(libs) != 1:
                continue
            anchor = next(iter(pts))
            if col != c:
                (lib,) = libs
                still = all(Q.stones[x] == col for x in pts)
                if (still and R is not None and P.is_legal(divmod(lib, size), c)
                        and any(anchor in g and len(g_libs) >= 2 for _, g, g_libs in board_groups[i + 2])):
                    add("missed capture")
        pts, libs = q_group[flat]
        if len(pts) >= 3 and len(libs) == 1 and taken_by_reply(pts):
            add("self-atari")
        later_lost = any(h.stones[flat] != c for h in history[i + 2:])
        if not captured_now and later_lost and all(P.stones[r] == c for r in nbrs[flat]):
            add("eye fill")


def first_pass(record: GameRecord) -> Optional[int]:
    """Index of the first pass in the game's moves, or None."""
    return next((i for i, (_, m) in enumerate(record.moves) if m is PASS), None)


def replay_on(client, record, komi: float, upto: Optional[int] = None) -> None:
    """Set a GTP engine's board to ``record``'s position after ``upto`` moves (all by default):
    setup stones first. ``record``: a GameRecord or an SgfRecord (size, setup, moves)."""
    client.send(f"boardsize {record.size}")
    client.send("clear_board")
    client.send(f"komi {komi:g}")
    for colour, pts in ((BLACK, record.black_setup), (WHITE, record.white_setup)):
        for p in pts:
            client.send(f"play {color_name(colour)} {to_gtp(p, record.size)}")
    for colour, move in record.moves[:upto]:
        client.send(f"play {color_name(colour)} {to_gtp(move, record.size)}")


def leader_at(client, record: GameRecord, upto: int, komi: float) -> str:
    """The judge's name of the side ahead ("B"/"W"/"0") after ``upto`` moves (GTP final_score)."""
    replay_on(client, record, komi, upto)
    answer = client.send("final_score").strip()
    return answer[:1] if answer[:1] in "BW" else "0"


def load_arena(results: Path, games_dir: Path) -> list[tuple[dict, GameRecord]]:
    """(result row, record) for every game an arena results JSONL names."""
    from engine.sgf import parse_collection

    out = []
    for line in results.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        rec = parse_collection((games_dir / row["sgf"]).read_bytes())[0]
        out.append((row, GameRecord(rec.size, rec.moves, {1: row["black"], 2: row["white"]},
                                    rec.black_setup, rec.white_setup)))
    return out


def report(games: list[tuple[dict, GameRecord]], judge=None) -> dict:
    """Per-player event counts and rates; with a judge GTP client, who led at the first pass."""
    tally: dict = collections.defaultdict(collections.Counter)
    at_pass: dict = collections.defaultdict(collections.Counter)
    for row, rec in games:
        for name in rec.names.values():
            tally[name]  # a player who made no move still gets a row
        count_game(rec, tally)
        if judge is None:
            continue
        i = first_pass(rec)
        if i is None:
            continue
        leader = leader_at(judge, rec, i, float(row.get("komi", 7.0)))
        at_pass[rec.names[rec.moves[i][0]]]["passed first"] += 1
        winner = row.get("winner")
        for name in rec.names.values():
            colour = "B" if rec.names[1] == name else "W"
            key = "ahead" if leader == colour else "behind or even"
            at_pass[name][f"{key}, {'won' if winner == name else 'did not win'}"] += 1
    players = {}
    for name, t in sorted(tally.items()):
        n = max(t["moves"], 1)
        players[name] = {"moves": t["moves"],
                         **{e: {"count": t[e], "per_100_moves": round(100 * t[e] / n, 2)} for e in EVENTS}}
        late = {e: t[LATE + e] for e in ("moves", *EVENTS) if t[LATE + e]}
        if late:
            players[name]["after the first pass"] = late
        if name in at_pass:
            players[name]["at the first pass"] = dict(sorted(at_pass[name].items()))
    return {"games": len(games), "players": players}


def corpus_tactics(records) -> dict:
    """How often a corpus's video shows tactics: positions where the mover has a group of >= 2
    stones in atari, and moves that capture >= 2 stones (per 100 positions)."""
    positions = atari = captures = 0
    for rec in records:  # SgfRecords: size, moves and setup, as replay() reads them
        history = replay(rec)
        for (colour, _), pos, nxt in zip(rec.moves, history, history[1:]):
            atari += in_atari(pos, colour)
            captures += sum(nxt.captures) - sum(pos.captures) >= 2
            positions += 1
    n = max(positions, 1)
    return {"games": len(records), "positions": positions,
            "mover in atari %": round(100 * atari / n, 2), "captures of >= 2 per 100 moves": round(100 * captures / n, 2)}


def add_parser(sub) -> None:
    p = sub.add_parser("blunders", help="count tactical blunders per player over arena games",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("results", type=Path, nargs="?", help="an arena results JSONL (its 'sgf' fields name the games)")
    p.add_argument("--games-dir", type=Path, help="the arena's out folder (holds games/)")
    p.add_argument("--corpus", type=Path, action="append", default=[],
                   help="instead: how often this SGF collection shows ataris and captures (repeatable)")
    p.add_argument("--limit", type=int, default=None, help="with --corpus: the first N games of each")
    p.add_argument("--judge", default=None, help="an engine preset that scores the position at the "
                   "first pass with final_score, e.g. gnugo:10")
    p.add_argument("--out", type=Path, default=None, help="write the report as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.corpus:
        from engine.sgf import parse_collection

        rep = {}
        for path in args.corpus:
            rep[str(path)] = corpus_tactics(parse_collection(path.read_bytes())[: args.limit])
            print(f"{path}: {rep[str(path)]}")
        if args.out:
            args.out.write_text(json.dumps(rep, indent=1) + "\n")
        return 0
    if args.results is None or args.games_dir is None:
        print("videoworld-go blunders: give an arena results file and --games-dir, or --corpus")
        return 2
    games = load_arena(args.results, args.games_dir)
    judge = None
    if args.judge:
        from engine.engines import spec_from_preset
        from gtp.client import GtpClient

        judge = GtpClient(spec_from_preset(args.judge), timeout=120.0)
        judge.start()
    try:
        rep = report(games, judge)
    finally:
        if judge is not None:
            judge.close()
    rep["results"] = str(args.results)
    print(f"{rep['games']} games; events per 100 moves of that player (counts in brackets)")
    print(f"{'player':24s} {'moves':>6s} " + " ".join(f"{e:>16s}" for e in EVENTS))
    for name, t in rep["players"].items():
        cells = " ".join(f"{t[e]['per_100_moves']:9.2f} ({t[e]['count']:4d})" for e in EVENTS)
        print(f"{name:24s} {t['moves']:6d} {cells}")
    for name, t in rep["players"].items():
        if "after the first pass" in t:
            print(f"{name}: after the first pass: {t['after the first pass']}")
        if "at the first pass" in t:
            print(f"{name}: at the first pass (judge {args.judge}): {t['at the first pass']}")
    if args.out:
        args.out.write_text(json.dumps(rep, indent=1) + "\n")
    return 0
