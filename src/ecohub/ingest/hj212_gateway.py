"""The HJ 212 TCP gateway (``ecohub gateway``): devices (数采仪) connect, upload data, get their 9014 answer
only after the data are durably committed, and receive the platform's commands.

Pipeline (one event loop; the writing step in a writer thread, or — ``ecohub gateway`` — in a child process
(:mod:`ecohub.ingest.hj212_writer`); two writers on PostgreSQL, whose database waits then overlap; every
observation goes through :class:`~ecohub.store.writer.ObservationWriter`)::

    socket ─ StreamFramer ─ decode ─ authenticate (MN, PW) ─ records ─ series keys ─┐
      (per connection coroutine; a full queue blocks it: back-pressure)              │ bounded queue
                                                                                     v
    9014 answers  <── ack after commit <── writer thread: series, quarantine, events, ObservationWriter.flush

- **Framing** by :class:`~ecohub.protocols.hj212.StreamFramer` (declared length; several packets per read,
  one packet over several reads, garbage between packets); garbage and broken frames are counted, a sample
  is quarantined, and a connection that sends only garbage is closed.
- **Authentication**: MN must be a registered device and PW must verify against its argon2 hash
  (:mod:`ecohub.ingest.hj212_auth`, cached). Unknown MN or wrong PW: the packet is quarantined with the
  reason, counted, reported to the ``on_event`` hook (``device_auth_failure``) and recorded as a
  ``device_event``; it is **not answered** (no 9014 — the device keeps its data and retries; 9011 QnRtn=3/4
  is, in HJ 212-2017, the *device's* answer to a platform request, so it is not used here); after
  ``max_auth_failures`` failures the connection is closed.
- **Data** (2011 real-time, 2051 minute, 2061 hourly, 2031 daily): ``records(packet)`` → one observation
  per factor (``Rtd`` for real-time, ``Avg`` for period data) in the series (device's site × parameter ×
  interval), source ``hj212``. Bad items (not a number, bad data flag, unknown factor code, time more than
  one day ahead) are quarantined one by one; the good items of the same packet are stored.
- **Ack after commit**: the writer thread writes a batch (quarantine rows, device events, observations via
  :class:`~ecohub.store.writer.ObservationWriter`, which is durable on return); only then are the batch's
  9014 answers sent (same QN, ST=91, Flag=4 for 2017, ``CP=&&&&``) — to packets whose Flag.A asks for one.
- **Retransmissions** (same QN): each device's last ``qn_memory`` QNs are remembered; a retransmission of
  a packet already committed is answered again without writing, one still in flight gets its answer when
  it commits. The store is idempotent on (series, time, source) anyway, so nothing is stored twice even
  across a restart of the gateway.
- **Events**: 2021 (``SBxxx-RS`` status), 2041 (``SBxxx-RT`` running time), 2081 (boot time), 1013 (time
  calibration request; answered 9013 and followed by a 1012 set-time command), 1011/1061/1063 uploads and
  others → ``device_event`` rows (once per MN, CN and QN); online/offline and auth failures too.
- **Commands**: the ``device_command`` queue is polled for connected devices and executed with the
  standard's sequence by :class:`~ecohub.ingest.hj212_commands.CommandRunner`.
- **Bounds** (:class:`GatewayConfig`): packet size (HJ 212: 1024), connections, idle time, per-device
  packet rate (token bucket; an over-fast device is read more slowly, nothing is dropped), the queue to the
  writer (a slow database slows the reading of sockets, no buffer grows without bound), a socket's unread
  answers, split-message groups and parts, remembered QNs.

Hooks: ``on_event(GatewayEvent)`` is called on the event loop for ``device_auth_failure``,
``device_online``, ``device_offline``, ``clock_drift`` and ``command_finished`` — the alerts package
subscribes here. It must return quickly; exceptions are logged and ignored.

In one process with other things (``ecohub demo``): :func:`start_in_thread` runs the gateway on its own
event loop in a daemon thread and returns a :class:`GatewayHandle` (``.port``, ``.stats()``, ``.stop()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from ecohub.domain.parameters import STAT_SUFFIX, UnknownParameter
from ecohub.domain.parameters import resolve as resolve_parameter
from ecohub.ingest.files import site_parameter
from ecohub.ingest.hj212_auth import DeviceDirectory, DeviceInfo
from ecohub.ingest.hj212_commands import CommandRunner, enqueue_command
from ecohub.ingest.hj212_writer import LocalWriter, Payload, ProcessWriter, RemoteWriteError
from ecohub.protocols.hj212 import (
    DATA_FLAGS_2005,
    DATA_FLAGS_2017,
    FACTORS,
    Dialect,
    HJ212Error,
    Packet,
    Reassembler,
    StreamFramer,
    answer_for,
    code_2017,
    data_ack,
    decode,
    encode,
    notify_ack,
    parse_time,
)
from ecohub.protocols.hj212.codes import INTERVAL_BY_CN
from ecohub.protocols.hj212.cp import NUMERIC_KINDS
from ecohub.store.db import Store
from ecohub.store.registry import SeriesResolver, parameter_index
from ecohub.store.writer import WriteCounts

__all__ = [
    "Gateway",
    "GatewayConfig",
    "GatewayEvent",
    "GatewayHandle",
    "primary_values",
    "run_gateway",
    "start_in_thread",
]

log = logging.getLogger("ecohub.gateway")

SOURCE = "hj212"
_INTERVAL = {"rt": "rt", "min": "minute", "hour": "hour", "day": "day"}
_PRIMARY_KIND = {"rt": ("Rtd",), "min": ("Avg", "Data"), "hour": ("Avg", "Data"), "day": ("Avg", "Data")}
# kinds stored beside the primary value, into the derived parameters ``<name>_zs/_min/_max/_cou``
_STAT_KIND = {"rt": frozenset({"ZsRtd"}), "min": frozenset({"ZsAvg", "Min", "Max", "Cou"}),
              "hour": frozenset({"ZsAvg", "Min", "Max", "Cou"}), "day": frozenset({"ZsAvg", "Min", "Max", "Cou"})}
_EVENT_KIND = {"2021": "status", "2041": "runtime", "2081": "boot", "1013": "time_request", "1011": "device_time",
               "1061": "rtd_interval", "1063": "min_interval", "3019": "instrument_sn", "3020": "device_info"}
_ALL_FLAGS = frozenset(DATA_FLAGS_2017) | frozenset(DATA_FLAGS_2005)
_LOOSE = Dialect(name="loose values", strict_values=False)
_HEADER_FIELDS = frozenset({"QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO", "header", "length", "CRC", "CP",
                            "data", None})
_FUTURE_SLACK = 86400  # same rule as every other ingest channel: at most one day ahead
_DONE = object()  # QN memory: committed
_HELD = object()  # QN memory: a split part waiting for the rest of its message


@dataclass
class GatewayConfig:
    """Bounds and timings of the gateway (defaults in brackets in ``docs/hj212-gateway.md``)."""

    host: str = "127.0.0.1"
    port: int = 6010
    max_connections: int = 5000  # further connections are accepted and closed at once
    max_length: int = 1024  # data-segment bytes (HJ 212-2017 §6.3.1); longer frames are rejected
    read_chunk: int = 16384  # bytes per socket read
    stream_limit: int = 65536  # bytes buffered per socket before its reading pauses
    idle_timeout: float = 1800.0  # seconds without a byte before a connection is closed
    max_garbage: int = 65536  # garbage bytes a connection may send before its first valid frame
    quarantine_garbage: int = 3  # garbage / broken-frame samples quarantined per connection
    max_write_buffer: int = 262144  # unread answers (bytes) before a connection is dropped
    queue_packets: int = 10000  # packets waiting for the writer (then readers block)
    batch_records: int = 50000  # observations per write transaction at most
    batch_linger: float = 0.0  # seconds to wait for more packets before a small batch is written
    device_rate: float = 50.0  # sustained packets/s per device (token bucket) …
    device_burst: float = 500.0  # … and its burst
    auth_ttl: float = 600.0  # seconds a verified (MN, PW) stays verified
    negative_ttl: float = 30.0  # seconds an unknown MN / a wrong PW is remembered
    max_auth_failures: int = 3  # per connection, then it is closed
    qn_memory: int = 256  # recent QNs per device (retransmission detection)
    split_timeout: float = 600.0  # seconds to collect the parts of a split message (Flag.D)
    max_split_groups: int = 16  # open split messages per connection
    max_split_parts: int = 64  # PNUM above this is rejected
    command_poll: float = 1.0  # seconds between looks at the command queue
    command_timeout: float = 10.0  # HJ 212-2017 Table 1 (GPRS/4G): 10 s …
    command_retries: int = 3  # … × 3
    auto_time_sync: bool = True  # send 1012 set-time when a device's QN clock is off by more than …
    max_clock_drift: float = 300.0  # … this many seconds (at most once per hour per device)
    write_retry_max: float = 5.0  # back-off cap (s) when the database refuses a batch
    writers: int = 0  # writers (0: 2 on PostgreSQL — their database waits overlap —, 1 on SQLite)
    writer_process: bool = False  # write in child processes (ecohub gateway: on) instead of threads


@dataclass
class GatewayEvent:
    """What the ``on_event`` hook receives."""

    kind: str  # device_auth_failure | device_online | device_offline | clock_drift | command_finished
    mn: str | None
    peer: str | None
    detail: dict = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class _Item:
    """One unit of work for the writer: the observations, quarantine rows and events of one packet (or one
    reassembled split message) and the answers to send once they are committed."""

    __slots__ = ("conn", "session", "qns", "acks", "rows", "quarantine", "events", "t0", "on_commit")

    def __init__(self, conn, session, qns, acks, rows, quarantine, events, t0, on_commit=None):
        self.conn = conn
        self.session = session
        self.qns = qns
        self.acks = acks
        self.rows = rows
        self.quarantine = quarantine
        self.events = events
        self.t0 = t0
        self.on_commit = on_commit


class _Session:
    """Per-device state (by MN), kept while the gateway runs."""

    __slots__ = ("mn", "info", "conn", "pw", "st", "version", "qns", "tokens", "refill_at", "last_sync",
                 "packets")

    def __init__(self, mn: str, info: DeviceInfo, burst: float):
        self.mn = mn
        self.info = info
        self.conn: _Conn | None = None
        self.pw = ""
        self.st = "32"
        self.version = info.protocol
        self.qns: OrderedDict[str, object] = OrderedDict()
        self.tokens = burst
        self.refill_at = time.monotonic()
        self.last_sync = -math.inf
        self.packets = 0


class _Conn:
    __slots__ = ("reader", "writer", "peer", "framer", "auth_failures", "garbage", "garbage_reported", "frames",
                 "last_rx", "mns", "closed", "reassembler", "split_acks", "opened")

    def __init__(self, reader, writer, peer: str, max_length: int):
        self.reader = reader
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
        self.split_acks: dict[tuple, list] = {}
        self.opened = time.monotonic()

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

    def abort(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self.writer.transport.abort()


class _LatencyLog:
    """Commit-to-answer latencies (seconds) of the last ``size`` answered packets."""

    def __init__(self, size: int = 100_000):
        self.size = size
        self.values: list[float] = []
        self.pos = 0

    def add(self, v: float) -> None:
        if len(self.values) < self.size:
            self.values.append(v)
        else:
            self.values[self.pos] = v
            self.pos = (self.pos + 1) % self.size

    def quantile(self, q: float) -> float | None:
        if not self.values:
            return None
        s = sorted(self.values)
        return s[min(len(s) - 1, int(q * len(s)))]


class Gateway:
    """The gateway server. ``await gateway.start()`` … ``await gateway.stop()``; or :func:`run_gateway`."""

    def __init__(self, store: Store, config: GatewayConfig | None = None, *,
                 on_event: Callable[[GatewayEvent], None] | None = None):
        self.store = store
        self.config = cfg = config or GatewayConfig()
        self.on_event = on_event
        self.directory = DeviceDirectory(store, ttl=cfg.auth_ttl, negative_ttl=cfg.negative_ttl)
        self.runner = CommandRunner(store, timeout=cfg.command_timeout, retries=cfg.command_retries)
        self.sessions: dict[str, _Session] = {}
        self.conns: set[_Conn] = set()
        self.counters: dict[str, int] = dict.fromkeys((
            "connections_total", "connections_refused", "frames", "packets", "data_packets", "event_packets",
            "records", "stored", "duplicates", "conflicts", "quarantined", "rejected_frames", "garbage_bytes",
            "auth_failures", "acks_sent", "retransmissions", "throttled", "idle_closed", "write_errors",
            "batches", "queue_peak", "commands_sent", "answers_9013", "not_stored_kinds", "split_parts",
            "connections_closed", "side_dropped", "write_ms", "packets_failed"), 0)
        self._side: deque[_Item] = deque()
        self.side_cap = 100_000
        self.latency = _LatencyLog()
        self.port: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._queue: asyncio.Queue[_Item] | None = None
        self._tasks: list[asyncio.Task] = []
        self._writer_exec = ThreadPoolExecutor(1, thread_name_prefix="hj212-writer")
        self._writers: asyncio.Queue | None = None  # free (executor, writer) slots
        self._all_writers: list[tuple[ThreadPoolExecutor, LocalWriter | ProcessWriter]] = []
        self._flushes: set[asyncio.Task] = set()
        self._auth_exec = ThreadPoolExecutor(2, thread_name_prefix="hj212-auth")
        self._db_exec = ThreadPoolExecutor(1, thread_name_prefix="hj212-db")
        self._resolver = SeriesResolver()
        self._params: dict[str, int] = {}
        self._pmap: dict[tuple[str, str], tuple[int, float] | None] = {}
        self._smap: dict[tuple[str, str, str], tuple[int, float] | None] = {}
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- life cycle -----------------------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config
        loop = self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(cfg.queue_packets)

        def _prepare():
            with self.store.engine.connect() as conn:
                params = parameter_index(conn)
            self.directory.preload()
            self.store.source_id(SOURCE)
            return params

        self._params = await loop.run_in_executor(self._writer_exec, _prepare)
        # listen first (a port in use fails before any writer process is spawned); packets wait in the queue
        self._server = await asyncio.start_server(self._handle, cfg.host, cfg.port, limit=cfg.stream_limit,
                                                  backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        n_writers = cfg.writers or (2 if self.store.is_postgres else 1)
        url = self.store.engine.url
        in_memory = url.get_backend_name() == "sqlite" and (url.database or ":memory:") == ":memory:"
        self._writers = asyncio.Queue()
        self._all_writers = []
        for i in range(n_writers):
            ex = self._writer_exec if i == 0 else ThreadPoolExecutor(1, thread_name_prefix=f"hj212-writer-{i}")
            if cfg.writer_process and not in_memory:
                target = url.render_as_string(hide_password=False)
                w = await loop.run_in_executor(ex, lambda target=target: ProcessWriter(target))
            else:
                w = LocalWriter(self.store, self._resolver)
            self._all_writers.append((ex, w))
            self._writers.put_nowait((ex, w))
        self._tasks = [loop.create_task(self._collector(), name="hj212-collector"),
                       loop.create_task(self._sweeper(), name="hj212-sweeper"),
                       loop.create_task(self._commands(), name="hj212-commands")]
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
        deadline = time.monotonic() + drain_timeout
        while self._queue is not None and (not self._queue.empty() or self._flushes) \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for c in list(self.conns):
            c.abort()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._flushes:
            await asyncio.wait(list(self._flushes), timeout=drain_timeout)
        for ex, w in self._all_writers:
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(ex, w.close)
        for ex, _ in self._all_writers or [(self._writer_exec, None)]:
            ex.shutdown(wait=True)
        self._auth_exec.shutdown(wait=False, cancel_futures=True)
        self._db_exec.shutdown(wait=True)

    def stats(self) -> dict:
        out = dict(self.counters)
        out["connections_open"] = len(self.conns)
        out["devices_online"] = sum(1 for s in self.sessions.values() if s.conn is not None and not s.conn.closed)
        out["queue"] = self._queue.qsize() if self._queue is not None else 0
        out["argon2_verifications"] = self.directory.verifications
        p50, p99 = self.latency.quantile(0.5), self.latency.quantile(0.99)
        out["ack_latency_p50_ms"] = None if p50 is None else round(p50 * 1000, 2)
        out["ack_latency_p99_ms"] = None if p99 is None else round(p99 * 1000, 2)
        out["commands"] = dict(self.runner.finished)
        return out

    def _emit(self, kind: str, mn: str | None, peer: str | None, **detail) -> None:
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
        c = self.counters
        if len(self.conns) >= cfg.max_connections or self._stopping:
            c["connections_refused"] += 1
            writer.transport.abort()
            return
        conn = _Conn(reader, writer, peer, cfg.max_length)
        self.conns.add(conn)
        c["connections_total"] += 1
        chunk = cfg.read_chunk
        try:
            while not conn.closed:
                try:
                    data = await reader.read(chunk)
                except (ConnectionError, OSError):
                    break
                if not data:
                    break
                conn.last_rx = time.monotonic()
                for ev in conn.framer.feed(data):
                    if ev.kind == "frame":
                        conn.frames += 1
                        c["frames"] += 1
                        await self._on_frame(conn, ev.data)
                        if conn.closed:
                            break
                    else:
                        self._on_junk(conn, ev)
                if not conn.frames and conn.garbage > cfg.max_garbage:
                    log.info("%s: %d bytes without a valid frame: closing", peer, conn.garbage)
                    break
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the gateway
            log.exception("%s: connection handler failed", peer)
        finally:
            await self._close(conn)

    async def _close(self, conn: _Conn) -> None:
        if conn in self.conns:
            self.conns.discard(conn)
            self.counters["connections_closed"] += 1
        conn.closed = True
        with contextlib.suppress(Exception):
            conn.writer.close()
        if conn.split_acks or (conn.reassembler is not None and conn.reassembler.pending):
            self._expire_splits(conn, final=True)
        for mn in conn.mns:
            s = self.sessions.get(mn)
            if s is not None and s.conn is conn:
                s.conn = None
                self._emit("device_offline", mn, conn.peer)
                self._record_events([self._event_row(mn, s.info.id, "offline", None, None, None,
                                                     {"peer": conn.peer}, conn.peer)])
                updates = self.runner.on_disconnect(mn)
                if updates:
                    self._apply_command_updates(updates)

    def _on_junk(self, conn: _Conn, ev) -> None:
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
            self._record_quarantine(conn.peer, reason, "frame", raw)

    # --- packets --------------------------------------------------------------------------------------------
    async def _on_frame(self, conn: _Conn, frame: bytes) -> None:
        c = self.counters
        c["packets"] += 1
        t0 = time.perf_counter()
        bad_items: list[tuple[str, str]] | None = None
        try:
            packet = decode(frame)
        except HJ212Error as e:
            packet = None
            if e.reason in ("bad_field", "bad_flag", "bad_cp", "bad_time") and e.field not in _HEADER_FIELDS:
                with contextlib.suppress(HJ212Error):
                    packet = decode(frame, _LOOSE)  # the header is fine: keep the good items
            if packet is None:
                c["rejected_frames"] += 1
                self._record_quarantine(conn.peer, f"{e.reason}: {e}", e.field, _raw(frame))
                return
            bad_items = []
        mn, pw = packet.mn, packet.pw
        auth = self.directory.check_cached(mn, pw)
        if auth is None:
            auth = await asyncio.get_running_loop().run_in_executor(self._auth_exec, self.directory.check, mn, pw)
        if not auth.ok:
            self._auth_failure(conn, packet, frame, auth)
            return
        info = auth.device
        if packet.cp.encrypted and info.sm4_key:
            try:
                packet = decode(frame, info.dialect)
            except HJ212Error as e:
                self._record_quarantine(conn.peer, f"{e.reason}: {e}", e.field, _raw(frame),
                                        mn)
                return
        session = self._session(conn, packet, info)
        # per-device rate: a device over its rate is read more slowly (nothing dropped)
        now = time.monotonic()
        cfg = self.config
        session.tokens = min(cfg.device_burst, session.tokens + (now - session.refill_at) * cfg.device_rate)
        session.refill_at = now
        if session.tokens < 1.0:
            c["throttled"] += 1
            await asyncio.sleep((1.0 - session.tokens) / cfg.device_rate)
            session.tokens = 1.0
            session.refill_at = time.monotonic()
        session.tokens -= 1.0
        session.packets += 1
        cn = packet.cn
        qn = packet.qn
        # answers to platform commands
        if cn[0] == "9":
            handled, updates = self.runner.on_packet(packet)
            if updates:
                self._apply_command_updates(updates)
            return
        # retransmission of a packet seen recently (same QN)
        if qn is not None:
            seen = session.qns.get(qn)
            if seen is not None:
                c["retransmissions"] += 1
                if seen is _DONE:
                    answer = answer_for(packet)  # 9014 (uploads with A=1) or 9013 (1013 notification)
                    if answer is not None:
                        self._send_ack(conn, encode(answer), t0)
                elif isinstance(seen, _Item):
                    seen.conn = conn  # answer on the newest connection when it commits
                return
        if cfg.auto_time_sync and qn is not None and len(qn) == 17:
            self._check_clock(session, packet, conn)
        if self.runner.active:
            _, updates = self.runner.on_packet(packet)
            if updates:
                self._apply_command_updates(updates)
        # split messages (Flag.D): collect the parts, answer them all when the whole message is committed
        acks: list[bytes] = []
        qns: list[str] = []
        if packet.pnum is not None:
            c["split_parts"] += 1
            merged = self._add_part(conn, session, packet, frame)
            if merged is None:
                return
            packet, qns, acks = merged
        else:
            if qn is not None:
                qns.append(qn)
            if packet.ack_required and cn != "1013":
                acks.append(encode(data_ack(packet)))
        if cn == "1013":  # notification: answered at once (9013), then the platform sends 1012
            if qn is not None:
                conn.send(encode(notify_ack(packet)), cfg.max_write_buffer)
                c["answers_9013"] += 1
            self._request_time_sync(session, "device asked (1013)")
        item = self._build_item(conn, session, packet, frame, qns, acks, t0, bad_items)
        if item is None:
            return
        for q in qns:
            self._remember(session, q, item)
        queue = self._queue
        if queue.full():
            try:
                await queue.put(item)  # back-pressure: this connection is not read until there is room
            except BaseException:
                for q in qns:  # never queued: a retransmission must not wait for it
                    if session.qns.get(q) is item:
                        del session.qns[q]
                raise
        else:
            queue.put_nowait(item)
        n = queue.qsize()
        if n > c["queue_peak"]:
            c["queue_peak"] = n

    def _session(self, conn: _Conn, packet: Packet, info: DeviceInfo) -> _Session:
        mn = packet.mn
        s = self.sessions.get(mn)
        if s is None:
            s = self.sessions[mn] = _Session(mn, info, self.config.device_burst)
        s.info = info
        s.pw = packet.pw
        s.st = packet.st
        s.version = packet.version if packet.version in ("2005", "2017", "2025") else info.protocol
        if s.conn is not conn:
            old = s.conn
            s.conn = conn
            conn.mns.add(mn)
            if old is None or old.closed:
                self._emit("device_online", mn, conn.peer)
                self._record_events([self._event_row(mn, info.id, "online", None, None, None, {"peer": conn.peer},
                                                     conn.peer)])
        return s

    def _remember(self, session: _Session, qn: str, state: object) -> None:
        q = session.qns
        q[qn] = state
        q.move_to_end(qn)
        while len(q) > self.config.qn_memory:
            q.popitem(last=False)

    def _auth_failure(self, conn: _Conn, packet: Packet, frame: bytes, auth) -> None:
        c = self.counters
        c["auth_failures"] += 1
        conn.auth_failures += 1
        reason = auth.message
        self._record_quarantine(conn.peer, reason, "MN" if auth.reason == "unknown_mn" else "PW",
                                _raw(frame), packet.mn)
        if conn.auth_failures <= self.config.max_auth_failures:
            self._record_events([self._event_row(packet.mn, auth.device.id if auth.device else None,
                                                 "auth_failure", packet.cn, None, None,
                                                 {"reason": auth.reason, "qn": packet.qn}, conn.peer)])
            self._emit("device_auth_failure", packet.mn, conn.peer, reason=auth.reason, cn=packet.cn, qn=packet.qn)
        if conn.auth_failures >= self.config.max_auth_failures:
            log.info("%s: %d authentication failures (MN=%s): closing", conn.peer, conn.auth_failures, packet.mn)
            conn.abort()

    def _check_clock(self, session: _Session, packet: Packet, conn: _Conn) -> None:
        try:
            qt = packet.qn_time
        except HJ212Error:
            return
        if qt is None:
            return
        drift = qt.timestamp() - time.time()
        if abs(drift) <= self.config.max_clock_drift:
            return
        now = time.monotonic()
        if now - session.last_sync < 3600:
            return
        session.last_sync = now
        self._emit("clock_drift", session.mn, conn.peer, seconds=round(drift, 1))
        self._request_time_sync(session, f"clock drift {drift:+.0f} s (QN time)")

    def _request_time_sync(self, session: _Session, why: str) -> None:
        session.last_sync = time.monotonic()
        mn = session.mn
        fut = self._loop.run_in_executor(self._db_exec, lambda: enqueue_command(
            self.store, mn, "set-time", requested_by=f"gateway: {why}"))
        fut.add_done_callback(_log_failure("enqueue set-time"))

    # --- split messages -------------------------------------------------------------------------------------
    def _add_part(self, conn: _Conn, session: _Session, packet: Packet, frame: bytes):
        cfg = self.config
        if conn.reassembler is None:
            conn.reassembler = Reassembler(timeout=cfg.split_timeout, max_groups=cfg.max_split_groups,
                                           max_parts=cfg.max_split_parts)
        key = (packet.mn, packet.st, packet.cn, packet.pnum, packet.cp.fields.get("DataTime"))
        try:
            merged = conn.reassembler.add(packet)
        except HJ212Error as e:
            self._record_quarantine(conn.peer, f"{e.reason}: {e}", e.field, _raw(frame),
                                    packet.mn)
            return None
        acks = conn.split_acks.setdefault(key, [])
        acks.append((packet.qn, encode(data_ack(packet)) if packet.ack_required and packet.qn else None))
        if packet.qn:
            self._remember(session, packet.qn, _HELD)
        self._expire_splits(conn)
        if merged is None:
            return None
        parts = conn.split_acks.pop(key, [])
        return merged, [q for q, _ in parts if q], [a for _, a in parts if a]

    def _expire_splits(self, conn: _Conn, final: bool = False) -> None:
        r = conn.reassembler
        if r is None:
            return
        # connection closed: every open group is incomplete (expired "at infinity")
        groups = r.expired(math.inf) if final else r.expired()
        for g in groups:
            acks = conn.split_acks.pop(g.key, [])
            mn = g.key[0]
            s = self.sessions.get(mn)
            for q, _ in acks:
                if s is not None and q and s.qns.get(q) is _HELD:
                    s.qns.pop(q, None)
            raw = " | ".join(p.cp.text for p in g.parts.values())
            self._record_quarantine(conn.peer, f"incomplete split message: parts {g.missing} of {g.pnum} missing",
                                    "PNO", raw, mn)

    # --- turning a packet into work for the writer ----------------------------------------------------------
    def _param(self, code: str, kind: str) -> tuple[int, float] | None:
        key = (code, kind)
        hit = self._pmap.get(key, False)
        if hit is not False:
            return hit
        c17 = code_2017(code)
        out = None
        try:
            p = resolve_parameter(c17)
        except UnknownParameter:
            try:
                p = resolve_parameter(code)
            except UnknownParameter:
                p = None
        if p is not None:
            p = site_parameter(p, kind)
            pid = self._params.get(p.name)
            if pid is not None:
                scale = 1.0
                f = FACTORS.get(c17)
                # HJ 212-2017 default unit µg/L for Hg, Cd, Cr(VI), As, Pb; ecohub stores mg/L. A 2005 code
                # (mg/L in HJ/T 212-2005) is stored as sent.
                if code == c17 and f is not None and f.unit == "µg/L" and p.unit == "mg/L":
                    scale = 0.001
                out = (pid, scale)
        self._pmap[key] = out
        return out

    def _stat_param(self, code: str, skind: str, kind: str) -> tuple[int, float] | None:
        """(parameter id, scale) of a statistic kind (``Min``, ``Max``, ``Cou``, ``ZsRtd``, ``ZsAvg``) of a
        factor whose base code is known: the derived parameter ``<name>_<suffix>``; ``None`` when the
        catalogue has none (ambient air, noise …: the value is counted in ``not_stored_kinds``)."""
        key = (code, skind, kind)
        hit = self._smap.get(key, False)
        if hit is not False:
            return hit
        out = None
        c17 = code_2017(code)
        p = None
        for c in (c17, code):
            try:
                p = resolve_parameter(c)
                break
            except UnknownParameter:
                continue
        if p is not None:
            p = site_parameter(p, skind)
            pid = self._params.get(f"{p.name}_{STAT_SUFFIX[kind]}")
            if pid is not None:
                scale = 1.0
                f = FACTORS.get(c17)
                if code == c17 and f is not None:
                    if kind == "Cou":
                        # HJ 212-2017 amount unit g (heavy metals) → kg, the unit of ``<name>_cou``
                        if f.amount_unit == "g":
                            scale = 0.001
                    elif f.unit == "µg/L" and p.unit == "mg/L":
                        scale = 0.001  # same as the primary value
                out = (pid, scale)
        self._smap[key] = out
        return out

    def _build_item(self, conn: _Conn, session: _Session, packet: Packet, frame: bytes, qns, acks, t0,
                    bad_items) -> _Item | None:
        c = self.counters
        info = session.info
        cn = packet.cn
        mn = packet.mn
        rows: list[tuple] = []
        quarantine: list[tuple] = []
        events: list[dict] = []
        raw: str | None = None
        if bad_items is not None:
            bad_items = _validate_items(packet)
        if cn in ("2011", "2051", "2061", "2031"):
            c["data_packets"] += 1
            try:
                extracted = primary_values(packet, stats=True)
            except HJ212Error as e:
                quarantine.append((f"{e.reason}: {e}", e.field, _raw(frame)))
                extracted = None
            skip: set[str] = set()
            if bad_items:
                raw = _raw(frame)
                for code, reason, fld in bad_items:
                    skip.add(code)
                    quarantine.append((reason, fld, raw))
            if extracted is not None:
                t, values, others = extracted
                c["not_stored_kinds"] += others
                if t > time.time() + _FUTURE_SLACK:
                    quarantine.append((f"DataTime {packet.cp.fields.get('DataTime')} is more than one day in the "
                                       "future (device clock?)", "DataTime", _raw(frame)))
                    values = ()
                interval = _INTERVAL[INTERVAL_BY_CN[cn]]
                stat_kinds = _STAT_KIND[INTERVAL_BY_CN[cn]]
                site_id = info.site_id
                skind = info.site_kind
                pmap = self._pmap
                smap = self._smap
                for code, kind, value, flag in values:
                    if code in skip:
                        continue
                    if flag is not None and flag not in _ALL_FLAGS:
                        skip.add(code)
                        if raw is None:
                            raw = _raw(frame)
                        quarantine.append((f"bad_flag: {code}-Flag={flag!r} is not an HJ 212 data flag",
                                           f"{code}-Flag", raw))
                        continue
                    pm = pmap.get((code, skind), False)
                    if pm is False:
                        pm = self._param(code, skind)
                    if pm is None:
                        skip.add(code)  # once per factor, whatever kinds it carries
                        if raw is None:
                            raw = _raw(frame)
                        quarantine.append((f"unknown_code: factor code {code!r} is not in the parameter catalogue",
                                           f"{code}-{kind}", raw))
                        continue
                    if kind in stat_kinds:
                        pm = smap.get((code, skind, kind), False)
                        if pm is False:
                            pm = self._stat_param(code, skind, kind)
                        if pm is None:
                            c["not_stored_kinds"] += 1
                            continue
                    pid, scale = pm
                    rows.append(((site_id, pid, interval), t, value * scale if scale != 1.0 else value, flag))
                c["records"] += len(rows)
            c["quarantined"] += len(quarantine)
        else:
            c["event_packets"] += 1
            kind = _EVENT_KIND.get(cn, "upload")
            fields = packet.cp.fields
            when = None
            for name in ("DataTime", "RestartTime", "SystemTime"):
                v = fields.get(name)
                if v is not None:
                    with contextlib.suppress(HJ212Error):
                        when = parse_time(v, name).astimezone(UTC)
                    break
            ref = packet.qn or (fields.get("DataTime") if fields.get("DataTime") else None)
            payload = {"params": packet.cp.params}
            if packet.cp.factors:
                payload["factors"] = packet.cp.factors
            if packet.cp.encrypted:
                payload = {"encrypted": True}
            events.append(self._event_row(mn, info.id, kind, cn, ref, when, payload, conn.peer))
        if quarantine:
            quarantine = [(reason, fld, r, mn) for reason, fld, r in quarantine]
        return _Item(conn, session, qns, acks, rows, quarantine, events, t0)

    @staticmethod
    def _event_row(mn, device_id, kind, cn, ref, when, payload, peer) -> dict:
        return {"mn": mn[:64], "device_id": device_id, "kind": kind, "cn": cn, "ref": ref, "time": when,
                "payload": payload, "peer": (peer or "")[:64] or None, "received_at": datetime.now(UTC)}

    def _record_quarantine(self, peer: str, reason: str, fld: str | None, raw: str | None, mn: str | None = None):
        """Quarantine something that is not part of a queued packet (garbage, auth failures …), through the
        writer queue so it is written in order and without blocking the loop."""
        self.counters["quarantined"] += 1
        self._enqueue_side(_Item(None, None, [], [], [], [(reason, fld, raw, mn)], [], time.perf_counter()), peer)

    def _record_events(self, rows: list[dict]) -> None:
        item = _Item(None, None, [], [], [], [], rows, time.perf_counter())
        self._enqueue_side(item, None)

    def _enqueue_side(self, item: _Item, peer: str | None) -> None:
        """Side rows go to a deque the collector drains with the next batch. It is bounded by construction (a
        few rows per connection: ``quarantine_garbage`` + ``max_auth_failures`` + online/offline) and capped
        at ``side_cap`` rows besides; beyond that they are counted as dropped."""
        item.conn = peer  # origin of side rows (a string, not a connection)
        if len(self._side) >= self.side_cap:
            self.counters["side_dropped"] += 1
            return
        self._side.append(item)
        q = self._queue
        if q is not None and q.empty():
            q.put_nowait(_Item(None, None, [], [], [], [], [], 0.0))  # wake the collector

    # --- the writer -----------------------------------------------------------------------------------------
    async def _collector(self) -> None:
        loop = asyncio.get_running_loop()
        q = self._queue
        cfg = self.config
        while True:
            item = await q.get()
            batch = [item]
            n = len(item.rows)
            side = self._side
            while side:
                batch.append(side.popleft())
            while n < cfg.batch_records:
                try:
                    it = q.get_nowait()
                except asyncio.QueueEmpty:
                    if cfg.batch_linger > 0 and n < cfg.batch_records // 4:
                        await asyncio.sleep(cfg.batch_linger)
                        if q.empty():
                            break
                        continue
                    break
                batch.append(it)
                n += len(it.rows)
            slot = await self._writers.get()  # a free writer (several on PostgreSQL: their waits overlap)
            task = loop.create_task(self._flush(loop, batch, slot))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, loop, batch: list[_Item], slot) -> None:
        """Write one batch with one writer, then answer its packets."""
        cfg = self.config
        try:
            tw = time.perf_counter()
            batch, counts = await self._write_with_retries(loop, batch, slot)
            self.counters["write_ms"] += int((time.perf_counter() - tw) * 1000)
        finally:
            self._writers.put_nowait(slot)
        c = self.counters
        c["batches"] += 1
        c["stored"] += counts.imported
        c["duplicates"] += counts.duplicates
        c["conflicts"] += counts.conflicts
        now = time.perf_counter()
        limit = cfg.max_write_buffer
        lat = self.latency
        for it in batch:
            s = it.session
            if s is not None:
                for qn in it.qns:
                    if s.qns.get(qn) is it:
                        s.qns[qn] = _DONE
            if it.acks:
                conn = it.conn
                if isinstance(conn, _Conn):
                    for a in it.acks:
                        if conn.send(a, limit):
                            c["acks_sent"] += 1
                    lat.add(now - it.t0)
            if it.on_commit is not None:
                try:
                    it.on_commit()
                except Exception:  # noqa: BLE001
                    log.exception("on_commit callback failed")

    async def _write_with_retries(self, loop, batch: list[_Item], slot):
        """Write a batch; while the database is unreachable or busy, retry with back-off for as long as it takes
        (nothing is answered meanwhile, and the full queue slows the sockets). A batch the database refuses
        for its content (3 times) is written packet by packet; a packet refused alone is given up (logged,
        counted in ``packets_failed``, not answered: the device keeps it and retries)."""
        delay = 0.05
        attempts = 0
        while True:
            try:
                return batch, await loop.run_in_executor(slot[0], self._write_batch, batch, slot[1])
            except Exception as e:  # noqa: BLE001 - the database refused: keep the batch, retry, no answers
                self.counters["write_errors"] += 1
                attempts += 1
                log.error("writing a batch of %d packets failed (%s: %s); retrying in %.2f s", len(batch),
                          type(e).__name__, str(e).splitlines()[0][:300], delay)
                if attempts >= 3 and not _is_unavailable(e):
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.write_retry_max)
        good: list[_Item] = []
        total = WriteCounts()
        for it in batch:
            try:
                total += await loop.run_in_executor(slot[0], self._write_batch, [it], slot[1])
                good.append(it)
            except Exception as e:  # noqa: BLE001
                self.counters["packets_failed"] += 1
                s = it.session
                if s is not None:  # forget it: a retransmission is processed again, not treated as in flight
                    for qn in it.qns:
                        if s.qns.get(qn) is it:
                            del s.qns[qn]
                log.error("a packet from %s could not be written and is not answered: %s",
                          getattr(it.conn, "peer", it.conn), str(e).splitlines()[0][:300])
        return good, total

    @staticmethod
    def _write_batch(batch: list[_Item], w) -> WriteCounts:
        """In a writer thread: the batch's payload, written by ``w`` (here or in the writer process)."""
        p = Payload()
        rows = p.rows
        for it in batch:
            if it.rows:
                rows.extend(it.rows)
            if it.quarantine:
                peer = it.conn.peer if isinstance(it.conn, _Conn) else (it.conn or "")
                for reason, fld, raw, mn in it.quarantine:
                    p.quarantine.append((f"{peer} MN={mn}" if mn else peer, reason, fld, raw))
            if it.events:
                p.events.extend(it.events)
        return w.write(p)

    # --- periodic work --------------------------------------------------------------------------------------
    async def _sweeper(self) -> None:
        cfg = self.config
        period = max(0.2, min(5.0, cfg.idle_timeout / 4))
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for conn in list(self.conns):
                if now - conn.last_rx > cfg.idle_timeout:
                    self.counters["idle_closed"] += 1
                    log.info("%s: idle for %.0f s: closing", conn.peer, now - conn.last_rx)
                    conn.abort()
                elif conn.reassembler is not None and conn.reassembler.pending:
                    self._expire_splits(conn)

    async def _commands(self) -> None:
        loop = asyncio.get_running_loop()
        runner = self.runner
        cfg = self.config
        while True:
            await asyncio.sleep(cfg.command_poll)
            try:
                connected = [mn for mn, s in self.sessions.items() if s.conn is not None and not s.conn.closed]
                due = await loop.run_in_executor(self._db_exec, runner.due, connected)
                updates = []
                for row in due:
                    s = self.sessions.get(row["mn"])
                    if s is None or s.conn is None or s.conn.closed or row["mn"] in runner.active:
                        continue
                    frame, ups = runner.start(row, s.pw, s.st, s.version)
                    updates += ups
                    if frame is not None and s.conn.send(frame, cfg.max_write_buffer):
                        self.counters["commands_sent"] += 1
                resend, ups = runner.poll()
                updates += ups
                for mn, frame in resend:
                    s = self.sessions.get(mn)
                    if s is not None and s.conn is not None:
                        s.conn.send(frame, cfg.max_write_buffer)
                if updates:
                    await loop.run_in_executor(self._db_exec, runner.apply, updates)
                    self._announce(updates)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("command queue step failed")

    def _apply_command_updates(self, updates) -> None:
        fut = self._loop.run_in_executor(self._db_exec, self.runner.apply, updates)
        fut.add_done_callback(_log_failure("command status update"))
        self._announce(updates)

    def _announce(self, updates) -> None:
        for cid, values in updates:
            if values.get("status") in ("done", "refused", "failed", "timeout"):
                self._emit("command_finished", None, None, id=cid, status=values["status"],
                           result=values.get("result"))

    # --- answers --------------------------------------------------------------------------------------------
    def _send_ack(self, conn: _Conn, ack: bytes, t0: float) -> None:
        if conn.send(ack, self.config.max_write_buffer):
            self.counters["acks_sent"] += 1
            self.latency.add(time.perf_counter() - t0)


def primary_values(packet: Packet, stats: bool = False
                   ) -> tuple[int, list[tuple[str, str, float, str | None]], int] | None:
    """The values the gateway stores from a data packet (2011/2051/2061/2031): ``(DataTime as UTC epoch
    seconds, [(factor code, kind, value, data flag)], number of other numeric values not returned)`` — the
    ``Rtd`` of real-time data, the ``Avg`` (or noise ``Data``) of minute/hour/day data; ``None`` when the
    packet carries no values. With ``stats=True`` also the statistic kinds the gateway stores into derived
    parameters: ``ZsRtd`` of real-time data, ``Min``, ``Max``, ``Cou``, ``ZsAvg`` of minute/hour/day data
    (each factor's primary value first, then these in data-area order).

    These are exactly the :func:`~ecohub.protocols.hj212.records` of the packet with those kinds (a test
    checks it); read straight from the decoded data area because building every ``Record`` (20 per
    ten-factor packet with ``-ZsRtd``) costs ~40 µs per packet, a third of the gateway's per-packet work.
    Raises :class:`HJ212Error` for what ``records`` refuses (encrypted CP, no or bad DataTime, an item twice).
    """
    interval = INTERVAL_BY_CN.get(packet.cn)
    if interval is None:
        return None
    cp = packet.cp
    if cp.encrypted:
        raise HJ212Error("decrypt_failed", "CP is SM4-encrypted and no key was given (Dialect.sm4_key)", "CP", cp.text)
    factors = cp.factors
    if not factors:
        return None
    fields = cp.fields
    dt_text = fields.get("DataTime")
    if dt_text is None:
        raise HJ212Error("missing_field", f"CN={packet.cn} packet has values but no DataTime", "DataTime", None)
    t = int(parse_time(dt_text, "DataTime").timestamp())
    if len(fields) != len(cp):
        seen: set[str] = set()
        for name, _ in cp.pairs:
            if "-" in name and name in seen:
                raise HJ212Error("bad_cp", f"CP item {name} occurs twice", name, None)
            seen.add(name)
    primary = _PRIMARY_KIND[interval]
    extra = _STAT_KIND[interval] if stats else frozenset()
    out: list[tuple[str, str, float, str | None]] = []
    others = 0
    for code, kinds in factors.items():
        chosen = None
        for k in primary:
            text = kinds.get(k)
            if text is not None:
                chosen = k
                try:
                    v = float(text)
                except ValueError:
                    break
                if math.isfinite(v):
                    out.append((code, k, v, kinds.get("Flag")))
                break
        for k, text in kinds.items():
            if k == chosen:
                continue
            if k in extra:
                try:
                    v = float(text)
                except ValueError:
                    continue
                if math.isfinite(v):
                    out.append((code, k, v, kinds.get("Flag")))
            elif k in NUMERIC_KINDS:
                others += 1
    return t, out, others


def _validate_items(packet: Packet) -> list[tuple[str, str, str]]:
    """Items of a loosely decoded CP that fail the value rules: (factor code, reason, field)."""
    bad: list[tuple[str, str, str]] = []
    for code, kinds in packet.cp.factors.items():
        for kind, value in kinds.items():
            name = f"{code}-{kind}"
            reason = None
            if kind in NUMERIC_KINDS:
                try:
                    if not math.isfinite(float(value)):
                        reason = f"bad_field: {name}={value!r} is not a finite number"
                except ValueError:
                    reason = f"bad_field: {name}={value!r} is not a number"
            elif kind == "Flag":
                if len(value) != 1 or value not in _ALL_FLAGS:
                    reason = f"bad_flag: {name}={value!r} is not an HJ 212 data flag"
            elif kind == "SampleTime":
                try:
                    parse_time(value, name)
                except HJ212Error as e:
                    reason = f"bad_time: {e}"
            if reason is not None:
                bad.append((code, reason, name))
                break  # the factor's values are quarantined together
    return bad


_PW_RE = re.compile(r"(^|;)PW=[^;]*")


def _raw(frame: bytes) -> str:
    """A frame as text for the quarantine, its password masked (``PW=***``)."""
    return _PW_RE.sub(r"\1PW=***", frame.decode("utf-8", "replace"), count=1)


def _is_unavailable(exc: BaseException) -> bool:
    """True when the database is down, unreachable or busy (retry forever), not when it refuses the data."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, RemoteWriteError):
        return exc.unavailable
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return isinstance(exc, (ConnectionError, OSError, TimeoutError))


def _log_failure(what: str):
    def cb(fut):
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            log.error("%s failed: %s", what, exc)
    return cb


# --- running ----------------------------------------------------------------------------------------------
def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # type: ignore[import-not-found]

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def run_gateway(store: Store, config: GatewayConfig | None = None, *,
                on_event: Callable[[GatewayEvent], None] | None = None,
                on_ready: Callable[[Gateway], None] | None = None,
                stop_event: threading.Event | None = None) -> dict:
    """Run the gateway until SIGINT/SIGTERM (main thread) or ``stop_event``; returns its final stats."""
    import signal

    loop = _new_loop()
    gw = Gateway(store, config, on_event=on_event)

    async def main() -> None:
        await gw.start()
        if on_ready is not None:
            on_ready(gw)
        done = asyncio.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, done.set)
        if stop_event is not None:
            def _watch():
                stop_event.wait()
                loop.call_soon_threadsafe(done.set)
            threading.Thread(target=_watch, daemon=True).start()
        await done.wait()
        await gw.stop()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    return gw.stats()


class GatewayHandle:
    """A gateway running in a background thread (see :func:`start_in_thread`)."""

    def __init__(self, thread: threading.Thread, stop_event: threading.Event, holder: dict):
        self._thread = thread
        self._stop = stop_event
        self._holder = holder

    @property
    def gateway(self) -> Gateway:
        return self._holder["gateway"]

    @property
    def port(self) -> int:
        return self._holder["gateway"].port

    def stats(self) -> dict:
        return self._holder["gateway"].stats()

    def stop(self, timeout: float = 15.0) -> dict:
        self._stop.set()
        self._thread.join(timeout)
        return self._holder.get("stats") or self.stats()

    def __enter__(self) -> GatewayHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_in_thread(store: Store, host: str = "127.0.0.1", port: int = 6010, *,
                    config: GatewayConfig | None = None, on_event: Callable[[GatewayEvent], None] | None = None,
                    ready_timeout: float = 30.0) -> GatewayHandle:
    """Start the gateway on its own event loop in a daemon thread (``ecohub demo``, tests). ``port=0`` picks a
    free port (``handle.port``). Returns once it listens; raises ``RuntimeError`` if it does not start."""
    cfg = config or GatewayConfig()
    cfg.host, cfg.port = host, port
    ready = threading.Event()
    stop_event = threading.Event()
    holder: dict = {}

    def on_ready(gw: Gateway) -> None:
        holder["gateway"] = gw
        ready.set()

    def target() -> None:
        try:
            holder["stats"] = run_gateway(store, cfg, on_event=on_event, on_ready=on_ready, stop_event=stop_event)
        except BaseException as e:  # noqa: BLE001 - reported to the starting thread
            holder["error"] = e
            ready.set()

    t = threading.Thread(target=target, name="hj212-gateway", daemon=True)
    t.start()
    if not ready.wait(ready_timeout) or "error" in holder:
        stop_event.set()
        raise RuntimeError(f"the HJ 212 gateway did not start: {holder.get('error', 'timeout')}")
    return GatewayHandle(t, stop_event, holder)


def config_dict(cfg: GatewayConfig) -> dict:
    return asdict(cfg)
