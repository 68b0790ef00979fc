"""The gateway's bus committer: publish validated records to JetStream and answer the device (9014) only once
the stream acknowledged the publish (the record is durable in the stream). It implements the gateway's
:class:`~ecohub.ingest.hj212.commit.Committer`: a bounded queue (``queue_packets``; full → the sockets are not
read), a collector that packs packets per subject into messages of at most ``batch_packets``, and at most
``inflight`` publishes awaiting their ack. A publish that fails (NATS down, stream full) is retried with back-off
for as long as it takes, with nothing answered meanwhile; the same bytes are re-published, so JetStream's
duplicate window drops a second copy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from ecohub.bus.codec import BusMessage, encode, msg_id
from ecohub.bus.streams import BusConfig, ensure_streams, subject_for
from ecohub.ingest.hj212.commit import Committer
from ecohub.ingest.hj212.config import GatewayConfig
from ecohub.ingest.hj212.work import DONE, LatencyLog, Work
from ecohub.store.db import Store

__all__ = ["BusCommitter", "SiteSubjects"]

log = logging.getLogger("ecohub.bus")


class SiteSubjects:
    """Site id → subject (kind, region), loaded from the store and refreshed on a miss."""

    def __init__(self, store: Store):
        self.store = store
        self.by_site: dict[int, str] = {}

    def load(self) -> None:
        from sqlalchemy import select

        from ecohub.store.schema import site

        with self.store.engine.connect() as c:
            for sid, kind, region in c.execute(select(site.c.id, site.c.kind, site.c.region_code)):
                self.by_site[int(sid)] = subject_for(kind, region)


class BusCommitter(Committer):
    def __init__(self, store: Store, bus: BusConfig, config: GatewayConfig, counters: dict[str, int],
                 latency: LatencyLog):
        super().__init__(config, counters, latency)
        self.bus = bus
        self.subjects = SiteSubjects(store)
        self._queue: asyncio.Queue[Work] = asyncio.Queue(config.queue_packets)
        self._side: deque[Work] = deque()
        self.side_cap = 100_000
        self._inflight = asyncio.Semaphore(bus.inflight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._collector: asyncio.Task[None] | None = None
        self.nc: Any = None
        self.js: Any = None
        for k in ("bus_published", "bus_publish_errors", "bus_messages"):
            counters.setdefault(k, 0)

    async def start(self) -> None:
        import nats

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.subjects.load)
        self.nc = await nats.connect(self.bus.url, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                                     connect_timeout=5, name="ecohub-gateway")
        self.js = self.nc.jetstream(timeout=self.bus.publish_timeout)
        await ensure_streams(self.js, self.bus)
        self._collector = loop.create_task(self._collect(), name="bus-collector")

    def offer(self, item: Work) -> bool:
        if self._queue.full():
            return False
        self._queue.put_nowait(item)
        self._peak()
        return True

    async def submit(self, item: Work) -> None:
        await self._queue.put(item)
        self._peak()

    def _peak(self) -> None:
        n = self._queue.qsize()
        if n > self.counters["queue_peak"]:
            self.counters["queue_peak"] = n

    def side(self, item: Work) -> None:
        if len(self._side) >= self.side_cap:
            self.counters["side_dropped"] += 1
            return
        self._side.append(item)
        if self._queue.empty():
            self._queue.put_nowait(Work(None, None, [], [], [], [], [], 0.0))  # wake the collector

    def qsize(self) -> int:
        return self._queue.qsize()

    async def drain(self, deadline: float) -> None:
        while (not self._queue.empty() or self._tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def stop(self, timeout: float) -> None:
        if self._collector is not None:
            self._collector.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._collector
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()

    # --- publishing -----------------------------------------------------------------------------------------
    def _subject(self, item: Work) -> str:
        if not item.rows:
            return subject_for(None, None)
        sid = item.rows[0][0][0]
        return self.subjects.by_site.get(sid) or subject_for("unknown", "000000")

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        q = self._queue
        cap = self.bus.batch_packets
        while True:
            first = await q.get()
            batch = [first]
            while self._side:
                batch.append(self._side.popleft())
            while len(batch) < cap:
                try:
                    batch.append(q.get_nowait())
                except asyncio.QueueEmpty:
                    break
            if any(it.rows and it.rows[0][0][0] not in self.subjects.by_site for it in batch):
                with contextlib.suppress(Exception):  # a new site: refresh the map (else "unknown")
                    await loop.run_in_executor(None, self.subjects.load)
            groups: dict[str, list[Work]] = {}
            for it in batch:
                if it.rows or it.quarantine or it.events:
                    groups.setdefault(self._subject(it), []).append(it)
            for subject, items in groups.items():
                await self._inflight.acquire()  # bounded: at most `inflight` publishes awaiting their ack
                t = loop.create_task(self._publish(subject, items))
                self._tasks.add(t)
                t.add_done_callback(self._tasks.discard)

    async def _publish(self, subject: str, items: list[Work]) -> None:
        try:
            m = BusMessage()
            for it in items:
                m.rows.extend(it.rows)
                origin = it.origin
                for reason, fld, raw, mn in it.quarantine:
                    m.quarantine.append((f"{origin} MN={mn}" if mn else origin, reason, fld, raw))
                m.events.extend(it.events)
            data = encode(m)
            headers = {"Nats-Msg-Id": msg_id(data)}
            delay = 0.05
            while True:
                try:
                    await self.js.publish(subject, data, headers=headers, timeout=self.bus.publish_timeout)
                    break
                except Exception as e:  # noqa: BLE001 - NATS down, stream full, timeout: retry, answer nothing
                    self.counters["bus_publish_errors"] += 1
                    log.warning("publishing %d packets to %s failed (%s: %s); retrying in %.2f s", len(items),
                                subject, type(e).__name__, e, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.config.write_retry_max)
        finally:
            self._inflight.release()
        self._answer(items)

    def _answer(self, items: list[Work]) -> None:
        c = self.counters
        c["bus_messages"] += 1
        now = time.perf_counter()
        limit = self.config.max_write_buffer
        for it in items:
            c["bus_published"] += len(it.rows)
            s = it.session
            if s is not None:
                for qn in it.qns:
                    if s.qns.get(qn) is it:
                        s.qns[qn] = DONE
            if it.acks:
                conn = it.conn
                if conn is not None and not isinstance(conn, str):
                    for a in it.acks:
                        if conn.send(a, limit):
                            c["acks_sent"] += 1
                    self.latency.add(now - it.t0)
            if it.flow is not None:
                it.finish()
            if it.on_commit is not None:
                try:
                    it.on_commit()
                except Exception:  # noqa: BLE001
                    log.exception("on_commit callback failed")
