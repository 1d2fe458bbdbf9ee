"""The referee's clock: Canadian time control for one side of a game between GTP engines.

The engines' side of time controls is GTP's ``time_settings main period stones`` and
``time_left color seconds stones`` (gtp/clock.py turns them into a budget per move). This is the
other side, the referee's, as a tournament director (gogui-twogtp ``-time``, KGS) keeps it: main
time, then overtime periods of ``period`` seconds for ``stones`` moves each; a side whose clock
runs out loses on time. Absolute time is ``period = 0``; ``main = 0`` starts in overtime.
The time charged is the wall time from sending ``genmove`` to its answer, pipe lag included,
so an engine must keep a reserve (ours keeps 20 % and 0.3 s a move).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimeControl:
    main: float = 0.0  # seconds of main time per side
    period: float = 0.0  # Canadian overtime: `period` seconds ...
    stones: int = 0  # ... for this many moves (0: no overtime)

    def __post_init__(self) -> None:
        if self.main < 0 or self.period < 0 or self.stones < 0:
            raise ValueError(f"negative time control {self}")
        if (self.period > 0) != (self.stones > 0):
            raise ValueError(f"overtime needs both a period and its stones: {self}")

    @property
    def enabled(self) -> bool:
        return self.main > 0 or self.stones > 0

    def gtp(self) -> str:
        """The ``time_settings`` command telling an engine this control (GTP takes whole seconds)."""
        return f"time_settings {int(self.main)} {int(self.period)} {self.stones}"


class SideClock:
    """One side's clock: ``limit()`` before a move, ``charge(seconds)`` after it (False: flag fell)."""

    def __init__(self, tc: TimeControl) -> None:
        self.tc = tc
        self.overtime = tc.main <= 0
        self.left = tc.period if self.overtime else tc.main  # seconds on the clock now
        self.stones = tc.stones if self.overtime else 0  # moves still to play in this period
        self.used = 0.0  # all the side's thinking time so far
        self.moves = 0
        self.longest = 0.0  # its longest move

    def limit(self) -> float:
        """Seconds the next move may take before the flag falls (main time runs into a first period)."""
        return self.left if self.overtime else self.left + self.tc.period

    def time_left(self) -> tuple[int, int]:
        """(seconds, stones) for GTP ``time_left``: stones 0 in main time (GTP 2 spec, 4.3)."""
        return int(self.left), (self.stones if self.overtime else 0)

    def charge(self, seconds: float) -> bool:
        self.used += seconds
        self.moves += 1
        self.longest = max(self.longest, seconds)
        if not self.overtime:
            if seconds <= self.left:
                self.left -= seconds
                return True
            if self.tc.stones == 0:
                self.left = 0.0
                return False  # absolute time: out
            seconds -= self.left  # the rest of this move runs in the first period
            self.overtime, self.left, self.stones = True, self.tc.period, self.tc.stones
        self.left -= seconds
        if self.left < 0:
            self.left = 0.0
            return False
        self.stones -= 1
        if self.stones == 0:  # period done: a fresh one
            self.left, self.stones = self.tc.period, self.tc.stones
        return True


__all__ = ["SideClock", "TimeControl"]
