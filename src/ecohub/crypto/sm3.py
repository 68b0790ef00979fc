"""SM3 cryptographic hash, GB/T 32905-2016 (256-bit digest, 512-bit block).

The digest comes from OpenSSL through :mod:`hashlib` (``hashlib.new("sm3")``, OpenSSL >= 1.1.1) — the fastest
path, used for the audit and raw-data hash chains — and falls back to ``gmssl``'s pure-Python SM3 where the
local OpenSSL was built without it.  ``tests/crypto/test_sm3.py`` checks both against the standard's Appendix
A examples.  :func:`hmac_sm3` is HMAC (RFC 2104 / GB/T 15852.2-2012 MAC algorithm 2 structure) over SM3.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

__all__ = ["sm3_digest", "sm3_hex", "hmac_sm3", "BACKEND", "DIGEST_SIZE", "BLOCK_SIZE"]

DIGEST_SIZE = 32
BLOCK_SIZE = 64


def _py_digest(data: bytes) -> bytes:
    from gmssl import func, sm3  # type: ignore[import-untyped]

    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


_digest: Callable[[bytes], bytes]
try:
    hashlib.new("sm3", b"abc")

    def _openssl_digest(data: bytes) -> bytes:
        return hashlib.new("sm3", data).digest()

    _digest = _openssl_digest
    BACKEND = "openssl"
except ValueError:  # OpenSSL without SM3
    _digest = _py_digest
    BACKEND = "gmssl"


def sm3_digest(data: bytes) -> bytes:
    """The 32-byte SM3 digest of ``data`` (GB/T 32905-2016 §5)."""
    return _digest(bytes(data))


def sm3_hex(data: bytes) -> str:
    """:func:`sm3_digest` as 64 lower-case hex digits."""
    return _digest(bytes(data)).hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 (RFC 2104 with H = SM3, B = 64, L = 32): ``H((K ^ opad) || H((K ^ ipad) || data))``."""
    if len(key) > BLOCK_SIZE:
        key = _digest(key)
    key = key.ljust(BLOCK_SIZE, b"\0")
    inner = _digest(bytes(k ^ 0x36 for k in key) + data)
    return _digest(bytes(k ^ 0x5C for k in key) + inner)
