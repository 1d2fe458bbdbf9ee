"""A real peer: complete 9x9 games between GNU Go and our random player, through our GtpEngine.

Both programs keep their own board and every move is mirrored into the other, so each
move is a legality check in both directions: GNU Go must accept every move our engine
generates and our engine every move GNU Go generates. Between moves, GNU Go's
``is_legal`` is asked about random points and compared with our ``legal_mask``. Games are
finished the KGS way: once GNU Go passes, it plays ``kgs-genmove_cleanup`` (captures every
dead stone) until both sides pass, so GNU Go's ``final_score`` (Chinese rules, komi 7) and
ours must agree exactly: our count judges dead stones by playouts (engine/deadstones.py), and
after the cleanup it must find none that GNU Go left on the board.

GNU Go checks simple ko only unless told otherwise; it runs here with ``--positional-superko``
(as in every preset, engine/engines.py), so the rules are the same and every probe must agree,
superko included (the probes that hit a superko-only point are counted and reported).
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from dataclasses import asdict, dataclass

import pytest

from engine.board import IllegalMove
from engine.coords import BLACK, WHITE, color_name, from_gtp, to_gtp
from engine.game import Game
from engine.player import RandomPlayer
from gtp.engine import GtpEngine, chains

GNUGO = "/usr/games/gnugo"
GAMES = 100
WORKERS = 2  # processes, each with one long-lived GNU Go
MAX_MOVES = 800  # a safety net: random play with superko always ends well before this
PROBE_EVERY = 3  # moves between is_legal probes
PROBE_POINTS = 6

pytestmark = pytest.mark.skipif(
    not os.access(GNUGO, os.X_OK), reason=f"GNU Go not found at {GNUGO} (apt-get install -y gnugo)"
)


class GtpPipe:
    """The least GTP client that works: one command, one answer, over the process's pipes."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def send(self, command: str) -> tuple[bool, str]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        lines: list[str] = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"GNU Go exited while answering {command!r}")
            if line == "\n" and lines:
                break
            lines.append(line.rstrip("\n"))
        return parse_answer("\n".join(lines) + "\n\n")

    def close(self) -> None:
        try:
            self.send("quit")
        finally:
            self.proc.wait(timeout=10)


def parse_answer(framed: str) -> tuple[bool, str]:
    """(success, text) of one framed GTP answer, for both GNU Go's and ours."""
    assert framed[0] in "=?" and framed.endswith("\n\n"), repr(framed)
    head, _, rest = framed[:-2].partition("\n")
    text = head[1:].lstrip("0123456789").strip()
    return framed[0] == "=", "\n".join(filter(None, [text, rest]))


def ask(engine: GtpEngine, command: str) -> tuple[bool, str]:
    answer = engine.handle(command)
    assert answer is not None
    return parse_answer(answer)


def score_value(text: str) -> float:
    """'B+12.0' -> 12.0, 'W+3' -> -3.0, '0' -> 0.0 (positive: Black ahead)."""
    text = text.strip().upper()
    if text == "0":
        return 0.0
    sign = 1.0 if text.startswith("B+") else -1.0
    assert text[:2] in ("B+", "W+"), text
    return sign * float(text[2:])


@dataclass
class Stats:
    """One worker's counts (each worker process has its own)."""
    moves: int = 0
    probes: int = 0
    probes_illegal: int = 0
    superko: int = 0
    cleanup_games: int = 0


def probe_legality(gnugo: GtpPipe, ours: GtpEngine, rng: random.Random, stats: Stats) -> None:
    position = ours.game.position
    for color in (BLACK, WHITE):
        mask = position.legal_mask(color)
        for flat in rng.sample(range(81), PROBE_POINTS):
            vertex = to_gtp(divmod(flat, 9), 9)
            ok, text = gnugo.send(f"is_legal {color_name(color)} {vertex}")
            assert ok and text in ("0", "1"), text
            theirs, mine = text == "1", bool(mask[flat])
            assert theirs == mine, f"is_legal {color_name(color)} {vertex}: GNU Go {theirs}, ours {mine}\n{position}"
            stats.probes += 1
            stats.probes_illegal += not mine
            stats.superko += not mine and _reason(ours, divmod(flat, 9), color) == "superko"


def _reason(ours: GtpEngine, point, color: int) -> str:
    try:
        ours.game.position.play(point, color)
    except IllegalMove as e:
        return e.reason
    return ""


def play_one_game(gnugo: GtpPipe, ours: GtpEngine, gnugo_color: int, rng: random.Random, stats: Stats) -> None:
    for command in ("boardsize 9", "clear_board", "komi 7"):
        assert gnugo.send(command)[0] and ask(ours, command)[0]
    color, passes, cleanup, n = BLACK, 0, False, 0
    while passes < 2:
        name = color_name(color, short=False)
        if color == gnugo_color:
            ok, vertex = gnugo.send(f"{'kgs-genmove_cleanup' if cleanup else 'genmove'} {name}")
            if vertex.lower() == "resign":  # finish the game instead of accepting the resignation
                cleanup = True
                ok, vertex = gnugo.send(f"kgs-genmove_cleanup {name}")
            assert ok, vertex
            mirrored, why = ask(ours, f"play {name} {vertex}")
            assert mirrored, f"our engine refused GNU Go's {name} {vertex}: {why}\n{ours.game.position}"
            if vertex.lower() == "pass" and not cleanup:
                cleanup = True  # GNU Go thinks the game is over: now it must capture what is dead
                passes = -1  # its own pass does not count towards the end
        else:
            ok, vertex = ask(ours, f"genmove {name}")
            assert ok, vertex
            mirrored, why = gnugo.send(f"play {name} {vertex}")
            assert mirrored, f"GNU Go refused our {name} {vertex}: {why}\n{ours.game.position}"
        passes = passes + 1 if vertex.lower() == "pass" else 0
        n += 1
        assert n < MAX_MOVES, "game did not finish"
        if n % PROBE_EVERY == 0:
            probe_legality(gnugo, ours, rng, stats)
        color = 3 - color
    assert cleanup, "the game ended before GNU Go's cleanup phase"
    # Same board on both sides, then the same score.
    for c in ("black", "white"):
        ok, theirs = gnugo.send(f"list_stones {c}")
        mine = {to_gtp(p, 9) for chain in _chains(ours, c) for p in chain}
        assert set(theirs.upper().split()) == mine
    ok, theirs = gnugo.send("final_score")
    assert ok, theirs
    mine = ask(ours, "final_score")[1]
    assert score_value(mine) == score_value(theirs), f"ours {mine}, GNU Go {theirs}\n{ours.game.position}"
    stats.moves += n
    stats.cleanup_games += 1


def _chains(ours: GtpEngine, color: str):
    want = BLACK if color == "black" else WHITE
    return [ch for ch in chains(ours.game) if ours.game.position[ch[0]] == want]


def worker(index: int, games: int) -> dict:
    """``games`` games against one long-lived GNU Go; the counts of moves and probes."""
    stats = Stats()
    gnugo = GtpPipe([GNUGO, "--mode", "gtp", "--level", "0", "--chinese-rules", "--positional-superko", "--komi", "7"])
    ours = GtpEngine(lambda: Game(size=9, komi=7.0), RandomPlayer(seed=1000 + index))
    rng = random.Random(index)
    try:
        for done in range(games):
            play_one_game(gnugo, ours, WHITE if (done + index) % 2 else BLACK, rng, stats)
    finally:
        gnugo.close()
    return asdict(stats)


@pytest.mark.slow
def test_hundred_games_against_gnugo_agree_on_every_move_and_score():
    """The workers are processes: our side's rules code (legal masks, the dead-stone count's playouts)
    is pure Python, and in threads the two workers' share of it would take turns on one core."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    per_worker = [GAMES // WORKERS + (i < GAMES % WORKERS) for i in range(WORKERS)]
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("fork")) as pool:
        counts = list(pool.map(worker, range(WORKERS), per_worker))  # a failed game's assertion is raised here
    elapsed = time.monotonic() - started
    total = {k: sum(c[k] for c in counts) for k in counts[0]}
    assert total["cleanup_games"] == GAMES
    assert total["probes"] > 1000 and total["probes_illegal"] > 100  # the probes saw both answers
    print(f"\n{GAMES} games, {total['moves']} moves, {total['probes']} probes ({total['probes_illegal']} illegal), "
          f"{total['superko']} of them superko, {elapsed:.1f} s")


def test_gnugo_and_we_agree_on_every_point_of_a_superko_position():
    """Random games seldom reach a superko (0 probes in 100 games), so one real game that did:
    every point, both colours, asked of both engines; the superko point among them."""
    from superko_game import MOVES, SUPERKO_POINT

    gnugo = GtpPipe([GNUGO, "--mode", "gtp", "--level", "0", "--chinese-rules", "--positional-superko", "--komi", "7"])
    ours = GtpEngine(lambda: Game(size=9, komi=7.0), RandomPlayer(seed=0))
    try:
        for command in ("boardsize 9", "clear_board", "komi 7"):
            assert gnugo.send(command)[0] and ask(ours, command)[0]
        for i, vertex in enumerate(MOVES):
            command = f"play {'black' if i % 2 == 0 else 'white'} {vertex}"
            assert gnugo.send(command)[0] and ask(ours, command)[0], command
        reasons = {}
        for color in (BLACK, WHITE):
            mask = ours.game.position.legal_mask(color)
            for flat in range(81):
                vertex = to_gtp(divmod(flat, 9), 9)
                ok, text = gnugo.send(f"is_legal {color_name(color)} {vertex}")
                assert ok and (text == "1") == bool(mask[flat]), f"is_legal {color_name(color)} {vertex}: GNU Go {text}"
                if not mask[flat]:
                    reasons[(color, vertex)] = _reason(ours, divmod(flat, 9), color)
        assert reasons[(WHITE, SUPERKO_POINT)] == "superko"
    finally:
        gnugo.close()


def test_gnugo_and_we_place_the_same_fixed_handicap():
    gnugo = GtpPipe([GNUGO, "--mode", "gtp", "--level", "0"])
    ours = GtpEngine(lambda: Game(size=9), RandomPlayer(seed=0))
    try:
        for size, counts in ((9, range(2, 10)), (13, range(2, 10)), (19, range(2, 10)), (8, range(2, 5))):
            for count in counts:
                for engine_ask in (gnugo.send, lambda c: ask(ours, c)):
                    assert engine_ask(f"boardsize {size}")[0] and engine_ask("clear_board")[0]
                theirs, mine = gnugo.send(f"fixed_handicap {count}"), ask(ours, f"fixed_handicap {count}")
                assert theirs[0] and mine[0]
                assert set(theirs[1].upper().split()) == set(mine[1].split()), (size, count)
    finally:
        gnugo.close()
