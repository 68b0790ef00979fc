"""The commit-then-acknowledge path: the gateway hands :class:`~ecohub.ingest.hj212.work.Work` to a
:class:`Committer`, which makes it durable and only then sends its answers (9014) and marks its QNs committed.

:class:`Committer` is the whole interface the rest of the gateway sees (``offer``/``submit`` for packets with
back-pressure, ``side`` for rows that answer nothing, ``start``/``drain``/``stop``, ``qsize``). Today's
implementation, :class:`StoreCommitter`, writes to the database: a collector batches the queue, a free writer
(thread or child process, :mod:`.writer`) writes the batch, failures are retried with back-off, then the answers
go out. A bus publisher (publish to NATS JetStream, answer on the stream's ack) implements the same interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ecohub.ingest.hj212.config import GatewayConfig
from ecohub.ingest.hj212.work import DONE, LatencyLog, Work, side_events, side_quarantine
from ecohub.ingest.hj212.writer import LocalWriter, Payload, ProcessWriter, is_unavailable
from ecohub.store.db import Store
from ecohub.store.forwarding import ActiveDestinations
from ecohub.store.registry import SeriesResolver
from ecohub.store.writer import WriteCounts

__all__ = ["Committer", "StoreCommitter"]

log = logging.getLogger("ecohub.gateway")

Writer = LocalWriter | ProcessWriter
Slot = tuple[ThreadPoolExecutor, Writer]


class Committer(ABC):
    """Where the gateway's work goes. Contract: a work item's ``acks`` are sent (``conn.send``), its
    ``committed()`` and ``finish()`` called and its ``on_commit`` run only once its rows are durable; an item
    that can never be made durable gets ``forget()`` and no answer (the device keeps its data and retries).
    ``finish()`` frees the item's place in flight (:mod:`.flow`): a committer that never calls it stops the
    gateway from reading once the in-flight bound is reached."""

    def __init__(self, config: GatewayConfig, counters: dict[str, int], latency: LatencyLog):
        self.config = config
        self.counters = counters
        self.latency = latency

    @abstractmethod
    async def start(self) -> None:
        """Ready to take work (on the running loop)."""

    @abstractmethod
    def offer(self, item: Work) -> bool:
        """Take ``item`` if there is room at once; ``False`` when full (then ``await submit(item)``)."""

    @abstractmethod
    async def submit(self, item: Work) -> None:
        """Take ``item``, waiting for room (back-pressure: the caller's socket is not read meanwhile)."""

    @abstractmethod
    def side(self, item: Work) -> None:
        """Take rows that are not part of a packet (quarantine, device events); never blocks."""

    @abstractmethod
    def qsize(self) -> int:
        """Packets waiting."""

    @abstractmethod
    async def drain(self, deadline: float) -> None:
        """Wait (until ``time.monotonic()`` reaches ``deadline``) for what is queued to be committed."""

    @abstractmethod
    async def stop(self, timeout: float) -> None:
        """Finish what is in flight (bounded by ``timeout``) and release the writers."""

    def quarantine(self, peer: str | None, reason: str, fld: str | None, raw: str | None,
                   mn: str | None = None) -> None:
        """Quarantine something that is not part of a queued packet (garbage, auth failures …)."""
        self.counters["quarantined"] += 1
        self.side(side_quarantine(peer, reason, fld, raw, mn))

    def events(self, rows: list[dict[str, Any]]) -> None:
        self.side(side_events(rows))


class StoreCommitter(Committer):
    """Commit to the database: a bounded queue, a collector that batches it, writers that write the batches
    (:class:`~ecohub.ingest.hj212.writer.LocalWriter` in a thread, or
    :class:`~ecohub.ingest.hj212.writer.ProcessWriter`), retries, then the answers."""

    def __init__(self, store: Store, config: GatewayConfig, counters: dict[str, int], latency: LatencyLog):
        super().__init__(config, counters, latency)
        self.store = store
        self.side_cap = 100_000
        self._side: deque[Work] = deque()
        # made here, not in start(): the gateway listens before the writers are up, and packets wait in it
        self._queue: asyncio.Queue[Work] | None = asyncio.Queue(config.queue_packets)
        self._writer_exec = ThreadPoolExecutor(1, thread_name_prefix="hj212-writer")
        self._writers: asyncio.Queue[Slot] | None = None  # free (executor, writer) slots
        self.all_writers: list[Slot] = []
        self._flushes: set[asyncio.Task[None]] = set()
        self._collector_task: asyncio.Task[None] | None = None
        self._resolver = SeriesResolver()
        self.forward_to = ActiveDestinations(store)

    async def start(self) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        n_writers = cfg.writers or (2 if self.store.is_postgres else 1)
        url = self.store.engine.url
        in_memory = url.get_backend_name() == "sqlite" and (url.database or ":memory:") == ":memory:"
        self._writers = asyncio.Queue()
        self.all_writers = []
        for i in range(n_writers):
            ex = self._writer_exec if i == 0 else ThreadPoolExecutor(1, thread_name_prefix=f"hj212-writer-{i}")
            w: Writer
            if cfg.writer_process and not in_memory:
                target = url.render_as_string(hide_password=False)
                w = await loop.run_in_executor(ex, ProcessWriter, target)
            else:
                w = LocalWriter(self.store, self._resolver)
            self.all_writers.append((ex, w))
            self._writers.put_nowait((ex, w))
        self._collector_task = loop.create_task(self._collector(), name="hj212-collector")

    # --- taking work ----------------------------------------------------------------------------------------
    def offer(self, item: Work) -> bool:
        q: asyncio.Queue[Work] = self._queue  # type: ignore[assignment]  # made in __init__
        if q.full():
            return False
        q.put_nowait(item)
        n = q.qsize()
        if n > self.counters["queue_peak"]:
            self.counters["queue_peak"] = n
        return True

    async def submit(self, item: Work) -> None:
        q = self._queue
        assert q is not None
        await q.put(item)
        n = q.qsize()
        if n > self.counters["queue_peak"]:
            self.counters["queue_peak"] = n

    def side(self, item: Work) -> None:
        """Side rows go to a deque the collector drains with the next batch. It is bounded by construction (a
        few rows per connection: ``quarantine_garbage`` + ``max_auth_failures`` + online/offline) and capped
        at ``side_cap`` rows besides; beyond that they are counted as dropped."""
        if len(self._side) >= self.side_cap:
            self.counters["side_dropped"] += 1
            return
        self._side.append(item)
        q = self._queue
        if q is not None and q.empty():
            q.put_nowait(Work(None, None, [], [], [], [], [], 0.0))  # wake the collector

    def qsize(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    async def drain(self, deadline: float) -> None:
        while self._queue is not None and (not self._queue.empty() or self._flushes) \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def stop(self, timeout: float) -> None:
        t = self._collector_task
        if t is not None:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._flushes:
            await asyncio.wait(list(self._flushes), timeout=timeout)
        loop = asyncio.get_running_loop()
        for ex, w in self.all_writers:
            with contextlib.suppress(Exception):
                await loop.run_in_executor(ex, w.close)
        for ex in [ex for ex, _ in self.all_writers] or [self._writer_exec]:
            ex.shutdown(wait=True)

    # --- batches --------------------------------------------------------------------------------------------
    async def _collector(self) -> None:
        loop = asyncio.get_running_loop()
        q = self._queue
        writers = self._writers
        assert q is not None and writers is not None
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
            slot = await writers.get()  # a free writer (several on PostgreSQL: their waits overlap)
            task = loop.create_task(self._flush(loop, batch, slot))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, loop: asyncio.AbstractEventLoop, batch: list[Work], slot: Slot) -> None:
        """Write one batch with one writer, then answer its packets."""
        cfg = self.config
        assert self._writers is not None
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
            if s is not None:  # Work.committed(), inline: once per packet
                q = s.qns
                for qn in it.qns:
                    if q.get(qn) is it:
                        q[qn] = DONE
            if it.acks:
                conn = it.conn
                if conn is not None and not isinstance(conn, str):
                    for a in it.acks:
                        if conn.send(a, limit):
                            c["acks_sent"] += 1
                    lat.add(now - it.t0)
            if it.flow is not None:
                it.finish()
            if it.on_commit is not None:
                try:
                    it.on_commit()
                except Exception:  # noqa: BLE001
                    log.exception("on_commit callback failed")

    async def _write_with_retries(self, loop: asyncio.AbstractEventLoop, batch: list[Work], slot: Slot
                                  ) -> tuple[list[Work], WriteCounts]:
        """Write a batch; while the database is unreachable or busy, retry with back-off for as long as it takes
        (nothing is answered meanwhile, and the full queue slows the sockets). A batch the database refuses
        for its content (3 times) is written packet by packet; a packet refused alone is given up (logged,
        counted in ``packets_failed``, not answered: the device keeps it and retries)."""
        delay = 0.05
        attempts = 0
        while True:
            try:
                return batch, await loop.run_in_executor(slot[0], self.write_batch, batch, slot[1])
            except Exception as e:  # noqa: BLE001 - the database refused: keep the batch, retry, no answers
                self.counters["write_errors"] += 1
                attempts += 1
                log.error("writing a batch of %d packets failed (%s: %s); retrying in %.2f s", len(batch),
                          type(e).__name__, str(e).splitlines()[0][:300], delay)
                if attempts >= 3 and not is_unavailable(e):
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.write_retry_max)
        good: list[Work] = []
        total = WriteCounts()
        for it in batch:
            try:
                total += await loop.run_in_executor(slot[0], self.write_batch, [it], slot[1])
                good.append(it)
            except Exception as e:  # noqa: BLE001
                self.counters["packets_failed"] += 1
                it.forget()
                log.error("a packet from %s could not be written and is not answered: %s",
                          it.origin, str(e).splitlines()[0][:300])
        return good, total

    def write_batch(self, batch: list[Work], w: Writer) -> WriteCounts:
        """In a writer thread: the batch's payload, written by ``w`` (here or in the writer process). Uploads go
        to the forwarding outbox too while a destination is enabled."""
        p = Payload()
        rows = p.rows
        dests = self.forward_to.current()
        if dests:
            p.destinations = dests
            p.forward = [it.forward for it in batch if it.forward is not None]
        for it in batch:
            if it.rows:
                rows.extend(it.rows)
            if it.quarantine:
                peer = it.origin
                for reason, fld, raw, mn in it.quarantine:
                    p.quarantine.append((f"{peer} MN={mn}" if mn else peer, reason, fld, raw))
            if it.events:
                p.events.extend(it.events)
        return w.write(p)
