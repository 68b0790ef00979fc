"""PostgreSQL: monthly partitions of ``observation`` (``observation_pYYYYMM``, bounds in UTC), created on demand."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

_LOCK_KEY = 0x0EC0_4B0B  # advisory lock serialising partition creation across processes


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
        """Create the monthly partitions covering the range, in their own short transaction."""
        missing = [ym for ym in month_starts(min_epoch, max_epoch) if ym not in self._known]
        if not missing:
            return
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            existing = set(conn.scalars(text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'observation'")))
            for y, m in missing:
                name = partition_name(y, m)
                if name not in existing:
                    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
                    # Identifiers and bounds are built from integers only (no user text reaches this DDL).
                    conn.execute(text(
                        f"CREATE TABLE {name} PARTITION OF observation "
                        f"FOR VALUES FROM ('{y:04d}-{m:02d}-01 00:00:00+00') TO ('{ny:04d}-{nm:02d}-01 00:00:00+00')"
                    ))
        self._known.update(missing)
