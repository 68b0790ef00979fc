"""The JSON channels' bus publisher (MQTT subscriber, HTTP push): validated observations and quarantine rows go
to the JetStream ingest stream, and the caller answers its client (MQTT PUBACK, HTTP 2xx) only once every
message of the batch is acknowledged by the stream.

Synchronous, for the callers' threads (the MQTT writer thread, the HTTP push's thread pool): the NATS client
lives in an event loop on a thread of its own. Observations are grouped by subject — the site's kind and region,
as the gateway does (:func:`~ecohub.bus.streams.subject_for`) — and cut into messages of at most
``ROWS_PER_MESSAGE`` rows (NATS refuses a message over its ``max_payload``, 1 MiB by default); quarantine rows go
on the side subject. Each message's id is the hash of its bytes, so a batch sent again inside the stream's
duplicate window is stored once (and after it, the writer is idempotent).

:class:`~ecohub.ingest.publishing.BusUnavailable` (a :class:`ConnectionError`) when NATS cannot be reached or a publish is not
acknowledged within ``publish_timeout``: nothing may be answered; the MQTT subscriber retries, the HTTP push
answers 503."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from ecohub.bus.codec import BusMessage, encode, msg_id
from ecohub.bus.publish import SiteSubjects
from ecohub.bus.streams import BusConfig, ensure_streams, subject_for
from ecohub.ingest.publishing import BusUnavailable
from ecohub.store.db import Store

__all__ = ["BusUnavailable", "RecordPublisher"]  # BusUnavailable: ecohub.ingest.publishing

log = logging.getLogger("ecohub.bus")
ROWS_PER_MESSAGE = 5_000  # ~170 KB of msgpack: well under NATS's default max_payload of 1 MiB
QUARANTINE_PER_MESSAGE = 100  # a quarantine row keeps up to 4,000 characters of raw text


class RecordPublisher:  # implements ecohub.ingest.publishing.Publisher
    """Publish batches of ``((site, parameter, interval), epoch s, value, flag)`` rows and quarantine rows
    ``(origin, reason, field, raw, line, channel)`` as ``source`` (the writer's source name: mqtt, http)."""

    def __init__(self, store: Store, cfg: BusConfig, source: str):
        self.cfg = cfg
        self.source = source
        self.subjects = SiteSubjects(store)
        self.published = 0  # messages acknowledged by the stream
        self.failures = 0
        self._nc: Any = None
        self._js: Any = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"bus-{source}", daemon=True)
        self._thread.start()
        self._connecting: asyncio.Lock | None = None

    # --- packing ------------------------------------------------------------------------------------------------
    def pack(self, rows: Sequence[tuple[Any, ...]], quarantine: Sequence[tuple[Any, ...]] = ()
             ) -> list[tuple[str, bytes]]:
        """(subject, body) of every message of a batch; deterministic, so a batch sent again has the same ids."""
        if any(key[0] not in self.subjects.by_site for key, *_ in rows):
            self.subjects.load()  # a site registered since: refresh (else it goes on the "unknown" subject)
        by_subject: dict[str, list[tuple[Any, ...]]] = {}
        for r in rows:
            subject = self.subjects.by_site.get(r[0][0]) or subject_for("unknown", "000000")
            by_subject.setdefault(subject, []).append(r)
        out: list[tuple[str, bytes]] = []
        for subject, group in by_subject.items():
            for i in range(0, len(group), ROWS_PER_MESSAGE):
                out.append((subject, encode(BusMessage(rows=group[i:i + ROWS_PER_MESSAGE], source=self.source))))
        side = subject_for(None, None)
        for i in range(0, len(quarantine), QUARANTINE_PER_MESSAGE):
            q = list(quarantine[i:i + QUARANTINE_PER_MESSAGE])
            out.append((side, encode(BusMessage(quarantine=q, source=self.source))))
        return out

    def publish(self, rows: Sequence[tuple[Any, ...]], quarantine: Sequence[tuple[Any, ...]] = ()) -> int:
        """Publish a batch and wait for the stream's acknowledgement of every message; the number of messages.
        :class:`BusUnavailable` if any is not acknowledged (some may be: sending the batch again is harmless)."""
        messages = self.pack(rows, quarantine)
        if not messages:
            return 0
        fut = asyncio.run_coroutine_threadsafe(self._publish_all(messages), self._loop)
        try:
            fut.result(self.cfg.publish_timeout * 2 + 1)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            self.failures += 1
            raise BusUnavailable(f"the bus {self.cfg.url} did not acknowledge within "
                                 f"{self.cfg.publish_timeout * 2 + 1:.0f} s") from None
        except BusUnavailable:
            self.failures += 1
            raise
        self.published += len(messages)
        return len(messages)

    # --- the event loop's side ----------------------------------------------------------------------------------
    async def _connect(self) -> Any:
        if self._js is not None and self._nc is not None and not self._nc.is_closed:
            return self._js
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._js is not None and self._nc is not None and not self._nc.is_closed:
                return self._js
            import nats

            timeout = self.cfg.publish_timeout
            try:  # a first connection is tried for `timeout` only (nats-py would retry it for ever)
                nc = await asyncio.wait_for(nats.connect(
                    self.cfg.url, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=timeout,
                    name=f"ecohub-{self.source}"), timeout)
                js = nc.jetstream(timeout=timeout)
                await ensure_streams(js, self.cfg)
            except Exception as e:  # noqa: BLE001 - any failure: the bus is not there
                raise BusUnavailable(f"cannot reach the bus {self.cfg.url}: {type(e).__name__}: {e}") from None
            self._nc, self._js = nc, js
            return js

    async def _publish_all(self, messages: Iterable[tuple[str, bytes]]) -> None:
        js = await self._connect()

        async def one(subject: str, data: bytes) -> None:
            await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id(data)},
                             timeout=self.cfg.publish_timeout)

        results = await asyncio.gather(*(one(s, d) for s, d in messages), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            e = errors[0]
            log.warning("bus: %d of %d messages not acknowledged (%s: %s)", len(errors), len(results),
                        type(e).__name__, e)
            raise BusUnavailable(f"the bus {self.cfg.url} did not acknowledge {len(errors)} of {len(results)} "
                                 f"messages ({type(e).__name__}: {e})")

    def close(self) -> None:
        async def _close() -> None:
            if self._nc is not None:
                with contextlib.suppress(Exception):
                    await self._nc.close()

        if self._loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(_close(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        with contextlib.suppress(Exception):
            self._loop.close()
