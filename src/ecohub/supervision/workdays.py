"""Working days (工作日) in mainland China: Monday–Friday, minus the public holidays, plus the weekend days that
are made working days (调休上班), as the State Council's General Office announces them each year
(``data/cn_holidays.json``; sources and reach in ``docs/enforcement.md``).

Why it matters: 《中华人民共和国行政处罚法》(2021) art. 85 — "本法中'二日''三日''五日''七日'的规定是指工作日，
不含法定节假日" — so the 5-day hearing request window (art. 64) and the 7-day service of a decision (art. 61)
count working days, while 15-day and 90-day periods count calendar days.

A date beyond the shipped calendar raises :class:`CalendarRangeError` instead of guessing (``strict=True``, the
default): a deadline computed without the holidays of its year can be wrong by up to a week (Spring Festival).
The case workflow computes with ``strict=False`` — beyond the calendar only weekends are known — and marks such
a deadline *provisional* (:func:`provisional`) until that year's notice is added.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from ecohub.domain.errors import InputError

DATA = Path(__file__).with_name("data") / "cn_holidays.json"


class CalendarRangeError(InputError):
    """A date outside the years the shipped holiday calendar covers."""


@cache
def _calendar() -> tuple[date, date, frozenset[date], frozenset[date], dict[date, str]]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    first, last = (date.fromisoformat(d) for d in raw["covers"])
    off: dict[date, str] = {}
    for spans in raw["holidays"].values():
        for start, end, name in spans:
            d, e = date.fromisoformat(start), date.fromisoformat(end)
            while d <= e:
                off[d] = name
                d += timedelta(days=1)
    work = frozenset(date.fromisoformat(d) for days in raw["working_weekends"].values() for d in days)
    return first, last, frozenset(off), work, off


def coverage() -> tuple[date, date]:
    """First and last date the calendar covers."""
    first, last, *_ = _calendar()
    return first, last


def _check(d: date) -> None:
    first, last, *_ = _calendar()
    if not first <= d <= last:
        raise CalendarRangeError("date", d.isoformat(), f"outside the shipped holiday calendar ({first} … {last}); "
                                 "add the State Council's notice of that year to supervision/data/cn_holidays.json")


def provisional(d: date | None) -> bool:
    """True when ``d`` lies beyond the calendar (a deadline computed on weekends only)."""
    return d is not None and not coverage()[0] <= d <= coverage()[1]


def is_working_day(d: date, strict: bool = True) -> bool:
    if not strict and provisional(d):
        return d.weekday() < 5
    _check(d)
    _, _, off, work, _ = _calendar()
    if d in work:
        return True
    if d in off:
        return False
    return d.weekday() < 5


def holiday_name(d: date) -> str | None:
    return _calendar()[4].get(d)


def add_working_days(start: date, n: int, strict: bool = True) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself not counted — 期间开始之日不计算在期间内,
    行政处罚法 art. 85 with 民法典 art. 201)."""
    if n < 0:
        raise InputError("working_days", n, "must not be negative")
    d = start
    left = n
    while left:
        d += timedelta(days=1)
        if is_working_day(d, strict):
            left -= 1
    return d


def add_calendar_days(start: date, n: int, strict: bool = True) -> date:
    """``start`` + ``n`` days; if the last day is a public holiday or weekend the period ends on the next working
    day (民法典 art. 203: 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日)."""
    d = start + timedelta(days=n)
    while not is_working_day(d, strict):
        d += timedelta(days=1)
    return d


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``."""
    n, d = 0, start
    while d < end:
        d += timedelta(days=1)
        if is_working_day(d):
            n += 1
    return n
