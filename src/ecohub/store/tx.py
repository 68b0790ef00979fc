"""Write transactions that do not fail because someone else is writing.

SQLite allows one writer at a time. A *deferred* transaction (plain ``BEGIN``) that first reads and then writes
cannot wait for the lock when another connection committed since its read began: SQLite answers
``SQLITE_BUSY`` ("database is locked") at once, without calling the busy handler, because waiting could
deadlock. Under ingest (the gateway commits many times a second) every read-then-write path — sign-in counts
failures, refresh spends a token, a complaint checks for duplicates — then fails at random.

:func:`write_tx` is the one way to open a write transaction in ecohub: on SQLite it begins with
``BEGIN IMMEDIATE`` (the write lock up front; the connection waits on ``busy_timeout`` while another writer
holds it, so nothing read inside the transaction goes stale) and retries taking the lock a bounded number of
times if it still answers "database is locked"; on PostgreSQL it is an ordinary transaction (row locks wait).
The body of the ``with`` runs once, with the lock held; nothing in it is retried.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger("ecohub.store")

#: how often taking the SQLite write lock is tried before the error is raised (each try waits up to the
#: connection's ``busy_timeout`` inside SQLite, then a short randomised pause here)
LOCK_ATTEMPTS = 5
LOCK_PAUSE = 0.05  # seconds, doubled per attempt, with jitter


class _HasEngine(Protocol):
    engine: Engine


def is_locked_error(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "database table is locked" / busy errors."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def _engine(target: Engine | _HasEngine) -> Engine:
    return target if isinstance(target, Engine) else target.engine


@contextmanager
def write_tx(target: Engine | _HasEngine, *, attempts: int = LOCK_ATTEMPTS,
             pause: float = LOCK_PAUSE) -> Iterator[Connection]:
    """``with write_tx(store) as conn: ...`` — a transaction that holds the write lock from its start.

    Commits when the block ends, rolls back when it raises. ``target``: a :class:`~ecohub.store.db.Store` or an
    :class:`~sqlalchemy.engine.Engine`. SQLite: ``BEGIN IMMEDIATE``, retried up to ``attempts`` times while the
    database answers "database is locked" (then the error is raised, and the API answers 503 with
    ``Retry-After``). PostgreSQL: ``engine.begin()``.
    """
    engine = _engine(target)
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    conn = engine.connect().execution_options(sqlite_immediate=True)
    try:
        for attempt in range(1, attempts + 1):
            try:
                tx = conn.begin()
                break
            except OperationalError as e:
                if not is_locked_error(e) or attempt == attempts:
                    raise
                conn.rollback()
                delay = pause * 2 ** (attempt - 1) * (0.5 + random.random())
                log.warning("database is locked (attempt %d of %d); retrying in %.2f s", attempt, attempts, delay)
                time.sleep(delay)
        try:
            yield conn
        except BaseException:
            tx.rollback()
            raise
        tx.commit()
    finally:
        conn.close()


__all__ = ["write_tx", "is_locked_error", "LOCK_ATTEMPTS"]
