"""What flows from the packet stages to the commit path: a :class:`Work` item (one packet's, or one reassembled
split message's, observations, quarantine rows and events, and the answers to send once they are committed),
the QN-memory markers, and the ack-latency log. Shared by :mod:`.session`, :mod:`.records` and :mod:`.commit`
so that none of them imports another for these."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["DONE", "HELD", "AckTarget", "Finishable", "LatencyLog", "QnHolder", "Work", "side_events", "side_quarantine",
           "tune_gc"]

DONE = object()  # QN memory: committed
HELD = object()  # QN memory: a split part waiting for the rest of its message


class AckTarget(Protocol):
    """Where a work item's answers go (a device connection)."""

    peer: str

    def send(self, data: bytes, limit: int) -> bool: ...


class QnHolder(Protocol):
    """What the commit path needs of a device session: its recent QNs (QN → ``Work`` in flight, ``DONE``,
    ``HELD``)."""

    qns: OrderedDict[str, object]


class Finishable(Protocol):
    """A connection's in-flight account (:class:`~ecohub.ingest.hj212.flow.Flow`)."""

    def done(self, n: int = 1) -> None: ...


class Work:
    """One unit of work for the commit path. ``conn`` is the connection to answer on (``None`` or a peer
    string for side rows that answer nothing); ``rows`` are ``((site id, parameter id, interval), epoch s,
    value, flag)``, ``quarantine`` ``(reason, field, raw, mn)``, ``events`` ``device_event`` rows; ``forward``
    ``(MN, CN, ref, frame)`` of an upload the forwarding outbox may take (:mod:`ecohub.store.forwarding`)."""

    __slots__ = ("conn", "session", "qns", "acks", "rows", "quarantine", "events", "t0", "on_commit", "forward",
                 "flow")

    def __init__(self, conn: AckTarget | str | None, session: QnHolder | None, qns: list[str], acks: list[bytes],
                 rows: list[tuple[Any, ...]], quarantine: list[tuple[Any, ...]], events: list[dict[str, Any]],
                 t0: float, on_commit: Callable[[], None] | None = None):
        self.conn = conn
        self.session = session
        self.qns = qns
        self.acks = acks
        self.rows = rows
        self.quarantine = quarantine
        self.events = events
        self.t0 = t0
        self.on_commit = on_commit
        self.forward: tuple[str, str, str, str] | None = None
        self.flow: Finishable | None = None  # the connection's in-flight account (:mod:`.flow`), if counted

    @property
    def origin(self) -> str:
        """The peer the rows came from (quarantine origin)."""
        conn = self.conn
        if conn is None:
            return ""
        return conn if isinstance(conn, str) else conn.peer

    def committed(self) -> None:
        """Its QNs are now committed: a retransmission is answered again without writing."""
        s = self.session
        if s is not None:
            q = s.qns
            for qn in self.qns:
                if q.get(qn) is self:
                    q[qn] = DONE

    def finish(self) -> None:
        """Answered (or given up): its place in flight is free. Committers call it once per item."""
        f = self.flow
        if f is not None:
            self.flow = None
            f.done()

    def forget(self) -> None:
        """It will not be committed: a retransmission is processed again, not treated as in flight."""
        self.finish()
        s = self.session
        if s is not None:
            for qn in self.qns:
                if s.qns.get(qn) is self:
                    del s.qns[qn]


def side_quarantine(peer: str | None, reason: str, fld: str | None, raw: str | None, mn: str | None = None) -> Work:
    """A quarantine row that is not part of a queued packet (garbage, auth failures …)."""
    return Work(peer, None, [], [], [], [(reason, fld, raw, mn)], [], time.perf_counter())


def side_events(rows: list[dict[str, Any]], peer: str | None = None) -> Work:
    """``device_event`` rows that are not part of a queued packet (online, offline, auth failures …)."""
    return Work(peer, None, [], [], [], [], rows, time.perf_counter())


class LatencyLog:
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


def tune_gc() -> None:
    """For a process that is the gateway (``ecohub gateway``) or one of its writers, once it is set up: move
    everything allocated so far (modules, the catalogue …) out of the collector's sight (``gc.freeze``) and
    collect the youngest generation every 20,000 allocations instead of 700. Each packet allocates some 60
    container objects (decoded fields, rows) that live until the packet is answered, so with thousands in
    flight the default thresholds ran a collection every ~10 packets and a full one over everything in flight
    every few thousand: ~20 % of the per-packet CPU (issue 12 item 1). Not for a process that embeds the
    gateway (``ecohub demo``, tests): the setting is process-wide."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
