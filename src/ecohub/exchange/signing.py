"""Signed exchange batches: canonical rows, their hash, the request signature and its headers (docs/exchange.md).

A batch request carries::

    X-Ecohub-Key-Id:         the key id (``partner.key_id``)
    X-Ecohub-Batch-Id:       the batch id — the idempotency key
    X-Ecohub-Timestamp:      Unix seconds (a request more than ``MAX_SKEW`` off is refused)
    X-Ecohub-Signature-Alg:  hmac-sha256 | sm2
    X-Ecohub-Content-Digest: sha256=<hex> (hmac-sha256) | sm3=<hex> (sm2) of the request body
    X-Ecohub-Signature:      base64 of the signature of the string to sign

String to sign (UTF-8, lines joined by LF)::

    ECOHUB-EXCHANGE-1
    <METHOD>
    <path>
    <timestamp>
    <batch id>
    <key id>
    <content digest header value>

HMAC-SHA256 (RFC 2104) with the shared secret (hex-decoded); SM2 (GB/T 32918, via :mod:`ecohub.crypto.sm2`)
with the sender's private key, verified with its public key. The batch body holds ``rows_hash``: SHA-256
(hmac partners) or SM3 (GB/T 32905; sm2 partners) of the canonical rows — JSON, keys sorted, no blanks,
UTF-8 (``ensure_ascii=False``) — which both sides keep in their exchange log and reconcile. SM2 signatures are
DER ``SEQUENCE {r, s}`` with the default user id of GB/T 32918 (``1234567812345678``), as
:func:`ecohub.crypto.sm2.sign` makes them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecohub.crypto import sm2
from ecohub.crypto.sm3 import sm3_hex

__all__ = ["HEADERS", "MAX_SKEW", "SignatureError", "Signer", "canonical_rows", "digest", "string_to_sign",
           "verify_request"]

MAX_SKEW = 300  # s
PREFIX = "ECOHUB-EXCHANGE-1"
HEADERS = ("X-Ecohub-Key-Id", "X-Ecohub-Batch-Id", "X-Ecohub-Timestamp", "X-Ecohub-Signature-Alg",
           "X-Ecohub-Content-Digest", "X-Ecohub-Signature")
HASH_OF = {"hmac-sha256": "sha256", "sm2": "sm3"}


class SignatureError(Exception):
    """A request whose signature, digest, key or time does not check out (the message says which)."""


def canonical_rows(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def digest(alg: str, data: bytes) -> str:
    """Hex digest: ``sha256`` (hashlib) or ``sm3`` (:mod:`ecohub.crypto.sm3`, GB/T 32905)."""
    if alg == "sha256":
        return hashlib.sha256(data).hexdigest()
    if alg == "sm3":
        return sm3_hex(data)
    raise ValueError(f"unknown hash {alg!r}")


def string_to_sign(method: str, path: str, timestamp: str, batch_id: str, key_id: str, content_digest: str) -> bytes:
    return "\n".join((PREFIX, method.upper(), path, timestamp, batch_id, key_id, content_digest)).encode()


@dataclass(frozen=True)
class Signer:
    """One side's signing material: ``alg`` hmac-sha256 (``secret`` hex) or sm2 (``private`` hex)."""

    key_id: str
    alg: str
    secret: str | None = None
    private: str | None = None

    def headers(self, method: str, path: str, batch_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
        ts = str(int(now if now is not None else time.time()))
        h = HASH_OF[self.alg]
        cd = f"{h}={digest(h, body)}"
        msg = string_to_sign(method, path, ts, batch_id, self.key_id, cd)
        if self.alg == "hmac-sha256":
            assert self.secret is not None
            sig = hmac.new(bytes.fromhex(self.secret), msg, hashlib.sha256).digest()
        else:
            assert self.private is not None
            sig = sm2.sign(self.private, msg)
        return {"X-Ecohub-Key-Id": self.key_id, "X-Ecohub-Batch-Id": batch_id, "X-Ecohub-Timestamp": ts,
                "X-Ecohub-Signature-Alg": self.alg, "X-Ecohub-Content-Digest": cd,
                "X-Ecohub-Signature": base64.b64encode(sig).decode()}


def verify_request(headers: Mapping[str, str], method: str, path: str, body: bytes, *, alg: str,
                   secret: str | None = None, public: str | None = None, now: float | None = None) -> str:
    """Check a signed request against the sender's key (``secret`` for hmac-sha256, ``public`` for sm2); returns
    the batch id. Raises :class:`SignatureError` naming what is wrong."""
    get = {k.lower(): v for k, v in headers.items()}.get
    missing = [h for h in HEADERS if not get(h.lower())]
    if missing:
        raise SignatureError(f"missing header(s) {', '.join(missing)}")
    if get("x-ecohub-signature-alg") != alg:
        raise SignatureError(f"X-Ecohub-Signature-Alg={get('x-ecohub-signature-alg')!r}: this key signs with {alg}")
    ts = get("x-ecohub-timestamp") or ""
    if not ts.isdigit() or abs(int(ts) - (now if now is not None else time.time())) > MAX_SKEW:
        raise SignatureError(f"X-Ecohub-Timestamp={ts!r} is not within {MAX_SKEW} s of now (replayed or a wrong clock)")
    h = HASH_OF[alg]
    cd = get("x-ecohub-content-digest") or ""
    if cd != f"{h}={digest(h, body)}":
        raise SignatureError(f"X-Ecohub-Content-Digest does not match the body ({h}): the body was changed")
    batch_id = get("x-ecohub-batch-id") or ""
    msg = string_to_sign(method, path, ts, batch_id, get("x-ecohub-key-id") or "", cd)
    try:
        sig = base64.b64decode(get("x-ecohub-signature") or "", validate=True)
    except ValueError:
        raise SignatureError("X-Ecohub-Signature is not base64") from None
    if alg == "hmac-sha256":
        if secret is None:
            raise SignatureError("no shared secret for this key")
        ok = hmac.compare_digest(sig, hmac.new(bytes.fromhex(secret), msg, hashlib.sha256).digest())
    else:
        if public is None:
            raise SignatureError("no SM2 public key for this key")
        ok = bool(sm2.verify(public, msg, sig))
    if not ok:
        raise SignatureError("the signature does not verify with the key of X-Ecohub-Key-Id")
    return batch_id
