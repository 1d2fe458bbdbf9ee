"""Players: anything that picks a move for a colour in a ``Game``.

GTP and REST only ever call ``player.genmove(game, color)``; the engine, not the player,
is the authority on legality (``Game.play`` raises ``IllegalMove``), so a player should
choose among ``Position.legal_mask`` moves.

Cleanup (KGS ``kgs-genmove_cleanup``): with Tromp-Taylor scoring every stone left on the
board counts as alive, so a game is only scored right once dead stones are captured. The
protocol carries this as a keyword flag, ``cleanup=True``: a player must then not pass
while it could still capture dead opponent stones. The random player never passes while
it has a legal move that does not fill its own true eye, so for it cleanup changes
nothing; a NeuralPlayer would mask out the pass instead of trusting its own judgement.
"""

from __future__ import annotations

import random
from typing import Optional, Protocol, runtime_checkable

import numpy as np

from engine.board import Position, neighbours
from engine.coords import EMPTY, PASS, Move, from_flat, opponent
from engine.game import Game


@runtime_checkable
class Player(Protocol):
    """Chooses moves. ``name`` appears in GTP ``name``/SGF ``PB``/``PW``."""

    name: str

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        """A legal move (a point, PASS or RESIGN) for ``color`` in ``game.position``. ``deadline``
        (``time.monotonic()`` seconds, under a GTP time control): answer by then if you can; a
        player that thinks for a fixed time ignores it."""
        ...


SETTLED_DAME = 2  # neutral points a settled board may still have (the pass rules of the neural and Monte Carlo players)


def opponent_passed(game: Game) -> bool:
    """Whether the last move of ``game`` was a pass."""
    return bool(game.moves) and game.moves[-1][1] is PASS


def timing(deadline: Optional[float]) -> dict:
    """The ``deadline`` keyword to pass on, only when there is one (analyzers written before it
    was part of the protocol, e.g. the tests' stand-ins, keep working without a time control)."""
    return {} if deadline is None else {"deadline": deadline}


def diagonals(size: int, p: int) -> tuple[list[int], int]:
    """Flat indices of the on-board diagonal neighbours of ``p`` and how many are off board."""
    r, c = divmod(p, size)
    on = [(r + dr) * size + (c + dc) for dr in (-1, 1) for dc in (-1, 1)
          if 0 <= r + dr < size and 0 <= c + dc < size]
    return on, 4 - len(on)


def is_true_eye(position: Position, p: int, color: int) -> bool:
    """Whether empty flat point ``p`` is a true eye of ``color``.

    All orthogonal neighbours must be ``color``. It is then false (the usual diagonal
    rule) when the opponent holds two diagonals in the centre, or one on the edge or in a
    corner, since those diagonals can cut the surrounding stones apart.
    """
    stones, size = position.stones, position.size
    if stones[p] != EMPTY or any(stones[q] != color for q in neighbours(size)[p]):
        return False
    diags, off_board = diagonals(size, p)
    enemy = sum(1 for q in diags if stones[q] == opponent(color))
    return enemy < (1 if off_board else 2)


class RandomPlayer:
    """Uniformly random among legal moves that do not fill a true eye of its own; passes when none remain.

    It never resigns and never passes early, so it plays every game out to the end, which
    is what Tromp-Taylor scoring (and the cleanup phase) needs.
    """

    def __init__(self, seed: Optional[int] = None, name: str = "random") -> None:
        self.name = name
        self._rng = random.Random(seed)

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        position = game.position
        mask = position.legal_mask(color)
        candidates = [int(p) for p in np.flatnonzero(mask[:-1]) if not is_true_eye(position, int(p), color)]
        if not candidates:
            return PASS
        return from_flat(self._rng.choice(candidates), position.size)


class BySizePlayer:
    """A model trained for some board sizes, and a fallback player for the others.

    The shipped network plays 9x9; on 13x13 or 19x19 (until they get a model) GTP and
    REST still answer, with the fallback's moves.
    """

    def __init__(self, players: dict[int, Player], fallback: Player) -> None:
        self.players = dict(players)
        self.fallback = fallback
        self.name = "+".join([p.name for p in self.players.values()] + [fallback.name])

    def for_size(self, size: int) -> Player:
        return self.players.get(size, self.fallback)

    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        return self.for_size(game.size).genmove(game, color, cleanup=cleanup, **timing(deadline))
