"""SM4 encryption of the CP data area (HJ 212-2025).

What is known (the standard's text was not available; see docs/hj212.md, all UNCONFIRMED):

* two public HJ 212-2025 implementations that say they follow the standard's text state SM4 with a
  16-byte key, **ECB** mode and "NoPadding", the encrypted range being the characters between
  ``CP=&&`` and the closing ``&&`` of the data segment, for CN 2000–2999, 1014 and 3020; keys are
  distributed with CN 1014 (``NewSK``, 16 characters in a public C# library's example);
* neither says how text whose length is not a multiple of 16 is padded nor how the ciphertext
  bytes are written as text (hex and base64 are both common in Chinese SM4 code).

So: encryption uses ECB (CBC optional), PKCS#7 padding by default (``zero``/``none`` optional) and
uppercase hex by default (base64 optional); decryption accepts hex or base64 and PKCS#7, zero or no
padding — unambiguous because CP text never ends in a control character.  Length and CRC cover
the data segment as transmitted (with the ciphertext).

The block cipher uses ``cryptography`` (``algorithms.SM4``) when it is installed and otherwise a
small pure-Python implementation of GB/T 32907-2016 (checked against its example vector).
"""

from __future__ import annotations

import base64
import binascii
import re

from .errors import HJ212Error

__all__ = ["normalize_key", "encrypt_cp", "decrypt_cp", "looks_encrypted", "sm4_encrypt_blocks", "sm4_decrypt_blocks", "BACKEND"]

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
    prev = iv
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


# --- CP encryption --------------------------------------------------------------------------------
_HEX = re.compile(r"(?:[0-9A-Fa-f]{32})+")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def normalize_key(key: bytes | str) -> bytes:
    """16 raw bytes, 32 hex characters or 16 ASCII characters (the ``NewSK`` form) → 16 bytes."""
    if isinstance(key, (bytes, bytearray)):
        raw = bytes(key)
    elif isinstance(key, str) and len(key) == 32:
        try:
            raw = bytes.fromhex(key)
        except ValueError:
            raw = b""
    elif isinstance(key, str):
        raw = key.encode("utf-8")
    else:
        raw = b""
    if len(raw) != 16:
        raise HJ212Error("decrypt_failed", "SM4 key must be 16 bytes, 32 hex characters or 16 characters", "SK", None)
    return raw


def looks_encrypted(cp_text: str) -> bool:
    """True when a CP body is plausibly ciphertext (hex or base64, no ``=`` before the end)."""
    if not cp_text or "=" in cp_text.rstrip("="):
        return False
    return _HEX.fullmatch(cp_text) is not None or (len(cp_text) % 4 == 0 and _B64.fullmatch(cp_text) is not None)


def encrypt_cp(
    plaintext: str,
    key: bytes | str,
    *,
    mode: str = "ecb",
    iv: bytes | None = None,
    padding: str = "pkcs7",
    encoding: str = "hex",
) -> str:
    """Encrypt a CP body (the text between ``CP=&&`` and ``&&``) → ciphertext text."""
    raw = normalize_key(key)
    data = plaintext.encode("utf-8")
    if padding == "pkcs7":
        n = 16 - len(data) % 16
        data += bytes([n]) * n
    elif padding == "zero":
        data += b"\0" * (-len(data) % 16)
    elif len(data) % 16:
        raise HJ212Error("bad_cp", f"CP of {len(data)} bytes cannot be SM4-encrypted without padding", "CP", plaintext)
    if mode == "cbc" and (iv is None or len(iv) != 16):
        raise HJ212Error("decrypt_failed", "SM4-CBC needs a 16-byte IV", "CP", None)
    out = sm4_encrypt_blocks(data, raw, iv if mode == "cbc" else None)
    return out.hex().upper() if encoding == "hex" else base64.b64encode(out).decode("ascii")


def decrypt_cp(
    ciphertext: str,
    key: bytes | str,
    *,
    mode: str = "ecb",
    iv: bytes | None = None,
    encoding: str | None = None,
) -> str:
    """Decrypt a CP body → plaintext CP text; ``encoding`` None detects hex or base64.

    Raises ``HJ212Error(decrypt_failed)`` when the text is not ciphertext, the key is wrong or the
    result is not CP text.
    """
    raw = normalize_key(key)
    if encoding is None:
        encoding = "hex" if _HEX.fullmatch(ciphertext) else "base64"
    try:
        if encoding == "hex":
            data = bytes.fromhex(ciphertext)
        else:
            data = base64.b64decode(ciphertext, validate=True)
    except (ValueError, binascii.Error):
        raise HJ212Error("decrypt_failed", f"CP ciphertext is not {encoding} text", "CP", ciphertext) from None
    if not data or len(data) % 16:
        raise HJ212Error("decrypt_failed", f"CP ciphertext of {len(data)} bytes is not whole SM4 blocks", "CP", ciphertext)
    if mode == "cbc" and (iv is None or len(iv) != 16):
        raise HJ212Error("decrypt_failed", "SM4-CBC needs a 16-byte IV", "CP", None)
    plain = sm4_decrypt_blocks(data, raw, iv if mode == "cbc" else None)
    last = plain[-1]
    if 1 <= last <= 16 and plain[-last:] == bytes([last]) * last:
        plain = plain[:-last]
    elif last == 0:
        plain = plain.rstrip(b"\0")
    try:
        text = plain.decode("utf-8")
    except UnicodeDecodeError:
        raise HJ212Error("decrypt_failed", "SM4 decryption gave no UTF-8 text (wrong key?)", "CP", ciphertext) from None
    if text and ("=" not in text or not text.isprintable()):
        raise HJ212Error("decrypt_failed", "SM4 decryption gave no CP text (wrong key or mode?)", "CP", ciphertext)
    return text
