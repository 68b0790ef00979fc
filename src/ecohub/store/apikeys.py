"""API keys for machine clients (partner systems pushing data, scripts).

A key is ``ek_<prefix>_<secret>``: 8 random characters of prefix (stored in clear, to find the row and to
show people which key is which) and 32 random bytes of secret. Only the SHA-256 of the whole key is stored
— keys are 256-bit random, so a slow password hash adds nothing but latency on every request. Keys can
expire and be revoked; the check takes constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ecohub.domain.errors import InputError
from ecohub.store.schema import api_key

SCOPES = ("ingest", "read", "admin")


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    owner: str | None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: Connection, name: str, scopes: list[str], owner: str | None = None,
               expires_at: datetime | None = None) -> str:
    """Create a key and return it — the only time the full key is ever shown."""
    if not name.strip():
        raise InputError("name", name, "an API key needs a name")
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise InputError("scopes", ",".join(scopes), f"scopes must be among {', '.join(SCOPES)}")
    prefix = secrets.token_hex(4)
    key = f"ek_{prefix}_{secrets.token_urlsafe(32)}"
    conn.execute(insert(api_key).values(name=name.strip(), prefix=prefix, key_hash=_hash(key), scopes=list(scopes),
                                        owner=owner, created_at=datetime.now(UTC), expires_at=expires_at))
    return key


def verify_key(conn: Connection, key: str, scope: str) -> ApiKey | None:
    """The key's record if the key is genuine, not expired, not revoked and has ``scope``; else None."""
    parts = key.split("_") if key else []
    if len(parts) < 3 or parts[0] != "ek":
        return None
    row = conn.execute(select(api_key).where(api_key.c.prefix == parts[1])).mappings().first()
    if row is None or not hmac.compare_digest(row["key_hash"], _hash(key)):
        return None
    now = datetime.now(UTC)
    if row["revoked_at"] is not None or (row["expires_at"] is not None and row["expires_at"] <= now):
        return None
    if scope not in row["scopes"]:
        return None
    conn.execute(update(api_key).where(api_key.c.id == row["id"]).values(last_used_at=now))
    return ApiKey(row["id"], row["name"], row["prefix"], tuple(row["scopes"]), row["owner"])


def revoke_key(conn: Connection, prefix: str) -> bool:
    r = conn.execute(update(api_key).where(api_key.c.prefix == prefix, api_key.c.revoked_at.is_(None))
                     .values(revoked_at=datetime.now(UTC)))
    return r.rowcount == 1
