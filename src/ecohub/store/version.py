"""A cheap *data version* of the whole database: a value that differs after any commit by anyone.

Readers that keep a computed answer (the API's response cache) compare the version read *before* computing
with the version now; equal means no transaction has committed in between, so the answer is still what the
database would give. The check is one statement on a connection of its own (never used for anything else):

* **SQLite**: ``PRAGMA data_version`` — changes whenever another connection (of this or any other process)
  commits to the file. The connection never writes, so every commit, including those of this process's own
  pool and of the raw-driver fast paths of the writers, is "another connection". A few microseconds.
* **PostgreSQL**: ``pg_current_snapshot()`` as text (``xmin:xmax:xip``) — a commit either removes its xid
  from the in-progress list or moves ``xmax`` past it, so the text changes with every commit (and abort)
  anywhere in the cluster; commits to other databases of the cluster only cost a recomputation. One round trip.

``current()`` is ``None`` when no version can be had (an in-memory SQLite database, whose connections do not
share data; a lost PostgreSQL connection — retried on the next call): callers must then not reuse answers.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ecohub.store.db import Store

log = logging.getLogger("ecohub.store")


class DataVersion:
    """The data version of ``store`` (thread-safe; one dedicated connection, opened on first use)."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._conn: Any = None
        self._failing = False
        db = store.engine.url.database
        self.usable = store.is_postgres or bool(db and db != ":memory:" and not db.startswith("file::memory"))
        self._sql = "SELECT pg_current_snapshot()::text" if store.is_postgres else "PRAGMA data_version"

    @property
    def cheap(self) -> bool:
        """True when a check is a local call (SQLite), not a network round trip."""
        return not self.store.is_postgres

    def _connect(self) -> Any:
        raw = self.store.engine.raw_connection()
        conn: Any = raw.driver_connection
        raw.detach()  # ours alone, outside the pool
        if self.store.is_postgres:
            conn.autocommit = True  # every statement its own snapshot
        return conn

    def current(self) -> str | None:
        if not self.usable:
            return None
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = self._connect()
                cur = self._conn.cursor()
                try:
                    cur.execute(self._sql)
                    row = cur.fetchone()
                finally:
                    cur.close()
                self._failing = False
                return str(row[0])
            except Exception as e:  # noqa: BLE001 - no version: the caller computes (and keeps nothing)
                if not self._failing:  # once per outage, not once per request
                    log.warning("data version unavailable (%s): answers are not reused until it is back", e)
                self._failing = True
                self.close_locked()
                return None

    def close_locked(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - already gone
                pass
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()
