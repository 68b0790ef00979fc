"""Connections and life cycle: :class:`Gateway` listens, accepts within the bounds, reads each socket through
the framer (garbage counted, sampled into the quarantine, a garbage-only connection closed), hands every frame
to the session layer (:mod:`.session`), closes idle connections, and starts and stops the parts: the commit
path (:mod:`.commit`), the command loop (:mod:`.commands`), the device directory (:mod:`.auth`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from ecohub.ingest.hj212.auth import DeviceDirectory
from ecohub.ingest.hj212.commands import CommandLoop, CommandRunner
from ecohub.ingest.hj212.commit import Committer, Slot, StoreCommitter
from ecohub.ingest.hj212.config import GatewayConfig, GatewayEvent
from ecohub.ingest.hj212.flow import Flow, FlowGate
from ecohub.ingest.hj212.records import PacketRecords
from ecohub.ingest.hj212.session import Session, Sessions, SplitKey
from ecohub.ingest.hj212.work import LatencyLog
from ecohub.logs import connection_id
from ecohub.protocols.hj212 import Reassembler, StreamFramer
from ecohub.store.db import Store
from ecohub.store.registry import parameter_index

__all__ = ["SOURCE", "Conn", "Gateway"]

log = logging.getLogger("ecohub.gateway")

SOURCE = "hj212"

COUNTERS = (
    "connections_total", "connections_refused", "frames", "packets", "data_packets", "event_packets",
    "records", "stored", "duplicates", "conflicts", "quarantined", "rejected_frames", "garbage_bytes",
    "auth_failures", "acks_sent", "retransmissions", "throttled", "idle_closed", "write_errors",
    "batches", "queue_peak", "commands_sent", "answers_9013", "not_stored_kinds", "split_parts",
    "connections_closed", "side_dropped", "write_ms", "packets_failed", "address_refused", "first_packet_closed",
    "packets_with_warnings", "strict_rejected")


class Conn:
    """One device connection."""

    __slots__ = ("reader", "writer", "peer", "address", "framer", "auth_failures", "garbage", "garbage_reported",
                 "frames", "last_rx", "mns", "closed", "reassembler", "split_acks", "opened", "on_valid", "counted",
                 "flow")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str, max_length: int,
                 address: str = "", on_valid: Callable[[Conn], None] | None = None):
        self.reader = reader
        self.address = address  # the remote IP address
        self.on_valid = on_valid
        self.counted = False  # counted against its address's cap (until its first frame)
        self.writer = writer
        self.peer = peer
        self.framer = StreamFramer(max_length=max_length)
        self.auth_failures = 0
        self.garbage = 0
        self.garbage_reported = 0
        self.frames = 0
        self.last_rx = time.monotonic()
        self.mns: set[str] = set()
        self.closed = False
        self.reassembler: Reassembler | None = None
        self.split_acks: dict[SplitKey, list[tuple[str | None, bytes | None]]] = {}
        self.opened = time.monotonic()
        self.flow: Flow | None = None

    def pause_reading(self) -> bool:
        """Stop reading the socket (back-pressure, :mod:`.flow`); ``False`` if it was not reading (closing, or
        paused by its StreamReader, which then resumes it itself)."""
        tr = cast(asyncio.Transport, self.writer.transport)  # a socket transport: it reads too
        try:
            if tr.is_closing() or not tr.is_reading():
                return False
            tr.pause_reading()
        except Exception:  # noqa: BLE001 - a transport that cannot pause: read on (bounded by the StreamReader)
            return False
        return True

    def resume_reading(self) -> None:
        tr = cast(asyncio.Transport, self.writer.transport)
        with contextlib.suppress(Exception):
            if not tr.is_closing() and not tr.is_reading():
                tr.resume_reading()

    def send(self, data: bytes, limit: int) -> bool:
        if self.closed:
            return False
        tr = self.writer.transport
        if tr.is_closing():
            self.closed = True
            return False
        self.writer.write(data)
        if tr.get_write_buffer_size() > limit:  # the device does not read its answers
            log.warning("%s: %d bytes of unread answers: closing", self.peer, tr.get_write_buffer_size())
            self.abort()
            return False
        return True

    def validated(self) -> None:
        """Its first valid (authenticated) packet arrived."""
        cb, self.on_valid = self.on_valid, None
        if cb is not None:
            cb(self)

    def abort(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self.writer.transport.abort()


CommitterFactory = Callable[[GatewayConfig, dict[str, int], LatencyLog], Committer]


class Gateway:
    """The gateway server. ``await gateway.start()`` … ``await gateway.stop()``; or
    :func:`~ecohub.ingest.hj212.run.run_gateway`."""

    def __init__(self, store: Store, config: GatewayConfig | None = None, *,
                 on_event: Callable[[GatewayEvent], None] | None = None, committer: Committer | None = None,
                 committer_factory: CommitterFactory | None = None):
        """``committer_factory(config, counters, latency)`` builds the committer sharing the gateway's counters
        (e.g. the bus publisher of :mod:`ecohub.bus`); default: the database committer."""
        self.store = store
        self.config = cfg = config or GatewayConfig()
        self.on_event = on_event
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.latency = LatencyLog()
        self.flow = FlowGate(cfg.max_inflight_per_conn, cfg.max_inflight, cfg.min_inflight,
                             cfg.ack_timeout * cfg.inflight_latency)
        self.directory = DeviceDirectory(store, ttl=cfg.auth_ttl, negative_ttl=cfg.negative_ttl)
        self.runner = CommandRunner(store, timeout=cfg.command_timeout, retries=cfg.command_retries)
        self._db_exec = ThreadPoolExecutor(1, thread_name_prefix="hj212-db")
        if committer is None and committer_factory is not None:
            committer = committer_factory(cfg, self.counters, self.latency)
        self.commit: Committer = committer or StoreCommitter(store, cfg, self.counters, self.latency)
        self.commands = CommandLoop(store, self.runner, {}, self.counters, self._db_exec, self._emit,
                                    poll=cfg.command_poll, max_write_buffer=cfg.max_write_buffer)
        self.records = PacketRecords(self.counters)
        self.session_layer = Sessions(cfg, self.counters, self.directory, self.records, self.commit, self.commands,
                                      self.latency, self._emit)
        self.commands.sessions = self.session_layer.by_mn
        self.conns: set[Conn] = set()
        self._conn_seq = 0  # connection ids (logs)
        # connections still waiting for their first valid packet (insertion order: oldest first: the deadline),
        # and per address those that have not sent a single frame yet (the cap)
        self._pending: dict[Conn, None] = {}
        self._pending_by_address: dict[str, int] = {}
        self.port: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def deviations(self, mn: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Deviations from the standard counted per device since the gateway started (see
        :meth:`~ecohub.ingest.hj212.session.Sessions.deviations`). Call it on the gateway's event loop (or
        accept a snapshot that may be a packet behind)."""
        return self.session_layer.deviations(mn)

    @property
    def sessions(self) -> dict[str, Session]:
        """Device sessions by MN."""
        return self.session_layer.by_mn

    # the database committer's writing step and writers, for tests that hold or kill them
    @property
    def _write_batch(self) -> Callable[..., Any]:
        return self._store_commit().write_batch

    @_write_batch.setter
    def _write_batch(self, fn: Callable[..., Any]) -> None:
        self._store_commit().write_batch = fn  # type: ignore[method-assign]

    @property
    def _all_writers(self) -> list[Slot]:
        return self._store_commit().all_writers

    def _store_commit(self) -> StoreCommitter:
        if not isinstance(self.commit, StoreCommitter):
            raise TypeError("this gateway does not commit to the database")
        return self.commit

    # --- life cycle -----------------------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        self.commands.loop = loop

        def _prepare() -> dict[str, int]:
            with self.store.engine.connect() as conn:
                params = parameter_index(conn)
            self.directory.preload()
            self.store.source_id(SOURCE)
            return params

        self.records.params = await loop.run_in_executor(self._db_exec, _prepare)
        # listen first (a port in use fails before any writer process is spawned); packets wait in the queue
        self._server = await asyncio.start_server(self._handle, cfg.host, cfg.port, limit=cfg.stream_limit,
                                                  backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        if cfg.socket_rcvbuf > 0:  # inherited by the accepted sockets (and their TCP window is sized by it)
            for sock in self._server.sockets:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, cfg.socket_rcvbuf)
        await self.commit.start()
        self._tasks = [loop.create_task(self._sweeper(), name="hj212-sweeper"),
                       loop.create_task(self.commands.run(), name="hj212-commands")]
        log.info("HJ 212 gateway listening on %s:%d", cfg.host, self.port)

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def stop(self, drain_timeout: float = 10.0) -> None:
        """Stop accepting, close connections, write what is queued, stop the writer."""
        if self._stopping:
            return
        self._stopping = True
        if self._server is not None:
            self._server.close()
        # what is queued is written and answered before the connections close (bounded by drain_timeout)
        await self.commit.drain(time.monotonic() + drain_timeout)
        for c in list(self.conns):
            c.abort()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.commit.stop(drain_timeout)
        self.session_layer.close()
        self._db_exec.shutdown(wait=True)

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.counters)
        out["connections_open"] = len(self.conns)
        out["devices_online"] = self.session_layer.online()
        out["queue"] = self.commit.qsize()
        fg = self.flow
        out["inflight"] = fg.total
        out["inflight_peak"] = fg.peak
        out["inflight_limit"] = fg.limit
        out["reading_pauses"] = fg.pauses
        out["argon2_verifications"] = self.directory.verifications
        p50, p99 = self.latency.quantile(0.5), self.latency.quantile(0.99)
        out["ack_latency_p50_ms"] = None if p50 is None else round(p50 * 1000, 2)
        out["ack_latency_p99_ms"] = None if p99 is None else round(p99 * 1000, 2)
        out["commands"] = dict(self.runner.finished)
        return out

    def _emit(self, kind: str, mn: str | None, peer: str | None, **detail: Any) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(GatewayEvent(kind, mn, peer, detail))
        except Exception:  # noqa: BLE001 - a broken hook must not break the gateway
            log.exception("on_event hook failed for %s", kind)

    # --- connections ----------------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cfg = self.config
        pn = writer.get_extra_info("peername")
        peer = f"{pn[0]}:{pn[1]}" if isinstance(pn, tuple) else str(pn)
        connection_id.set(f"{self._conn_seq:x}-{peer}")  # this connection's task: its log lines carry it
        self._conn_seq += 1
        address = str(pn[0]) if isinstance(pn, tuple) else str(pn)
        c = self.counters
        if len(self.conns) >= cfg.max_connections or self._stopping:
            c["connections_refused"] += 1
            writer.transport.abort()
            return
        pending_here = self._pending_by_address.get(address, 0)
        if pending_here >= cfg.max_pending_per_address:
            c["address_refused"] += 1
            if c["address_refused"] % 1000 == 1:
                log.warning("%s: %d connections from this address have sent no frame yet: refusing more "
                            "(max_pending_per_address)", address, pending_here)
            writer.transport.abort()
            return
        conn = Conn(reader, writer, peer, cfg.max_length, address, self._validated)
        conn.flow = flow = self.flow.flow(conn)
        self.conns.add(conn)
        self._pending[conn] = None
        self._pending_by_address[address] = pending_here + 1
        conn.counted = True
        c["connections_total"] += 1
        log.debug("%s: connected", peer)
        chunk = cfg.read_chunk
        on_frame = self.session_layer.on_frame
        try:
            while not conn.closed:
                if flow.paused:  # the gate paused it while a packet waited for room: there is room now
                    flow.resume()
                try:
                    data = await reader.read(chunk)
                except (ConnectionError, OSError):
                    break
                if not data:
                    break
                conn.last_rx = time.monotonic()
                for ev in conn.framer.feed(data):
                    if ev.kind == "frame":
                        if conn.counted:  # its first frame: no longer held against its address's cap
                            self._release_address(conn)
                        conn.frames += 1
                        c["frames"] += 1
                        await on_frame(conn, ev.data)
                        if conn.closed:
                            break
                    else:
                        self._on_junk(conn, ev)
                # the framer's exact count: garbage with no '#' in it is only reported as an event later
                if not conn.frames and conn.framer.garbage_bytes > cfg.max_garbage:
                    log.info("%s: %d bytes without a valid frame: closing", peer, conn.framer.garbage_bytes)
                    for ev in conn.framer.flush():  # a sample of what it sent, to the quarantine
                        self._on_junk(conn, ev)
                    break
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the gateway
            log.exception("%s: connection handler failed", peer)
        finally:
            await self._close(conn)
            log.debug("%s: closed after %d frames", peer, conn.frames)

    def _validated(self, conn: Conn) -> None:
        """``conn`` sent its first valid (authenticated) packet: the first-packet deadline no longer applies."""
        self._pending.pop(conn, None)

    def _release_address(self, conn: Conn) -> None:
        """``conn`` sent its first frame (or closed): it no longer counts against its address's cap."""
        if conn.counted:
            conn.counted = False
            n = self._pending_by_address.get(conn.address, 0) - 1
            if n > 0:
                self._pending_by_address[conn.address] = n
            else:
                self._pending_by_address.pop(conn.address, None)

    async def _close(self, conn: Conn) -> None:
        self._validated(conn)
        self._release_address(conn)
        if conn in self.conns:
            self.conns.discard(conn)
            self.counters["connections_closed"] += 1
        conn.closed = True
        with contextlib.suppress(Exception):
            conn.writer.close()
        self.session_layer.detach(conn)

    def _on_junk(self, conn: Conn, ev: Any) -> None:
        c = self.counters
        if ev.kind == "garbage":
            conn.garbage += ev.size
            c["garbage_bytes"] += ev.size
            reason = f"garbage: {ev.size} bytes that are no HJ 212 frame"
        else:
            c["rejected_frames"] += 1
            reason = f"frame rejected by the framer: {ev.reason}"
        if conn.garbage_reported < self.config.quarantine_garbage:
            conn.garbage_reported += 1
            raw = ev.data[:512].decode("utf-8", "backslashreplace")
            self.commit.quarantine(conn.peer, reason, "frame", raw)

    # --- periodic work --------------------------------------------------------------------------------------
    async def _sweeper(self) -> None:
        cfg = self.config
        period = max(0.2, min(5.0, cfg.idle_timeout / 4, cfg.first_packet_timeout / 4))
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for conn in list(self._pending):  # oldest first
                if now - conn.opened <= cfg.first_packet_timeout:
                    break
                self.counters["first_packet_closed"] += 1
                log.info("%s: no valid packet within %.0f s of connecting: closing", conn.peer, now - conn.opened)
                self._validated(conn)  # counted once, even if the close takes a moment
                self._release_address(conn)
                conn.abort()
            for conn in list(self.conns):
                if now - conn.last_rx > cfg.idle_timeout:
                    self.counters["idle_closed"] += 1
                    log.info("%s: idle for %.0f s: closing", conn.peer, now - conn.last_rx)
                    conn.abort()
                elif conn.reassembler is not None and conn.reassembler.pending:
                    self.session_layer.expire_splits(conn)
