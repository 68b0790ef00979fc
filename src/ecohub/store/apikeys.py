"""API keys for machine clients (partner systems pushing data, scripts).

A key is ``ek_<prefix>_<secret>``: 8 random characters of prefix (stored in clear, to find the row and to
show people which key is which) and 32 random bytes of secret. Only the SHA-256 of the whole key is stored
— keys are 256-bit random, so a slow password hash adds nothing but latency on every request. Keys can
expire and be revoked; the check takes constant time.

A key may belong to a user (``user_id``, migration 0004): it then reads with that user's role and scope
(scope ``read``), and every change to it is a permission change recorded in the audit log by the caller.
A key without a user is a bare machine key (e.g. a partner's ingest key).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Connection

from ecohub.domain.errors import InputError
from ecohub.store.schema import api_key
from ecohub.store.schema_identity import app_user  # noqa: F401  (adds api_key.user_id to the table)
from ecohub.store.tx import write_tx

if TYPE_CHECKING:
    from ecohub.store.db import Store

SCOPES = ("ingest", "read", "admin")
TOUCH_EVERY = 60  # seconds: last_used_at is refreshed at most this often


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    owner: str | None
    user_id: int | None = None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: Connection, name: str, scopes: list[str], owner: str | None = None,
               expires_at: datetime | None = None, user_id: int | None = None) -> str:
    """Create a key and return it — the only time the full key is ever shown."""
    if not name.strip():
        raise InputError("name", name, "an API key needs a name")
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise InputError("scopes", ",".join(scopes), f"scopes must be among {', '.join(SCOPES)}")
    prefix = secrets.token_hex(4)
    key = f"ek_{prefix}_{secrets.token_urlsafe(32)}"
    conn.execute(insert(api_key).values(name=name.strip(), prefix=prefix, key_hash=_hash(key), scopes=list(scopes),
                                        owner=owner, created_at=datetime.now(UTC), expires_at=expires_at,
                                        user_id=user_id))
    return key


def lookup_key(conn: Connection, key: str, *, touch: bool = True) -> ApiKey | None:
    """The key's record if the key is genuine, not expired and not revoked (any scope); else None.
    ``last_used_at`` is refreshed at most once a minute (no write per request) when ``touch`` — then ``conn``
    must be a write transaction (:func:`ecohub.store.tx.write_tx`); read-only callers pass ``touch=False`` and
    call :func:`touch_key` afterwards."""
    parts = key.split("_") if isinstance(key, str) and key else []
    if len(parts) < 3 or parts[0] != "ek" or len(parts[1]) > 16:
        return None
    row = conn.execute(select(api_key).where(api_key.c.prefix == parts[1])).mappings().first()
    if row is None or not hmac.compare_digest(row["key_hash"], _hash(key)):
        return None
    now = datetime.now(UTC)
    if row["revoked_at"] is not None or (row["expires_at"] is not None and row["expires_at"] <= now):
        return None
    if touch and _stale(row["last_used_at"], now):
        conn.execute(update(api_key).where(api_key.c.id == row["id"]).values(last_used_at=now))
    return ApiKey(row["id"], row["name"], row["prefix"], tuple(row["scopes"]), row["owner"], row["user_id"])


def _stale(last_used: datetime | None, now: datetime) -> bool:
    return last_used is None or (now - last_used).total_seconds() >= TOUCH_EVERY


def touch_key(store: Store, prefix: str) -> bool:
    """Refresh ``last_used_at`` of the key ``prefix`` if it is older than a minute, in a write transaction of
    its own, only when needed (a read of the row first). Best effort: True if the row was updated."""
    now = datetime.now(UTC)
    with store.engine.connect() as conn:
        last = conn.scalar(select(api_key.c.last_used_at).where(api_key.c.prefix == prefix))
    if not _stale(last, now):
        return False
    with write_tx(store) as conn:
        cutoff = now - timedelta(seconds=TOUCH_EVERY)
        r = conn.execute(update(api_key).where(api_key.c.prefix == prefix, or_(
            api_key.c.last_used_at.is_(None), api_key.c.last_used_at <= cutoff)).values(last_used_at=now))
        return r.rowcount == 1


def verify_key(conn: Connection, key: str, scope: str, *, touch: bool = True) -> ApiKey | None:
    """The key's record if the key is genuine, not expired, not revoked and has ``scope``; else None."""
    k = lookup_key(conn, key, touch=touch)
    if k is None or scope not in k.scopes:
        return None
    return k


def revoke_key(conn: Connection, prefix: str, user_id: int | None = None) -> bool:
    """Revoke a key by prefix (only a key of ``user_id`` when given). True if a live key was revoked."""
    q = update(api_key).where(api_key.c.prefix == prefix, api_key.c.revoked_at.is_(None))
    if user_id is not None:
        q = q.where(api_key.c.user_id == user_id)
    r = conn.execute(q.values(revoked_at=datetime.now(UTC)))
    return r.rowcount == 1


def list_keys(conn: Connection, user_id: int | None = None) -> list[dict]:
    """Keys (never their hashes), newest first; only ``user_id``'s when given."""
    cols = [api_key.c[c] for c in ("id", "name", "prefix", "scopes", "owner", "user_id", "created_at",
                                   "expires_at", "revoked_at", "last_used_at")]
    q = select(*cols).order_by(api_key.c.id.desc())
    if user_id is not None:
        q = q.where(api_key.c.user_id == user_id)
    return [dict(r) for r in conn.execute(q).mappings()]
