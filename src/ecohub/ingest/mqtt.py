"""MQTT subscriber: IoT stations and gateways publish JSON observations; ecohub stores them through the one writer.

Topic scheme (``docs/ingest-channels.md``)::

    ecohub/v1/obs/<site_code>[/<interval>]   records of one site (records may omit "site"; if given it must match)
    ecohub/v1/batch[/<interval>]             records of any sites (each record names its "site")

(``ecohub/v1`` is the default *root*; a shared broker may put it under a prefix, e.g. ``he/ecohub/v1``.)

The payload is a JSON record, a JSON array of records or ``{"observations": [...]}`` (UTF-8, at most
``max_payload`` bytes, 256 KiB by default); the record format is the one of the HTTP push
(:mod:`ecohub.ingest.validate`). ``<interval>`` (rt, minute, hour, day) is the default of records without
``"interval"``; without it the subscriber's default (``rt``) applies.

Delivery guarantees:

- **Acknowledged only after commit.** The subscriber is an MQTT 5 client with a fixed client id, a persistent
  session (``clean_start=False`` and a session expiry) and ``manual_ack``: a QoS 1 message is acknowledged
  (PUBACK) only after the observations it carried — and the quarantine rows of its bad records — are
  committed. If the process dies before that, the broker delivers the message again when a subscriber with
  the same client id reconnects; the writer is idempotent, so a redelivered message is stored once.
  Acknowledgements go out in the order the messages came in, and only on the connection that received them
  (after a reconnect the broker redelivers whatever was not acknowledged).
- **Batches.** Messages are committed together: every ``batch_records`` records or ``batch_ms`` milliseconds,
  whichever comes first.
- **Back-pressure.** Received messages wait in a bounded queue (messages and bytes). When it is full, the
  network thread stops reading from the socket until the writer catches up; the broker keeps the rest.
  The client also announces ``Receive Maximum`` so the broker does not send more unacknowledged messages
  than the queue holds.
- **Bad input never stops it.** A payload that is too large, not UTF-8, not JSON, or of the wrong shape, or a
  topic outside the scheme, goes to the quarantine (channel ``mqtt``, origin = the topic) and is
  acknowledged, so it does not come back. A bad record is quarantined with its index as ``line``; the good
  records of the same message are stored.
- **Database trouble** (a failed commit) is retried with back-off without acknowledging; meanwhile the
  queue fills and back-pressure holds the broker. **Broker trouble**: reconnects with exponential back-off.
- **With a bus** (``publisher``, ``ecohub mqtt-subscribe --bus nats://…``) a batch is published to the
  JetStream ingest stream instead (subjects by the site's kind and region; quarantine rows on the side
  subject) and acknowledged only after the stream acknowledged all of it; the bus writers store it. The bus
  unavailable is handled like a lost database: retried with back-off, nothing acknowledged.
- It publishes nothing to the MQTT broker.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import exc as sa_exc
from sqlalchemy import insert, update

from ecohub.domain.errors import InputError
from ecohub.ingest.publishing import Publisher
from ecohub.ingest.quarantine import MAX_RAW
from ecohub.ingest.validate import (
    RecordValidator,
    SeriesBuffer,
    parse_interval,
    raw_json,
    records_of,
    safe_text,
)
from ecohub.store.db import Store
from ecohub.store.registry import SeriesResolver
from ecohub.store.schema import ingest_log, quarantine
from ecohub.store.writer import ObservationWriter, WriteCounts

log = logging.getLogger(__name__)

TOPIC_ROOT = "ecohub/v1"
DEFAULT_TOPIC = "ecohub/v1/#"
MAX_PAYLOAD = 256 * 1024
SOURCE = "mqtt"
_RAW_PREVIEW = 2000  # bytes of a malformed payload kept in the quarantine


class AbortIngest(Exception):  # noqa: N818 (it is a request, not an error condition)
    """Raised by a ``before_commit`` hook to stop the subscriber at once: nothing of the current batch is
    committed or acknowledged and the connection is dropped without a DISCONNECT, as in a crash."""


# --- broker URL ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> Broker:
    """``mqtt://[user[:password]@]host[:1883]`` or ``mqtts://...[:8883]`` (TLS)."""
    u = urlsplit(url.strip())
    if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise InputError("broker", url, "must be mqtt://host[:port] or mqtts://host[:port]")
    tls = u.scheme in ("mqtts", "ssl")
    if not u.hostname:
        raise InputError("broker", url, "has no host")
    try:
        port = u.port or (8883 if tls else 1883)
    except ValueError:
        raise InputError("broker", url, "the port must be a number 1-65535") from None
    return Broker(u.hostname, port, tls, unquote(u.username) if u.username else None,
                  unquote(u.password) if u.password else None)


# --- topics --------------------------------------------------------------------------------------------------
def route(topic: str, root: str = TOPIC_ROOT) -> tuple[str | None, str | None]:
    """(site named by the topic or None, interval named by the topic or None); InputError for other topics."""
    if topic.startswith(root + "/"):
        rest = topic[len(root) + 1:].split("/")
        if rest and rest[0] == "obs" and len(rest) in (2, 3) and rest[1].strip():
            site = rest[1]
            if len(site) > 64 or any(ch.isspace() for ch in site):
                raise InputError("topic", topic, "the site code in the topic must be 1-64 characters without blanks")
            return site, parse_interval(rest[2], "topic") if len(rest) == 3 else None
        if rest and rest[0] == "batch" and len(rest) in (1, 2):
            return None, parse_interval(rest[1], "topic") if len(rest) == 2 else None
    raise InputError("topic", topic, f"not an ecohub topic: use {root}/obs/<site>[/<interval>] or "
                     f"{root}/batch[/<interval>]")


# --- the queue between the network thread and the writer -------------------------------------------------
@dataclass
class _Message:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    size: int = 0
    records: list | None = None  # parsed (set by the worker)
    error: InputError | None = None  # malformed payload or topic
    site: str | None = None
    interval: str | None = None


class _BoundedQueue:
    """FIFO bounded by a number of messages and a number of payload bytes. ``put`` blocks while full."""

    def __init__(self, max_items: int, max_bytes: int):
        self.max_items, self.max_bytes = max_items, max_bytes
        self._q: collections.deque[_Message] = collections.deque()
        self._bytes = 0
        self._cond = threading.Condition()
        self.high_water = 0
        self.full_waits = 0  # times the network thread had to wait (stopped reading from the socket)

    def put(self, m: _Message, give_up: threading.Event) -> bool:
        with self._cond:
            if self._q and (len(self._q) >= self.max_items or self._bytes + m.size > self.max_bytes):
                self.full_waits += 1
            while self._q and (len(self._q) >= self.max_items or self._bytes + m.size > self.max_bytes):
                if give_up.is_set():
                    return False
                self._cond.wait(0.1)
            self._q.append(m)
            self._bytes += m.size
            self.high_water = max(self.high_water, len(self._q))
            self._cond.notify_all()
            return True

    def get(self, timeout: float) -> _Message | None:
        with self._cond:
            if not self._q:
                self._cond.wait(timeout)
                if not self._q:
                    return None
            m = self._q.popleft()
            self._bytes -= m.size
            self._cond.notify_all()
            return m

    def __len__(self) -> int:
        return len(self._q)


@dataclass
class SubscriberStats:
    connects: int = 0
    received: int = 0  # messages taken from the broker
    committed: int = 0  # messages whose data were committed
    batches: int = 0  # commits
    acked: int = 0
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0  # records refused (quarantined)
    malformed: int = 0  # messages refused whole (quarantined)
    commit_failures: int = 0
    dropped_on_stop: int = 0  # received while stopping; not acknowledged, so the broker keeps them
    published: int = 0  # with a bus: good records the stream acknowledged (the bus writers count the rest)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Batch:
    messages: list[_Message] = field(default_factory=list)
    records: int = 0
    started: float = 0.0
    rows: list | None = None
    rejects: list | None = None  # (topic, index, field, reason, raw)
    stored: bool = False
    counts: WriteCounts | None = None
    isolated: bool = False  # a single message being kept whole in the quarantine after it could not be stored


@dataclass(frozen=True)
class BatchInfo:
    """What a ``before_commit`` hook is shown."""

    messages: int
    records: int  # good records, about to be written
    rejected: int  # records and messages about to be quarantined
    topics: tuple[str, ...]


def _transient(e: BaseException) -> bool:
    """A lost or unavailable database (retry as long as it takes), as opposed to data it refuses."""
    if isinstance(e, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError | OSError):
        return True
    return isinstance(e, sa_exc.DBAPIError) and bool(e.connection_invalidated)


# --- the subscriber ------------------------------------------------------------------------------------------
class MqttSubscriber:
    """Subscribe to ecohub topics and store what arrives. ``start()`` / ``stop()``, or ``run()`` to block.

    ``before_commit(info)`` (tests, instrumentation) is called before each batch is written; it may raise
    :class:`AbortIngest` to simulate a crash.
    """

    def __init__(self, store: Store, broker: str = "mqtt://127.0.0.1:1883", *,
                 topics: tuple[str, ...] | list[str] | None = None, root: str = TOPIC_ROOT,
                 client_id: str = "ecohub-ingest",
                 interval: str = "rt", batch_records: int = 5000, batch_ms: int = 200,
                 queue_messages: int = 1000, queue_bytes: int = 64 * 1024 * 1024, max_payload: int = MAX_PAYLOAD,
                 session_expiry: int = 7 * 24 * 3600, keepalive: int = 30, reconnect_min: int = 1,
                 reconnect_max: int = 60, before_commit: Callable[[BatchInfo], None] | None = None,
                 publisher: Publisher | None = None):
        if not client_id or len(client_id) > 128:
            raise InputError("client_id", client_id, "give a fixed client id of 1-128 characters")
        root = root.strip("/")
        if not root or any(ch in root for ch in "+#"):
            raise InputError("root", root, "the topic root is a topic name without wildcards, e.g. ecohub/v1")
        topics = tuple(topics) if topics else (f"{root}/#",)
        self.store = store
        self.broker = parse_broker_url(broker)
        self.root = root
        self.topics = topics
        self.client_id = client_id
        self.interval = parse_interval(interval)
        self.batch_records = max(1, batch_records)
        self.batch_s = max(1, batch_ms) / 1000.0
        self.max_payload = max_payload
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        self.reconnect = (reconnect_min, reconnect_max)
        self.before_commit = before_commit
        self.publisher = publisher  # a bus: publish each batch, acknowledge after the stream's ack
        self.queue = _BoundedQueue(max(1, queue_messages), max(max_payload, queue_bytes))
        self.stats = SubscriberStats()
        self.origin = f"mqtt:{client_id}"

        self._validator: RecordValidator | None = None
        self._resolver = SeriesResolver()
        self._writer: ObservationWriter | None = None
        self._log_id: int | None = None
        self._started_at = datetime.now(UTC)

        self._ack_lock = threading.Lock()
        self._generation = 0  # connection number, for acknowledging only on the connection that received
        self._online = False  # CONNACK received and the connection not lost since (under _ack_lock)
        self._connected = threading.Event()  # connected and subscribed
        self._stopping = threading.Event()  # no more messages are taken; drain and leave
        self._closed = threading.Event()  # worker finished
        self._aborted = False
        self._worker: threading.Thread | None = None
        self._client = None
        self.last_error: str | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                        protocol=mqtt.MQTTv5, manual_ack=True)
        if self.broker.username:
            c.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            c.tls_set()
        c.reconnect_delay_set(*self.reconnect)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_connect_fail = self._on_connect_fail
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        props.ReceiveMaximum = min(65535, self.queue.max_items)
        c.connect_async(self.broker.host, self.broker.port, keepalive=self.keepalive, clean_start=False,
                        properties=props)
        self._client = c
        self._worker = threading.Thread(target=self._work, name=f"ecohub-mqtt-writer-{self.client_id}", daemon=True)
        self._worker.start()
        c.loop_start()
        log.info("mqtt: subscribing to %s on %s as %s", ", ".join(self.topics), self.broker, self.client_id)

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking messages, commit and acknowledge what was taken, then disconnect (the session stays)."""
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(timeout)
        c = self._client
        if c is not None:
            if not self._aborted:
                c.disconnect()  # queued after the last acknowledgements
            c.loop_stop()
            self._client = None

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set (the command sets it on SIGINT/SIGTERM)."""
        self.start()
        try:
            while not stop.wait(0.5) and not self._closed.is_set():
                pass
        finally:
            self.stop()

    @property
    def aborted(self) -> bool:
        return self._aborted

    def __enter__(self) -> MqttSubscriber:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- network thread (paho callbacks: never raise) ------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("mqtt: %s", self.last_error)
            return
        with self._ack_lock:
            self._generation += 1
            self._online = True
            self.stats.connects += 1
        from paho.mqtt.subscribeoptions import SubscribeOptions

        client.subscribe([(t, SubscribeOptions(qos=1)) for t in self.topics])
        log.info("mqtt: connected to %s (session present: %s)", self.broker, flags.session_present)

    def _on_connect_fail(self, client, userdata) -> None:
        self.last_error = f"cannot connect to {self.broker}"
        log.warning("mqtt: %s; retrying with back-off", self.last_error)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        bad = [str(rc) for rc in reason_codes if rc.is_failure]
        if bad:
            self.last_error = f"subscription refused: {', '.join(bad)}"
            log.error("mqtt: %s", self.last_error)
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._ack_lock:
            self._online = False
            self._connected.clear()
        if not self._stopping.is_set():
            log.warning("mqtt: disconnected from %s (%s); reconnecting with back-off", self.broker, reason_code)

    def _on_message(self, client, userdata, msg) -> None:
        try:
            try:
                topic = msg.topic
            except UnicodeDecodeError:  # brokers check this; if one did not, the message is still answered
                topic = bytes(msg._topic).decode("utf-8", "backslashreplace")
            payload = msg.payload
            size = len(payload)
            if size > self.max_payload:  # keep only a preview in memory
                err = InputError("payload", f"{size} bytes", f"payload larger than the limit of {self.max_payload} "
                                 "bytes")
                m = _Message(topic, payload[:_RAW_PREVIEW], msg.mid, msg.qos, self._generation, _RAW_PREVIEW,
                             error=err)
            else:
                m = _Message(topic, payload, msg.mid, msg.qos, self._generation, size)
            if self._stopping.is_set() or not self.queue.put(m, self._stopping):
                self.stats.dropped_on_stop += 1  # not acknowledged: the broker delivers it again later
                return
            self.stats.received += 1
        except Exception:  # pragma: no cover - must never kill the network thread
            log.exception("mqtt: unexpected error taking a message on %r", getattr(msg, "topic", "?"))

    # --- writer thread -----------------------------------------------------------------------------------
    def _work(self) -> None:
        batch = _Batch()
        try:
            while True:
                if batch.messages:
                    wait = max(0.0, batch.started + self.batch_s - time.monotonic())
                else:
                    wait = 0.2
                m = self.queue.get(wait)
                if m is not None:
                    if not batch.messages:
                        batch.started = time.monotonic()
                    self._parse(m)
                    batch.messages.append(m)
                    batch.records += len(m.records or ())
                due = batch.messages and (batch.records >= self.batch_records
                                          or time.monotonic() >= batch.started + self.batch_s
                                          or (self._stopping.is_set() and len(self.queue) == 0))
                if due:
                    if not self._commit(batch):
                        break  # stopping while the database is unavailable: leave it to the broker
                    batch = _Batch()
                if self._stopping.is_set() and not batch.messages and len(self.queue) == 0:
                    break
        except AbortIngest:
            self._abort()
        except Exception:  # pragma: no cover - a bug; nothing is acknowledged, the broker keeps the messages
            log.exception("mqtt: writer stopped by an unexpected error")
            self._abort()
        finally:
            self._closed.set()

    def _abort(self) -> None:
        """Leave as a crash would: no commit, no acknowledgement, no DISCONNECT."""
        self._aborted = True
        self._stopping.set()
        c = self._client
        if c is not None:
            c.loop_stop()
            sock = c.socket()
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        self._connected.clear()
        log.warning("mqtt: aborted; unacknowledged messages stay with the broker")

    def _parse(self, m: _Message) -> None:
        if m.error is not None:
            return
        try:
            m.site, m.interval = route(m.topic, self.root)
            try:
                text = m.payload.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError("payload", f"byte {e.start}", "payload is not UTF-8 text") from None
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                raise InputError("payload", text[:80], f"not JSON: {e.msg} at line {e.lineno} column {e.colno}") \
                    from None
            except RecursionError:
                raise InputError("payload", text[:80], "not JSON: nested too deeply") from None
            if isinstance(obj, dict) and "observations" not in obj:
                obj = [obj]  # one record
            m.records = records_of(obj)
        except InputError as e:
            m.error = e
        except Exception as e:  # pragma: no cover - never let a payload stop the writer
            m.error = InputError("payload", None, f"cannot be read: {type(e).__name__}: {e}")

    def _validate(self, batch: _Batch) -> None:
        if self._validator is None:
            self._validator = RecordValidator(self.store, self.interval)
        check = self._validator
        rows, rejects = [], []
        for m in batch.messages:
            if m.error is not None:
                keep = m.payload if batch.isolated else m.payload[:_RAW_PREVIEW]
                rejects.append((m.topic, None, m.error.field, str(m.error), keep.decode("utf-8", "backslashreplace")))
                continue
            for i, rec in enumerate(m.records):
                try:
                    rows.append(check.json_record(rec, site=m.site, interval=m.interval or self.interval))
                except InputError as e:
                    rejects.append((m.topic, i, e.field, str(e), raw_json(rec)))
        batch.rows, batch.rejects = rows, rejects

    def _commit(self, batch: _Batch) -> bool:
        """Commit a batch (retrying with back-off), then acknowledge its messages. False: given up.

        A failure that is not a lost or unavailable database (a poison message: something in it the database
        refuses) must not stall the channel: after a second try the batch is committed message by message,
        and a message that still cannot be stored is kept whole in the quarantine and acknowledged."""
        delay = 0.5
        attempts = 0
        while True:
            try:
                self._commit_once(batch)
                break
            except AbortIngest:
                raise
            except Exception as e:
                attempts += 1
                self.stats.commit_failures += 1
                self.last_error = f"{type(e).__name__}: {str(e)[:500]}"
                self._writer = None  # its buffer may hold part of the failed batch
                if attempts >= 2 and not _transient(e) and not batch.isolated:
                    return self._isolate(batch, e)
                if self._stopping.is_set():
                    log.error("mqtt: commit failed while stopping (%s); %d messages stay with the broker",
                              self.last_error, len(batch.messages))
                    return False
                log.error("mqtt: commit failed (%s); retrying in %.1f s (nothing acknowledged)", self.last_error,
                          delay)
                if self._stopping.wait(delay):
                    continue  # one more attempt, then give up
                delay = min(delay * 2, 30.0)
        self._ack(batch)
        return True

    def _isolate(self, batch: _Batch, err: Exception) -> bool:
        if len(batch.messages) > 1:
            log.warning("mqtt: a batch of %d messages cannot be stored (%s); storing them one by one",
                        len(batch.messages), self.last_error)
            for m in batch.messages:
                if not self._commit(_Batch([m], len(m.records or ()), time.monotonic())):
                    return False
            return True
        m = batch.messages[0]
        log.error("mqtt: a message on %r cannot be stored (%s); it is kept whole in the quarantine", m.topic,
                  self.last_error)
        m.error = InputError("payload", None, f"could not be stored ({type(err).__name__}: {str(err)[:300]}); "
                             "the whole message is kept here")
        m.records = None
        return self._commit(_Batch([m], 0, time.monotonic(), isolated=True))

    def _commit_once(self, batch: _Batch) -> None:
        if batch.rows is None:
            self._validate(batch)
        if self.before_commit is not None:
            self.before_commit(BatchInfo(len(batch.messages), len(batch.rows), len(batch.rejects),
                                         tuple(dict.fromkeys(m.topic for m in batch.messages))))
        if self.publisher is not None:
            self._publish(batch)
            return
        if not batch.stored:
            if self._writer is None:
                self._writer = ObservationWriter(self.store, SOURCE, origin=self.origin, batch_size=2 ** 62)
            buf = SeriesBuffer(self.store, self._writer, self._resolver)
            for key, t, v, flag in batch.rows:
                buf.add(key, t, v, flag)
            batch.counts = buf.flush()
            batch.stored = True
        # the quarantine rows and the log in one more transaction
        now = datetime.now(UTC)
        limit = None if batch.isolated else MAX_RAW
        rows = [{"channel": "mqtt", "origin": safe_text(topic)[:500], "line": line, "field": fld,
                 "reason": safe_text(reason)[:2000], "raw": safe_text(raw)[:limit] if raw is not None else None,
                 "received_at": now}
                for topic, line, fld, reason, raw in batch.rejects]
        s = self.stats
        c = batch.counts
        totals = {"imported": s.imported + c.imported, "duplicates": s.duplicates + c.duplicates,
                  "conflicts": s.conflicts + c.conflicts, "rejected": s.rejected + len(batch.rejects)}
        with self.store.engine.begin() as conn:
            if rows:
                conn.execute(insert(quarantine), rows)
            if self._log_id is None:
                self._log_id = conn.execute(insert(ingest_log).values(
                    channel="mqtt", origin=f"{self.origin}@{self.broker}"[:500], started_at=self._started_at,
                    finished_at=now, **totals)).inserted_primary_key[0]
            else:
                conn.execute(update(ingest_log).where(ingest_log.c.id == self._log_id).values(finished_at=now,
                                                                                          **totals))
        s.imported, s.duplicates, s.conflicts, s.rejected = (totals["imported"], totals["duplicates"],
                                                             totals["conflicts"], totals["rejected"])
        s.malformed += sum(1 for m in batch.messages if m.error is not None)
        s.committed += len(batch.messages)
        s.batches += 1

    def _publish(self, batch: _Batch) -> None:
        """With a bus: the good records and the quarantine rows to the ingest stream (returns once the stream
        holds them all; :class:`~ecohub.ingest.publishing.BusUnavailable` otherwise, retried like a lost
        database). The ingest log is the bus writers' business."""
        assert self.publisher is not None and batch.rows is not None and batch.rejects is not None
        quarantined = [(safe_text(topic)[:500], safe_text(reason)[:2000], fld,
                        safe_text(raw)[:MAX_RAW] if raw is not None else None, line, "mqtt")
                       for topic, line, fld, reason, raw in batch.rejects]
        self.publisher.publish(batch.rows, quarantined)
        s = self.stats
        s.published += len(batch.rows)
        s.rejected += len(batch.rejects)
        s.malformed += sum(1 for m in batch.messages if m.error is not None)
        s.committed += len(batch.messages)
        s.batches += 1

    def _ack(self, batch: _Batch) -> None:
        """Acknowledge, in order, the messages of a committed batch that came on the current connection (the
        broker redelivers the others after a reconnect; they are then stored as duplicates)."""
        c = self._client
        if c is None:
            return
        with self._ack_lock:
            if not self._online:
                return
            gen = self._generation
            for m in batch.messages:
                if m.qos > 0 and m.generation == gen:
                    c.ack(m.mid, m.qos)
                    self.stats.acked += 1

    def status(self) -> dict[str, Any]:
        return {"broker": str(self.broker), "client_id": self.client_id, "topics": list(self.topics),
                "connected": self._connected.is_set(), "queued": len(self.queue),
                "queue_high_water": self.queue.high_water, "queue_full_waits": self.queue.full_waits,
                "last_error": self.last_error, **self.stats.as_dict()}
