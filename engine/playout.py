"""Random playouts over the rules, fast: the board keeps its chains and their liberties.

A playout fills the board: each side in turn plays a uniformly random point among those that
are legal (simple ko), not its own eye and not a self-atari of a chain of two or more stones
(unless it captures), and passes when there is none; two passes in a row, or 3*N*N moves, end
it. Dead-stone judgement, the ownership map and the search's playout judge all read the boards
these playouts end on (engine/deadstones.py).

``tactical=True`` adds the first rules of the classic Monte Carlo Go playout policies (MoGo,
Pachi): before the random draw, answer the opponent's last move if it is in atari (capture it)
or put a chain of the mover's in atari (capture an attacker in atari, or extend), else capture
any opponent chain in atari. Uniform playouts let a chain in atari live half the time, which is
how they misjudge capturing races.

Why a class with incremental chains: a rescan of the chains around every move (``chain_at`` on
each neighbour) was about 80 % of a playout's time. Here each chain object holds its stones and
its liberty set, so a move costs a few set updates; merging and capturing cost the chain's size.
The move is drawn by a partial Fisher-Yates shuffle of the empty points: each refused point is
swapped out of the draw, so the chosen move is uniform over the acceptable ones, as a full
shuffle then a scan would give, at the cost of the points tried rather than of all of them.
"""

from __future__ import annotations

import random
from functools import lru_cache

from engine.board import chain_at, neighbours
from engine.coords import EMPTY


@lru_cache(maxsize=None)
def diagonals(size: int) -> tuple[tuple[int, ...], ...]:
    """For each flat point, the flat indices of its diagonal neighbours on the board."""
    out = []
    for r in range(size):
        for c in range(size):
            out.append(tuple((r + dr) * size + c + dc for dr in (-1, 1) for dc in (-1, 1)
                             if 0 <= r + dr < size and 0 <= c + dc < size))
    return tuple(out)


class _Chain:
    __slots__ = ("colour", "stones", "libs")

    def __init__(self, colour: int, stones: list[int], libs: set[int]):
        self.colour, self.stones, self.libs = colour, stones, libs


class Playout:
    """One playout's board. ``run()`` plays it to the end and returns the final board."""

    def __init__(self, stones: bytes, size: int, to_play: int, rng: random.Random, tactical: bool = False,
                 last: int = -1):
        self.size, self.rng, self.tactical = size, rng, tactical
        self.last = last  # the point the opponent just played (-1: a pass, or not known)
        self.nbrs, self.diags = neighbours(size), diagonals(size)
        self.board = bytearray(stones)
        self.colour, self.ko, self.passes, self.moves = to_play, -1, 0, 0
        self.chain_of: list[_Chain | None] = [None] * (size * size)
        self.chains: set[_Chain] = set()  # every chain on the board, for the tactical policy's captures
        for p in range(size * size):
            if self.board[p] != EMPTY and self.chain_of[p] is None:
                points, libs = chain_at(self.board, p, self.nbrs)
                chain = _Chain(self.board[p], points, libs)
                self.chains.add(chain)
                for s in points:
                    self.chain_of[s] = chain
        # The empty points, and where each sits in that list (-1: not empty), for O(1) removal.
        self.empties = [p for p in range(size * size) if self.board[p] == EMPTY]
        self.slot = [-1] * (size * size)
        for i, p in enumerate(self.empties):
            self.slot[p] = i

    @property
    def over(self) -> bool:
        return self.passes >= 2 or self.moves >= 3 * self.size * self.size

    def run(self) -> bytearray:
        while not self.over:
            self.step()
        return self.board

    def step(self) -> int:
        """Plays one move (or a pass) for the side to move; the point played, -1 for a pass."""
        empties, slot, rng = self.empties, self.slot, self.rng
        n, k, played = len(empties), 0, -1
        if self.tactical:
            for p in self._answers():
                if not self._own_eye(p) and self._play(p):
                    played, n = p, 0
                    break
        while k < n:
            j = k + int(rng.random() * (n - k))
            p = empties[j]
            # Swap p into the tried prefix: untried points stay in empties[k+1:].
            q = empties[k]
            empties[k], empties[j], slot[p], slot[q] = p, q, k, j
            if not self._own_eye(p) and self._play(p):
                played = p
                break
            k += 1
        self.passes = 0 if played >= 0 else self.passes + 1
        self.last = played
        if played < 0:
            self.ko = -1
        self.colour = 3 - self.colour
        self.moves += 1
        return played

    def _answers(self) -> list[int]:
        """The tactical policy's urgent points, to try in this order (each group in random order):
        after the opponent's move ``last``, capture the chain just played if it is in atari, and
        save a chain of the mover's next to it that it put in atari, by capturing one of that
        chain's attackers in atari or by extending (which ``_play`` refuses when the extension
        would still be in atari); then capture any opponent chain in atari. Without the last
        rule a chain in atari that can extend escapes every time while its attacker captures
        it only by chance."""
        out: list[int] = []
        if self.last >= 0:
            self._answers_to_last(out)
            self.rng.shuffle(out)
        # sorted: a set of chains iterates in memory order, and the same seed must give the same playout
        anywhere = sorted({p for c in self.chains if c.colour != self.colour and len(c.libs) == 1 for p in c.libs})
        self.rng.shuffle(anywhere)
        return out + anywhere

    def _answers_to_last(self, out: list[int]) -> None:
        """Appends the answers to the opponent's move ``last`` (see ``_answers``) to ``out``."""
        board, chain_of, colour, last = self.board, self.chain_of, self.colour, self.last
        played = chain_of[last]
        if played is not None and len(played.libs) == 1:
            out.extend(played.libs)
        seen: list[_Chain] = []
        for q in self.nbrs[last]:
            c = chain_of[q]
            if board[q] != colour or c in seen or len(c.libs) != 1:
                continue
            seen.append(c)
            for s in c.stones:  # attackers of the chain in atari that are in atari themselves
                for t in self.nbrs[s]:
                    d = chain_of[t]
                    if d is not None and board[t] != colour and len(d.libs) == 1:
                        out.extend(d.libs)
            out.extend(c.libs)

    def _own_eye(self, p: int) -> bool:
        """All neighbours the mover's and not a false eye (too many enemy diagonals)."""
        board, colour = self.board, self.colour
        for q in self.nbrs[p]:
            if board[q] != colour:
                return False
        diags = self.diags[p]
        enemy = 0
        for q in diags:
            if board[q] == 3 - colour:
                enemy += 1
        return enemy == 0 if len(diags) < 4 else enemy <= 1

    def play_legal(self, p: int) -> bool:
        """Plays ``p`` for the side to move if the rules allow it (simple ko; self-ataris too), for a
        tree search walking its moves on this board before the random part; whether it did."""
        if self.board[p] != EMPTY or not self._play(p, policy=False):
            return False
        self.passes, self.last, self.colour, self.moves = 0, p, 3 - self.colour, self.moves + 1
        return True

    def _play(self, p: int, policy: bool = True) -> bool:
        """Plays ``p`` for the side to move if the playout policy allows it (``policy=False``: if the
        rules allow it); whether it did."""
        if p == self.ko:
            return False
        board, chain_of, colour = self.board, self.chain_of, self.colour
        nb = self.nbrs[p]
        free, own, taken = [], [], []
        for q in nb:
            v = board[q]
            if v == EMPTY:
                free.append(q)
            else:
                c = chain_of[q]
                if v == colour:
                    if c not in own:
                        own.append(c)
                elif len(c.libs) == 1 and c not in taken:
                    taken.append(c)
        if not taken:
            if not own:
                if not free:
                    return False  # suicide of a lone stone
            elif len(free) < 2:
                libs = set(free)
                for c in own:
                    libs |= c.libs
                libs.discard(p)
                if len(libs) < (2 if policy else 1):
                    return False  # suicide, or (the policy's rule) a chain of two or more put in atari
        # Legal: play it.
        self.ko = taken[0].stones[0] if len(taken) == 1 and len(taken[0].stones) == 1 and not own and not free else -1
        board[p] = colour
        self._remove_empty(p)
        for q in nb:
            c = chain_of[q]
            if c is not None:
                c.libs.discard(p)
        chain = _Chain(colour, [p], set(free))
        chain_of[p] = chain
        self.chains.add(chain)
        for c in own:  # merge into the largest, relabelling the smaller ones' stones
            big, small = (c, chain) if len(c.stones) >= len(chain.stones) else (chain, c)
            for s in small.stones:
                chain_of[s] = big
            big.stones.extend(small.stones)
            big.libs |= small.libs
            self.chains.discard(small)
            chain = big
        for c in taken:
            self.chains.discard(c)
            for s in c.stones:
                board[s] = EMPTY
                chain_of[s] = None
                self._add_empty(s)
            for s in c.stones:
                for t in self.nbrs[s]:
                    d = chain_of[t]
                    if d is not None:
                        d.libs.add(s)
        return True

    def _remove_empty(self, p: int) -> None:
        empties, slot = self.empties, self.slot
        i, last = slot[p], empties.pop()
        if last != p:
            empties[i], slot[last] = last, i
        slot[p] = -1

    def _add_empty(self, p: int) -> None:
        self.slot[p] = len(self.empties)
        self.empties.append(p)


def playout(stones: bytes, size: int, to_play: int, rng: random.Random, tactical: bool = False,
            last: int = -1) -> bytearray:
    """The board after both sides filled every point but their own eyes (or the move cap)."""
    return Playout(stones, size, to_play, rng, tactical, last).run()
