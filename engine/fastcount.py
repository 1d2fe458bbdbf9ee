"""The dead-stone count's playouts, compiled: per point, who ends up owning it.

engine/deadstones.py judges a chain dead when it survives fewer than half of many random playouts
from the position. Those playouts were Python (engine/playout.py, ~0.3 s for the 800 of a 9x9
count), and every endgame move of the Monte Carlo players, every GTP ``final_score`` and every
finished REST game paid for them. Here the same policy (engine/fastboard.py: light, or tactical
without a last move) runs in numba, a 9x9 count in tens of milliseconds. The random stream is
fastboard's xorshift, not Python's, so a count near the alive/dead line may judge differently than
the Python one did; the same position and seed always give the same answer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.fastboard import FastBoard, answers_capacity, copy_board, flood_region, new_rng, over, policy_tables, step


@njit(cache=True)
def _owners(board, nbr, sign, seen, region):
    """``sign`` (A,) float: +1 on a black stone or an empty region only Black borders, -1 for White, 0
    elsewhere (the Tromp-Taylor area of the final board, point by point). ``seen`` (A,) bool and
    ``region`` (A,) int32: scratch."""
    seen[:] = False
    for p in range(board.shape[0]):
        if board[p] == 1:
            sign[p] = 1.0
        elif board[p] == 2:
            sign[p] = -1.0
        elif not seen[p]:
            count, borders = flood_region(p, board, nbr, seen, region)
            value = 1.0 if borders == 1 else (-1.0 if borders == 2 else 0.0)
            for i in range(count):
                sign[region[i]] = value


@njit(cache=True)
def _ownership(count, rng, policy, nbr, diag, ndiag, root, work, total):
    """Adds ``count`` playouts' final owners (``_owners``) from the board ``root`` into ``total`` (A,)."""
    board, head, nxt, csize, plib, empties, slot, mark, st = work
    a = board.shape[0]
    scratch = np.empty(answers_capacity(a), np.int64)  # the heavy policies' urgent points
    sign = np.zeros(a, np.float64)
    seen = np.zeros(a, np.bool_)
    region = np.empty(a, np.int32)
    for _ in range(count):
        copy_board(root[0], root[1], root[2], root[3], root[4], root[5], root[6], root[8],
                   board, head, nxt, csize, plib, empties, slot, st)
        while not over(st, a):
            step(rng, policy, scratch, nbr, diag, ndiag, board, head, nxt, csize, plib, empties, slot, mark, st)
        _owners(board, nbr, sign, seen, region)
        total += sign


def ownership_mean(stones: bytes, size: int, to_play: int, playouts: int, seed: int = 0,
                   tactical: bool = False) -> np.ndarray:
    """(N*N,) float in [-1, 1]: over ``playouts`` playouts from ``stones`` with ``to_play`` to move, the
    share that end with Black owning each point minus White's (no ko, no last move: the count is asked
    at a game's end and remembered by the board alone)."""
    root = FastBoard(size).setup(stones, to_play)
    work = FastBoard(size)
    total = np.zeros(size * size, np.float64)
    _ownership(playouts, new_rng(seed), policy_tables(size, tactical), root.nbr, root.diag, root.ndiag,
               root.arrays(), work.arrays(), total)
    return total / max(1, playouts)
