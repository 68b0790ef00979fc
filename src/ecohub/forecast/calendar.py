"""Calendar inputs of the forecast: day of year, weekday, and the Spring Festival (春节).

The Spring Festival moves with the lunar calendar; its fireworks and the holiday (factories closed, traffic
down, then fireworks on New Year's Eve and the Lantern Festival) change the air of northern cities more than
any other date. The dates below are the first day of the first lunar month (正月初一) as published in the
State Council's yearly holiday notices (国务院办公厅关于…部分节假日安排的通知) and the Purple Mountain
Observatory's calendar; they are facts of the calendar, not a model.
"""

from __future__ import annotations

import numpy as np

#: 正月初一 (Chinese New Year's Day), 2010 … 2035.
SPRING_FESTIVAL = np.array([
    "2010-02-14", "2011-02-03", "2012-01-23", "2013-02-10", "2014-01-31", "2015-02-19", "2016-02-08",
    "2017-01-28", "2018-02-16", "2019-02-05", "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22",
    "2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03",
    "2031-01-23", "2032-02-11", "2033-01-31", "2034-02-19", "2035-02-08",
], dtype="datetime64[D]")

#: Days from the Spring Festival beyond which the festival is taken to have no effect (clipped).
SF_WINDOW = 30


def day_of_year(days: np.ndarray) -> np.ndarray:
    """1 … 366 for ``datetime64[D]`` days."""
    d = np.asarray(days, dtype="datetime64[D]")
    return (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(int) + 1


def weekday(days: np.ndarray) -> np.ndarray:
    """0 = Monday … 6 = Sunday (1970-01-01 was a Thursday)."""
    return (np.asarray(days, dtype="datetime64[D]").astype(int) + 3) % 7


def spring_festival_offset(days: np.ndarray) -> np.ndarray:
    """Signed days from the nearest Spring Festival (negative before it), clipped to ±``SF_WINDOW``.

    Outside 2010 … 2035 the nearest tabulated festival is further than the window, so the value is the clip
    (no effect) — never a guess.
    """
    d = np.asarray(days, dtype="datetime64[D]").astype(int)
    sf = SPRING_FESTIVAL.astype(int)
    j = np.clip(np.searchsorted(sf, d), 1, sf.size - 1)
    before, after = d - sf[j - 1], d - sf[j]
    off = np.where(np.abs(before) <= np.abs(after), before, after)
    return np.clip(off, -SF_WINDOW, SF_WINDOW).astype(float)


def calendar_features(days: np.ndarray) -> dict[str, np.ndarray]:
    """Season (day of year as a circle), weekday and Spring Festival offset of each day."""
    doy = day_of_year(days).astype(float)
    ang = 2 * np.pi * (doy - 1) / 365.25
    return {
        "doy_sin": np.sin(ang),
        "doy_cos": np.cos(ang),
        "weekday": weekday(days).astype(float),
        "sf_offset": spring_festival_offset(days),
    }
