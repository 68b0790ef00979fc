"""Times: stored in UTC, shown in Beijing time. A time without offset is Beijing time (UTC+8), as HJ 212
and Chinese publications label their data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from ecohub.domain.errors import InputError

BEIJING = timezone(timedelta(hours=8), "CST")
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)


def parse_time(text: str, field: str = "time") -> datetime:
    """Parse ISO-8601 (``2019-01-08T13:00:00+08:00``, ``2019-01-08 13:00``, ``2019-01-08``); naive → Beijing time.

    Returns an aware datetime in UTC. Raises :class:`InputError` naming the field and the text.
    """
    t = text.strip()
    if not t:
        raise InputError(field, text, "empty time")
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00") if t.endswith("Z") else t)
    except ValueError:
        raise InputError(field, text, "not an ISO-8601 time (e.g. 2024-05-01T13:00:00+08:00)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=BEIJING)
    dt = dt.astimezone(UTC)
    if dt < EARLIEST:
        raise InputError(field, text, "before 1970-01-02")
    return dt


class TimeParser:
    """``parse_time`` with a cache: files repeat the same time stamp across many sites and parameters."""

    def __init__(self, max_size: int = 200_000):
        self._cache: dict[str, int] = {}
        self._max = max_size

    def epoch(self, text: str, field: str = "time") -> int:
        """Epoch seconds (UTC) of ``text``; fractions of a second are truncated."""
        v = self._cache.get(text)
        if v is None:
            v = int(parse_time(text, field).timestamp())
            if len(self._cache) >= self._max:
                self._cache.clear()
            self._cache[text] = v
        return v


def to_beijing(dt: datetime) -> datetime:
    return dt.astimezone(BEIJING)


def epoch_to_iso(epoch: int, tz: timezone = BEIJING) -> str:
    return datetime.fromtimestamp(epoch, tz).isoformat()
