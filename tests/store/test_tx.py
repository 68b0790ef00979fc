"""write_tx: commits, rolls back, holds the SQLite write lock from its start and retries taking it."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import OperationalError

from ecohub.store.schema import source
from ecohub.store.tx import is_locked_error, write_tx


def _count(store, name):
    with store.engine.connect() as c:
        return c.scalar(select(func.count()).select_from(source).where(source.c.name == name))


def test_commits_and_rolls_back(store):
    with write_tx(store) as c:
        c.execute(insert(source).values(name="tx-ok"))
    assert _count(store, "tx-ok") == 1
    with pytest.raises(RuntimeError), write_tx(store) as c:
        c.execute(insert(source).values(name="tx-undone"))
        raise RuntimeError("boom")
    assert _count(store, "tx-undone") == 0


def test_accepts_an_engine(store):
    with write_tx(store.engine) as c:
        c.execute(insert(source).values(name="tx-engine"))
    assert _count(store, "tx-engine") == 1


def _short_busy_timeout(store, ms: int) -> None:
    @event.listens_for(store.engine, "connect")
    def _busy(dbapi_conn, _record):  # runs after the engine's own pragmas
        dbapi_conn.execute(f"PRAGMA busy_timeout={ms}")
    store.engine.dispose()


def _db_path(store) -> str:
    return store.engine.url.database


def test_sqlite_lock_is_taken_up_front(sqlite_store):
    """Inside write_tx another connection cannot start writing: the lock is held from BEGIN, not from the first
    write (a deferred transaction that read first fails with 'database is locked' when a commit intervened)."""
    with write_tx(sqlite_store) as c:
        c.execute(select(source.c.id)).all()  # only a read so far
        other = sqlite3.connect(_db_path(sqlite_store), timeout=0.05, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        c.execute(insert(source).values(name="tx-first"))
    assert _count(sqlite_store, "tx-first") == 1


def test_sqlite_retries_while_another_writer_holds_the_lock(sqlite_store):
    _short_busy_timeout(sqlite_store, 60)
    holder = sqlite3.connect(_db_path(sqlite_store), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release():
        time.sleep(0.4)
        holder.execute("COMMIT")
        released.set()

    threading.Thread(target=release, daemon=True).start()
    # 60 ms busy wait per attempt is not enough once; the retries (with pauses) outlast the 0.4 s hold
    with write_tx(sqlite_store, attempts=8, pause=0.05) as c:
        assert released.is_set()
        c.execute(insert(source).values(name="tx-after-wait"))
    holder.close()
    assert _count(sqlite_store, "tx-after-wait") == 1


def test_sqlite_gives_up_after_bounded_attempts(sqlite_store):
    _short_busy_timeout(sqlite_store, 20)
    holder = sqlite3.connect(_db_path(sqlite_store), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        t0 = time.monotonic()
        with pytest.raises(OperationalError) as ei, write_tx(sqlite_store, attempts=3, pause=0.01):
            pass
        assert is_locked_error(ei.value)
        assert time.monotonic() - t0 < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
