"""Backup and restore of a whole ecohub database, and a fingerprint to check that a restore is faithful.

- **SQLite**: the online backup API of SQLite (``sqlite3.Connection.backup``): a consistent copy of a live
  database (the gateway and the web may keep writing; the copy is of one moment). The backup is itself an
  SQLite database file.
- **PostgreSQL**: ``pg_dump --format=custom`` (one consistent snapshot; tables, partitions, triggers, data)
  and ``pg_restore --clean --if-exists --no-owner`` (objects are owned by the restoring role; see
  ``docs/operations.md`` for the application role). The client programs must be on ``PATH``.

A backup file is recognised by its header (``SQLite format 3`` / ``PGDMP``); restoring one backend's file
into the other is refused. :func:`fingerprint` counts the rows of every table and hashes the raw
observations in key order, so ``backup → wipe → restore`` can be proven to give back the same data.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from ecohub.store.db import Store

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass
class Fingerprint:
    """Row counts of every table and a SHA-256 over the raw observations in key order."""

    counts: dict[str, int] = field(default_factory=dict)
    observation_sha256: str = ""

    def as_dict(self) -> dict:
        return {"counts": self.counts, "observation_sha256": self.observation_sha256}


def fingerprint(store: Store) -> Fingerprint:
    """Counts of every ecohub table (partitions of ``observation`` are counted in their parent) and the hash of
    ``observation`` (series, time, source, value, flag, received_at) ordered by its primary key."""
    insp = inspect(store.engine)
    tables = sorted(t for t in insp.get_table_names() if not t.startswith("observation_p"))
    fp = Fingerprint()
    h = hashlib.sha256()
    with store.engine.connect() as conn:
        for t in tables:
            fp.counts[t] = int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() or 0)  # noqa: S608
        if "observation" in tables:
            rows = conn.execution_options(stream_results=True, yield_per=50_000).execute(text(
                "SELECT series_id, time, source_id, value, flag, received_at FROM observation "
                "ORDER BY series_id, time, source_id"))
            for r in rows:
                h.update(repr((r[0], _epoch(r[1]), r[2], r[3], r[4], _epoch(r[5]))).encode())
    fp.observation_sha256 = h.hexdigest()
    return fp


def _epoch(v) -> int:
    """Times as epoch seconds on both backends (SQLite stores integers, PostgreSQL timestamptz)."""
    return int(v.timestamp()) if hasattr(v, "timestamp") else int(v)


def kind_of_file(path: Path) -> str:
    """'sqlite' or 'postgresql' by the file's header; BackupError for anything else."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise BackupError(f"cannot read backup file {path}: {e.strerror}") from e
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not an ecohub backup (neither an SQLite database nor a pg_dump custom archive)")


def _libpq_url(store: Store) -> str:
    """The database URL for pg_dump/pg_restore (libpq form, without the SQLAlchemy driver)."""
    return make_url(store.engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(store: Store) -> Path:
    db = store.engine.url.database
    if not db or db == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(db)


def _run(cmd: list[str], what: str) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed: install the PostgreSQL client programs "
                          f"(Debian: postgresql-client) to {what}")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def backup(store: Store, out: Path) -> int:
    """Write a backup of the whole database to ``out`` (replaced if it exists); returns its size in bytes."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.unlink(missing_ok=True)
    if store.is_postgres:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={tmp}", f"--dbname={_libpq_url(store)}"],
             "back up a PostgreSQL database")
    else:
        src = sqlite3.connect(_sqlite_path(store))
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst, pages=4096)  # in steps: writers are not held up for the whole copy
        finally:
            dst.close()
            src.close()
    tmp.replace(out)  # a backup file is complete or absent
    return out.stat().st_size


def is_empty(store: Store) -> bool:
    """True when the database holds no ecohub schema or no observation, site or user yet."""
    insp = inspect(store.engine)
    names = set(insp.get_table_names())
    if "observation" not in names:
        return True
    with store.engine.connect() as conn:
        for t in ("observation", "site", "app_user"):
            if t in names and conn.execute(text(f'SELECT 1 FROM "{t}" LIMIT 1')).first():  # noqa: S608
                return False
    return True


def restore(store: Store, path: Path, *, force: bool = False) -> None:
    """Replace the database's content with the backup at ``path``.

    Refused when the backup is of the other backend, or when the database already holds data and ``force``
    is not given (a restore replaces everything).
    """
    path = Path(path)
    kind = kind_of_file(path)
    target = "postgresql" if store.is_postgres else "sqlite"
    if kind != target:
        raise BackupError(f"{path} is a {kind} backup; the target database is {target}: restore it into a "
                          f"{kind} database")
    if not force and not is_empty(store):
        raise BackupError("the target database holds data; a restore replaces all of it: give --force to "
                          "proceed (take a backup of it first)")
    if store.is_postgres:
        store.engine.dispose()
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq_url(store)}", str(path)], "restore a PostgreSQL database")
        return
    store.engine.dispose()  # no pooled connection keeps the old content around
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    dst = sqlite3.connect(_sqlite_path(store))
    try:
        src.backup(dst)  # SQLite replaces the whole target database, in one step
    finally:
        dst.close()
        src.close()
