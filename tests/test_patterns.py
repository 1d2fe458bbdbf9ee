"""MoGo's 3x3 playout patterns (engine/patterns.py) and the compiled playouts that play them (engine/fastboard.py)."""

from collections import Counter

import numpy as np
import pytest

from engine.fastboard import FastBoard, answers_capacity, new_rng, pattern_code, policy_tables, step
from engine.patterns import MOGO_PATTERNS, NEIGHBOURS, codes, matches, mogo_table, neighbours8

SIZE = 9


def _code(cells: list[int]) -> int:
    return sum(v << (2 * k) for k, v in enumerate(cells))


def _cells(code: int) -> list[int]:
    return [(code >> (2 * k)) & 3 for k in range(8)]


def _grid(code: int) -> np.ndarray:
    g = np.zeros((3, 3), np.int64)
    for (dr, dc), v in zip(NEIGHBOURS, _cells(code)):
        g[1 + dr, 1 + dc] = v
    return g


def _from_grid(g: np.ndarray) -> int:
    return _code([int(g[1 + dr, 1 + dc]) for dr, dc in NEIGHBOURS])


def test_the_table_is_closed_under_board_symmetries_and_colour_swap():
    table = mogo_table()
    found = np.flatnonzero(table)
    assert 1000 < found.size < 4 ** 8 // 2
    assert not table[0]  # an empty neighbourhood is no shape
    swap = np.array([0, 2, 1, 3])
    for code in found[::37]:
        g = _grid(int(code))
        assert table[_from_grid(swap[g])]
        for k in range(4):
            assert table[_from_grid(np.rot90(g, k))] and table[_from_grid(np.fliplr(np.rot90(g, k)))]


def _place(pattern: tuple[str, str, str], x: int) -> tuple[bytearray, int]:
    """``pattern`` on an empty 9x9 board, its wildcards empty (or, where they cannot be, a stone of the colour
    they allow), centred on the bottom edge's middle point when it names the edge, else on the board's middle;
    X is colour ``x``. Returns the stones and the centre."""
    o = 3 - x
    rows = [row for row in pattern if row != "###"]
    r0 = SIZE - len(rows) if "###" in pattern else 3
    stones = bytearray(SIZE * SIZE)
    for i, row in enumerate(rows):
        for j, ch in enumerate(row):
            value = {"X": x, "O": o}.get(ch, 0)
            stones[(r0 + i) * SIZE + 3 + j] = value
    return stones, (r0 + 1) * SIZE + 4


@pytest.mark.parametrize("pattern", MOGO_PATTERNS, ids=lambda p: "/".join(p))
def test_each_pattern_matches_on_the_board_in_every_rotation_and_colour(pattern):
    for x in (1, 2):
        stones, centre = _place(pattern, x)
        grid = np.frombuffer(bytes(stones), np.uint8).reshape(SIZE, SIZE)
        r, c = divmod(centre, SIZE)
        for k in range(4):
            turned = np.rot90(grid, k)
            marker = np.zeros((SIZE, SIZE), np.int64)
            marker[r, c] = 1
            tr, tc = np.argwhere(np.rot90(marker, k))[0]
            assert matches(bytes(turned.astype(np.uint8).tobytes()), SIZE, int(tr * SIZE + tc)), (pattern, x, k)


def test_an_edge_pattern_needs_the_edge():
    chase = MOGO_PATTERNS[7]
    assert chase == ("X.?", "O.?", "###")
    on_edge = codes(chase)
    # the same stones one line up: the cells below are empty points, not the edge
    off = _code([1, 0, 0, 2, 0, 0, 0, 0])  # X up-left, O left, the rest empty
    edge = _code([1, 0, 0, 2, 0, 3, 3, 3])  # ... and the edge below
    assert edge in on_edge and off not in on_edge


def test_the_compiled_code_is_the_python_one_on_random_boards():
    rng = np.random.default_rng(0)
    nb8 = neighbours8(SIZE)
    table = mogo_table()
    for _ in range(20):
        board = rng.choice(np.array([0, 1, 2], np.int8), size=SIZE * SIZE, p=[0.5, 0.25, 0.25])
        for p in range(SIZE * SIZE):
            code = pattern_code(p, nb8, board)
            want = [3 if q < 0 else int(board[q]) for q in nb8[p]]
            assert _cells(code) == want
            if board[p] == 0:
                assert table[code] == matches(bytes(board.astype(np.uint8)), SIZE, p)


def test_pattern_playouts_answer_the_last_move_with_a_matching_point():
    """After White's hane-able move, a pattern playout's first move is one of the matching points around it
    (the light policy's is uniform over the whole board)."""
    stones = bytearray(SIZE * SIZE)
    stones[4 * SIZE + 4] = 1  # Black E5
    stones[3 * SIZE + 4] = 2  # White E6, just played: attached on top
    last = 3 * SIZE + 4
    around = {q for q in neighbours8(SIZE)[last] if q >= 0 and stones[q] == 0}
    want = {q for q in around if matches(bytes(stones), SIZE, int(q))}
    assert want and want != around

    def first_moves(patterns: bool) -> Counter:
        out = Counter()
        scratch = np.empty(answers_capacity(SIZE * SIZE), np.int64)
        for i in range(200):
            fb = FastBoard(SIZE).setup(bytes(stones), 1, last=last)
            out[step(new_rng(i), policy_tables(SIZE, False, patterns), scratch, fb.nbr, fb.diag, fb.ndiag,
                     *fb.arrays())] += 1
        return out

    heavy = first_moves(True)
    assert set(heavy) == want  # only matching points, and each of them (shuffled)
    light = first_moves(False)
    assert sum(light[q] for q in want) < 40  # uniform over ~79 points
