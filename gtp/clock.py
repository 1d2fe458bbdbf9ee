"""Time controls as GTP announces them (``time_settings``, ``kgs-time_settings``, ``time_left``).

The engine records them so that a player can budget its thinking; the built-in players
move at once and ignore them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Clock:
    system: str = "none"  # none | absolute | byoyomi | canadian
    main_time: int = 0  # seconds
    period_time: int = 0  # seconds per byo-yomi period (or per Canadian block)
    periods: int = 0  # byo-yomi periods, or stones per Canadian block
    left: dict[int, tuple[int, int]] = field(default_factory=dict)  # colour -> (seconds, stones) from time_left

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
