"""The forwarder (``ecohub forwarder``): one TCP link per enabled destination, sending its outbox in order.

Per destination, in a loop: connect (exponential back-off with jitter after a failure, ``retry_min`` doubling to
``retry_max``); take the oldest pending outbox rows (``id`` order = the order the gateway's writer queued them,
which is each device's order) in windows of ``window`` packets and keep up to ``in_flight`` windows on the wire;
the oldest window waits for the 9014 answer of every packet that asks for one (Flag.A), up to ``recount`` ×
``ack_timeout`` (HJ 212-2017 Table 1: 3 × 10 s for GPRS/4G), and is then marked done. When answers are missing
or the connection drops, the packets before the first unanswered one are done, the link is closed and reopened
after the back-off, and sending starts again from the oldest unanswered packet (later windows already sent go
again too): the backlog drains in order, and the destination's idempotent store (ecohub: QN memory + the
writer's key) keeps a resent packet once. A packet unanswered after ``max_attempts`` sends is marked ``failed``
(kept, counted on the status) so that one packet the destination refuses cannot stop the rest.

The forwarder reads and writes only the outbox and the destination rows: intake (the gateway) never waits for
it, and it survives restarts (the outbox is the state).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, update

from ecohub.exchange.wire import Outgoing, build
from ecohub.protocols.hj212 import HJ212Error, StreamFramer, decode
from ecohub.store.db import Store
from ecohub.store.schema_exchange import forward_destination, forward_outbox
from ecohub.store.tx import write_tx

__all__ = ["Forwarder", "ForwarderConfig", "run_forwarder"]

log = logging.getLogger("ecohub.forwarder")


@dataclass
class ForwarderConfig:
    window: int = 100  # packets per window …
    in_flight: int = 4  # … and windows on the wire before the oldest must be answered
    ack_timeout: float = 10.0  # s (HJ 212-2017 Table 1, GPRS/4G: 10 s …)
    recount: int = 3  # … × 3: how long the oldest window may wait for its answers before the link is reopened
    max_attempts: int = 10  # sends on live links before a packet is marked failed
    retry_min: float = 0.5  # s, back-off after a failure, doubled up to …
    retry_max: float = 60.0  # … this
    connect_timeout: float = 10.0
    poll: float = 0.2  # s between looks at an empty outbox
    reload: float = 5.0  # s between looks at the destination list
    resend_after: float = 60.0  # s queued before the first send: sent as a resend (HJ 212-2025 RF=1)
    retention: float = 86400.0  # s a done row is kept
    settle: float | None = None  # s a row must be old before it is sent (None: 0 on SQLite, 2 on PostgreSQL)


@dataclass
class _Window:
    """Packets sent together: what went out (row, frame), their answers, and the rows not sent."""

    now: datetime
    out: list[tuple[Any, Outgoing]] = field(default_factory=list)
    futures: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    failed: list[tuple[int, int, str]] = field(default_factory=list)
    skipped: list[tuple[int, int, bool]] = field(default_factory=list)


class LinkBroken(Exception):
    """The link to the destination failed (connection lost, or a window stayed unanswered)."""


class _Link:
    """One destination: its connection, its sending loop and its counters."""

    def __init__(self, fw: Forwarder, dest: dict[str, Any]):
        self.fw = fw
        self.dest = dest
        self.task: asyncio.Task[None] | None = None
        self.waiting: dict[tuple[str, str], asyncio.Future[None]] = {}
        self.connected = False

    # --- database (in the forwarder's thread) -------------------------------------------------------------
    def _fetch(self, limit: int, after_id: int = 0) -> list[Any]:
        """The next pending rows after ``after_id`` in id order — cut before the first row younger than the
        settle time, so that a row is never overtaken by a higher id that a second writer committed first."""
        o = forward_outbox
        cond = and_(o.c.destination_id == self.dest["id"], o.c.status == "pending", o.c.id > after_id)
        with self.fw.store.engine.connect() as conn:
            rows = list(conn.execute(select(o.c.id, o.c.mn, o.c.frame, o.c.attempts, o.c.created_at)
                                     .where(cond).order_by(o.c.id).limit(limit)))
        settle = self.fw.settle
        if settle > 0:
            cut = datetime.now(UTC) - timedelta(seconds=settle)
            n = next((i for i, r in enumerate(rows) if r.created_at > cut), len(rows))
            rows = rows[:n]
        return rows

    def _finish(self, done: list[tuple[int, int, bool]], failed: list[tuple[int, int, str]],
                retried: list[tuple[int, int]], sent_at: datetime,
                skipped: list[tuple[int, int, bool]] | None = None) -> None:
        """Mark rows done ``(id, attempts, acked)`` / failed ``(id, attempts, reason)`` / still pending after a
        send ``(id, attempts)`` / done without sending (``skipped``: nothing in them for the destination);
        update the destination's totals."""
        o = forward_outbox
        acked = sum(1 for _, _, a in done if a)
        with write_tx(self.fw.store) as conn:
            for rid, _att, _ in skipped or ():
                conn.execute(update(o).where(o.c.id == rid).values(status="done"))
            for rid, att, was_acked in done:
                conn.execute(update(o).where(o.c.id == rid).values(
                    status="done", attempts=att, sent_at=sent_at, acked_at=sent_at if was_acked else None))
            for rid, att, _why in failed:
                conn.execute(update(o).where(o.c.id == rid).values(status="failed", attempts=att, sent_at=sent_at))
            for rid, att in retried:
                conn.execute(update(o).where(o.c.id == rid).values(attempts=att, sent_at=sent_at))
            values: dict[str, Any] = {"sent": forward_destination.c.sent + len(done) + len(failed),
                                      "acked": forward_destination.c.acked + acked, "last_sent_at": sent_at}
            if acked:
                values["last_ack_at"] = datetime.now(UTC)
            if failed:
                values["last_error"] = f"packet {failed[-1][0]} failed: {failed[-1][2]}"[:2000]
            conn.execute(update(forward_destination).where(forward_destination.c.id == self.dest["id"])
                         .values(**values))

    def _failure(self, why: str) -> None:
        with write_tx(self.fw.store) as conn:
            conn.execute(update(forward_destination).where(forward_destination.c.id == self.dest["id"]).values(
                failures=forward_destination.c.failures + 1, last_error=why[:2000]))

    async def db(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.fw.db_exec, fn, *args)

    # --- the link ----------------------------------------------------------------------------------------
    async def run(self) -> None:
        cfg = self.fw.config
        backoff = cfg.retry_min
        while True:
            writer: asyncio.StreamWriter | None = None
            reader_task: asyncio.Task[None] | None = None
            try:
                reader, w = await asyncio.wait_for(
                    asyncio.open_connection(self.dest["host"], self.dest["port"]), cfg.connect_timeout)
                writer = w
                self.connected = True
                reader_task = asyncio.get_running_loop().create_task(self._read(reader))
                await self._pump(w, reader_task)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, OSError, LinkBroken, asyncio.IncompleteReadError) as e:
                why = f"{type(e).__name__}: {e}"
                log.warning("forward %s (%s:%s): %s; retrying in %.1f s", self.dest["name"], self.dest["host"],
                            self.dest["port"], why, backoff)
                self.fw.counters["failures"] += 1
                with contextlib.suppress(Exception):
                    await self.db(self._failure, why)
            finally:
                self.connected = False
                if reader_task is not None:
                    reader_task.cancel()
                    with contextlib.suppress(BaseException):
                        await reader_task
                if writer is not None:
                    writer.transport.abort()
                self._fail_waiting()
            if self.fw.sent_since_connect.pop(self.dest["id"], 0):
                backoff = cfg.retry_min  # the link worked for a while: start the back-off again
            await asyncio.sleep(backoff * (0.75 + 0.5 * random.random()))
            backoff = min(backoff * 2, cfg.retry_max)

    def _fail_waiting(self) -> None:
        for fut in self.waiting.values():
            if not fut.done():
                fut.set_exception(LinkBroken("connection closed"))
                fut.exception()  # retrieved here: a window that is no longer waited for must not log it
        self.waiting.clear()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        """Answers from the destination: a 9014 resolves the packet waiting for it."""
        framer = StreamFramer()
        while True:
            data = await reader.read(65536)
            if not data:
                self._fail_waiting()
                return
            for ev in framer.feed(data):
                if ev.kind != "frame":
                    continue
                try:
                    p = decode(ev.data)
                except HJ212Error:
                    continue
                if p.cn == "9014" and p.qn is not None:
                    fut = self.waiting.pop((p.mn, p.qn), None) or self.waiting.pop(("", p.qn), None)
                    if fut is not None and not fut.done():
                        fut.set_result(None)

    async def _pump(self, writer: asyncio.StreamWriter, reader_task: asyncio.Task[None]) -> None:
        """Keep up to ``in_flight`` windows on the wire: send the next window while the older ones wait for
        their answers; the oldest window is finished (marked done) as soon as all its answers are in."""
        cfg = self.fw.config
        inflight: deque[_Window] = deque()
        last_id = 0
        while True:
            if reader_task.done():
                raise LinkBroken("the destination closed the connection")
            if len(inflight) < cfg.in_flight:
                rows = await self.db(self._fetch, cfg.window, last_id)
                if rows:
                    last_id = rows[-1].id
                    w = await self._send(writer, rows)
                    if not w.out and (w.skipped or w.failed):
                        await self.db(self._finish, [], w.failed, [], w.now, w.skipped)
                    if w.out:
                        inflight.append(w)
                    continue
            if not inflight:
                last_id = 0  # idle: look again from the oldest pending row (one committed late is not left behind)
                await asyncio.sleep(cfg.poll)
                continue
            await self._settle(inflight.popleft())

    async def _send(self, writer: asyncio.StreamWriter, rows: list[Any]) -> _Window:
        cfg = self.fw.config
        w = _Window(datetime.now(UTC))
        loop = asyncio.get_running_loop()
        for r in rows:
            late = r.attempts > 0 or (w.now - r.created_at).total_seconds() > cfg.resend_after
            try:
                o = build(self.dest, r.mn, r.frame, resend=late)
            except HJ212Error as e:
                w.failed.append((r.id, r.attempts, f"{e.reason}: {e}"))
                continue
            if o is None:
                w.skipped.append((r.id, r.attempts, False))
                continue
            w.out.append((r, o))
            if o.ack:
                fut = loop.create_future()
                w.futures[r.id] = fut
                self.waiting[(o.mn, o.qn or "")] = fut
            writer.write(o.frame)
        await writer.drain()
        return w

    async def _settle(self, w: _Window) -> None:
        """Wait for the window's answers (``recount`` × ``ack_timeout`` at most), then mark it done — or, when
        answers are missing or the link broke, mark done only the packets before the first unanswered one and
        break the link: the rest (and every later window) is sent again, in order, on the next link."""
        cfg = self.fw.config
        futs = list(w.futures.values())
        deadline = time.monotonic() + cfg.ack_timeout * cfg.recount
        while futs and time.monotonic() < deadline:
            _, pending = await asyncio.wait(futs, timeout=cfg.ack_timeout, return_when=asyncio.ALL_COMPLETED)
            if not pending or any(f.done() and f.exception() is not None for f in futs):
                break
        answered = {rid for rid, f in w.futures.items() if f.done() and f.exception() is None}
        first = next((i for i, (r, o) in enumerate(w.out) if o.ack and r.id not in answered), len(w.out))
        done = [(r.id, r.attempts + 1, r.id in answered) for r, _ in w.out[:first]]
        retried, failing = [], []
        for r, _ in w.out[first:]:
            if r.attempts + 1 >= cfg.max_attempts:
                failing.append((r.id, r.attempts + 1, f"no 9014 answer after {r.attempts + 1} sends"))
            else:
                retried.append((r.id, r.attempts + 1))
        await self.db(self._finish, done, w.failed + failing, retried, w.now, w.skipped)
        self._count(done)
        if first < len(w.out):
            for _r, o in w.out:
                self.waiting.pop((o.mn, o.qn or ""), None)
            broken = any(f.done() and f.exception() is not None for f in futs)
            raise LinkBroken("connection closed" if broken else
                             f"{len(w.out) - first} of {len(w.out)} packets unanswered after "
                             f"{cfg.recount} × {cfg.ack_timeout:g} s")

    def _count(self, done: list[tuple[int, int, bool]]) -> None:
        c = self.fw.counters
        c["sent"] += len(done)
        c["acked"] += sum(1 for d in done if d[2])
        if done:
            self.fw.sent_since_connect[self.dest["id"]] = self.fw.sent_since_connect.get(self.dest["id"], 0) + 1


class Forwarder:
    """All destinations' links; ``await start()`` … ``await stop()``, or :func:`run_forwarder`."""

    def __init__(self, store: Store, config: ForwarderConfig | None = None):
        self.store = store
        self.config = cfg = config or ForwarderConfig()
        self.settle = cfg.settle if cfg.settle is not None else (2.0 if store.is_postgres else 0.0)
        self.db_exec = ThreadPoolExecutor(1, thread_name_prefix="forwarder-db")
        self.links: dict[int, _Link] = {}
        self.counters = {"sent": 0, "acked": 0, "failures": 0}
        self.sent_since_connect: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None

    def _destinations(self) -> list[dict[str, Any]]:
        with self.store.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(forward_destination).where(forward_destination.c.enabled.is_(True)))]

    def _prune(self) -> int:
        cut = datetime.now(UTC) - timedelta(seconds=self.config.retention)
        with write_tx(self.store) as conn:
            return int(conn.execute(delete(forward_outbox).where(
                and_(forward_outbox.c.status == "done", forward_outbox.c.created_at < cut))).rowcount or 0)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._supervise(), name="forwarder")

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        last_prune = 0.0
        while True:
            try:
                dests = await loop.run_in_executor(self.db_exec, self._destinations)
            except Exception as e:  # noqa: BLE001 - the database is away: keep the links, look again
                log.error("forwarder: cannot read the destinations (%s)", e)
                dests = None
            if dests is not None:
                seen = set()
                for d in dests:
                    seen.add(d["id"])
                    link = self.links.get(d["id"])
                    if link is not None and _changed(link.dest, d):
                        await self._stop_link(d["id"])
                        link = None
                    if link is None:
                        link = self.links[d["id"]] = _Link(self, d)
                        link.task = loop.create_task(link.run(), name=f"forward-{d['name']}")
                for did in [i for i in self.links if i not in seen]:
                    await self._stop_link(did)
            if time.monotonic() - last_prune > 60:
                last_prune = time.monotonic()
                with contextlib.suppress(Exception):
                    await loop.run_in_executor(self.db_exec, self._prune)
            await asyncio.sleep(self.config.reload)

    async def _stop_link(self, did: int) -> None:
        link = self.links.pop(did, None)
        if link is not None and link.task is not None:
            link.task.cancel()
            with contextlib.suppress(BaseException):
                await link.task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for did in list(self.links):
            await self._stop_link(did)
        self.db_exec.shutdown(wait=True)


_LINK_FIELDS = ("host", "port", "edition", "mode", "devices", "parameters", "mn_map", "pw", "ack")


def _changed(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return any(a.get(k) != b.get(k) for k in _LINK_FIELDS)


async def run_forwarder(store: Store, config: ForwarderConfig | None = None,
                        stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or cancelled)."""
    fw = Forwarder(store, config)
    await fw.start()
    try:
        if stop is None:
            await asyncio.Event().wait()
        else:
            await stop.wait()
    finally:
        await fw.stop()


class ForwarderHandle:
    """A forwarder on its own event loop in a daemon thread (``ecohub demo``, tests)."""

    def __init__(self, store: Store, config: ForwarderConfig | None = None):
        import threading

        self.loop = asyncio.new_event_loop()
        self.forwarder = Forwarder(store, config)
        self._stop = asyncio.Event()
        started = threading.Event()

        async def main() -> None:
            await self.forwarder.start()
            started.set()
            await self._stop.wait()
            await self.forwarder.stop()

        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(main(),), name="forwarder",
                                       daemon=True)
        self.thread.start()
        started.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout)
        if not self.thread.is_alive():
            self.loop.close()
