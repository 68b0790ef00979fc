"""Column types that differ by backend but mean the same thing."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, CursorResult, DateTime
from sqlalchemy.types import TypeDecorator


class UTCTime(TypeDecorator):
    """An instant in UTC.

    PostgreSQL: ``timestamptz``. SQLite: integer seconds since the Unix epoch (compact, fast to compare and
    bucket; SQLite has no time type). Python side: timezone-aware ``datetime`` in UTC; an ``int`` is taken as
    epoch seconds; a naive ``datetime`` is refused (ambiguous).
    """

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(BigInteger())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"time: naive datetime {value!r}; give a timezone")
            return value if dialect.name == "postgresql" else int(value.timestamp())
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC) if dialect.name == "postgresql" else int(value)
        raise TypeError(f"time: cannot store {value!r}")

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return _from_epoch(int(value))


@lru_cache(maxsize=1 << 16)
def _from_epoch(seconds: int) -> datetime:
    """SQLite's epoch seconds as an aware datetime, remembered: a read returns the same few hours for many series
    (``latest``: 593 rows, a handful of distinct times), and ``datetime`` is immutable."""
    return datetime.fromtimestamp(seconds, UTC)


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row an ``INSERT`` wrote (both backends return it)."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT returned no primary key")
    return int(key[0])
