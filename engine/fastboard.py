"""The light playout's board, compiled (numba): what the Monte Carlo tree search (engine/mc_tree.py) runs.

The same rules and policies as engine/playout.py's ``Playout`` (light; tactical), and MoGo's 3x3 patterns
(engine/patterns.py) as a third option; on top of any of them, the last good reply with forgetting
(``remember_replies``: a tree search's table, learnt over its simulations). The light policy: each side in turn
plays a uniformly random point among those that are legal (simple ko), not its own eye and not a
self-atari of a chain of two or more stones (unless it captures), and passes when there is none; two
passes in a row, or 3*N*N moves, end it. Compiled because a Python playout costs ~1-5 ms and a tree
search wants tens of thousands of them a move: here a 9x9 playout takes tens of microseconds.

Layout: flat points p = row * N + col; every array below is (A,) with A = N*N unless said.
- ``board`` int8: 0 empty, 1 black, 2 white;
- ``head`` int32: the chain's representative stone (-1 on an empty point); ``nxt`` int32: the next
  stone of the chain, a ring; ``csize``/``plib`` int32 at the head: stones and pseudo-liberties
  (one per (stone, empty neighbour) pair: zero exactly when the chain has no liberty);
- ``empties`` int32: the empty points in the first ``st[NE]`` slots, ``slot`` int32: where each sits
  (-1: not empty), so a point leaves or joins the draw in O(1);
- ``mark`` int32 with ``st[STAMP]``: visited flags for one walk (a fresh stamp per walk, no clearing);
- ``st`` int64 (8,): the scalars below.
- ``nbr``/``diag`` int32 (A, 4): orthogonal / diagonal neighbours, -1 padded; ``ndiag`` int32 (A,).
The random numbers are xorshift64* on a (1,) uint64 state: deterministic for a seed, per search.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

# st[...] slots
NE, KO, COLOUR, PASSES, MOVES, LAST, STAMP = 0, 1, 2, 3, 4, 5, 6
OWN, TAKEN = 8, 12  # play's scratch, 4 slots each: the heads of the mover's / the captured chains next to the move
ST_LEN = 16


@lru_cache(maxsize=None)
def tables(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nbr, diag, ndiag) for a size x size board (module docstring)."""
    a = size * size
    nbr = np.full((a, 4), -1, np.int32)
    diag = np.full((a, 4), -1, np.int32)
    ndiag = np.zeros(a, np.int32)
    for r in range(size):
        for c in range(size):
            p, k = r * size + c, 0
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                if 0 <= r + dr < size and 0 <= c + dc < size:
                    nbr[p, k], k = (r + dr) * size + c + dc, k + 1
            k = 0
            for dr in (-1, 1):
                for dc in (-1, 1):
                    if 0 <= r + dr < size and 0 <= c + dc < size:
                        diag[p, k], k = (r + dr) * size + c + dc, k + 1
            ndiag[p] = k
    return nbr, diag, ndiag


class FastBoard:
    """The arrays of one board (module docstring), set up from a position's stones by ``setup``."""

    def __init__(self, size: int) -> None:
        a = size * size
        self.size = size
        self.nbr, self.diag, self.ndiag = tables(size)
        self.board = np.zeros(a, np.int8)
        self.head = np.full(a, -1, np.int32)
        self.nxt = np.zeros(a, np.int32)
        self.csize = np.zeros(a, np.int32)
        self.plib = np.zeros(a, np.int32)
        self.empties = np.zeros(a, np.int32)
        self.slot = np.full(a, -1, np.int32)
        self.mark = np.zeros(a, np.int32)
        self.st = np.zeros(ST_LEN, np.int64)

    def arrays(self) -> tuple:
        return (self.board, self.head, self.nxt, self.csize, self.plib, self.empties, self.slot, self.mark,
                self.st)

    def setup(self, stones: bytes | bytearray, to_play: int, ko: int = -1, last: int = -1) -> "FastBoard":
        setup_board(np.frombuffer(bytes(stones), np.uint8).astype(np.int8), to_play, ko, last, self.nbr,
                    *self.arrays())
        return self


@njit(cache=True)
def rand_below(rng, n):
    """A uniform integer in [0, n) from the xorshift64* state ``rng`` (1,) uint64."""
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    return np.int64((x * np.uint64(2685821657736338717)) >> np.uint64(33)) % n


@njit(cache=True)
def setup_board(stones, to_play, ko, last, nbr, board, head, nxt, csize, plib, empties, slot, mark, st):
    """Fills the arrays from ``stones`` int8 (A,): chains by flood fill, pseudo-liberties, the empty list."""
    a = stones.shape[0]
    board[:] = stones
    head[:] = -1
    slot[:] = -1
    ne = 0
    for p in range(a):
        if board[p] == 0:
            empties[ne] = p
            slot[p] = ne
            ne += 1
    stack = np.empty(a, np.int32)
    for p in range(a):
        if board[p] == 0 or head[p] >= 0:
            continue
        colour = board[p]
        top, prev, count, libs = 1, p, 0, 0
        stack[0] = p
        head[p] = p
        while top > 0:
            top -= 1
            s = stack[top]
            if count:  # link s into the ring after the previous stone
                nxt[prev] = s
            prev = s
            count += 1
            for k in range(4):
                q = nbr[s, k]
                if q < 0:
                    break
                if board[q] == 0:
                    libs += 1
                elif board[q] == colour and head[q] < 0:
                    head[q] = p
                    stack[top] = q
                    top += 1
        nxt[prev] = p
        csize[p] = count
        plib[p] = libs
    st[NE] = ne
    st[KO] = ko
    st[COLOUR] = to_play
    st[PASSES] = 0
    st[MOVES] = 0
    st[LAST] = last


@njit(cache=True)
def copy_board(src_board, src_head, src_nxt, src_csize, src_plib, src_empties, src_slot, src_st,
               board, head, nxt, csize, plib, empties, slot, st):
    board[:] = src_board
    head[:] = src_head
    nxt[:] = src_nxt
    csize[:] = src_csize
    plib[:] = src_plib
    empties[:] = src_empties
    slot[:] = src_slot
    stamp = st[STAMP]  # the mark array is the copy's own: keep its stamp counting up
    st[:] = src_st
    st[STAMP] = stamp


@njit(cache=True)
def _walk_libs(h, count, need, stamp, board, nxt, nbr, mark):
    """Walks the chain at head ``h``: (``count`` plus its liberties not yet marked with ``stamp``, marking
    them, stopping at ``need`` or more; the last liberty marked, -1 if none)."""
    s, last = h, -1
    while count < need:
        for k in range(4):
            q = nbr[s, k]
            if q < 0:
                break
            if board[q] == 0 and mark[q] != stamp:
                mark[q] = stamp
                count += 1
                last = q
        s = nxt[s]
        if s == h:
            break
    return count, last


@njit(cache=True)
def _more_libs(h, count, need, stamp, board, nxt, nbr, mark):
    """``count`` plus the liberties of the chain at head ``h`` not yet marked with ``stamp`` (marking
    them), stopping at ``need``."""
    return min(_walk_libs(h, count, need, stamp, board, nxt, nbr, mark)[0], need)


@njit(cache=True)
def libs_up_to(h, need, board, nxt, nbr, mark, st):
    """Distinct liberties of the chain at head ``h``, counted up to ``need``."""
    st[STAMP] += 1
    return _more_libs(h, 0, need, st[STAMP], board, nxt, nbr, mark)


@njit(cache=True)
def own_eye(p, colour, board, nbr, diag, ndiag):
    """All neighbours ``colour``'s and not a false eye (too many enemy diagonals)."""
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] != colour:
            return False
    enemy = 0
    for k in range(ndiag[p]):
        if board[diag[p, k]] == 3 - colour:
            enemy += 1
    if ndiag[p] < 4:
        return enemy == 0
    return enemy <= 1


@njit(cache=True)
def _remove_empty(p, empties, slot, st):
    i = slot[p]
    st[NE] -= 1
    last = empties[st[NE]]
    if last != p:
        empties[i] = last
        slot[last] = i
    slot[p] = -1


@njit(cache=True)
def _add_empty(p, empties, slot, st):
    slot[p] = st[NE]
    empties[st[NE]] = p
    st[NE] += 1


@njit(cache=True)
def play(p, policy, nbr, board, head, nxt, csize, plib, empties, slot, mark, st):
    """Plays empty point ``p`` for the side to move if the playout policy allows it (``policy`` False:
    if the rules allow it, simple ko); whether it did. Does not flip the side to move."""
    if p == st[KO]:
        return False
    colour = st[COLOUR]
    # The chains next to p go to st[OWN:OWN+4] / st[TAKEN:TAKEN+4], not to two fresh arrays: numba does not
    # elide those heap allocations (~60 ns a call); MoGo's tree ran 1-6 % more simulations a second without them.
    nown, ntaken, nfree = 0, 0, 0
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        v = board[q]
        if v == 0:
            nfree += 1
            continue
        h = head[q]
        if v == colour:
            seen = False
            for j in range(nown):
                if st[OWN + j] == h:
                    seen = True
            if not seen:
                st[OWN + nown] = h
                nown += 1
        else:
            seen = False
            for j in range(ntaken):
                if st[TAKEN + j] == h:
                    seen = True
            if not seen and libs_up_to(h, 2, board, nxt, nbr, mark, st) == 1:
                st[TAKEN + ntaken] = h
                ntaken += 1
    if ntaken == 0:
        if nown == 0:
            if nfree == 0:
                return False  # suicide of a lone stone
        elif nfree < 2:
            need = 2 if policy else 1
            st[STAMP] += 1
            stamp = st[STAMP]
            mark[p] = stamp  # p itself is no liberty of the merged chain
            count = 0
            for k in range(4):
                q = nbr[p, k]
                if q < 0:
                    break
                if board[q] == 0:
                    mark[q] = stamp
                    count += 1
            for j in range(nown):
                count = _more_libs(st[OWN + j], count, need, stamp, board, nxt, nbr, mark)
            if count < need:
                return False  # suicide, or (the policy's rule) a chain of two or more put in atari
    # Legal: play it.
    if ntaken == 1 and csize[st[TAKEN + 0]] == 1 and nown == 0 and nfree == 0:
        st[KO] = st[TAKEN + 0]
    else:
        st[KO] = -1
    board[p] = colour
    _remove_empty(p, empties, slot, st)
    head[p] = p
    nxt[p] = p
    csize[p] = 1
    plib[p] = nfree
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] != 0 and q != p:
            plib[head[q]] -= 1
    h = p
    for j in range(nown):
        o = st[OWN + j]
        big, small = (o, h) if csize[o] >= csize[h] else (h, o)
        s = small
        while True:
            head[s] = big
            s = nxt[s]
            if s == small:
                break
        nb, ns = nxt[big], nxt[small]  # splice the two rings
        nxt[big], nxt[small] = ns, nb
        csize[big] += csize[small]
        plib[big] += plib[small]
        h = big
    for j in range(ntaken):
        t = st[TAKEN + j]
        s = t
        while True:  # empty the stones first, then give their neighbours the liberties
            board[s] = 0
            head[s] = -1
            _add_empty(s, empties, slot, st)
            s = nxt[s]
            if s == t:
                break
        while True:
            for k in range(4):
                u = nbr[s, k]
                if u < 0:
                    break
                if board[u] != 0:
                    plib[head[u]] += 1
            s = nxt[s]
            if s == t:
                break
    return True


@njit(cache=True)
def play_legal(p, nbr, board, head, nxt, csize, plib, empties, slot, mark, st):
    """Plays ``p`` for the side to move if the rules allow it (simple ko, self-ataris too) and hands the
    move over; whether it did. For a tree search walking its moves before the random part."""
    if board[p] != 0 or not play(p, False, nbr, board, head, nxt, csize, plib, empties, slot, mark, st):
        return False
    st[PASSES] = 0
    st[LAST] = p
    st[COLOUR] = 3 - st[COLOUR]
    st[MOVES] += 1
    return True


@njit(cache=True)
def _lone_liberty(h, board, nxt, nbr, mark, st):
    """The liberty of the chain at head ``h`` if it has exactly one, else -1."""
    st[STAMP] += 1
    count, last = _walk_libs(h, 0, 2, st[STAMP], board, nxt, nbr, mark)
    return last if count == 1 else -1


@njit(cache=True)
def _shuffle(rng, out, start, stop):
    for i in range(stop - 1, start, -1):
        j = start + rand_below(rng, i - start + 1)
        out[i], out[j] = out[j], out[i]


@njit(cache=True)
def pattern_code(p, nb8, board):
    """The 3x3 neighbourhood of ``p`` as a 16-bit number: 2 bits per neighbour in ``nb8`` order (0 empty,
    1 Black, 2 White, 3 off the board), the first neighbour in the lowest bits (engine/patterns.py)."""
    code = 0
    for k in range(8):
        q = nb8[p, k]
        code |= (3 if q < 0 else board[q]) << (2 * k)
    return code


@njit(cache=True)
def pattern_moves(rng, out, n, nb8, pat, board, st):
    """Appends to ``out[n:]`` the empty points around the last move whose 3x3 neighbourhood is one of
    MoGo's (``pat`` (4**8,) bool, engine/patterns.py), shuffled; the new count."""
    last = st[LAST]
    first = n
    if last >= 0:
        for k in range(8):
            q = nb8[last, k]
            if q >= 0 and board[q] == 0 and pat[pattern_code(q, nb8, board)]:
                out[n] = q
                n += 1
    _shuffle(rng, out, first, n)
    return n


@njit(cache=True)
def answers_capacity(area):
    """How many entries ``answers`` may write on a board of ``area`` points, at most: the capture of the last
    move (1); for each of its 4 neighbours (one chain may come up 4 times) the escape (1) and one capture
    per edge between that chain and an attacker in atari (a board has fewer than 2*A edges); MoGo's
    patterns (8); one capture per opponent chain (A). numba does not check indices: ``out`` must hold this."""
    return 1 + 4 * (1 + 2 * area) + 8 + area


@njit(cache=True)
def answers(rng, out, policy, nbr, board, head, nxt, plib, mark, st):
    """The heavy policies' urgent points, in the order they are tried, written to ``out`` (``answers_capacity``
    long); how many. ``policy`` (tactical, patterns, nb8, pat) (``policy_tables``).
    Tactical (engine/playout.py ``Playout._answers``), after the opponent's move ``st[LAST]``: capture the
    chain just played if it is in atari, save a chain of the mover's next to it that it put in atari
    (capture an attacker in atari, or extend); shuffled. Patterns (MoGo's order, Gelly et al. 2006): then
    the points around the last move that match a 3x3 pattern, shuffled. Tactical: then capture any opponent
    chain in atari, shuffled."""
    tactical, patterns, nb8, pat = policy[0], policy[1], policy[2], policy[3]
    colour = st[COLOUR]
    enemy = 3 - colour
    last = st[LAST]
    n = 0
    if tactical and last >= 0 and board[last] == enemy:
        h = head[last]
        if plib[h] <= 4:  # one liberty is next to at most 4 of the chain's stones
            lib = _lone_liberty(h, board, nxt, nbr, mark, st)
            if lib >= 0:
                out[n] = lib
                n += 1
        for k in range(4):
            q = nbr[last, k]
            if q < 0:
                break
            if board[q] != colour or plib[head[q]] > 4:
                continue
            c = head[q]
            escape = _lone_liberty(c, board, nxt, nbr, mark, st)
            if escape < 0:
                continue
            s = c
            while True:  # attackers of the chain in atari that are in atari themselves
                for j in range(4):
                    t = nbr[s, j]
                    if t < 0:
                        break
                    if board[t] == enemy and plib[head[t]] <= 4:
                        lib = _lone_liberty(head[t], board, nxt, nbr, mark, st)
                        if lib >= 0:
                            out[n] = lib
                            n += 1
                s = nxt[s]
                if s == c:
                    break
            out[n] = escape
            n += 1
        _shuffle(rng, out, 0, n)
    if patterns:
        n = pattern_moves(rng, out, n, nb8, pat, board, st)
    if not tactical:
        return n
    first = n
    for p in range(board.shape[0]):
        if board[p] == enemy and head[p] == p and plib[p] <= 4:
            lib = _lone_liberty(p, board, nxt, nbr, mark, st)
            if lib >= 0:
                out[n] = lib
                n += 1
    _shuffle(rng, out, first, n)
    return n


@njit(cache=True)
def _play_chosen(p, colour, nbr, diag, ndiag, board, head, nxt, csize, plib, empties, slot, mark, st):
    """Plays a point a heavy policy chose (a stored reply, an urgent answer; it may be occupied) if it is
    empty, not ``colour``'s own eye and the policy allows it (``play``); whether it did."""
    return board[p] == 0 and not own_eye(p, colour, board, nbr, diag, ndiag) and play(
        p, True, nbr, board, head, nxt, csize, plib, empties, slot, mark, st)


@njit(cache=True)
def step(rng, policy, scratch, nbr, diag, ndiag, board, head, nxt, csize, plib, empties, slot, mark, st):
    """One move (or a pass) for the side to move; the point played, -1 for a pass. ``policy`` (tactical,
    patterns, nb8, pat, last_good_reply, replies) (``policy_tables``): with last_good_reply, first the reply
    ``replies`` holds for the mover to the last move (``remember_replies``); when tactical or patterns is
    on, then the urgent points of ``answers`` (written to ``scratch``, (``answers_capacity(A)``,) int64), in order; if none is
    played (and always for the light policy) a uniform draw by a partial Fisher-Yates shuffle of the empty
    points (engine/playout.py's reason)."""
    colour = st[COLOUR]
    n = st[NE]
    k = 0
    played = -1
    if policy[4]:
        last = st[LAST]
        r = policy[5][colour, last if last >= 0 else board.shape[0]]
        if r >= 0 and _play_chosen(r, colour, nbr, diag, ndiag, board, head, nxt, csize, plib, empties, slot, mark,
                                   st):
            played, n = r, 0
    if played < 0 and (policy[0] or policy[1]):
        for i in range(answers(rng, scratch, policy, nbr, board, head, nxt, plib, mark, st)):
            p = scratch[i]
            if _play_chosen(p, colour, nbr, diag, ndiag, board, head, nxt, csize, plib, empties, slot, mark, st):
                played, n = p, 0
                break
    while k < n:
        j = k + rand_below(rng, n - k)
        p = empties[j]
        q = empties[k]
        empties[k], empties[j] = p, q
        slot[p], slot[q] = k, j
        if not own_eye(p, colour, board, nbr, diag, ndiag) and play(p, True, nbr, board, head, nxt, csize, plib,
                                                                     empties, slot, mark, st):
            played = p
            break
        k += 1
    if played >= 0:
        st[PASSES] = 0
    else:
        st[PASSES] += 1
        st[KO] = -1
    st[LAST] = played
    st[COLOUR] = 3 - colour
    st[MOVES] += 1
    return played


@njit(cache=True)
def remember_replies(replies, played, pcol, count, before, winner):
    """Last good reply with forgetting (LGRF-1, Baier and Drake 2010) after one simulation: ``played`` /
    ``pcol`` (``count`` moves, -1 a pass) its moves and their colours, ``before`` the move before the
    first (-1: none or a pass), ``winner`` 1 or 2 (0: a draw, nothing learnt). Each of the winner's moves
    becomes its reply to the move before it; a loser's move that was its stored reply there is forgotten.
    ``replies`` (3, A+1) int32: [colour, previous point (A: a pass or none)] -> point, -1 for none."""
    if winner == 0:
        return
    a = replies.shape[1] - 1
    prev = before
    for t in range(count):
        p = played[t]
        if p >= 0:
            c = pcol[t]
            i = prev if prev >= 0 else a
            if c == winner:
                replies[c, i] = p
            elif replies[c, i] == p:
                replies[c, i] = -1
        prev = p


@njit(cache=True)
def over(st, area):
    return st[PASSES] >= 2 or st[MOVES] >= 3 * area


@njit(cache=True)
def flood_region(p, board, nbr, seen, region):
    """The empty region holding the empty point ``p``, marked in ``seen``: (its size, whose stones border
    it: 1 Black, 2 White, 3 both, 0 none); its points are ``region[:size]`` (``region`` (A,) int32, also
    the breadth-first queue)."""
    seen[p] = True
    region[0] = p
    head, tail, borders = 0, 1, 0
    while head < tail:
        s = region[head]
        head += 1
        for k in range(4):
            q = nbr[s, k]
            if q < 0:
                break
            v = board[q]
            if v == 0:
                if not seen[q]:
                    seen[q] = True
                    region[tail] = q
                    tail += 1
            else:
                borders |= v
    return tail, borders


@njit(cache=True)
def area_score(board, nbr, komi):
    """Tromp-Taylor area of a board, Black minus White minus komi (stones plus one-colour empty regions)."""
    a = board.shape[0]
    seen = np.zeros(a, np.bool_)
    region = np.empty(a, np.int32)
    black, white = 0, 0
    for p in range(a):
        if board[p] == 1:
            black += 1
        elif board[p] == 2:
            white += 1
        elif not seen[p]:
            count, borders = flood_region(p, board, nbr, seen, region)
            if borders == 1:
                black += count
            elif borders == 2:
                white += count
    return black - white - komi


@njit(cache=True)
def run_playout(rng, policy, nbr, diag, ndiag, board, head, nxt, csize, plib, empties, slot, mark, st):
    """Plays to the end; the number of moves (passes included) it took."""
    area = board.shape[0]
    scratch = np.empty(answers_capacity(area), np.int64)
    count = 0
    while not over(st, area):
        step(rng, policy, scratch, nbr, diag, ndiag, board, head, nxt, csize, plib, empties, slot, mark, st)
        count += 1
    return count


def new_rng(seed: int) -> np.ndarray:
    """A xorshift64* state for ``seed`` (any int; never the all-zero state)."""
    x = (seed * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) % (1 << 64)
    return np.array([x or 1], np.uint64)


def policy_tables(size: int, tactical: bool = False, patterns: bool = False, last_good_reply: bool = False) -> tuple:
    """The playout policy as the compiled functions take it: (tactical, patterns, nb8 (A, 8) int32, the
    pattern table (4**8,) bool (engine/patterns.py), last_good_reply, the reply table (3, A+1) int32, all -1:
    ``remember_replies``). The reply table is the caller's own (a search's, filled as it runs): a fresh
    one each call."""
    from engine.patterns import mogo_table, neighbours8

    replies = np.full((3, size * size + 1), -1, np.int32)
    return bool(tactical), bool(patterns), neighbours8(size), mogo_table(), bool(last_good_reply), replies


def fast_playout(stones: bytes | bytearray, size: int, to_play: int, seed: int, tactical: bool = False,
                 last: int = -1, patterns: bool = False) -> np.ndarray:
    """The final board (int8 (A,)) of one compiled playout from ``stones`` (``last``: the opponent's last
    point, which the heavy policies answer): for tests and benchmarks."""
    fb = FastBoard(size).setup(stones, to_play, last=last)
    run_playout(new_rng(seed), policy_tables(size, tactical, patterns), fb.nbr, fb.diag, fb.ndiag, *fb.arrays())
    return fb.board.copy()
