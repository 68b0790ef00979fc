"""The gateway's writing step, in a thread (:class:`LocalWriter`) or in a child process (:class:`ProcessWriter`).

One *payload* is what one batch of packets asks the database for: observations ``[((site id, parameter id,
interval), epoch s, value, flag)]``, quarantine rows ``[(origin, reason, field, raw)]``, ``device_event``
rows and, when forwarding destinations are enabled, the uploads for their outbox (written first). :func:`write_payload` creates missing series, writes the quarantine rows and events, then the
observations through :class:`~ecohub.store.writer.ObservationWriter` — durable when it returns, so the gateway
may answer 9014.

Why a process: the event loop (framing, decoding, answering thousands of sockets) and the writer's Python
work (``COPY`` row formatting, the ``latest`` upsert) share one GIL in a thread design, and every database
round trip of the writer then waits for the GIL (a convoy). In its own process the writer runs on the other
core. The payload crosses a pipe (pickle: ~18 ms out, ~15 ms in per 50,000 observations). If the child dies, it is
restarted and the batch retried; if the gateway dies, the child sees the pipe close and exits.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from sqlalchemy import insert

from ecohub.ingest.hj212.commands import begin_write
from ecohub.store.db import Store
from ecohub.store.forwarding import enqueue
from ecohub.store.quarantine import QuarantineSink
from ecohub.store.registry import SeriesResolver
from ecohub.store.schema import device_event
from ecohub.store.writer import ObservationWriter, WriteCounts

__all__ = ["LocalWriter", "Payload", "ProcessWriter", "RemoteWriteError", "WriterUnavailable", "is_unavailable",
           "write_payload"]

log = logging.getLogger("ecohub.gateway")
SOURCE = "hj212"


class WriterUnavailable(ConnectionError):
    """The writer process is gone (it is restarted; the batch is retried)."""


@dataclass
class Payload:
    rows: list = field(default_factory=list)
    quarantine: list = field(default_factory=list)
    events: list = field(default_factory=list)
    # uploads for the forwarding outbox ``[(MN, CN, ref, frame)]`` and the destinations that take them
    forward: list = field(default_factory=list)
    destinations: list = field(default_factory=list)


def _text(value: str | None, limit: int = 4000) -> str | None:
    """Text safe for both databases: no NUL (PostgreSQL refuses it), bounded."""
    if value is None:
        return None
    return value[:limit].replace("\x00", "\\x00")


def write_payload(store: Store, resolver: SeriesResolver, w: ObservationWriter, p: Payload) -> WriteCounts:
    """Series, quarantine rows, device events, observations — all committed before returning."""
    missing = {row[0] for row in p.rows if resolver.cached(row[0]) is None}
    if missing:
        with begin_write(store) as conn:
            resolver.resolve_many(conn, missing)
    if p.quarantine:
        sinks: dict[tuple[str, str], QuarantineSink] = {}
        for q in p.quarantine:  # (origin, reason, field, raw[, line, channel]): the JSON channels name theirs
            origin, reason, fld, raw = q[:4]
            line, channel = (q[4], q[5]) if len(q) == 6 else (None, "hj212")
            sink = sinks.get((channel, origin))
            if sink is None:
                sink = sinks[(channel, origin)] = QuarantineSink(store, channel, origin)
            sink.add(_text(reason) or "", line=line, field=_text(fld, 64), raw=_text(raw))
        for sink in sinks.values():
            sink.flush()
    if p.forward and p.destinations:  # before the observations: what is answered is always queued (and once)
        with begin_write(store) as conn:
            enqueue(conn, p.destinations, p.forward)
    if p.events:
        with begin_write(store) as conn:
            if store.is_postgres:
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                stmt: Any = pg_insert(device_event).on_conflict_do_nothing()
            else:
                stmt = insert(device_event).prefix_with("OR IGNORE")
            conn.execute(stmt, p.events)
    cached = resolver.cached
    add = w.add
    for key, t, v, f in p.rows:
        add(cached(key), t, v, f)  # type: ignore[arg-type]  # every key was resolved above
    return w.flush()


class LocalWriter:
    """Writes in the calling thread (one per writer thread)."""

    def __init__(self, store: Store, resolver: SeriesResolver):
        self.store = store
        self.resolver = resolver
        self.w = ObservationWriter(store, SOURCE, origin="hj212 gateway", batch_size=10**9)

    def write(self, p: Payload) -> WriteCounts:
        return write_payload(self.store, self.resolver, self.w, p)

    def close(self) -> None:
        pass


def _child(url: str, conn) -> None:
    """The writer process: receive payloads, write them, answer counts (or the error)."""
    store = Store.open(url)
    resolver = SeriesResolver()
    w = ObservationWriter(store, SOURCE, origin="hj212 gateway", batch_size=10**9)
    from ecohub.ingest.hj212.work import tune_gc

    tune_gc()  # this process is a writer: each batch's rows are thousands of tuples
    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the gateway is gone
            break
        if msg is None:
            break
        try:
            c = write_payload(store, resolver, w, msg)
            conn.send(("ok", (c.imported, c.duplicates, c.conflicts)))
        except Exception as e:  # noqa: BLE001 - reported to the gateway, which decides
            w._sid, w._t, w._v, w._f = [], [], [], []  # drop the failed batch's buffer (retried by the gateway)
            try:
                conn.send(("error", (type(e).__name__, str(e)[:2000], is_unavailable(e))))
            except (EOFError, OSError):
                break
    store.close()


class RemoteWriteError(Exception):
    """The writer process could not write a payload: the error it raised, and whether the database was
    unavailable (retry) rather than refusing the data."""

    def __init__(self, name: str, message: str, unavailable: bool):
        super().__init__(f"{name}: {message}")
        self.unavailable = unavailable


def is_unavailable(exc: BaseException) -> bool:
    """True when the database is down, unreachable or busy (retry forever), not when it refuses the data."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, RemoteWriteError):
        return exc.unavailable
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    # the writer's fast paths use the driver's cursor, whose errors SQLAlchemy does not wrap: a busy SQLite file
    # or a PostgreSQL deadlock, serialization failure or lost connection is a wait, not a refusal of the data
    import sqlite3

    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "locked" in text or "busy" in text
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        psycopg = None  # type: ignore[assignment]
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        return True
    return isinstance(exc, (ConnectionError, OSError, TimeoutError))


class ProcessWriter:
    """A writer in a child process (spawned). ``write`` blocks: call it from a thread."""

    def __init__(self, url: str, *, start_timeout: float = 60.0):
        self.url = url
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._start()

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child, args=(self.url, child), name="hj212-writer", daemon=True)
        proc.start()
        child.close()
        if not parent.poll(self.start_timeout):
            proc.kill()
            raise WriterUnavailable("the writer process did not start")
        kind, _ = parent.recv()
        if kind != "ready":
            raise WriterUnavailable("the writer process did not start")
        self._proc, self._conn = proc, parent

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def write(self, p: Payload) -> WriteCounts:
        with self._lock:
            try:
                if self._proc is None or not self._proc.is_alive():
                    self._start()
                assert self._conn is not None
                self._conn.send(p)
                kind, value = self._conn.recv()
            except (EOFError, OSError, BrokenPipeError) as e:
                log.error("the writer process died (%s); restarting it", e)
                self._kill()
                raise WriterUnavailable(f"writer process died: {e}") from e
        if kind == "ok":
            return WriteCounts(*value)
        name, message, unavailable = value
        raise RemoteWriteError(name, message, unavailable)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(5)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except (OSError, BrokenPipeError):
                    pass
            if self._proc is not None:
                self._proc.join(10)
                if self._proc.is_alive():
                    self._proc.kill()
            self._proc = None
