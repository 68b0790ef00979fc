"""Which database errors make the writers wait and retry (the data stay unanswered / unacked) and which refuse
the data (quarantine, dead letters). The fast paths use the driver's cursor, whose errors SQLAlchemy does not
wrap: a busy SQLite file or a lost PostgreSQL connection raised there must be a wait too — a bus writer that
took one for a refusal sent acknowledged packets to the dead letters after three attempts."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from ecohub.ingest.hj212.writer import is_unavailable


def test_a_busy_sqlite_file_raised_by_the_driver_is_a_wait(tmp_path):
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as busy:
        other.execute("INSERT INTO t VALUES (1)")
    assert is_unavailable(busy.value)
    with pytest.raises(sqlite3.OperationalError) as missing:  # a refusal (our bug), not a wait
        other.execute("INSERT INTO nowhere VALUES (1)")
    assert not is_unavailable(missing.value)
    holder.execute("ROLLBACK")
    other.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as dup:
        other.execute("INSERT INTO t VALUES (1)")
    assert not is_unavailable(dup.value)


@pytest.mark.postgres
def test_a_lost_postgresql_connection_raised_by_the_driver_is_a_wait(pg_store):
    url = pg_store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as victim, psycopg.connect(url, autocommit=True) as killer:
        pid = victim.info.backend_pid
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.OperationalError) as lost:
            victim.execute("SELECT 1")
        assert is_unavailable(lost.value)
        with pytest.raises(psycopg.errors.UniqueViolation) as dup:
            killer.execute("CREATE TEMP TABLE u (x int PRIMARY KEY); INSERT INTO u VALUES (1), (1)")
        assert not is_unavailable(dup.value)
    assert is_unavailable(psycopg.errors.DeadlockDetected("deadlock detected"))
