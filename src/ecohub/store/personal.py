"""Personal data at rest (issue 19 item 5): SM4-encrypted fields, their blind index, masking, key rotation.

Which fields: :data:`FIELDS` — the complainant's phone and address (``complaint``). (ecohub keeps no names of
complainants and no phone numbers of users: ``app_user`` has no such column.)

The key ring comes from the settings (``ECOHUB_PII_KEY`` and/or the key file ``ECOHUB_PII_KEY_FILE``, default
``<keys dir>/pii.keys``; :func:`ecohub.crypto.keyfile.load_ring`). With a ring, :func:`seal` writes
``sm4:1:<key id>:…`` values (SM4-CBC + HMAC-SM3, :class:`ecohub.crypto.sm4.KeyRing`); without one, values are
stored as given (and a later ``ecohub crypto rotate-key`` encrypts them). :func:`unseal` reads both forms.
Services decrypt only for the roles allowed to see a field and mask it for everyone else.

The phone is searchable through ``phone_bidx`` = HMAC-SM3 of its digits under the ring's current index key;
:func:`rotate` re-encrypts every value not under the current key (plaintext included) and recomputes the index.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from ecohub.crypto.keyfile import load_ring, save_ring
from ecohub.crypto.sm4 import FieldError, KeyRing, is_encrypted, key_id_of
from ecohub.store.db import Store
from ecohub.store.schema_supervision import complaint
from ecohub.store.tx import write_tx

#: table -> (encrypted columns, {value column: its blind-index column})
FIELDS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {"complaint": (("phone", "address"), {"phone": "phone_bidx"})}
UNREADABLE = "[encrypted]"
_cache: dict[tuple, KeyRing | None] = {}


def _settings() -> tuple[str | None, Path]:
    from ecohub.config import Settings

    s = Settings.from_env()
    return (s.pii_key.get_secret_value() if s.pii_key else None), s.pii_key_path


def ring() -> KeyRing | None:
    """The configured SM4 key ring (cached while the setting and the key file are unchanged), None when none
    is configured. A malformed key is an error (ValueError naming it), never a silent plaintext fallback."""
    inline, path = _settings()
    stamp = path.stat().st_mtime_ns if path.exists() else None
    key = (inline, str(path), stamp)
    if key not in _cache:
        try:
            _cache.clear()
            _cache[key] = load_ring(inline, path)
        except ValueError as e:
            raise ValueError(f"SM4 personal-data key ({'ECOHUB_PII_KEY' if inline else path}): {e}") from None
    return _cache[key]


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


def seal(value: str | None, r: KeyRing | None = None) -> str | None:
    """The value as stored: encrypted under the current key when a ring is configured."""
    if value is None:
        return None
    r = r if r is not None else ring()
    return r.encrypt(value) if r is not None else value


def unseal(value: str | None, r: KeyRing | None = None) -> str | None:
    """The clear value (plaintext rows pass through); :data:`UNREADABLE` when the key is missing or the value
    was changed — the page still shows, the field does not."""
    if value is None or not is_encrypted(value):
        return value
    r = r if r is not None else ring()
    if r is None:
        return UNREADABLE
    try:
        return r.decrypt(value)
    except FieldError:
        return UNREADABLE


def phone_index(phone: str | None, r: KeyRing | None = None) -> str | None:
    """The blind index of a phone (HMAC-SM3 of its digits), None without a ring or a phone."""
    r = r if r is not None else ring()
    if r is None or not phone:
        return None
    return r.blind_index(phone, digits)


def mask_phone(phone: str | None) -> str | None:
    """``138****5678``: the first 3 and last 4 digits."""
    if not phone:
        return None
    if len(phone) <= 4:
        return "*" * len(phone)
    return phone[:3] + "*" * max(1, len(phone) - 7) + phone[-4:]


def mask_address(address: str | None) -> str | None:
    """The first 6 characters (province/city/district as written) and ``***``."""
    if not address:
        return address
    s = address.strip()
    return (s[:6] if len(s) > 8 else s[:2]) + "***"


def rotate(store: Store, *, new_key: bool = True, batch: int = 500) -> dict[str, Any]:
    """Key rotation: with ``new_key``, add a new current key to the key file (the first one when there is none)
    — not possible while ``ECOHUB_PII_KEY`` is set (put the new key last there and rotate with
    ``new_key=False``); then re-encrypt every personal field not under the current key, plaintext included,
    and recompute the blind indexes. Old keys stay in the ring. Returns counts."""
    inline, path = _settings()
    if new_key:
        if inline:
            raise ValueError("ECOHUB_PII_KEY is set: add the new key at its end ('old:hex,new:hex') and re-encrypt "
                             "with --reencrypt-only (or move the keys to the key file)")
        old = load_ring(None, path)
        save_ring(old.with_new_key() if old is not None else KeyRing.single(secrets.token_bytes(16)), path)
        _cache.clear()
    cur = ring()
    if cur is None:
        raise ValueError(f"no SM4 key: set ECOHUB_PII_KEY or create {path} (ecohub crypto rotate-key)")
    counts: dict[str, Any] = {"key_id": cur.current, "key_file": None if inline else str(path), "rows": 0,
                              "values": 0}
    table = complaint
    cols, bidx = FIELDS["complaint"]
    last = 0
    while True:
        with write_tx(store) as conn:
            rows = conn.execute(select(table.c.id, *[table.c[c] for c in cols]).where(table.c.id > last)
                                .order_by(table.c.id).limit(batch)).mappings().all()
            if not rows:
                break
            for r in rows:
                vals: dict[str, Any] = {}
                for c in cols:
                    v = r[c]
                    if v is None or (is_encrypted(v) and key_id_of(v) == cur.current):
                        continue
                    clear = cur.decrypt(v) if is_encrypted(v) else v  # FieldError: a value no key reads
                    vals[c] = cur.encrypt(clear)
                    if c in bidx:
                        vals[bidx[c]] = cur.blind_index(clear, digits)
                if vals:
                    conn.execute(update(table).where(table.c.id == r["id"]).values(**vals))
                    counts["rows"] += 1
                    counts["values"] += sum(1 for c in vals if c in cols)
            last = rows[-1]["id"]
    return counts
