"""Device sessions: from a frame on a connection to work for the commit path. Decoding (strict, then loose to
keep the good items), authentication (MN/PW, :mod:`.auth`), the per-device session (by MN: password, ST,
edition, recent QNs, packet-rate tokens), retransmissions, clock checks, split-message assembly (Flag.D) and
the 1013 → 9013 answer. What a packet carries is turned into records by :mod:`.records`; the work is handed to
the :class:`~ecohub.ingest.hj212.commit.Committer`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

from ecohub.ingest.hj212.auth import AuthResult, DeviceDirectory, DeviceInfo
from ecohub.ingest.hj212.commands import CommandLoop
from ecohub.ingest.hj212.commit import Committer
from ecohub.ingest.hj212.config import GatewayConfig
from ecohub.ingest.hj212.flow import Flow
from ecohub.ingest.hj212.records import PacketRecords, event_row, mask_password
from ecohub.ingest.hj212.work import DONE, HELD, LatencyLog, Work
from ecohub.protocols.hj212 import (
    Dialect,
    HJ212Error,
    Packet,
    Reassembler,
    answer_for,
    data_ack,
    decode,
    encode,
    frame_segment,
    notify_ack,
)

__all__ = ["CLOCK_CHECK_EVERY", "DEVIATION_RECORD_EVERY", "Deviation", "Link", "Session", "Sessions", "ack_9014"]

log = logging.getLogger("ecohub.gateway")

_LOOSE = Dialect(name="loose values", strict_values=False)
#: CNs of the 2xxx range that are platform → device notifications, never uploads to forward
_NOT_FORWARDED = frozenset({"2012", "2022"})
_HEADER_FIELDS = frozenset({"QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO", "header", "length", "CRC", "CP",
                            "data", None})

SplitKey = tuple[Any, ...]
CLOCK_CHECK_EVERY = 10.0  # seconds between comparisons of a device's QN clock with ours (parsing the QN time of
# every packet cost ~5 % of the gateway's per-packet CPU; a drift is still caught within 10 s)


def ack_9014(packet: Packet) -> bytes:
    """The 9014 answer to an upload, ``encode(data_ack(packet))``, without ``encode``'s check of decoding it
    back (a third of its cost): every field comes from the packet just decoded. Same bytes (tested)."""
    flag = packet.flag
    if flag is None or packet.qn is None:
        return encode(data_ack(packet))
    return frame_segment(f"QN={packet.qn};ST=91;CN=9014;PW={packet.pw};MN={packet.mn};Flag={flag & ~3};CP=&&&&")
DEVIATION_RECORD_EVERY = 3600.0  # seconds between device_event rows per device and deviation code


class Link(Protocol):
    """What the session layer needs of a device connection (:class:`~ecohub.ingest.hj212.server.Conn`)."""

    peer: str
    closed: bool
    auth_failures: int
    mns: set[str]
    reassembler: Reassembler | None
    split_acks: dict[SplitKey, list[tuple[str | None, bytes | None]]]
    flow: Flow | None

    def send(self, data: bytes, limit: int) -> bool: ...

    def abort(self) -> None: ...

    def validated(self) -> None: ...


class Deviation:
    """How often a device deviated from the standard in one way (a warning code of
    :data:`ecohub.protocols.hj212.deviations.WARNINGS`), and the last instance."""

    __slots__ = ("code", "count", "pending", "field", "value", "message", "last_at", "recorded_at")

    def __init__(self, code: str):
        self.code = code
        self.count = 0  # packets with it since the gateway started
        self.pending = 0  # … since it was last recorded as a device_event
        self.field: str | None = None
        self.value: str | None = None
        self.message = ""
        self.last_at = 0.0  # epoch seconds
        self.recorded_at = -math.inf  # epoch seconds of the last device_event row

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "count": self.count, "field": self.field, "value": self.value,
                "message": self.message, "last_at": self.last_at}


class Session:
    """Per-device state (by MN), kept while the gateway runs."""

    __slots__ = ("mn", "info", "conn", "pw", "st", "version", "qns", "tokens", "refill_at", "last_sync",
                 "packets", "deviations", "clock_at")

    def __init__(self, mn: str, info: DeviceInfo, burst: float):
        self.mn = mn
        self.info = info
        self.conn: Link | None = None
        self.pw = ""
        self.st = "32"
        self.version = info.protocol
        self.qns: OrderedDict[str, object] = OrderedDict()
        self.tokens = burst
        self.refill_at = time.monotonic()
        self.last_sync = -math.inf
        self.clock_at = -math.inf  # when its QN clock was last compared with ours (monotonic)
        self.packets = 0
        self.deviations: dict[str, Deviation] = {}


class Sessions:
    """The gateway's device sessions and the per-packet path up to the commit."""

    def __init__(self, config: GatewayConfig, counters: dict[str, int], directory: DeviceDirectory,
                 records: PacketRecords, commit: Committer, commands: CommandLoop, latency: LatencyLog,
                 emit: Callable[..., None]):
        self.config = config
        self.counters = counters
        self.directory = directory
        self.records = records
        self.commit = commit
        self.commands = commands
        self.runner = commands.runner
        self.latency = latency
        self.emit = emit
        self.by_mn: dict[str, Session] = {}
        self._auth_exec = ThreadPoolExecutor(2, thread_name_prefix="hj212-auth")

    def close(self) -> None:
        self._auth_exec.shutdown(wait=False, cancel_futures=True)

    def online(self) -> int:
        return sum(1 for s in self.by_mn.values() if s.conn is not None and not s.conn.closed)

    # --- one frame ------------------------------------------------------------------------------------------
    async def on_frame(self, conn: Link, frame: bytes) -> None:
        c = self.counters
        c["packets"] += 1
        t0 = time.perf_counter()
        commit = self.commit
        loose = False
        try:
            packet = decode(frame)
        except HJ212Error as e:
            lp = None
            if e.reason in ("bad_field", "bad_flag", "bad_cp", "bad_time") and e.field not in _HEADER_FIELDS:
                with contextlib.suppress(HJ212Error):
                    lp = decode(frame, _LOOSE)  # the header is fine: keep the good items
            if lp is None:
                c["rejected_frames"] += 1
                commit.quarantine(conn.peer, f"{e.reason}: {e}", e.field, mask_password(frame))
                return
            packet = lp
            loose = True
        mn, pw = packet.mn, packet.pw
        auth = self.directory.check_cached(mn, pw)
        if auth is None:
            auth = await asyncio.get_running_loop().run_in_executor(self._auth_exec, self.directory.check, mn, pw)
        if not auth.ok:
            self._auth_failure(conn, packet, frame, auth)
            return
        info = auth.device
        assert info is not None
        dialect = info.dialect
        # decoded again with the device's own profile: to decrypt its CP, or to hold a strict device to the
        # standard (the first decoding, before the MN was known, was lenient)
        if (packet.cp.encrypted and info.sm4_key) or (packet.warnings and not dialect.lenient):
            try:
                packet = decode(frame, dialect)
            except HJ212Error as e:
                if not dialect.lenient:
                    c["strict_rejected"] += 1
                commit.quarantine(conn.peer, f"{e.reason}: {e}", e.field, mask_password(frame), mn)
                return
        session = self._attach(conn, packet, info)
        if packet.warnings:
            self._deviations(conn, session, packet)
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
            self.commands.on_packet(packet)
            return
        # retransmission of a packet seen recently (same QN)
        if qn is not None:
            seen = session.qns.get(qn)
            if seen is not None:
                c["retransmissions"] += 1
                if seen is DONE:
                    answer = answer_for(packet)  # 9014 (uploads with A=1) or 9013 (1013 notification)
                    if answer is not None:
                        self._send_ack(conn, encode(answer), t0)
                elif isinstance(seen, Work):
                    seen.conn = conn  # answer on the newest connection when it commits
                return
        if cfg.auto_time_sync and qn is not None and len(qn) == 17 and now - session.clock_at >= CLOCK_CHECK_EVERY:
            session.clock_at = now
            self._check_clock(session, packet, conn)
        if self.runner.active:  # the runner's dict, read directly: this is the per-packet path
            self.commands.on_packet(packet)
        # split messages (Flag.D): collect the parts, answer them all when the whole message is committed
        acks: list[bytes] = []
        qns: list[str] = []
        whole = packet.pnum is None  # split messages are not forwarded (docs/exchange.md)
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
                acks.append(ack_9014(packet))
        if cn == "1013":  # notification: answered at once (9013), then the platform sends 1012
            if qn is not None:
                conn.send(encode(notify_ack(packet)), cfg.max_write_buffer)
                c["answers_9013"] += 1
            self._request_time_sync(session, "device asked (1013)")
        flow = conn.flow
        if flow is not None and not flow.gate.try_take(flow):
            await flow.gate.acquire(flow)  # back-pressure: this connection's reading is paused meanwhile
        item = self.records.build(conn, session, info, packet, frame, qns, acks, t0, loose)
        if whole and cn[0] == "2" and cn not in _NOT_FORWARDED:  # an upload, whole: forwardable
            ref = qn or packet.cp.fields.get("DataTime") or ""
            if ref:
                item.forward = (mn, cn, ref, frame.decode("utf-8", "replace"))
        item.flow = flow
        for q in qns:
            self._remember(session, q, item)
        if not commit.offer(item):
            try:
                await commit.submit(item)  # back-pressure: this connection is not read until there is room
            except BaseException:
                item.forget()  # never queued: a retransmission must not wait for it
                raise

    def _send_ack(self, conn: Link, ack: bytes, t0: float) -> None:
        if conn.send(ack, self.config.max_write_buffer):
            self.counters["acks_sent"] += 1
            self.latency.add(time.perf_counter() - t0)

    # --- sessions -------------------------------------------------------------------------------------------
    def _attach(self, conn: Link, packet: Packet, info: DeviceInfo) -> Session:
        mn = packet.mn
        s = self.by_mn.get(mn)
        if s is None:
            s = self.by_mn[mn] = Session(mn, info, self.config.device_burst)
        s.info = info
        s.pw = packet.pw
        s.st = packet.st
        s.version = packet.version if packet.version in ("2005", "2017", "2025") else info.protocol
        if s.conn is not conn:
            old = s.conn
            s.conn = conn
            if not conn.mns:
                conn.validated()  # its first valid packet: no longer a pending connection
            conn.mns.add(mn)
            if old is None or old.closed:
                self.emit("device_online", mn, conn.peer)
                self.commit.events([event_row(mn, info.id, "online", None, None, None, {"peer": conn.peer},
                                              conn.peer)])
        return s

    def detach(self, conn: Link) -> None:
        """The connection closed: its unfinished split messages are quarantined, its devices go offline."""
        if conn.split_acks or (conn.reassembler is not None and conn.reassembler.pending):
            self.expire_splits(conn, final=True)
        for mn in conn.mns:
            s = self.by_mn.get(mn)
            if s is not None and s.conn is conn:
                s.conn = None
                pending = [d for d in s.deviations.values() if d.pending]
                if pending:  # what was counted since the last record
                    now = time.time()
                    self.commit.events([self._deviation_row(s, d, None, conn.peer, now) for d in pending])
                self.emit("device_offline", mn, conn.peer)
                self.commit.events([event_row(mn, s.info.id, "offline", None, None, None, {"peer": conn.peer},
                                              conn.peer)])
                self.commands.on_disconnect(mn)

    # --- deviations from the standard (the codec's warnings) ------------------------------------------------
    def _deviations(self, conn: Link, session: Session, packet: Packet) -> None:
        """Count the packet's warnings per device and code; record a ``device_event`` (kind ``deviation``)
        the first time a code is seen and then at most once per ``DEVIATION_RECORD_EVERY`` seconds per device
        and code (with the number of packets since the last record), and when the device goes offline."""
        self.counters["packets_with_warnings"] += 1
        now = time.time()
        rows = []
        devs = session.deviations
        for w in packet.warnings:
            d = devs.get(w.code)
            if d is None:
                d = devs[w.code] = Deviation(w.code)
            d.count += 1
            d.pending += 1
            d.field, d.value, d.message, d.last_at = w.field, w.value, w.message, now
            if now - d.recorded_at >= DEVIATION_RECORD_EVERY:
                rows.append(self._deviation_row(session, d, packet.cn, conn.peer, now))
        if rows:
            self.commit.events(rows)

    @staticmethod
    def _deviation_row(session: Session, d: Deviation, cn: str | None, peer: str | None, now: float
                       ) -> dict[str, Any]:
        row = event_row(session.mn, session.info.id, "deviation", cn, f"{d.code[:16]}@{int(now)}",
                        datetime.fromtimestamp(d.last_at, UTC),
                        {"code": d.code, "field": d.field, "value": d.value, "message": d.message,
                         "count": d.pending}, peer)
        d.pending = 0
        d.recorded_at = now
        return row

    def deviations(self, mn: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """The deviations counted since the gateway started, per MN (or of one MN)."""
        sessions = [self.by_mn[mn]] if mn is not None and mn in self.by_mn else \
            ([] if mn is not None else list(self.by_mn.values()))
        return {s.mn: [d.as_dict() for d in list(s.deviations.values())] for s in sessions if s.deviations}

    def _remember(self, session: Session, qn: str, state: object) -> None:
        q = session.qns
        q[qn] = state
        q.move_to_end(qn)
        while len(q) > self.config.qn_memory:
            q.popitem(last=False)

    def _auth_failure(self, conn: Link, packet: Packet, frame: bytes, auth: AuthResult) -> None:
        c = self.counters
        c["auth_failures"] += 1
        conn.auth_failures += 1
        self.commit.quarantine(conn.peer, auth.message, "MN" if auth.reason == "unknown_mn" else "PW",
                               mask_password(frame), packet.mn)
        if conn.auth_failures <= self.config.max_auth_failures:
            self.commit.events([event_row(packet.mn, auth.device.id if auth.device else None,
                                          "auth_failure", packet.cn, None, None,
                                          {"reason": auth.reason, "qn": packet.qn}, conn.peer)])
            self.emit("device_auth_failure", packet.mn, conn.peer, reason=auth.reason, cn=packet.cn, qn=packet.qn)
        if conn.auth_failures >= self.config.max_auth_failures:
            log.info("%s: %d authentication failures (MN=%s): closing", conn.peer, conn.auth_failures, packet.mn)
            conn.abort()

    # --- clock ----------------------------------------------------------------------------------------------
    def _check_clock(self, session: Session, packet: Packet, conn: Link) -> None:
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
        self.emit("clock_drift", session.mn, conn.peer, seconds=round(drift, 1))
        self._request_time_sync(session, f"clock drift {drift:+.0f} s (QN time)")

    def _request_time_sync(self, session: Session, why: str) -> None:
        session.last_sync = time.monotonic()
        self.commands.request_time_sync(session.mn, why)

    # --- split messages -------------------------------------------------------------------------------------
    def _add_part(self, conn: Link, session: Session, packet: Packet, frame: bytes
                  ) -> tuple[Packet, list[str], list[bytes]] | None:
        cfg = self.config
        if conn.reassembler is None:
            conn.reassembler = Reassembler(timeout=cfg.split_timeout, max_groups=cfg.max_split_groups,
                                           max_parts=cfg.max_split_parts)
        key = (packet.mn, packet.st, packet.cn, packet.pnum, packet.cp.fields.get("DataTime"))
        try:
            merged = conn.reassembler.add(packet)
        except HJ212Error as e:
            self.commit.quarantine(conn.peer, f"{e.reason}: {e}", e.field, mask_password(frame), packet.mn)
            return None
        acks = conn.split_acks.setdefault(key, [])
        acks.append((packet.qn, ack_9014(packet) if packet.ack_required and packet.qn else None))
        if packet.qn:
            self._remember(session, packet.qn, HELD)
        self.expire_splits(conn)
        if merged is None:
            return None
        parts = conn.split_acks.pop(key, [])
        return merged, [q for q, _ in parts if q], [a for _, a in parts if a]

    def expire_splits(self, conn: Link, final: bool = False) -> None:
        r = conn.reassembler
        if r is None:
            return
        # connection closed: every open group is incomplete (expired "at infinity")
        groups = r.expired(math.inf) if final else r.expired()
        for g in groups:
            acks = conn.split_acks.pop(g.key, [])
            mn = g.key[0]
            s = self.by_mn.get(mn)
            for q, _ in acks:
                if s is not None and q and s.qns.get(q) is HELD:
                    s.qns.pop(q, None)
            raw = " | ".join(p.cp.text for p in g.parts.values())
            self.commit.quarantine(conn.peer, f"incomplete split message: parts {g.missing} of {g.pnum} missing",
                                   "PNO", raw, mn)
