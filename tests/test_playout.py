"""The fast random playout (engine/playout.py) against the rules engine (engine/board.Position).

Every move a playout makes must be the move Position.play makes (same captures, same ko point);
its incremental chains and liberties must equal a recount after every move; it passes only when
no point is acceptable to its policy (legal, not the mover's own eye, not a self-atari of a chain
of two or more without a capture); and its move is uniform over the acceptable points. The
tactical policy's moves obey the same rules, and it captures and escapes where it should.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from engine.board import Position, chain_at, from_ascii, neighbours
from engine.coords import EMPTY
from engine.playout import Playout, diagonals, playout
from engine.sgf import parse_collection, record_to_game

FIXTURE = Path(__file__).parent / "data" / "double_pass9.sgf"


def _own_eye(board, p: int, colour: int, size: int) -> bool:
    if any(board[q] != colour for q in neighbours(size)[p]):
        return False
    enemy = sum(1 for q in diagonals(size)[p] if board[q] == 3 - colour)
    return enemy == 0 if len(diagonals(size)[p]) < 4 else enemy <= 1


def _acceptable(before: bytes, size: int, colour: int, ko: int, p: int) -> bool:
    """The playout policy, written with the rules engine: legal, not an own eye, no self-atari."""
    if before[p] != EMPTY or _own_eye(before, p, colour, size):
        return False
    pos = Position(size, before, colour, ko=ko)
    if not pos.is_legal(divmod(p, size)):
        return False
    after = pos.play(divmod(p, size)).stones
    captured = sum(1 for a, b in zip(before, after) if a != EMPTY and b == EMPTY)
    own, libs = chain_at(after, p, neighbours(size))
    return not (len(own) > 1 and len(libs) == 1 and captured == 0)


def _check_chains(pl: Playout) -> None:
    size, board = pl.size, pl.board
    for p in range(size * size):
        if board[p] == EMPTY:
            assert pl.chain_of[p] is None
            assert pl.empties[pl.slot[p]] == p
        else:
            stones, libs = chain_at(board, p, neighbours(size))
            assert sorted(pl.chain_of[p].stones) == sorted(stones)
            assert pl.chain_of[p].libs == libs
            assert pl.slot[p] == -1
    assert sorted(pl.empties) == [p for p in range(size * size) if board[p] == EMPTY]
    on_board = {id(c): c for c in pl.chain_of if c is not None}
    assert {id(c) for c in pl.chains} == set(on_board)
    assert all(c.colour == board[c.stones[0]] for c in on_board.values())


def _starts() -> list[tuple[bytes, int, int]]:
    out = [(bytes(25), 5, 1), (bytes(81), 9, 1)]
    for rec in parse_collection(FIXTURE.read_bytes())[:3]:
        for upto in (20, 45):
            pos = record_to_game(rec, upto=upto).position
            out.append((pos.stones, pos.size, pos.to_play))
    return out


@pytest.mark.parametrize("tactical", [False, True])
@pytest.mark.parametrize("start", range(8))
def test_every_move_is_the_rules_engines_and_chains_stay_exact(start, tactical):
    stones, size, to_play = _starts()[start]
    for seed in range(3):
        pl = Playout(stones, size, to_play, random.Random(seed), tactical=tactical)
        _check_chains(pl)
        while not pl.over:
            before, colour, ko = bytes(pl.board), pl.colour, pl.ko
            p = pl.step()
            if p >= 0:
                assert _acceptable(before, size, colour, ko, p)
                rules = Position(size, before, colour, ko=ko).play(divmod(p, size))
                assert bytes(pl.board) == rules.stones
                assert pl.ko == rules.ko
            else:
                assert bytes(pl.board) == before and pl.ko == -1
                assert not any(_acceptable(before, size, colour, ko, q) for q in range(size * size))
            _check_chains(pl)
        assert pl.passes == 2, "a playout from these boards ends by two passes, not the move cap"


def test_the_first_move_is_uniform_over_the_acceptable_points():
    # On an empty 5x5 board every point is acceptable: 5,000 draws, ~200 each.
    counts = Counter(Playout(bytes(25), 5, 1, random.Random(i)).step() for i in range(5000))
    assert set(counts) == set(range(25))
    assert all(130 <= n <= 270 for n in counts.values()), counts


def test_the_same_seed_gives_the_same_board_and_the_start_is_not_touched():
    stones = bytes(81)
    a = playout(stones, 9, 1, random.Random(7))
    b = playout(stones, 9, 1, random.Random(7))
    assert a == b and stones == bytes(81)
    assert a != playout(stones, 9, 1, random.Random(8))


# White's last move, E5, has one liberty left (E4): Black at E6, D5 and F5.
CAPTURE = """
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . X . . . .
. . . X O X . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
"""

# White's last move, F2, put Black's two stones F3-F4 in atari (their liberty F5); F5 gives them
# three liberties. No White chain around them is in atari.
ESCAPE = """
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . O X O . .
. . . . O X O . .
. . . . . O . . .
. . . . . . . . .
"""


def _first_moves(board: str, last: int, tactical: bool, n: int = 200) -> Counter:
    pos = from_ascii(board)
    return Counter(Playout(pos.stones, 9, pos.to_play, random.Random(i), tactical, last).step() for i in range(n))


def test_tactical_playouts_capture_the_stone_just_played_in_atari():
    e4 = 5 * 9 + 4
    assert _first_moves(CAPTURE, last=4 * 9 + 4, tactical=True) == Counter({e4: 200})
    assert _first_moves(CAPTURE, last=4 * 9 + 4, tactical=False)[e4] < 20  # uniform: ~200/77 times


def test_tactical_playouts_save_a_chain_put_in_atari_and_a_pass_or_unknown_last_move_is_uniform():
    f5 = 4 * 9 + 5
    assert _first_moves(ESCAPE, last=7 * 9 + 5, tactical=True) == Counter({f5: 200})
    assert _first_moves(ESCAPE, last=-1, tactical=True)[f5] < 20  # no last move: uniform, ~200/70


# Black's lone stone at H5, far from White's last move (B9), is in atari (liberty J5).
ATARI_ELSEWHERE = """
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . O .
. . . . . . O X .
. . . . . . . O .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
"""


def test_tactical_playouts_capture_a_chain_in_atari_anywhere_and_a_seeded_playout_repeats():
    pos = from_ascii(ATARI_ELSEWHERE, to_play=2)
    j5 = 4 * 9 + 8
    first = Counter(Playout(pos.stones, 9, 2, random.Random(i), True, 1).step() for i in range(200))
    assert first == Counter({j5: 200})
    runs = [playout(pos.stones, 9, 2, random.Random(3), tactical=True, last=1) for _ in range(2)]
    assert runs[0] == runs[1]


# The compiled playout (engine/fastboard.py, the tree search's) makes the same tactical choices.
def _first_moves_compiled(board: str, last: int, tactical: bool, to_play: int = 1, n: int = 200) -> Counter:
    import numpy as np

    from engine.fastboard import FastBoard, answers_capacity, new_rng, policy_tables, step

    pos = from_ascii(board, to_play=to_play)
    out = Counter()
    scratch = np.empty(answers_capacity(81), np.int64)
    for i in range(n):
        fb = FastBoard(9).setup(pos.stones, to_play, last=last)
        out[step(new_rng(i), policy_tables(9, tactical), scratch, fb.nbr, fb.diag, fb.ndiag, *fb.arrays())] += 1
    return out


def test_compiled_tactical_playouts_capture_escape_and_capture_anywhere_like_the_python_ones():
    e4, f5, j5 = 5 * 9 + 4, 4 * 9 + 5, 4 * 9 + 8
    assert _first_moves_compiled(CAPTURE, last=4 * 9 + 4, tactical=True) == Counter({e4: 200})
    assert _first_moves_compiled(CAPTURE, last=4 * 9 + 4, tactical=False)[e4] < 20  # light: uniform, ~200/77
    assert _first_moves_compiled(ESCAPE, last=7 * 9 + 5, tactical=True) == Counter({f5: 200})
    assert _first_moves_compiled(ESCAPE, last=-1, tactical=True)[f5] < 20  # no last move, nothing in atari: uniform
    assert _first_moves_compiled(ATARI_ELSEWHERE, last=1, tactical=True, to_play=2) == Counter({j5: 200})
