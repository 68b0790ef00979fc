"""HJ 212 timestamps: ``YYYYMMDDhhmmss`` (CP times) and ``YYYYMMDDhhmmsszzz`` (QN), Beijing time.

HJ 212 times carry no zone; they are Beijing local time (UTC+8, no daylight saving).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from .errors import HJ212Error

__all__ = [
    "BEIJING",
    "TIME_RE",
    "TIME14_RE",
    "parse_time",
    "to_utc",
    "format_time",
    "format_qn",
    "check_time",
]

#: UTC+8, the zone of every HJ 212 time.
BEIJING = timezone(timedelta(hours=8), "UTC+08:00")

#: Regex source of a time value: 14 digits with field ranges, optional 3 ms digits
#: (seen in the field: ``DataTime=20160824003817000``).  Day-of-month vs month is checked by
#: :func:`check_time`.
TIME14_RE = r"\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])[0-5]\d[0-5]\d"
TIME_RE = TIME14_RE + r"(?:\d{3})?"
#: Same with days 01–28 only: a value matching it needs no calendar check (fast path).
TIME_RE_EARLY = TIME14_RE.replace(r"(?:0[1-9]|[12]\d|3[01])", r"(?:0[1-9]|1\d|2[0-8])") + r"(?:\d{3})?"
_TIME = re.compile(TIME_RE)


def parse_time(text: str, field: str = "DataTime") -> datetime:
    """``"20210107140000"`` → aware ``datetime`` in Beijing time; raises ``HJ212Error(bad_time)``."""
    if type(text) is not str or _TIME.fullmatch(text) is None:
        raise HJ212Error("bad_time", f"{field}={text!r} is not a YYYYMMDDhhmmss time", field, text)
    try:
        return datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]),
            int(text[8:10]), int(text[10:12]), int(text[12:14]),
            int(text[14:17]) * 1000 if len(text) == 17 else 0,
            BEIJING,
        )
    except ValueError as exc:  # 20210230…
        raise HJ212Error("bad_time", f"{field}={text!r} is not a calendar date ({exc})", field, text) from None


def check_time(text: str, field: str = "DataTime") -> None:
    """Raise ``HJ212Error(bad_time)`` unless ``text`` is a valid HJ 212 time."""
    parse_time(text, field)


def to_utc(text: str, field: str = "DataTime") -> datetime:
    """HJ 212 (Beijing) time text → aware UTC ``datetime``."""
    return parse_time(text, field).astimezone(UTC)


def _beijing(dt: datetime) -> datetime:
    return dt if dt.tzinfo is None else dt.astimezone(BEIJING)


def format_time(dt: datetime) -> str:
    """``datetime`` → ``YYYYMMDDhhmmss`` in Beijing time (a naive value is taken as Beijing time)."""
    return _beijing(dt).strftime("%Y%m%d%H%M%S")


def format_qn(dt: datetime | None = None) -> str:
    """QN text ``YYYYMMDDhhmmsszzz`` (Beijing time, milliseconds) for ``dt`` or now."""
    dt = datetime.now(BEIJING) if dt is None else _beijing(dt)
    return dt.strftime("%Y%m%d%H%M%S") + f"{dt.microsecond // 1000:03d}"
