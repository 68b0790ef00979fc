"""Writers (``ecohub writer --bus nats://…``): consume the ingest stream with a durable pull consumer, write each
fetched batch through the one idempotent writer (:func:`~ecohub.ingest.hj212.writer.write_payload`, i.e.
:class:`~ecohub.store.writer.ObservationWriter`) and ack the messages only after the database committed.

- Redelivery (a writer killed after its commit, before its ack) is harmless: the writer is idempotent.
- The database unavailable: the batch is retried with back-off (its messages kept in progress), never acked.
- A message that fails validation (:func:`~ecohub.bus.codec.decode`) or that the database refuses on its own
  goes to the dead-letter stream ``ecohub.dead.<reason>`` with the reason in its headers, then is acked.
- Bounded: a worker holds at most ``fetch`` messages, the consumer at most ``max_ack_pending`` unacked.
- ``--workers N``: N processes, each its own connection to NATS and to the database, one shared consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

from ecohub.bus.codec import BusMessage, DecodeError, decode
from ecohub.bus.streams import DEAD_PREFIX, STREAM, BusConfig, ensure_streams, token
from ecohub.ingest.hj212.writer import Payload, is_unavailable, write_payload
from ecohub.store.db import Store
from ecohub.store.registry import SeriesResolver
from ecohub.store.writer import ObservationWriter, WriteCounts

__all__ = ["BusWriter", "run_writers"]

log = logging.getLogger("ecohub.bus")
COUNTERS = ("messages", "acked", "stored", "duplicates", "conflicts", "dead", "write_errors", "batches")


class BusWriter:
    """One writer worker: its NATS connection, its database connection, its counters."""

    def __init__(self, store: Store, cfg: BusConfig):
        from ecohub.bus.metrics import writer_registry

        self.store = store
        self.cfg = cfg
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.in_hand = 0  # messages fetched and not yet acked (queue depth, bounded by cfg.fetch)
        self.registry, self.write_hist = writer_registry(lambda: self.counters,
                                                         lambda: {"in_hand": float(self.in_hand)})
        self.resolver = SeriesResolver()
        self.writers: dict[str, ObservationWriter] = {}
        self.exec = ThreadPoolExecutor(1, thread_name_prefix="bus-writer")
        self.nc: Any = None
        self.js: Any = None

    def _writer(self, source: str) -> ObservationWriter:
        w = self.writers.get(source)
        if w is None:
            w = self.writers[source] = ObservationWriter(self.store, source, origin=f"{source} bus writer",
                                                         batch_size=10**9)
        return w

    def write(self, source: str, p: Payload) -> WriteCounts:
        w = self._writer(source)
        try:
            return write_payload(self.store, self.resolver, w, p)
        except Exception:
            w._sid, w._t, w._v, w._f = [], [], [], []  # drop the failed buffer: the batch is retried or split
            raise

    async def run(self, stop: asyncio.Event) -> None:
        import nats
        from nats.js.api import AckPolicy, ConsumerConfig

        cfg = self.cfg
        self.nc = await nats.connect(cfg.url, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                                     connect_timeout=5, name="ecohub-writer")
        self.js = self.nc.jetstream(timeout=10)
        await ensure_streams(self.js, cfg)
        sub = await self.js.pull_subscribe(
            cfg.subject, durable=cfg.durable, stream=STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=cfg.ack_wait,
                                  max_ack_pending=cfg.max_ack_pending, max_deliver=-1))
        try:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(cfg.fetch, timeout=1.0)
                except Exception as e:  # noqa: BLE001 - timeout (nothing to do) or NATS away: try again
                    if not isinstance(e, asyncio.TimeoutError) and type(e).__name__ != "TimeoutError":
                        log.warning("fetch failed (%s: %s)", type(e).__name__, e)
                        await asyncio.sleep(0.2)
                    continue
                await self.handle(msgs)
        finally:
            with contextlib.suppress(Exception):
                await self.nc.close()
            self.exec.shutdown(wait=True)

    async def handle(self, msgs: list[Any]) -> None:
        """Decode, write (one transaction per source), then ack; bad ones to the dead-letter stream."""
        c = self.counters
        c["messages"] += len(msgs)
        self.in_hand = len(msgs)
        good: list[tuple[Any, BusMessage]] = []
        for m in msgs:
            try:
                good.append((m, decode(m.data)))
            except DecodeError as e:
                await self.dead(m, "invalid", str(e))
        by_source: dict[str, list[tuple[Any, BusMessage]]] = {}
        for m, b in good:
            by_source.setdefault(b.source, []).append((m, b))
        for source, items in by_source.items():
            await self._write_items(source, items)
        self.in_hand = 0

    async def _write_items(self, source: str, items: list[tuple[Any, BusMessage]]) -> None:
        loop = asyncio.get_running_loop()
        c = self.counters
        delay = 0.05
        attempts = 0
        last = ""
        while True:
            try:
                t0 = time.perf_counter()
                counts = await loop.run_in_executor(self.exec, self.write, source, _payload(items))
                self.observe(time.perf_counter() - t0, counts)
                await self._ack([m for m, _ in items])
                return
            except Exception as e:  # noqa: BLE001 - decided below: retry (unavailable) or split
                c["write_errors"] += 1
                attempts += 1
                last = f"{type(e).__name__}: {str(e).splitlines()[0][:500] if str(e) else ''}"
                log.error("writing %d bus messages failed (%s: %s)", len(items), type(e).__name__,
                          str(e).splitlines()[0][:300] if str(e) else "")
                if not is_unavailable(e) and attempts >= 3:
                    break
                for m, _ in items:  # keep them ours while we retry
                    with contextlib.suppress(Exception):
                        await m.in_progress()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        if len(items) == 1:
            await self.dead(items[0][0], "refused", f"the database refused the records: {last}")
            return
        for it in items:  # one by one: the refused one goes to the dead letters, the rest are written
            await self._write_items(source, [it])

    def observe(self, seconds: float, counts: WriteCounts) -> None:
        c = self.counters
        self.write_hist.observe(seconds)
        c["batches"] += 1
        c["stored"] += counts.imported
        c["duplicates"] += counts.duplicates
        c["conflicts"] += counts.conflicts

    async def _ack(self, msgs: list[Any]) -> None:
        for m in msgs:
            with contextlib.suppress(Exception):  # an ack lost → redelivered → written again, harmlessly
                await m.ack()
            self.counters["acked"] += 1

    async def dead(self, m: Any, reason: str, detail: str) -> None:
        """Publish to ``ecohub.dead.<reason>`` (headers: reason, original subject), then ack the original."""
        headers = {"Ecohub-Reason": detail[:1000].replace("\n", " "), "Ecohub-Subject": str(m.subject),
                   "Nats-Msg-Id": f"dead-{m.metadata.stream}-{m.metadata.sequence.stream}"}
        delay = 0.05
        while True:
            try:
                await self.js.publish(f"{DEAD_PREFIX}.{token(reason)}", m.data, headers=headers)
                break
            except Exception as e:  # noqa: BLE001 - keep it until it is in the dead-letter stream
                log.warning("dead-letter publish failed (%s); retrying", e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.counters["dead"] += 1
        log.warning("message %s to the dead letters: %s", m.subject, detail[:300])
        await self._ack([m])


def _payload(items: list[tuple[Any, BusMessage]]) -> Payload:
    p = Payload()
    for _, b in items:
        p.rows.extend(b.rows)
        p.quarantine.extend(b.quarantine)
        p.events.extend(b.events)
    return p


def run_worker(url: str, cfg: BusConfig, stop_event: threading.Event | None = None,
               metrics_port: int | None = None) -> dict[str, int]:
    """One worker until SIGINT/SIGTERM (main thread) or ``stop_event``; returns its counters. With
    ``metrics_port`` its Prometheus metrics are served on 127.0.0.1:<port>/metrics, its readiness (database,
    bus) on /readyz."""
    store = Store.open(url)
    w = BusWriter(store, cfg)
    server = None
    if metrics_port:
        from ecohub.bus.metrics import readiness, serve

        server = serve(metrics_port, w.registry, ready=lambda: readiness(store, cfg.url))
    loop = asyncio.new_event_loop()

    async def main() -> None:
        stop = asyncio.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, stop.set)
        if stop_event is not None:
            ev = stop_event
            threading.Thread(target=lambda: (ev.wait(), loop.call_soon_threadsafe(stop.set)), daemon=True).start()
        await w.run(stop)

    try:
        loop.run_until_complete(main())
    finally:
        pending = asyncio.all_tasks(loop)  # the NATS client's own tasks (NATS gone: its reconnect loop)
        for t in pending:
            t.cancel()
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        store.close()
        if server is not None:
            server.shutdown()
    return w.counters


def _child(url: str, cfg_d: dict[str, Any], metrics_port: int | None, log_format: str = "text") -> None:
    from ecohub.logs import setup

    setup(logging.WARNING, log_format)
    run_worker(url, BusConfig(**cfg_d), metrics_port=metrics_port)


def run_writers(url: str, cfg: BusConfig, workers: int = 1, on_ready: Any = None,
                metrics_port: int | None = None) -> int:
    """``workers`` worker processes (1: this process) until SIGINT/SIGTERM; a worker that dies is restarted.
    Worker i serves its metrics on ``metrics_port + i``. Returns 0."""
    if workers <= 1:
        if on_ready is not None:
            on_ready()
        run_worker(url, cfg, metrics_port=metrics_port)
        return 0

    def port(i: int) -> int | None:
        return metrics_port + i if metrics_port else None

    from ecohub.logs import log_format

    fmt = log_format()  # the parent's (--log-format is not in a spawned child's environment)
    ctx = mp.get_context("spawn")
    stopping = threading.Event()
    procs: list[Any] = []

    def _stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for i in range(workers):
        p = ctx.Process(target=_child, args=(url, asdict(cfg), port(i), fmt), name=f"bus-writer-{i}")
        p.start()
        procs.append(p)
    if on_ready is not None:
        on_ready()
    while not stopping.wait(0.5):
        for i, p in enumerate(procs):
            if not p.is_alive():
                log.error("writer worker %d exited (%s); restarting it", i, p.exitcode)
                procs[i] = ctx.Process(target=_child, args=(url, asdict(cfg), port(i), fmt),
                                       name=f"bus-writer-{i}")
                procs[i].start()
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(20)
        if p.is_alive():
            p.kill()
    return 0
