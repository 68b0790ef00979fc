"""PostgreSQL: monthly partitions of ``observation`` (``observation_pYYYYMM``, bounds in UTC), created on demand."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

_LOCK_KEY = 0x0EC0_4B0B  # advisory lock serialising partition creation across processes (in the SQL function)


def month_starts(min_epoch: int, max_epoch: int) -> list[tuple[int, int]]:
    """(year, month) of every calendar month (UTC) touched by [min_epoch, max_epoch]."""
    a = datetime.fromtimestamp(min_epoch, UTC)
    b = datetime.fromtimestamp(max_epoch, UTC)
    out, y, m = [], a.year, a.month
    while (y, m) <= (b.year, b.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def partition_name(year: int, month: int) -> str:
    return f"observation_p{year:04d}{month:02d}"


class PartitionManager:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._known: set[tuple[int, int]] = set()

    def ensure(self, min_epoch: int, max_epoch: int) -> None:
        """Create the monthly partitions covering the range, in their own short transaction.

        Through ``ecohub_observation_partition(y, m)`` (migration 0008): a function owned by the schema owner
        (``SECURITY DEFINER``), so that an application role that owns nothing can still add months, and each
        new partition gets its TRUNCATE guard. The function serialises creators with an advisory lock."""
        missing = [ym for ym in month_starts(min_epoch, max_epoch) if ym not in self._known]
        if not missing:
            return
        with self.engine.begin() as conn:
            for y, m in missing:
                conn.execute(text("SELECT ecohub_observation_partition(:y, :m)"), {"y": y, "m": m})
        self._known.update(missing)
