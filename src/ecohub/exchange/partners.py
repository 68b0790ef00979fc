"""Exchange partners (other departments, other provinces, the national platform): who they are, how batches to
and from them are signed, whose catalogue grants apply to what is pushed to them, which datasets they take
(subscriptions) and which they may push to us (``incoming``)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import insert, select, update

from ecohub.catalog.service import Requester
from ecohub.crypto import sm2
from ecohub.domain.errors import InputError, NotFound
from ecohub.exchange.signing import Signer
from ecohub.store.db import Store
from ecohub.store.schema_catalog import dataset
from ecohub.store.schema_exchange import partner, partner_subscription
from ecohub.store.schema_identity import app_user
from ecohub.store.tx import write_tx

__all__ = ["ALGS", "add_partner", "get_partner", "list_partners", "partner_by_key", "requester_for", "signer_for",
           "subscribe", "subscriptions"]

ALGS = ("hmac-sha256", "sm2")
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_HEX = re.compile(r"[0-9a-fA-F]+")


def _check_endpoint(url: str | None) -> str | None:
    if url is None:
        return None
    u = urlparse(url)
    if u.scheme not in ("https", "http") or not u.netloc:
        raise InputError("endpoint", url, "must be an https:// (or http:// for a local test) URL")
    return url


def add_partner(store: Store, name: str, *, alg: str = "hmac-sha256", endpoint: str | None = None,
                user: str | None = None, department: str | None = None, incoming: list[str] | None = None,
                partner_public: str | None = None, secret: str | None = None) -> dict[str, Any]:
    """Add a partner. hmac-sha256: a 256-bit shared secret is generated (or given, hex) and shown once; sm2: an
    SM2 key pair is generated for signing what we send (its public key goes to the partner), and the partner's
    public key (``partner_public``) verifies what it sends. ``user``: the account whose catalogue grants and
    masking apply to pushes (a partner account); ``incoming``: dataset codes it may push to us."""
    if not _NAME.fullmatch(name or ""):
        raise InputError("name", name, "must be 1-64 letters, digits, '.', '_' or '-'")
    if alg not in ALGS:
        raise InputError("alg", alg, f"must be one of {', '.join(ALGS)}")
    if secret is not None and (not _HEX.fullmatch(secret) or len(secret) < 32 or len(secret) % 2):
        raise InputError("secret", "…", "must be at least 16 bytes as hex")
    if partner_public is not None and not _HEX.fullmatch(partner_public):
        raise InputError("partner_public", partner_public, "must be the SM2 public key in hex")
    row: dict[str, Any] = {"name": name, "alg": alg, "endpoint": _check_endpoint(endpoint), "department": department,
                           "key_id": f"{name}-{secrets.token_hex(4)}", "incoming": sorted(set(incoming or [])) or None,
                           "enabled": True, "created_at": datetime.now(UTC)}
    if alg == "hmac-sha256":
        row["secret"] = secret or secrets.token_hex(32)
    else:
        row["sign_private"], row["sign_public"] = sm2.generate_keypair()
        row["partner_public"] = partner_public
    with write_tx(store) as conn:
        if conn.scalar(select(partner.c.id).where(partner.c.name == name)) is not None:
            raise InputError("name", name, "a partner with this name exists")
        if user is not None:
            uid = conn.scalar(select(app_user.c.id).where(app_user.c.name == user))
            if uid is None:
                raise InputError("user", user, "no such user")
            row["user_id"] = uid
        for code in row["incoming"] or []:
            if conn.scalar(select(dataset.c.id).where(dataset.c.code == code)) is None:
                raise InputError("incoming", code, "no dataset with this code")
        conn.execute(insert(partner).values(**row))
    return get_partner(store, name)


def get_partner(store: Store, name: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        r = conn.execute(select(partner).where(partner.c.name == name)).mappings().first()
    if r is None:
        raise NotFound(f"no partner {name!r}")
    return dict(r)


def partner_by_key(store: Store, key_id: str) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(partner).where(partner.c.key_id == key_id, partner.c.enabled.is_(True))
                         ).mappings().first()
    return dict(r) if r else None


def public_view(p: dict[str, Any]) -> dict[str, Any]:
    """A partner without its secrets (our private key, the shared secret)."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in p.items()
            if k not in ("secret", "sign_private")}


def list_partners(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [public_view(dict(r)) for r in conn.execute(select(partner).order_by(partner.c.id)).mappings()]


def signer_for(p: dict[str, Any]) -> Signer:
    """How we sign what we send to ``p``."""
    return Signer(p["key_id"], p["alg"], secret=p.get("secret"), private=p.get("sign_private"))


def requester_for(store: Store, p: dict[str, Any]) -> Requester:
    """The catalogue caller a push to ``p`` acts as: its user account (role, grants, department), or an
    ungranted partner when it has none."""
    if p.get("user_id") is None:
        return Requester("partner", None, f"partner:{p['name']}", p.get("department"))
    with store.engine.connect() as conn:
        u = conn.execute(select(app_user.c.id, app_user.c.name, app_user.c.role, app_user.c.department)
                         .where(app_user.c.id == p["user_id"])).first()
    if u is None:
        raise NotFound(f"the user of partner {p['name']!r} is gone")
    return Requester(u.role, u.id, u.name, u.department)


def subscribe(store: Store, partner_name: str, dataset_code: str, *, enabled: bool = True) -> dict[str, Any]:
    """Subscribe (or re-enable/disable) a partner to a dataset: its deltas are pushed from now on, starting with
    what the dataset already holds."""
    p = get_partner(store, partner_name)
    if p["endpoint"] is None:
        raise InputError("endpoint", None, f"partner {partner_name} has no endpoint to push to")
    with write_tx(store) as conn:
        ds = conn.scalar(select(dataset.c.id).where(dataset.c.code == dataset_code))
        if ds is None:
            raise InputError("dataset", dataset_code, "no dataset with this code")
        have = conn.scalar(select(partner_subscription.c.id).where(
            partner_subscription.c.partner_id == p["id"], partner_subscription.c.dataset_id == ds))
        if have is None:
            conn.execute(insert(partner_subscription).values(partner_id=p["id"], dataset_id=ds, enabled=enabled,
                                                             created_at=datetime.now(UTC)))
        else:
            conn.execute(update(partner_subscription).where(partner_subscription.c.id == have)
                         .values(enabled=enabled))
    return next(s for s in subscriptions(store, partner_name) if s["dataset"] == dataset_code)


def subscriptions(store: Store, partner_name: str | None = None) -> list[dict[str, Any]]:
    s, p, d = partner_subscription, partner, dataset
    q = (select(s.c.id, p.c.name.label("partner"), d.c.code.label("dataset"), s.c.dataset_id, s.c.partner_id,
                s.c.cursor, s.c.enabled, s.c.pushed_at)
         .select_from(s.join(p, p.c.id == s.c.partner_id).join(d, d.c.id == s.c.dataset_id)).order_by(s.c.id))
    if partner_name is not None:
        q = q.where(p.c.name == partner_name)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
