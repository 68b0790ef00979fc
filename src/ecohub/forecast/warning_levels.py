"""Heavy-pollution weather warning levels (重污染天气预警分级) from a daily AQI forecast sequence.

Two national schemes, selected by a setting (``scheme``):

* ``"2018"`` — 环境保护部办公厅《关于推进重污染天气应急预案修订工作的指导意见》(环办大气函〔2018〕875号),
  four levels; restated in the MEP slide deck "重污染天气预警分级标准" of 2017-09-20 and several independent
  summaries (STANDARDS.md §8, confirmed [2]):

  ====== ===============================================================================================
  blue   forecast daily AQI > 200 for 1 day, no higher level reached
  yellow AQI > 200 lasting 2 days or more, no higher level reached
  orange AQI > 200 lasting 3 days or more **and** AQI > 300 on at least 1 day, red not reached
  red    AQI > 200 lasting 4 days or more **and** AQI > 300 lasting 2 days or more; **or** AQI reaching 500
         for 1 day or more
  ====== ===============================================================================================

* ``"2024"`` — 生态环境部等《关于进一步优化重污染天气应对机制的指导意见》(环大气〔2024〕6号), three levels
  (blue removed) — **UNCONFIRMED** (the text was not found; the thresholds below are those of a city plan that
  cites it, see docs/forecast.md):

  ====== ===============================================================================================
  yellow forecast daily AQI > 200 on any day, or > 150 lasting 2 days or more
  orange AQI > 200 lasting 2 days or more, or > 150 lasting 3 days or more
  red    AQI > 200 lasting 3 days or more **and** AQI > 300 on at least 1 day
  ====== ===============================================================================================

"Lasting n days" is read as n **consecutive** days of the sequence. The sequence is the daily AQI of the
issue day (observed so far or forecast) followed by the forecast days, so an episode already under way counts
(the slide deck: the daily AQI is a 24-h mean that may span two natural days; two episodes too close to clear
in between count as one — our sequence is per natural day, which is what a daily forecast gives). Regions may
apply stricter triggers: the thresholds are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCHEMES = ("2018", "2024")
#: level number → (colour key, zh, en). 0 = no warning.
LEVELS = {0: ("none", "无预警", "no warning"), 1: ("blue", "蓝色预警", "blue warning"),
          2: ("yellow", "黄色预警", "yellow warning"), 3: ("orange", "橙色预警", "orange warning"),
          4: ("red", "红色预警", "red warning")}
SOURCES = {
    "2018": "环办大气函〔2018〕875号 (four levels; confirmed by two independent sources)",
    "2024": "环大气〔2024〕6号 (three levels; UNCONFIRMED — text not read)",
}


def _longest_run(mask: np.ndarray) -> int:
    best = cur = 0
    for m in mask:
        cur = cur + 1 if m else 0
        best = max(best, cur)
    return best


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end exclusive) of each run of True."""
    out, start = [], None
    for i, m in enumerate(list(mask) + [False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            out.append((start, i))
            start = None
    return out


@dataclass(frozen=True)
class Warning:
    level: int  # 0 none, 1 blue, 2 yellow, 3 orange, 4 red
    scheme: str
    reason: str

    @property
    def color(self) -> str:
        return LEVELS[self.level][0]

    @property
    def name_zh(self) -> str:
        return LEVELS[self.level][1]

    @property
    def name_en(self) -> str:
        return LEVELS[self.level][2]


def warning_level(aqi_sequence, scheme: str = "2018") -> Warning:
    """Warning level of a daily AQI sequence (consecutive days; NaN = unknown, breaks a run)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
    a = np.asarray(aqi_sequence, dtype=float)
    with np.errstate(invalid="ignore"):
        over200, over300, over150 = a > 200, a > 300, a > 150
        reach500 = bool(np.any(a >= 500))
    if scheme == "2018":
        if reach500:
            return Warning(4, scheme, "forecast daily AQI reaches 500")
        best = 0
        why = ""
        for s, e in _runs(over200):
            n, n300 = e - s, _longest_run(over300[s:e])
            lvl = 4 if (n >= 4 and n300 >= 2) else 3 if (n >= 3 and n300 >= 1) else 2 if n >= 2 else 1
            if lvl > best:
                best = lvl
                why = f"daily AQI > 200 for {n} consecutive day(s), > 300 for {n300}"
        return Warning(best, scheme, why or "no day with daily AQI > 200")
    n200, n150 = _longest_run(over200), _longest_run(over150)
    red = any(e - s >= 3 and over300[s:e].any() for s, e in _runs(over200))
    if red:
        return Warning(4, scheme, "daily AQI > 200 for ≥ 3 consecutive days with a day > 300")
    if n200 >= 2 or n150 >= 3:
        return Warning(3, scheme, f"daily AQI > 200 for {n200} consecutive day(s), > 150 for {n150}")
    if n200 >= 1 or n150 >= 2:
        return Warning(2, scheme, f"daily AQI > 200 for {n200} day(s), > 150 for {n150} consecutive")
    return Warning(0, scheme, "no day with daily AQI > 200 and no 2 days > 150")


def change(previous: int, current: int) -> str:
    """What a new issue does to the warning in force: issue, upgrade, downgrade, lift or keep/none."""
    if previous == 0 and current > 0:
        return "issue"
    if previous > 0 and current == 0:
        return "lift"
    if current > previous:
        return "upgrade"
    if current < previous:
        return "downgrade"
    return "keep" if current else "none"
