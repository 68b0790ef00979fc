"""SM4 block cipher, GB/T 32907-2016 (128-bit key and block, 32 rounds), and encrypted text fields.

One implementation for the whole platform: the HJ 212-2025 codec (:mod:`ecohub.protocols.hj212.sm4`) uses
:func:`sm4_encrypt_blocks` / :func:`sm4_decrypt_blocks` from here.  The cipher is OpenSSL's through
``cryptography`` (``algorithms.SM4``) and otherwise a small pure-Python implementation of the standard
(T-tables; checked against the Appendix A example and against OpenSSL in ``tests/crypto/test_sm4.py``).

Encrypted fields (personal data at rest, issue 19 item 5) — :class:`KeyRing`:

    sm4:1:<key id>:<base64url(IV(16) || C || T(16))>

* C = SM4-CBC(K_enc, IV, PKCS#7(UTF-8 text)), IV random per value (``secrets``);
* T = HMAC-SM3(K_mac, "sm4:1:<key id>:" || IV || C) truncated to 16 bytes — encrypt-then-MAC, so a changed
  ciphertext, IV or key id is refused before decryption (no padding oracle);
* K_enc = HMAC-SM3(K, "ecohub/sm4-cbc")[:16], K_mac = HMAC-SM3(K, "ecohub/hmac-sm3"), with K the master key
  named by the key id; the blind index of a searchable field is HMAC-SM3(HMAC-SM3(K, "ecohub/blind-index"),
  normalised value) in hex (the same value always gives the same index under one key; the value cannot be
  read back from it without the key).

The key id in every value is what makes rotation work: a ring holds the current key and the old ones,
decrypts with whichever a value names, encrypts with the current one; re-encryption rewrites the old values.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .sm3 import hmac_sm3, sm3_hex

__all__ = ["sm4_encrypt_blocks", "sm4_decrypt_blocks", "BACKEND", "KeyRing", "FieldError", "is_encrypted",
           "key_id_of", "PREFIX"]

# --- pure-Python SM4 (GB/T 32907-2016) ----------------------------------------------------------
_SBOX = bytes.fromhex(
    "d690e9fecce13db716b614c228fb2c052b679a762abe04c3aa44132649860699"
    "9c4250f491ef987a33540b43edcfac62e4b31ca9c908e89580df94fa758f3fa6"
    "4707a7fcf37317ba83593c19e6854fa8686b81b27164da8bf8eb0f4b70569d35"
    "1e240e5e6358d1a225227c3b01217887d40046579fd327524c3602e7a0c4c89e"
    "eabf8ad240c738b5a3f7f2cef96115a1e0ae5da49b341a55ad933230f58cb1e3"
    "1df6e22e8266ca60c02923ab0d534e6fd5db3745defd8e2f03ff6a726d6c5b51"
    "8d1baf92bbddbc7f11d95c411f105ad80ac13188a5cd7bbd2d74d012b8e5b4b0"
    "8969974a0c96777e65b9f109c56ec68418f07dec3adc4d2079ee5f3ed7cb3948"
)
_FK = (0xA3B1BAC6, 0x56AA3350, 0x677D9197, 0xB27022DC)
_CK = tuple(
    int.from_bytes(bytes(((4 * i + j) * 7) & 0xFF for j in range(4)), "big") for i in range(32)
)
_M = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _M


def _tau(a: int) -> int:
    return int.from_bytes(a.to_bytes(4, "big").translate(_SBOX), "big")


# T-tables: L(tau(x)) = XOR over the 4 bytes of L(S[b] << shift)
def _l(b: int) -> int:
    return b ^ _rotl(b, 2) ^ _rotl(b, 10) ^ _rotl(b, 18) ^ _rotl(b, 24)


_T0 = tuple(_l(_SBOX[i] << 24) for i in range(256))
_T1 = tuple(_l(_SBOX[i] << 16) for i in range(256))
_T2 = tuple(_l(_SBOX[i] << 8) for i in range(256))
_T3 = tuple(_l(_SBOX[i]) for i in range(256))


def _round_keys(key: bytes) -> list[int]:
    k = [int.from_bytes(key[4 * i : 4 * i + 4], "big") ^ _FK[i] for i in range(4)]
    rk = []
    for i in range(32):
        t = _tau(k[i + 1] ^ k[i + 2] ^ k[i + 3] ^ _CK[i])
        k.append(k[i] ^ t ^ _rotl(t, 13) ^ _rotl(t, 23))
        rk.append(k[i + 4])
    return rk


def _crypt_block(block: bytes, rk: list[int]) -> bytes:
    x0, x1, x2, x3 = (int.from_bytes(block[i : i + 4], "big") for i in (0, 4, 8, 12))
    t0, t1, t2, t3 = _T0, _T1, _T2, _T3
    for r in rk:
        v = x1 ^ x2 ^ x3 ^ r
        x0, x1, x2, x3 = x1, x2, x3, x0 ^ t0[v >> 24] ^ t1[(v >> 16) & 255] ^ t2[(v >> 8) & 255] ^ t3[v & 255]
    return b"".join(x.to_bytes(4, "big") for x in (x3, x2, x1, x0))


def _py_blocks(data: bytes, key: bytes, decrypt: bool, iv: bytes | None) -> bytes:
    rk = _round_keys(key)
    if decrypt:
        rk = rk[::-1]
    out = bytearray()
    prev = iv if iv is not None else b""
    for i in range(0, len(data), 16):
        blk = data[i : i + 16]
        if iv is None:
            out += _crypt_block(blk, rk)
        elif decrypt:
            out += bytes(a ^ b for a, b in zip(_crypt_block(blk, rk), prev, strict=True))
            prev = blk
        else:
            prev = _crypt_block(bytes(a ^ b for a, b in zip(blk, prev, strict=True)), rk)
            out += prev
    return bytes(out)


try:  # optional fast path
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    Cipher(algorithms.SM4(b"\0" * 16), modes.ECB()).encryptor()

    def _blocks(data: bytes, key: bytes, decrypt: bool, iv: bytes | None) -> bytes:
        cipher = Cipher(algorithms.SM4(key), modes.ECB() if iv is None else modes.CBC(iv))
        ctx = cipher.decryptor() if decrypt else cipher.encryptor()
        return ctx.update(data) + ctx.finalize()

    BACKEND = "cryptography"
except Exception:  # not installed, or OpenSSL without SM4
    _blocks = _py_blocks
    BACKEND = "python"


def sm4_encrypt_blocks(data: bytes, key: bytes, iv: bytes | None = None) -> bytes:
    """SM4-ECB (or CBC when ``iv`` is given) of whole 16-byte blocks."""
    if len(data) % 16 or len(key) != 16:
        raise ValueError("SM4 needs a 16-byte key and a multiple of 16 bytes")
    return _blocks(data, key, False, iv)


def sm4_decrypt_blocks(data: bytes, key: bytes, iv: bytes | None = None) -> bytes:
    if len(data) % 16 or len(key) != 16:
        raise ValueError("SM4 needs a 16-byte key and a multiple of 16 bytes")
    return _blocks(data, key, True, iv)


# --- encrypted text fields ----------------------------------------------------------------------
PREFIX = "sm4:1:"
_KID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_TOKEN = re.compile(r"sm4:1:([A-Za-z0-9_.-]{1,32}):([A-Za-z0-9_=-]+)")
_TAG = 16


class FieldError(ValueError):
    """An encrypted value that cannot be read: unknown key id, changed bytes, not our format."""


def is_encrypted(value: object) -> bool:
    """True for a value written by :meth:`KeyRing.encrypt` (it starts with ``sm4:1:``)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value: str) -> str | None:
    m = _TOKEN.fullmatch(value)
    return m.group(1) if m else None


def _pad(data: bytes) -> bytes:
    n = 16 - len(data) % 16
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= 16 or data[-n:] != bytes([n]) * n:
        raise FieldError("bad padding")
    return data[:-n]


def derive_kid(key: bytes) -> str:
    """A key id for a bare key: ``k`` + the first 8 hex digits of SM3(SM3(key)) (reveals nothing useful)."""
    return "k" + sm3_hex(bytes.fromhex(sm3_hex(key)))[:8]


@dataclass(frozen=True)
class KeyRing:
    """Master keys by id; ``current`` encrypts, every key decrypts what names it."""

    keys: Mapping[str, bytes]
    current: str
    _derived: dict[str, tuple[bytes, bytes, bytes]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError(f"current key id {self.current!r} is not in the ring {sorted(self.keys)}")
        for kid, key in self.keys.items():
            if not _KID.fullmatch(kid):
                raise ValueError(f"key id {kid!r}: 1-32 letters, digits, '.', '_' or '-'")
            if not 16 <= len(key) <= 64:
                raise ValueError(f"key {kid!r}: {len(key)} bytes, must be 16 to 64")

    @classmethod
    def single(cls, key: bytes, kid: str | None = None) -> KeyRing:
        kid = kid or derive_kid(key)
        return cls({kid: key}, kid)

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """Read a key ring: one key a line as ``<id> <hex>`` (or a bare ``<hex>``, its id derived), ``#``
        comments; the last key is the current one.  Also accepts ``id:hex,id:hex`` on one line (settings)."""
        entries: list[tuple[str, bytes]] = []
        parts = [p for line in text.splitlines() for p in line.split("#", 1)[0].split(",")]
        for n, part in enumerate(parts, 1):
            item = part.strip().replace(":", " ").split()
            if not item:
                continue
            if len(item) > 2:
                raise ValueError(f"key ring entry {n}: expected '<id> <hex>', got {len(item)} fields")
            try:
                key = bytes.fromhex(item[-1])
            except ValueError:
                raise ValueError(f"key ring entry {n}: the key is not hex") from None
            entries.append((item[0] if len(item) == 2 else derive_kid(key), key))
        if not entries:
            raise ValueError("the key ring is empty")
        return cls(dict(entries), entries[-1][0])

    def dump(self) -> str:
        """The key-file text of this ring (current key last)."""
        order = [k for k in self.keys if k != self.current] + [self.current]
        return "".join(f"{kid} {self.keys[kid].hex()}\n" for kid in order)

    def with_new_key(self, key: bytes | None = None, kid: str | None = None) -> KeyRing:
        """This ring plus a new current key (random 16 bytes unless given); old keys stay for decryption."""
        key = key if key is not None else secrets.token_bytes(16)
        kid = kid or derive_kid(key)
        if kid in self.keys:
            raise ValueError(f"key id {kid!r} is already in the ring")
        return KeyRing({**self.keys, kid: key}, kid)

    def _keys(self, kid: str) -> tuple[bytes, bytes, bytes]:
        d = self._derived.get(kid)
        if d is None:
            master = self.keys[kid]
            d = (hmac_sm3(master, b"ecohub/sm4-cbc")[:16], hmac_sm3(master, b"ecohub/hmac-sm3"),
                 hmac_sm3(master, b"ecohub/blind-index"))
            self._derived[kid] = d
        return d

    def encrypt(self, text: str) -> str:
        """``text`` as an ``sm4:1:`` value under the current key (a fresh random IV each time)."""
        enc, mac, _ = self._keys(self.current)
        iv = secrets.token_bytes(16)
        ct = sm4_encrypt_blocks(_pad(text.encode("utf-8")), enc, iv)
        head = f"{PREFIX}{self.current}:"
        tag = hmac_sm3(mac, head.encode() + iv + ct)[:_TAG]
        return head + base64.urlsafe_b64encode(iv + ct + tag).decode()

    def decrypt(self, value: str) -> str:
        """The text of an ``sm4:1:`` value; :class:`FieldError` naming what is wrong otherwise."""
        m = _TOKEN.fullmatch(value or "")
        if m is None:
            raise FieldError("not an sm4:1 encrypted value")
        kid = m.group(1)
        if kid not in self.keys:
            raise FieldError(f"key id {kid!r} is not in the key ring (a removed or foreign key)")
        try:
            raw = base64.urlsafe_b64decode(m.group(2))
        except (binascii.Error, ValueError):
            raise FieldError("the ciphertext is not base64url") from None
        if len(raw) < 16 + 16 + _TAG or (len(raw) - 16 - _TAG) % 16:
            raise FieldError(f"the ciphertext has a wrong length ({len(raw)} bytes)")
        enc, mac, _ = self._keys(kid)
        iv, ct, tag = raw[:16], raw[16:-_TAG], raw[-_TAG:]
        if not secrets.compare_digest(tag, hmac_sm3(mac, f"{PREFIX}{kid}:".encode() + iv + ct)[:_TAG]):
            raise FieldError(f"the value was changed (HMAC-SM3 tag does not match, key {kid!r})")
        return _unpad(sm4_decrypt_blocks(ct, enc, iv)).decode("utf-8")

    def blind_index(self, value: str, normalise: Callable[[str], str] = str.strip) -> str:
        """HMAC-SM3 of the normalised value under the current key's index key, 64 hex digits."""
        return hmac_sm3(self._keys(self.current)[2], normalise(value).encode("utf-8")).hex()
