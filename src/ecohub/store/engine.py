"""Engines for the two backends, set up the same way every time."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """SQLite: WAL journal, ``synchronous=NORMAL`` (a committed transaction survives a crash of the process;
    a power cut may lose the last commits — use PostgreSQL where that matters), foreign keys on, a busy
    timeout so the gateway, the importer and the web can share the file. PostgreSQL: psycopg 3, pool with
    pre-ping, times exchanged in UTC.
    """
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # Let SQLAlchemy's transaction control drive BEGIN (pysqlite's own autobegin is off).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Writers ask for BEGIN IMMEDIATE (execution option ``sqlite_immediate``): the write lock is taken
            # at the start, so check-then-insert is atomic and two writers queue instead of deadlocking.
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if u.get_backend_name() == "postgresql":
        return create_engine(
            url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10,
            connect_args={"options": "-c timezone=UTC"},
        )
    raise ValueError(f"database url: backend {u.get_backend_name()!r} is not supported (use sqlite or postgresql)")
