"""Key files: the platform's SM2 signing keys (a folder) and the SM4 key ring for personal data (one file).

SM2 platform keys, in ``<keys dir>/sm2/``:

* ``<key id>.pub`` — public key, PEM (SubjectPublicKeyInfo, the SM2 curve OID), kept for ever so that old
  signatures stay verifiable;
* ``<key id>.key`` — private key, PEM (SEC 1), mode 0600; only the current key keeps its private file after a
  rotation (the retired ones are deleted: they sign nothing any more);
* ``current`` — the id of the signing key.

A key id is ``sm2-`` + the first 16 hex digits of SM3(04 || x || y) (:func:`ecohub.crypto.sm2.key_fingerprint`).
Detached signatures (``FILE.sig``) are JSON: algorithm, key id, user id, SM3 of the file, the DER signature
(base64) — :func:`sign_bytes` / :func:`verify_detached`.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import sm2
from .sm3 import sm3_hex
from .sm4 import KeyRing

__all__ = ["PlatformKeys", "SignatureFileError", "sign_bytes", "verify_detached", "load_ring", "save_ring"]

ALG = "SM2-with-SM3"


class SignatureFileError(ValueError):
    """A .sig file that cannot be read, or names a key we do not have."""


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)


@dataclass(frozen=True)
class PlatformKeys:
    """The platform's SM2 keys in a folder."""

    folder: Path

    @property
    def _dir(self) -> Path:
        return self.folder / "sm2"

    def current_id(self) -> str | None:
        p = self._dir / "current"
        return p.read_text(encoding="ascii").strip() if p.exists() else None

    def generate(self) -> str:
        """A new key pair, made the signing key; returns its id. (Rotation is the same step while one exists.)"""
        priv, pub = sm2.generate_keypair()
        kid = "sm2-" + sm2.key_fingerprint(pub)
        self._dir.mkdir(parents=True, exist_ok=True)
        (self._dir / f"{kid}.pub").write_text(sm2.public_to_pem(pub), encoding="ascii")
        _write_private(self._dir / f"{kid}.key", sm2.private_to_pem(priv))
        old = self.current_id()
        (self._dir / "current").write_text(kid + "\n", encoding="ascii")
        if old and old != kid:
            (self._dir / f"{old}.key").unlink(missing_ok=True)
        return kid

    def public_keys(self) -> list[dict]:
        """Every public key (the current one first, then by creation): id, hex, PEM, created (file time), current."""
        cur = self.current_id()
        out = []
        for p in sorted(self._dir.glob("sm2-*.pub")) if self._dir.exists() else []:
            pem = p.read_text(encoding="ascii")
            out.append({"key_id": p.stem, "public_hex": sm2.public_from_pem(pem), "pem": pem,
                        "created": datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat(timespec="seconds"),
                        "current": p.stem == cur, "algorithm": ALG,
                        "user_id": sm2.DEFAULT_USER_ID.decode()})
        out.sort(key=lambda k: (not k["current"], k["created"]), reverse=False)
        return out

    def public(self, kid: str) -> str | None:
        p = self._dir / f"{kid}.pub"
        return sm2.public_from_pem(p.read_text(encoding="ascii")) if p.exists() else None

    def signer(self) -> tuple[str, str] | None:
        """(key id, private hex) of the signing key, None when no key was generated."""
        kid = self.current_id()
        if kid is None or not (self._dir / f"{kid}.key").exists():
            return None
        return kid, sm2.private_from_pem((self._dir / f"{kid}.key").read_text(encoding="ascii"))


def _chunking(size: int) -> int:
    """Chunk size for the locating hints: 4 KiB, or larger so that a file has at most 1024 chunks."""
    c = 4096
    while size > c * 1024:
        c *= 2
    return c


def _chunk_hashes(data: bytes, chunk: int) -> list[str]:
    return [sm3_hex(data[i:i + chunk])[:16] for i in range(0, len(data), chunk)]


def sign_bytes(data: bytes, kid: str, private_hex: str) -> str:
    """The detached signature of ``data`` as the text of a ``.sig`` file. Besides the SM2 signature of the whole
    file it carries the size and SM3 prefixes of its chunks: not signed, only used to say *where* a file whose
    signature fails was changed."""
    chunk = _chunking(len(data))
    return json.dumps({"algorithm": ALG, "key_id": kid, "user_id": sm2.DEFAULT_USER_ID.decode(),
                       "sm3": sm3_hex(data), "signature": base64.b64encode(sm2.sign(private_hex, data)).decode(),
                       "size": len(data), "chunk_size": chunk, "chunks": _chunk_hashes(data, chunk)},
                      indent=1) + "\n"


def locate_change(data: bytes, sig: dict) -> str | None:
    """Where ``data`` differs from the signed file, from the .sig's chunk hints: a byte range and the line it
    starts on; None without hints."""
    chunk, hints = sig.get("chunk_size"), sig.get("chunks")
    if not isinstance(chunk, int) or chunk <= 0 or not isinstance(hints, list):
        return None
    now = _chunk_hashes(data, chunk)
    for i, (a, b) in enumerate(zip(now, hints, strict=False)):
        if a != b:
            start = i * chunk
            line = data.count(b"\n", 0, start) + 1
            return f"first difference in bytes {start}-{min(start + chunk, len(data)) - 1} (from line {line})"
    if len(data) != sig.get("size"):
        return f"the size changed: {sig.get('size')} bytes signed, {len(data)} now"
    return None


def verify_detached(data: bytes, sig_text: str, public_of: dict[str, str] | None = None,
                    public_hex: str | None = None) -> tuple[bool, str]:
    """Check ``data`` against a ``.sig`` text with ``public_hex``, or the key its ``key_id`` names in
    ``public_of``. Returns (ok, what): what names the key, or says why the check fails."""
    try:
        sig = json.loads(sig_text)
        kid, raw = str(sig["key_id"]), base64.b64decode(sig["signature"], validate=True)
        uid = str(sig.get("user_id") or sm2.DEFAULT_USER_ID.decode()).encode()
    except (ValueError, KeyError, TypeError):
        raise SignatureFileError("not an ecohub signature file (JSON with key_id and signature)") from None
    if sig.get("algorithm") != ALG:
        raise SignatureFileError(f"algorithm {sig.get('algorithm')!r}: only {ALG} is known")
    pub = public_hex or (public_of or {}).get(kid)
    if pub is None:
        raise SignatureFileError(f"no public key for key id {kid!r} (give it with --key)")
    if sig.get("sm3") and sig["sm3"] != sm3_hex(data):
        where = locate_change(data, sig)
        return False, f"the file was changed (its SM3 is not the signed {sig['sm3'][:16]}…)" + (
            f"; {where}" if where else "")
    if not sm2.verify(pub, data, raw, user_id=uid):
        return False, f"the signature does not verify with key {kid}"
    return True, kid


def load_ring(inline: str | None, path: Path | None) -> KeyRing | None:
    """The SM4 key ring: the key file's keys plus the inline setting's (inline last: it is current when given)."""
    text = ""
    if path is not None and path.exists():
        text = path.read_text(encoding="ascii")
    if inline:
        text += "\n" + inline.replace(",", "\n")
    return KeyRing.parse(text) if text.strip() else None


def save_ring(ring: KeyRing, path: Path) -> None:
    _write_private(path, "# ecohub SM4 key ring for personal data: '<id> <hex>', the last line encrypts\n" + ring.dump())
