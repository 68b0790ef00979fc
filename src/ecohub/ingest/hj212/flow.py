"""Back-pressure: how many packets the gateway holds between reading them and answering them (*in flight*),
per connection and in all, and the pausing of a socket's reading while there is no room.

Why (issue 12 item 1): a device's ack latency is the time its packet spends in every buffer between its
``write`` and our 9014 — its own send buffer, our receive buffer, the gateway's queue, the write. Under
overload the gateway used to read every socket as fast as it could and park the packets in a 10,000-packet
queue, while each connection's kernel and StreamReader buffers (up to several MB on loopback) held more behind
it: ack latencies of 19–35 s, so devices retransmitted and added load. Now:

- a connection may have at most ``per_conn`` packets in flight; at the bound its transport stops reading
  (``pause_reading``), so the device's TCP window closes and its ``write`` blocks — the device keeps its data;
- all connections together may have at most ``limit`` packets in flight. ``limit`` follows the measured
  commit rate: ``rate × target`` seconds (Little's law: the time a packet spends inside the gateway is about
  in-flight ÷ rate), between ``floor`` and ``cap``. ``target`` is a fraction of the devices' ack timeout, so
  a slow database makes the gateway read less instead of answering late;
- connections waiting for room are served first come, first served (one packet per turn), so no device is
  starved by a fast one;
- the gateway's receive buffer per socket is kept small (``GatewayConfig.socket_rcvbuf``) so that what the
  gateway does not read stays with the device, where its clock has not started.

A :class:`Flow` is one connection's account; :class:`FlowGate` the shared one. Everything runs on the event loop
(no locks). The committer calls :meth:`Flow.done` (through ``Work.finish``) once per packet it answered or gave up.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

__all__ = ["Flow", "FlowGate", "Pausable"]


class Pausable(Protocol):
    """What a flow needs of its connection: stop (``True`` if it was reading: only then is it the flow's to
    restart) and restart reading the socket."""

    def pause_reading(self) -> bool: ...

    def resume_reading(self) -> None: ...


class Flow:
    """One connection's packets in flight, and whether its reading is paused by the gate."""

    __slots__ = ("gate", "link", "n", "paused", "waiter", "peak", "pauses")

    def __init__(self, gate: FlowGate, link: Pausable | None):
        self.gate = gate
        self.link = link
        self.n = 0  # packets in flight
        self.paused = False  # reading paused by the gate (resumed when the connection reads again)
        self.waiter: asyncio.Future[bool] | None = None
        self.peak = 0
        self.pauses = 0

    def done(self, n: int = 1) -> None:
        """``n`` packets of this connection were answered (or given up): room again."""
        self.gate.release(self, n)

    def pause(self) -> None:
        """Stop reading the connection. If it is already not reading (its StreamReader's buffer is full and
        paused it), that pause is left to the StreamReader to lift."""
        if not self.paused:
            self.pauses += 1
            self.gate.pauses += 1
            self.paused = self.link.pause_reading() if self.link is not None else True

    def resume(self) -> None:
        """Called by the connection when it is about to read again."""
        if self.paused:
            self.paused = False
            if self.link is not None:
                self.link.resume_reading()


class FlowGate:
    """The bounds on packets in flight (see the module doc). ``cap`` ≥ ``floor`` ≥ 1; ``target`` seconds."""

    def __init__(self, per_conn: int, cap: int, floor: int, target: float, *, window: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        if per_conn < 1 or cap < 1:
            raise ValueError(f"in-flight bounds must be ≥ 1 (per connection {per_conn}, in all {cap})")
        self.per_conn = per_conn
        self.cap = cap
        self.floor = max(1, min(floor, cap))
        self.target = target
        self.limit = cap  # until a rate is measured
        self.total = 0
        self.peak = 0
        self.pauses = 0  # times a connection's reading was paused
        self.rate = 0.0  # packets/s answered (smoothed)
        self._window = window
        self._clock = clock
        self._done = 0
        self._t = clock()
        self._queue: deque[Flow] = deque()  # connections waiting for room in all, first come first served

    def flow(self, link: Pausable | None) -> Flow:
        return Flow(self, link)

    def try_take(self, flow: Flow) -> bool:
        """Take a place at once if there is one (the per-packet fast path); else ``await acquire(flow)``."""
        if flow.n < self.per_conn and self.total < self.limit and not self._queue:
            self._take(flow)
            return True
        return False

    async def acquire(self, flow: Flow) -> None:
        """Take one place for a packet of ``flow``; while there is none, its connection's reading is paused."""
        if flow.n < self.per_conn and self.total < self.limit and not self._queue:
            self._take(flow)
            return
        flow.pause()
        loop = asyncio.get_running_loop()
        while True:
            if flow.n < self.per_conn and self.total < self.limit and not self._queue:
                self._take(flow)
                return
            fut: asyncio.Future[bool] = loop.create_future()
            flow.waiter = fut
            if flow.n < self.per_conn:  # waiting for room in all: join the line
                self._queue.append(flow)
            try:
                await fut
            except BaseException:
                flow.waiter = None
                if flow in self._queue:
                    self._queue.remove(flow)
                elif fut.done() and not fut.cancelled():
                    self._untake(flow)  # granted just as it was cancelled: give the place back
                self._wake()
                raise
            flow.waiter = None
            if fut.result() is True:  # granted: _wake took the place for it
                return

    def release(self, flow: Flow, n: int = 1) -> None:
        flow.n -= n
        self.total -= n
        self._done += n
        now = self._clock()
        dt = now - self._t
        if dt >= self._window:
            inst = self._done / dt
            self.rate = inst if self.rate == 0.0 else 0.5 * self.rate + 0.5 * inst
            self._done = 0
            self._t = now
            self.limit = max(self.floor, min(self.cap, int(self.rate * self.target)))
        w = flow.waiter
        if w is not None and not w.done() and flow not in self._queue and flow.n < self.per_conn:
            w.set_result(False)  # its own bound freed: try again (joins the line if the gate is full)
        self._wake()

    def _take(self, flow: Flow) -> None:
        flow.n += 1
        self.total += 1
        if flow.n > flow.peak:
            flow.peak = flow.n
        if self.total > self.peak:
            self.peak = self.total

    def _untake(self, flow: Flow) -> None:
        flow.n -= 1
        self.total -= 1

    def _wake(self) -> None:
        q = self._queue
        while q and self.total < self.limit:
            flow = q.popleft()
            w = flow.waiter
            if w is None or w.done():
                continue
            self._take(flow)
            w.set_result(True)
