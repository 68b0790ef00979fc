"""Pushing dataset deltas to partners as signed batches, at least once, with an exchange log both sides reconcile.

Per subscription (partner × dataset), one round (:func:`push`):

1. batches already made but not delivered are sent again first, oldest first, **unchanged** (same batch id,
   same body): the batch id is the partner's idempotency key;
2. the partner's catalogue access is checked (its user's grants; masking and watermarks of the catalogue apply —
   the rows are exactly those of a JSON export, see :func:`ecohub.catalog.service.delta_rows`); no access, no
   push;
3. the delta after the subscription's cursor becomes a batch: stored in ``exchange_batch`` with its body, row
   count and hash (SHA-256 for hmac partners, SM3 for sm2 partners) **in the same transaction that moves the
   cursor** — a crash after it resends the batch, never loses or rebuilds it;
4. the batch is POSTed, signed (:mod:`ecohub.exchange.signing`); 2xx = delivered; anything else leaves it
   pending with the error and the attempt counted, and stops the round (batches go in order).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import insert, select, update

from ecohub.catalog.service import delta_rows, get_dataset, may_export
from ecohub.domain.errors import NotFound
from ecohub.exchange.partners import get_partner, requester_for, signer_for, subscriptions
from ecohub.exchange.signing import HASH_OF, canonical_rows, digest
from ecohub.store.db import Store
from ecohub.store.schema_exchange import exchange_batch, partner, partner_subscription
from ecohub.store.tx import write_tx

__all__ = ["compare_logs", "exchange_log", "push"]


def _body(batch_id: str, dataset: str, rows: list[dict[str, Any]], alg: str, row_hash: str) -> bytes:
    return json.dumps({"batch_id": batch_id, "dataset": dataset, "row_count": len(rows), "hash_alg": alg,
                       "rows_hash": row_hash, "rows": rows}, ensure_ascii=False, default=str).encode()


def _deliver(store: Store, p: dict[str, Any], b: Any, client: Any) -> bool:
    body = b.payload.encode()
    url = p["endpoint"]
    headers = {"Content-Type": "application/json", **signer_for(p).headers("POST", urlparse(url).path or "/",
                                                                          b.batch_id, body)}
    now = datetime.now(UTC)
    try:
        r = client.post(url, content=body, headers=headers)
        ok = 200 <= r.status_code < 300
        err = None if ok else f"HTTP {r.status_code}: {r.text[:500]}"
        try:
            detail = r.json() if ok else None
        except ValueError:
            detail = None
    except Exception as e:  # noqa: BLE001 - the partner is away: the batch stays pending
        ok, err, detail = False, f"{type(e).__name__}: {e}"[:1000], None
    with write_tx(store) as conn:
        values: dict[str, Any] = {"attempts": exchange_batch.c.attempts + 1, "updated_at": now}
        if ok:
            values.update(status="delivered", detail=detail if isinstance(detail, dict) else None, last_error=None)
        else:
            values.update(last_error=err)
        conn.execute(update(exchange_batch).where(exchange_batch.c.id == b.id).values(**values))
    return ok


def _pending(store: Store, p: dict[str, Any], dataset_code: str) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(exchange_batch).where(
            exchange_batch.c.partner_id == p["id"], exchange_batch.c.direction == "out",
            exchange_batch.c.dataset == dataset_code, exchange_batch.c.status == "pending")
            .order_by(exchange_batch.c.id)))


def _make_batch(store: Store, p: dict[str, Any], sub: dict[str, Any], dataset_code: str,
                rows: list[dict[str, Any]], cursor: str) -> Any:
    alg = HASH_OF[p["alg"]]
    batch_id = uuid.uuid4().hex
    row_hash = digest(alg, canonical_rows(rows))
    now = datetime.now(UTC)
    with write_tx(store) as conn:
        # the cursor moves with the batch being kept: a crash after this resends it, never loses it
        pk = conn.execute(insert(exchange_batch).values(
            batch_id=batch_id, direction="out", partner_id=p["id"], dataset=dataset_code, rows=len(rows),
            hash_alg=alg, hash=row_hash, status="pending", attempts=0,
            payload=_body(batch_id, dataset_code, rows, alg, row_hash).decode(), cursor=cursor,
            created_at=now, updated_at=now)).inserted_primary_key
        bid = int(pk[0]) if pk is not None else 0
        conn.execute(update(partner_subscription).where(partner_subscription.c.id == sub["id"])
                     .values(cursor=cursor, pushed_at=now))
        return conn.execute(select(exchange_batch).where(exchange_batch.c.id == bid)).first()


def _push_one(store: Store, p: dict[str, Any], sub: dict[str, Any], client: Any, max_rows: int,
              max_batches: int) -> dict[str, Any]:
    out: dict[str, Any] = {"partner": p["name"], "dataset": sub["dataset"], "delivered": 0, "rows": 0,
                           "pending": 0, "status": "ok", "error": None}
    for b in _pending(store, p, sub["dataset"]):
        if not _deliver(store, p, b, client):
            out.update(status="partner unreachable", pending=len(_pending(store, p, sub["dataset"])),
                       error=_last_error(store, b.id))
            return out
        out["delivered"] += 1
        out["rows"] += b.rows
    with store.engine.connect() as conn:
        ds = get_dataset(conn, sub["dataset_id"])
        who = requester_for(store, p)
        if ds is None or not may_export(conn, ds, who):
            out.update(status="no access", error=f"partner {p['name']} (user {who.name}) may not receive dataset "
                                                 f"{sub['dataset']}: request and approve a grant")
            return out
    cursor = sub["cursor"]
    for _ in range(max_batches):
        delta = delta_rows(store, ds, who, cursor, recipient=f"partner:{p['name']}", max_rows=max_rows)
        if not delta.rows:
            if delta.cursor != cursor:
                with write_tx(store) as conn:
                    conn.execute(update(partner_subscription).where(partner_subscription.c.id == sub["id"])
                                 .values(cursor=delta.cursor))
            break
        b = _make_batch(store, p, sub, sub["dataset"], delta.rows, delta.cursor)
        cursor = delta.cursor
        if not _deliver(store, p, b, client):
            out.update(status="partner unreachable", pending=len(_pending(store, p, sub["dataset"])),
                       error=_last_error(store, b.id))
            return out
        out["delivered"] += 1
        out["rows"] += len(delta.rows)
    return out


def _last_error(store: Store, bid: int) -> str | None:
    with store.engine.connect() as conn:
        return conn.scalar(select(exchange_batch.c.last_error).where(exchange_batch.c.id == bid))


def push(store: Store, partner_name: str | None = None, dataset_code: str | None = None, *, client: Any = None,
         max_rows: int = 5000, max_batches: int = 100) -> list[dict[str, Any]]:
    """One push round for the enabled subscriptions (of one partner / one dataset): per subscription, what was
    delivered and what is pending."""
    subs = [s for s in subscriptions(store, partner_name) if s["enabled"]
            and (dataset_code is None or s["dataset"] == dataset_code)]
    if partner_name is not None and dataset_code is not None and not subs:
        raise NotFound(f"partner {partner_name!r} has no enabled subscription to {dataset_code!r}")
    own = client is None
    if own:
        import httpx

        client = httpx.Client(timeout=30.0)
    try:
        results = []
        partners: dict[str, dict[str, Any]] = {}
        for s in subs:
            p = partners.get(s["partner"]) or partners.setdefault(s["partner"], get_partner(store, s["partner"]))
            if p["enabled"] and p["endpoint"]:
                results.append(_push_one(store, p, s, client, max_rows, max_batches))
        return results
    finally:
        if own:
            client.close()


def exchange_log(store: Store, partner_name: str | None = None, direction: str | None = None,
                 limit: int = 1000) -> list[dict[str, Any]]:
    """The exchange log (newest first): batch id, direction, partner, dataset, rows, hash, status, attempts."""
    b = exchange_batch
    q = (select(b.c.batch_id, b.c.direction, partner.c.name.label("partner"), b.c.dataset, b.c.rows, b.c.hash_alg,
                b.c.hash, b.c.status, b.c.attempts, b.c.last_error, b.c.detail, b.c.created_at, b.c.updated_at)
         .select_from(b.join(partner, partner.c.id == b.c.partner_id)).order_by(b.c.id.desc()).limit(limit))
    if partner_name is not None:
        q = q.where(partner.c.name == partner_name)
    if direction is not None:
        q = q.where(b.c.direction == direction)
    with store.engine.connect() as conn:
        return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()}
                for r in conn.execute(q).mappings()]


def compare_logs(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> dict[str, Any]:
    """Reconcile two exchange logs by batch id (counts and hashes). ``theirs``: ``[{batch_id, rows, hash}]``.
    Returns the matched count and the batches missing on either side or differing (with both versions)."""
    mine = {b["batch_id"]: b for b in ours}
    other = {str(b.get("batch_id")): b for b in theirs}
    differ = []
    for bid in sorted(mine.keys() & other.keys()):
        a, o = mine[bid], other[bid]
        if int(a["rows"]) != int(o.get("rows", -1)) or a["hash"] != o.get("hash"):
            differ.append({"batch_id": bid, "ours": {"rows": a["rows"], "hash": a["hash"]},
                           "theirs": {"rows": o.get("rows"), "hash": o.get("hash")}})
    # an undelivered batch of ours is expected to be missing there (it will be resent)
    missing_there = [bid for bid in sorted(mine.keys() - other.keys())
                     if mine[bid].get("status") in ("delivered", "applied")]
    return {"matched": len(mine.keys() & other.keys()) - len(differ), "differ": differ,
            "missing_there": missing_there, "missing_here": sorted(other.keys() - mine.keys()),
            "pending_here": sorted(bid for bid in mine.keys() - other.keys() if bid not in missing_there),
            "ok": not differ and not missing_there and not (other.keys() - mine.keys())}
