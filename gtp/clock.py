"""Time controls as GTP announces them (``time_settings``, ``kgs-time_settings``, ``time_left``).

The engine records them and gives each ``genmove`` a budget (``Clock.budget``): a deadline the
tree search stops at (it finishes the batch of leaves in hand, so it overshoots by at most one
batch, which the safety margin covers). The network alone and the built-in players move at once
and ignore it.

The budget: in main time, the time left spread over the moves this side can still expect to
play (a 9x9 game here lasts 60-90 plies plus the cleanup, so ``0.9 N^2`` plies in all and at least
``0.15 N^2`` own moves still to come); in a Canadian period, its time over its stones; in a KGS
Japanese byo-yomi period (where ``time_left`` gives the period's time and the periods left), a
share of one period. Then a safety factor and a fixed allowance for the controller's and the
pipe's lag. Without ``time_left`` from the controller the clock keeps its own count of the time
each side's ``genmove`` took.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

SAFETY = 0.8  # share of the computed allowance actually used
LAG = 0.3  # seconds kept back per move for the controller, the pipe and the overshoot of a batch
MIN_SECONDS = 0.05  # the budget never drops below this: the network alone answers anyway


@dataclass
class Clock:
    system: str = "none"  # none | absolute | byoyomi | canadian
    main_time: int = 0  # seconds
    period_time: int = 0  # seconds per byo-yomi period (or per Canadian block)
    periods: int = 0  # byo-yomi periods, or stones per Canadian block
    left: dict[int, tuple[int, int]] = field(default_factory=dict)  # colour -> (seconds, stones) from time_left
    used: dict[int, float] = field(default_factory=dict)  # colour -> seconds its genmoves took since then

    def spent(self, color: int, seconds: float) -> None:
        """A ``genmove`` for ``color`` took this long: counted until the next ``time_left`` for it."""
        self.used[color] = self.used.get(color, 0.0) + seconds

    def report(self, color: int, seconds: int, stones: int) -> None:
        """``time_left``: the controller's word replaces the engine's own count."""
        self.left[color] = (seconds, stones)
        self.used.pop(color, None)

    def budget(self, color: int, moves_played: int, size: int) -> Optional[float]:
        """Seconds ``color`` may think on this move, or None (no time limit)."""
        if self.system == "none":
            return None
        reported, stones = self.left.get(color, (self.main_time, 0))
        seconds = max(0.0, reported - self.used.get(color, 0.0))
        if stones > 0 and self.system == "byoyomi":  # KGS: a period each move, whatever the last ones took
            allowance = reported
        elif stones > 0:  # a Canadian period: this many stones in the time left
            allowance = seconds / stones
        else:  # main time: spread over the moves to come, or the overtime's pace if that is more
            plies_left = max(0.9 * size * size - moves_played, 0.0)
            allowance = seconds / max(0.15 * size * size, plies_left / 2)
            if self.system == "byoyomi":
                allowance = max(allowance, self.period_time)
            elif self.system == "canadian" and self.periods > 0:
                allowance = max(allowance, self.period_time / self.periods)
        return max(MIN_SECONDS, SAFETY * allowance - LAG)

    @classmethod
    def canadian(cls, main_time: int, byo_yomi_time: int, byo_yomi_stones: int) -> "Clock":
        """GTP ``time_settings``: byo-yomi time 0 means absolute time; stones 0 means no limit (spec 6.3.5)."""
        if byo_yomi_time > 0 and byo_yomi_stones == 0:
            return cls("none")
        if byo_yomi_time == 0:
            return cls("absolute", main_time)
        return cls("canadian", main_time, byo_yomi_time, byo_yomi_stones)

    @classmethod
    def kgs(cls, system: str, values: list[int]) -> "Clock":
        """KGS ``kgs-time_settings``: none | absolute main | byoyomi main period periods | canadian main time stones."""
        if system == "none":
            return cls("none")
        if system == "absolute":
            return cls("absolute", values[0])
        return cls(system, values[0], values[1], values[2])
