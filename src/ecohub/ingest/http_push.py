"""HTTP push: partner systems POST JSON batches of observations, authenticated with an API key.

``POST /api/v1/ingest/observations[?interval=rt|minute|hour|day]`` with ``Authorization: Bearer ek_...`` or
``X-API-Key: ek_...`` (a key with scope ``ingest``). The body is a JSON array of records or
``{"observations": [...]}``; the record format is the one of the MQTT channel (:mod:`ecohub.ingest.validate`,
``docs/ingest-channels.md``).

Answers:

- 200 ``{"imported", "duplicates", "conflicts", "rejected", "errors": [{"index", "field", "value", "reason"}]}``
  — the good records are committed before the answer; each bad record is refused on its own, quarantined
  (channel ``http``, origin ``apikey:<prefix>``, ``line`` = its index in the batch) and listed (first 100).
- 202 ``{"accepted", "rejected", "errors"}`` when a bus is configured (``ECOHUB_BUS_URL``): the good records
  and the quarantine rows of the bad ones are durable in the JetStream ingest stream (the bus writers store
  them, ``ecohub writer --bus``); 503 when the stream did not acknowledge all of them (send it again: what is
  already in the stream is not stored twice).
- 400 body not JSON / not UTF-8 / wrong shape / bad ``interval``; 401 no key, unknown, revoked or expired key,
  or a key without the ``ingest`` scope; 413 body over 5 MiB or more than 50,000 records; 503 the database is
  unavailable (send the batch again: stored records then count as duplicates). Errors are ``application/problem+json`` (RFC 9457).

The router is built by :func:`ingest_router` and mounted by the application.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from ecohub.domain.errors import InputError
from ecohub.ingest.publishing import BusUnavailable, Publisher
from ecohub.ingest.validate import (
    RecordValidator,
    SeriesBuffer,
    json_safe,
    parse_interval,
    raw_json,
    records_of,
)
from ecohub.store.apikeys import ApiKey, touch_key, verify_key
from ecohub.store.db import Store
from ecohub.store.quarantine import QuarantineSink
from ecohub.store.registry import SeriesResolver
from ecohub.store.schema import ingest_log
from ecohub.store.tx import write_tx
from ecohub.store.writer import ObservationWriter

MAX_BODY = 5 * 1024 * 1024
MAX_RECORDS = 50_000
MAX_ERRORS = 100
SOURCE = "http"
PROBLEM = "application/problem+json"
PATH = "/api/v1/ingest/observations"


class Problem(Exception):  # noqa: N818
    """An error answer (RFC 9457 problem details)."""

    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers

    def response(self) -> JSONResponse:
        return JSONResponse({"type": "about:blank", "title": self.title,
                             "status": self.status, "detail": self.detail},
                            status_code=self.status, media_type=PROBLEM, headers=self.headers)


@dataclass
class PushResult:
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)
    accepted: int | None = None  # with a bus: good records durable in the stream (the writers count the rest)

    def as_dict(self) -> dict:
        if self.accepted is not None:
            return {"accepted": self.accepted, "rejected": self.rejected, "errors": self.errors}
        return {"imported": self.imported, "duplicates": self.duplicates, "conflicts": self.conflicts,
                "rejected": self.rejected, "errors": self.errors}


def _key_from(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


class HttpIngest:
    """The work behind the endpoint (usable without HTTP): authenticate, then validate and store a batch."""

    def __init__(self, store: Store, publisher: Publisher | None = None):
        self.store = store
        self._validator: RecordValidator | None = None
        self._resolver = SeriesResolver()
        self._lock = threading.Lock()
        self.publisher = publisher  # a bus (ecohub.bus.records.RecordPublisher): publish instead of writing

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()

    def authenticate(self, key: str | None) -> ApiKey:
        unauthorized = {"WWW-Authenticate": 'Bearer realm="ecohub ingest"'}
        if not key:
            raise Problem(401, "Unauthorized", "an API key is required: send 'Authorization: Bearer ek_...' or "
                          "'X-API-Key: ek_...' (a key with scope ingest)", unauthorized)
        with self.store.engine.connect() as conn:
            found = verify_key(conn, key, "ingest", touch=False)
        if found is not None:
            try:
                touch_key(self.store, found.prefix)
            except OperationalError:  # bookkeeping only
                pass
        if found is None:
            raise Problem(401, "Unauthorized", "the API key is unknown, revoked or expired, or lacks scope ingest",
                          unauthorized)
        return found

    def validator(self) -> RecordValidator:
        if self._validator is None:
            self._validator = RecordValidator(self.store, "rt")
        return self._validator

    def push(self, records: list, interval: str, key: ApiKey) -> PushResult:
        """Store the good records (committed on return) and quarantine the bad ones — or, with a bus, publish
        both to the ingest stream (acknowledged by the stream on return; :class:`BusUnavailable` if not)."""
        if self.publisher is not None:
            return self.publish_records(records, interval, f"apikey:{key.prefix}")
        return self.store_records(records, interval, f"apikey:{key.prefix}")

    def _check(self, records: list, interval: str, result: PushResult,
               check_record: Callable[[dict], None] | None = None) -> Iterator[tuple]:
        """The good records as ``(key, t, value, flag)``; each bad one counted, listed (first 100) and yielded
        as ``(None, index, InputError, raw)``."""
        check = self.validator()
        for i, rec in enumerate(records):
            try:
                if check_record is not None:
                    check_record(rec)
                yield check.json_record(rec, interval=interval)
            except InputError as e:
                result.rejected += 1
                if len(result.errors) < MAX_ERRORS:
                    result.errors.append({"index": i, "field": e.field, "value": json_safe(e.value),
                                          "reason": e.reason})
                yield None, i, e, raw_json(rec)

    def publish_records(self, records: list, interval: str, origin: str) -> PushResult:
        """Validate, then publish the good records and the quarantine rows to the bus; on return the stream
        holds them all (``accepted`` good records; the bus writers store them)."""
        result = PushResult()
        rows: list[tuple] = []
        rejects: list[tuple] = []
        with self._lock:
            for r in self._check(records, interval, result):
                if r[0] is None:
                    _, i, e, raw = r
                    rejects.append((origin[:500], str(e)[:2000], e.field, raw, i, SOURCE))
                else:
                    rows.append(r)
        assert self.publisher is not None
        self.publisher.publish(rows, rejects)
        result.accepted = len(rows)
        return result

    def store_records(self, records: list, interval: str, origin: str, *, channel: str = "http",
                      source: str = SOURCE, check_record: Callable[[dict], None] | None = None) -> PushResult:
        """Validate ``records`` (JSON record format), write the good ones through the one writer as ``source``
        (committed on return), quarantine the bad ones (``channel``, ``origin``). ``check_record`` may refuse a
        record with an :class:`InputError` before the common checks (e.g. a site outside a partner's dataset)."""
        started = datetime.now(UTC)
        result = PushResult()
        quarantine = QuarantineSink(self.store, channel, origin)
        writer = ObservationWriter(self.store, source, origin=origin, batch_size=max(MAX_RECORDS, 1))
        buf = SeriesBuffer(self.store, writer, self._resolver)
        with self._lock:  # the shared caches; validation is CPU work, the GIL serialises it anyway
            for r in self._check(records, interval, result, check_record):
                if r[0] is None:
                    _, i, e, raw = r
                    quarantine.add(str(e), line=i, field=e.field, raw=raw)
                else:
                    buf.add(*r)
            buf.drain()
        counts = writer.flush()
        quarantine.flush()
        result.imported, result.duplicates, result.conflicts = counts.imported, counts.duplicates, counts.conflicts
        with write_tx(self.store) as conn:
            conn.execute(insert(ingest_log).values(
                channel=channel, origin=origin, started_at=started, finished_at=datetime.now(UTC),
                imported=result.imported, duplicates=result.duplicates, conflicts=result.conflicts,
                rejected=result.rejected))
        return result


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        try:
            if int(length) > limit:
                raise Problem(413, "Payload Too Large", f"the body has {int(length)} bytes; the limit is {limit} "
                              f"bytes: send smaller batches")
        except ValueError:
            raise Problem(400, "Bad Request", f"Content-Length {length!r} is not a number") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "Payload Too Large", f"the body is larger than the limit of {limit} bytes: "
                          "send smaller batches")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(body: bytes) -> list:
    """The records of a request body; :class:`Problem` 400/413 when it cannot be taken."""
    if not body.strip():
        raise Problem(400, "Bad Request", "the body is empty: send a JSON array of records or "
                      "{\"observations\": [...]}")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise Problem(400, "Bad Request", f"the body is not UTF-8 text (byte {e.start})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise Problem(400, "Bad Request", f"the body is not valid JSON: {e.msg} at line {e.lineno} column "
                      f"{e.colno}") from None
    except RecursionError:
        raise Problem(400, "Bad Request", "the body is not valid JSON: nested too deeply") from None
    try:
        records = records_of(obj)
    except InputError as e:
        raise Problem(400, "Bad Request", f"the body {e.reason}" if e.field == "body" else str(e)) from None
    if len(records) > MAX_RECORDS:
        raise Problem(413, "Payload Too Large", f"the batch has {len(records)} records; the limit is "
                      f"{MAX_RECORDS}: send smaller batches")
    return records


def ingest_router(store: Store, *, max_body: int = MAX_BODY, publisher: Publisher | None = None) -> APIRouter:
    """The HTTP push router (``POST /api/v1/ingest/observations``); mount with ``app.include_router``. With a
    bus ``publisher`` the records are published to the ingest stream and answered 202 once the stream holds
    them (503 when it does not)."""
    router = APIRouter(tags=["ingest"])
    work = HttpIngest(store, publisher)
    router.on_shutdown.append(work.close)

    @router.post(PATH, summary="Push a batch of observations (API key, scope ingest)", responses={
        200: {"description": "counts; bad records listed and quarantined, the good ones committed"},
        202: {"description": "with a bus: the good records and the quarantine rows are durable in the ingest "
                             "stream (the bus writers store them); bad records listed"},
        503: {"description": "the database or the bus is unavailable: send the batch again",
              "content": {PROBLEM: {}}},
        400: {"description": "body not JSON or of the wrong shape", "content": {PROBLEM: {}}},
        401: {"description": "missing or bad API key", "content": {PROBLEM: {}}},
        413: {"description": "body over 5 MiB or more than 50,000 records", "content": {PROBLEM: {}}},
    })
    async def push_observations(request: Request, interval: str = Query(
            "rt", description="interval of records without one: rt, minute, hour, day")):
        try:
            key = await run_in_threadpool(work.authenticate, _key_from(request))
            try:
                iv = parse_interval(interval)
            except InputError as e:
                raise Problem(400, "Bad Request", str(e)) from None
            records = parse_body(await _read_body(request, max_body))
            result = await run_in_threadpool(work.push, records, iv, key)
        except Problem as p:
            return p.response()
        except BusUnavailable as e:
            return Problem(503, "Service Unavailable", f"{e}; nothing of the batch is acknowledged: send it again "
                           "later (records already in the stream are not stored twice)",
                           {"Retry-After": "10"}).response()
        except (OperationalError, InterfaceError) as e:
            return Problem(503, "Service Unavailable", "the database is unavailable "
                           f"({type(e.orig).__name__ if e.orig else 'error'}); the batch may not be stored "
                           "completely: send it again later (records already stored count as duplicates)",
                           {"Retry-After": "30"}).response()
        except DBAPIError as e:
            return Problem(500, "Internal Server Error", "the database refused the batch "
                           f"({type(e.orig).__name__ if e.orig else 'error'}); it may not be stored completely"
                           ).response()
        return JSONResponse(result.as_dict(), status_code=202 if result.accepted is not None else 200)

    return router
