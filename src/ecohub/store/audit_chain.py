"""The audit log as an SM3 hash chain (issue 19 item 3): tamper-evident, not only append-only.

Each row written by :func:`ecohub.store.audit.record` carries

* ``chain_seq`` — its place in the chain (0 is the genesis anchor written by migration 0016),
* ``prev_hash`` — the ``row_hash`` of the row before it,
* ``row_hash`` = SM3(prev_hash || canonical(row)) (GB/T 32905-2016), hex.

canonical(row) is the UTF-8 of a JSON array in a fixed order — chain_seq, at (integer UTC epoch seconds: what
SQLite keeps), actor, actor_role, action, target, method, path, status, ip, detail (its JSON with sorted keys) —
so the same row always gives the same bytes on both backends.  Every :data:`ANCHOR_EVERY` rows an anchor row
(action ``chain_anchor``) records the head (seq and hash) so that an operator can note or publish it; the genesis
anchor also carries SM3 over the rows written before the chain existed (``legacy_rows``, ``legacy_sm3``), so
those are covered too.

Writers take the chain's lock before reading the head: SQLite's write transactions (``write_tx``, BEGIN
IMMEDIATE) already hold the one write lock, and a stale deferred reader cannot commit there (SQLITE_BUSY);
PostgreSQL takes a transaction-level advisory lock (:data:`LOCK_KEY`), so concurrent writers append one after
the other and the ids (taken from the sequence under the lock) follow the chain.

:func:`verify` walks the chain in id order and names the first broken row: a changed row (its hash does not
match), a deleted row (a gap in ``chain_seq`` / a ``prev_hash`` that is not the previous row's hash), a row
inserted around the chain.  What it cannot see: the newest rows deleted together with nothing after them
(compare the head it prints with a noted anchor), or a rewrite of the whole chain by someone with write access
to the database (the hashes are not keyed; see docs/crypto.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection

from ecohub.crypto.sm3 import sm3_hex
from ecohub.store.schema_identity import audit_log

ZERO = "0" * 64
ANCHOR_EVERY = 1000
ANCHOR_ACTION = "chain_anchor"
LOCK_KEY = 0x45434F415544  # "ECOAUD": pg_advisory_xact_lock key of the audit chain
FIELDS = ("at", "actor", "actor_role", "action", "target", "method", "path", "status", "ip", "detail")
_PAGE = 5000
#: the columns read (explicit, so that migration 0016 still reads them after later migrations add columns)
_COLS = [audit_log.c[k] for k in ("id", *FIELDS, "chain_seq", "prev_hash", "row_hash")]


def _epoch(at: Any) -> int | None:
    if at is None:
        return None
    if isinstance(at, datetime):
        return int(at.timestamp())
    return int(at)


def canonical(seq: int | None, row: dict[str, Any]) -> bytes:
    """The bytes hashed for one row (see the module text)."""
    vals: list[Any] = [seq, _epoch(row.get("at"))]
    vals += [row.get(k) for k in FIELDS[1:]]
    return json.dumps(vals, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def row_hash(prev_hash: str, seq: int | None, row: dict[str, Any]) -> str:
    return sm3_hex(bytes.fromhex(prev_hash) + canonical(seq, row))


def lock(conn: Connection) -> None:
    """The chain's lock, held until the transaction ends (PostgreSQL; SQLite writes are serialised anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def head(conn: Connection) -> tuple[int, str] | None:
    """(seq, hash) of the newest chained row, None before the genesis anchor."""
    r = conn.execute(select(audit_log.c.chain_seq, audit_log.c.row_hash).where(audit_log.c.chain_seq.is_not(None))
                     .order_by(audit_log.c.id.desc()).limit(1)).first()
    return None if r is None else (int(r[0]), str(r[1]))


def append(conn: Connection, values: dict[str, Any]) -> None:
    """Insert an audit row linked to the chain (and an anchor row when one is due), under the chain's lock."""
    lock(conn)
    h = head(conn)
    if h is None:
        h = genesis(conn)
    seq, prev = h[0] + 1, h[1]
    digest = row_hash(prev, seq, values)
    conn.execute(insert(audit_log).values(**values, chain_seq=seq, prev_hash=prev, row_hash=digest))
    if seq % ANCHOR_EVERY == ANCHOR_EVERY - 1:
        anchor = {"at": values["at"], "actor": "system", "actor_role": None, "action": ANCHOR_ACTION,
                  "target": None, "method": None, "path": None, "status": None, "ip": None,
                  "detail": {"head_seq": seq, "head_hash": digest, **_sign_anchor(seq, digest)}}
        conn.execute(insert(audit_log).values(**anchor, chain_seq=seq + 1, prev_hash=digest,
                                              row_hash=row_hash(digest, seq + 1, anchor)))


def _anchor_message(seq: int, digest: str) -> bytes:
    return f"ecohub-audit-anchor|{seq}|{digest}".encode()


def _keys() -> Any:
    from ecohub.config import Settings
    from ecohub.crypto.keyfile import PlatformKeys

    s = Settings.from_env()
    return PlatformKeys(s.keys_dir or s.data_dir / "keys")


def _sign_anchor(seq: int, digest: str) -> dict[str, str]:
    """The platform's SM2 signature of an anchor's head (key id and base64 DER), {} without a platform key.
    A keyed seal: rewriting the chain needs the private key, which is not in the database."""
    import base64

    from ecohub.crypto import sm2

    try:
        signer = _keys().signer()
    except (OSError, ValueError) as e:  # an unreadable key must not stop the audit log: the anchor stays unsigned
        import logging

        logging.getLogger("ecohub.store").warning("audit anchor not signed: platform key unreadable (%s)", e)
        return {}
    if signer is None:
        return {}
    return {"key_id": signer[0], "sig": base64.b64encode(sm2.sign(signer[1], _anchor_message(seq, digest))).decode()}


def _legacy(conn: Connection, upto_id: int | None = None) -> tuple[int, str]:
    """(count, SM3 chain head) over the unchained rows (before the genesis anchor), in id order."""
    acc, n = ZERO, 0
    last = 0
    while True:
        q = select(*_COLS).where(audit_log.c.id > last, audit_log.c.chain_seq.is_(None)).order_by(audit_log.c.id)
        if upto_id is not None:
            q = q.where(audit_log.c.id < upto_id)
        rows = conn.execute(q.limit(_PAGE)).mappings().all()
        if not rows:
            return n, acc
        for r in rows:
            acc = row_hash(acc, None, dict(r))
            n += 1
        last = rows[-1]["id"]


def genesis(conn: Connection, at: datetime | None = None) -> tuple[int, str]:
    """Write the genesis anchor (seq 0) covering the rows before it; returns its (seq, hash)."""
    from datetime import UTC

    lock(conn)
    existing = head(conn)
    if existing is not None:
        return existing
    n, legacy = _legacy(conn)
    row = {"at": at or datetime.now(UTC), "actor": "system", "actor_role": None, "action": ANCHOR_ACTION,
           "target": None, "method": None, "path": None, "status": None, "ip": None,
           "detail": {"genesis": True, "legacy_rows": n, "legacy_sm3": legacy}}
    digest = row_hash(ZERO, 0, row)
    conn.execute(insert(audit_log).values(**row, chain_seq=0, prev_hash=ZERO, row_hash=digest))
    return 0, digest


@dataclass
class ChainReport:
    ok: bool = True
    rows: int = 0
    legacy_rows: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    anchors: int = 0
    signed_anchors: int = 0
    broken_id: int | None = None
    broken_seq: int | None = None
    reason: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("ok", "rows", "legacy_rows", "head_seq", "head_hash", "anchors", "signed_anchors",
                                              "broken_id", "broken_seq", "reason", "problems")}


def verify(conn: Connection, max_problems: int = 20, public_of: Callable[[str], str | None] | None = None) -> ChainReport:
    """Walk the chain in id order; the first broken row is ``broken_id`` with ``reason``; up to
    ``max_problems`` are listed (after a break the walk re-synchronises on the stored hashes). ``public_of``:
    key id -> SM2 public key, to check the anchors' signatures (an unsigned anchor after a signed one is
    reported: anchors were rewritten)."""
    import base64
    import binascii

    from ecohub.crypto import sm2

    rep = ChainReport()
    total_unchained = conn.scalar(select(func.count()).select_from(audit_log).where(audit_log.c.chain_seq.is_(None)))

    def broken(r: dict[str, Any], why: str) -> None:
        if rep.ok:
            rep.ok, rep.broken_id, rep.broken_seq, rep.reason = False, r["id"], r["chain_seq"], why
        if len(rep.problems) < max_problems:
            rep.problems.append({"id": r["id"], "seq": r["chain_seq"], "reason": why})

    prev: str | None = None
    exp_seq = 0
    last = 0
    genesis_seen = False
    while True:
        rows = conn.execute(select(*_COLS).where(audit_log.c.id > last).order_by(audit_log.c.id)
                            .limit(_PAGE)).mappings().all()
        if not rows:
            break
        for m in rows:
            r = dict(m)
            last = r["id"]
            seq = r["chain_seq"]
            if seq is None:
                if genesis_seen:
                    broken(r, "row is not in the chain (inserted around the audit writer)")
                continue
            rep.rows += 1
            if not genesis_seen:
                genesis_seen = True
                d = r.get("detail") or {}
                if seq != 0 or r["prev_hash"] != ZERO or not d.get("genesis"):
                    broken(r, "the first chained row is not the genesis anchor (rows before it were deleted?)")
                else:
                    n, legacy = _legacy(conn, upto_id=r["id"])
                    rep.legacy_rows = n
                    if (n, legacy) != (d.get("legacy_rows"), d.get("legacy_sm3")):
                        broken(r, f"the {d.get('legacy_rows')} rows before the chain were changed or deleted "
                                  f"(now {n} rows, SM3 {legacy[:16]}…)")
            else:
                if seq != exp_seq:
                    what = (f"rows with seq {exp_seq}..{seq - 1} are missing (deleted)" if seq > exp_seq
                            else f"seq {seq} repeats or goes back (expected {exp_seq})")
                    broken(r, what)
                elif r["prev_hash"] != prev:
                    broken(r, "prev_hash is not the hash of the row before it (that row was changed or deleted)")
            if row_hash(r["prev_hash"] or ZERO, seq, r) != r["row_hash"]:
                broken(r, "the row was changed (its SM3 hash does not match its content)")
            if r["action"] == ANCHOR_ACTION:
                rep.anchors += 1
                d = r.get("detail") or {}
                if d.get("sig"):
                    pub = public_of(str(d.get("key_id"))) if public_of else None
                    try:
                        sig = base64.b64decode(d["sig"], validate=True)
                    except (binascii.Error, ValueError):
                        sig = b""
                    if pub is None:
                        broken(r, f"anchor signed by key {d.get('key_id')!r}, which is not a platform key")
                    elif not sm2.verify(pub, _anchor_message(int(d.get("head_seq") or -1), str(d.get("head_hash"))),
                                        sig) or \
                            d.get("head_seq") != seq - 1 or d.get("head_hash") != r["prev_hash"]:
                        broken(r, "the anchor's SM2 signature does not verify (the chain before it was rewritten)")
                    rep.signed_anchors += 1
                elif rep.signed_anchors and not d.get("genesis"):
                    broken(r, "an unsigned anchor after signed ones (anchors were rewritten?)")
            prev, exp_seq = r["row_hash"], seq + 1
            rep.head_seq, rep.head_hash = seq, r["row_hash"]
    if not genesis_seen:
        rep.legacy_rows = int(total_unchained or 0)
    return rep


def verify_store(store: Any) -> ChainReport:
    """:func:`verify` on a :class:`~ecohub.store.db.Store`, anchors checked with the platform's public keys."""
    keys = _keys()
    with store.engine.connect() as conn:
        return verify(conn, public_of=keys.public)
