"""Incoming exchange: a partner department (meteorology, hydrology …) pushes its observations to
``POST /api/v1/exchange/incoming/{dataset}``, signed with its key (headers of :mod:`ecohub.exchange.signing`).

Checks, in order, each refusal naming what is wrong: the key id is a known, enabled partner (401); the signature,
body digest and time verify (401); the partner may push to this dataset (``partner.incoming``; 403); the dataset
is an observation dataset (400); the body is ``{"batch_id", "rows": [...], "rows_hash"?}`` with the header's
batch id (400) and, when given, the hash of the canonical rows matches (400: changed in transit or built
wrongly). A batch id already applied answers its first result again with ``"duplicate": true`` — a replay is
never applied twice. Then the rows go through the same validation and the one writer as every channel
(:meth:`ecohub.ingest.http_push.HttpIngest.store_records`, source ``exchange``): bad rows are refused with field
and value and kept in quarantine (channel ``exchange``), good rows stored; a row for a site outside the
dataset's own sites is refused too. The batch is logged (``exchange_batch``, direction ``in``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ecohub.domain.errors import InputError
from ecohub.exchange.partners import partner_by_key
from ecohub.exchange.signing import HASH_OF, SignatureError, canonical_rows, digest, verify_request
from ecohub.ingest.http_push import MAX_RECORDS, HttpIngest
from ecohub.ingest.validate import parse_interval
from ecohub.store.db import Store
from ecohub.store.schema_catalog import dataset
from ecohub.store.schema_exchange import exchange_batch
from ecohub.store.tx import write_tx

__all__ = ["Refused", "receive"]

SOURCE = "exchange"


class Refused(Exception):  # noqa: N818
    """An incoming batch refused as a whole: HTTP status and the reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _previous(store: Store, partner_id: int, batch_id: str) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(exchange_batch.c.detail, exchange_batch.c.rows, exchange_batch.c.hash).where(
            exchange_batch.c.partner_id == partner_id, exchange_batch.c.direction == "in",
            exchange_batch.c.batch_id == batch_id)).first()
    return None if r is None else {**(r.detail or {}), "rows": r.rows, "hash": r.hash}


def receive(store: Store, ingest: HttpIngest, dataset_code: str, headers: Mapping[str, str], method: str, path: str,
            body: bytes) -> dict[str, Any]:
    """Check and apply one incoming batch; returns the answer (counts, errors). Raises :class:`Refused`."""
    key_id = {k.lower(): v for k, v in headers.items()}.get("x-ecohub-key-id", "")
    p = partner_by_key(store, key_id) if key_id else None
    if p is None:
        raise Refused(401, f"X-Ecohub-Key-Id={key_id!r} is not the key of an enabled partner")
    try:
        batch_id = verify_request(headers, method, path, body, alg=p["alg"], secret=p.get("secret"),
                                  public=p.get("partner_public"))
    except SignatureError as e:
        raise Refused(401, f"signature refused: {e}") from None
    if dataset_code not in (p.get("incoming") or []):
        raise Refused(403, f"partner {p['name']} may not push to dataset {dataset_code!r} "
                           f"(allowed: {', '.join(p.get('incoming') or []) or 'none'})")
    with store.engine.connect() as conn:
        ds = conn.execute(select(dataset).where(dataset.c.code == dataset_code)).mappings().first()
    if ds is None or ds["source"].get("type") != "observations":
        raise Refused(400, f"dataset {dataset_code!r} does not take observations")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Refused(400, f"the body is not JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        raise Refused(400, 'the body must be {"batch_id": …, "rows": [...]}')
    if doc.get("batch_id") != batch_id:
        raise Refused(400, f"batch_id={doc.get('batch_id')!r} in the body differs from X-Ecohub-Batch-Id={batch_id!r}")
    if not batch_id or len(batch_id) > 64:
        raise Refused(400, f"X-Ecohub-Batch-Id={batch_id!r} must be 1-64 characters")
    rows = doc["rows"]
    if len(rows) > MAX_RECORDS:
        raise Refused(413, f"the batch has {len(rows)} rows; the limit is {MAX_RECORDS}")
    alg = HASH_OF[p["alg"]]
    row_hash = digest(alg, canonical_rows(rows))
    if doc.get("rows_hash") is not None and doc["rows_hash"] != row_hash:
        raise Refused(400, f"rows_hash={doc['rows_hash']!r} does not match the rows ({alg} {row_hash}): the rows "
                           "were changed")
    try:
        interval = parse_interval(doc.get("interval", "hour"))
    except InputError as e:
        raise Refused(400, str(e)) from None
    prev = _previous(store, p["id"], batch_id)
    if prev is not None:
        return {"batch_id": batch_id, "duplicate": True, **prev}
    sites = set(ds["source"].get("sites") or [])

    def within(rec: dict) -> None:
        if sites and isinstance(rec, dict) and rec.get("site") not in sites:
            raise InputError("site", rec.get("site"), f"is not a site of dataset {dataset_code}")

    result = ingest.store_records(rows, interval, f"partner:{p['name']}/{dataset_code}", channel="exchange",
                                  source=SOURCE, check_record=within)
    detail = result.as_dict()
    now = datetime.now(UTC)
    try:
        with write_tx(store) as conn:
            conn.execute(insert(exchange_batch).values(
                batch_id=batch_id, direction="in", partner_id=p["id"], dataset=dataset_code, rows=len(rows),
                hash_alg=alg, hash=row_hash, status="applied", attempts=1,
                detail={k: detail[k] for k in ("imported", "duplicates", "conflicts", "rejected")},
                created_at=now, updated_at=now))
    except IntegrityError:  # the same batch, concurrently: its rows were written once (the writer's key)
        return {"batch_id": batch_id, "duplicate": True, **(_previous(store, p["id"], batch_id) or {})}
    return {"batch_id": batch_id, "duplicate": False, "rows": len(rows), "hash": row_hash, **detail}
