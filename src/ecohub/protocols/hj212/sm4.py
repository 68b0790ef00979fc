"""SM4 encryption of the CP data area (HJ 212-2025 §6.4.2 and Appendix A.2).

What the standard's text says (quoted by two public HJ 212-2025 codecs that cite its page numbers;
the PDF itself was not read here — see docs/hj212.md "HJ 212-2025 encryption"):

* §6.4.2: SM4, 16-byte key, **ECB**, padding "Nopadding"; the characters between ``CP=&&`` and
  ``&&`` + CRC are encrypted (CN 2000–2999, 1014 and 3020 per §6.4.4);
* Appendix A.2: "every 16 characters are encrypted as one group, Nopadding, the part shorter than
  16 characters stays in clear; the CRC is computed and the packet built first, then the data
  segment is encrypted" — so the **CRC covers the plaintext** segment; the test key is 16 × 0x30;
* the A.2 examples print the ciphertext as a C-style byte list, ``CP=&&{0xE4,0x3E,…,0x41}&&2200``,
  followed by the clear tail (``…0x03,0xA4}g=N&&B541``).

:class:`Sm4Variant` names one way of doing it (ciphertext form, padding, what the CRC and the length
field cover, mode).  :data:`SM4_STANDARD` is the text; the other presets are what public codecs and
devices do.  Encryption follows a variant exactly; decryption detects the form (C-style list, hex,
base64) and the padding (none with a clear tail, PKCS#7, zero) — unambiguous because CP text never
ends in a control character and a C-style list starts with ``{0x``.

The block cipher is :mod:`ecohub.crypto.sm4` (OpenSSL through ``cryptography``, or its pure-Python
implementation of GB/T 32907-2016 where OpenSSL lacks SM4).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from ecohub.crypto.sm4 import BACKEND, sm4_decrypt_blocks, sm4_encrypt_blocks  # the one SM4 (GB/T 32907)

from .errors import HJ212Error

__all__ = [
    "Sm4Variant", "SM4_STANDARD", "SM4_PRESETS", "Decrypted", "normalize_key", "encrypt_cp", "decrypt_cp",
    "decrypt_cp_detail", "format_clist", "is_clist", "looks_encrypted", "sm4_encrypt_blocks", "sm4_decrypt_blocks", "BACKEND",
]

# --- variants ------------------------------------------------------------------------------------
SM4_FORMS = ("clist", "hex", "base64")
SM4_PADDINGS = ("none", "pkcs7", "zero")
SM4_CRC = ("plain", "cipher")
SM4_LENGTH = ("cipher", "plain")


@dataclass(frozen=True, slots=True)
class Sm4Variant:
    """How a device writes an SM4-encrypted CP (HJ 212-2025).  The defaults are the standard's text.

    Attributes:
        form: ciphertext text form — ``"clist"`` (C-style byte list ``{0xE4,0x3E,…}`` as printed in
            Appendix A.2), ``"hex"`` (uppercase hex) or ``"base64"``.
        padding: ``"none"`` (§6.4.2 "Nopadding": whole 16-byte blocks are encrypted, a tail shorter
            than a block stays in clear after the list — ``clist`` only; with hex/base64 the CP must
            be whole blocks), ``"pkcs7"`` or ``"zero"``.
        crc_over: ``"plain"`` (Appendix A.2: CRC of the plaintext data segment) or ``"cipher"``
            (CRC of the segment as transmitted).
        length_of: what the 4-digit length field counts — ``"cipher"`` (the segment as transmitted,
            Table 2's definition; what framing needs) or ``"plain"`` (the plaintext segment, as the
            A.2 examples print it: ``##0295`` for a 1,128-character segment).  UNCONFIRMED which one
            the standard means; decoding accepts both.
        mode: ``"ecb"`` (§6.4.2) or ``"cbc"`` (seen in vendor code; needs ``iv``).
        iv: 16-byte IV for CBC.

    ``str(variant)`` is its spec ``"form/padding/crc_over/length_of"`` (plus ``/cbc`` when CBC);
    :meth:`parse` reads a spec or a preset name of :data:`SM4_PRESETS`.
    """

    form: str = "clist"
    padding: str = "none"
    crc_over: str = "plain"
    length_of: str = "cipher"
    mode: str = "ecb"
    iv: bytes | None = None

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("form", self.form, SM4_FORMS),
            ("padding", self.padding, SM4_PADDINGS),
            ("crc_over", self.crc_over, SM4_CRC),
            ("length_of", self.length_of, SM4_LENGTH),
            ("mode", self.mode, ("ecb", "cbc")),
        ):
            if value not in allowed:
                raise ValueError(f"Sm4Variant.{name} must be one of {allowed}, not {value!r}")
        if self.mode == "cbc" and (self.iv is None or len(self.iv) != 16):
            raise ValueError("Sm4Variant(mode='cbc') needs a 16-byte iv")
        if self.length_of == "plain" and self.form != "clist":
            raise ValueError("Sm4Variant.length_of='plain' is only recognisable with form='clist'")

    def __str__(self) -> str:
        spec = f"{self.form}/{self.padding}/{self.crc_over}/{self.length_of}"
        return spec + "/cbc" if self.mode == "cbc" else spec

    @classmethod
    def parse(cls, text: str) -> Sm4Variant:
        """A preset name (``"standard"``, ``"hex-pkcs7"`` …) or a spec ``"form/padding/crc/length"``
        (trailing parts may be left out: ``"hex/pkcs7/cipher"``)."""
        text = text.strip()
        preset = SM4_PRESETS.get(text)
        if preset is not None:
            return preset
        parts = text.split("/")
        if not 1 <= len(parts) <= 4:
            raise ValueError(f"SM4 variant {text!r} is neither a preset {sorted(SM4_PRESETS)} nor form/padding/crc/length")
        form, padding, crc_over, length_of = (parts + ["", "", "", ""])[:4]
        return cls(form or "clist", padding or "none", crc_over or "plain", length_of or "cipher")


#: The standard's text (§6.4.2, Appendix A.2): C-style list, Nopadding with clear tail, CRC of the
#: plaintext segment; the length field counts the transmitted segment (Table 2).
SM4_STANDARD = Sm4Variant()

#: Named variants, for per-device settings (``Sm4Variant.parse(name)``).
SM4_PRESETS: dict[str, Sm4Variant] = {
    "standard": SM4_STANDARD,
    # the A.2 examples taken literally: the length field counts the plaintext segment
    "standard-plain-length": Sm4Variant(length_of="plain"),
    # C-style list but the CRC over the transmitted segment
    "clist-cipher-crc": Sm4Variant(crc_over="cipher"),
    # what ecohub (and most Chinese SM4 helpers) did before: hex, PKCS#7, CRC of the transmitted segment
    "hex-pkcs7": Sm4Variant(form="hex", padding="pkcs7", crc_over="cipher"),
    "hex-pkcs7-plain-crc": Sm4Variant(form="hex", padding="pkcs7", crc_over="plain"),
    "hex-zero": Sm4Variant(form="hex", padding="zero", crc_over="cipher"),
    "base64-pkcs7": Sm4Variant(form="base64", padding="pkcs7", crc_over="cipher"),
    "base64-zero": Sm4Variant(form="base64", padding="zero", crc_over="cipher"),
}


# --- CP encryption --------------------------------------------------------------------------------
_HEX = re.compile(r"(?:[0-9A-Fa-f]{32})+")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_CLIST = re.compile(r"\{(0[xX][0-9A-Fa-f]{2}(?:,0[xX][0-9A-Fa-f]{2})*)\}")


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


def is_clist(cp_text: str) -> bool:
    """True when a CP body starts with a C-style byte list ``{0x..`` (HJ 212-2025 A.2 form)."""
    return cp_text[:3] in ("{0x", "{0X")


def looks_encrypted(cp_text: str) -> bool:
    """True when a CP body is plausibly ciphertext: a C-style byte list, or hex/base64 text with no
    ``=`` before the end."""
    if not cp_text:
        return False
    if is_clist(cp_text):
        return True
    if "=" in cp_text.rstrip("="):
        return False
    return _HEX.fullmatch(cp_text) is not None or (len(cp_text) % 4 == 0 and _B64.fullmatch(cp_text) is not None)


def format_clist(data: bytes) -> str:
    """``{0xE4,0x3E,…}`` (uppercase, comma-separated, in braces) — the Appendix A.2 form."""
    return "{" + ",".join(f"0x{b:02X}" for b in data) + "}"


def encrypt_cp(
    plaintext: str,
    key: bytes | str,
    *,
    mode: str = "ecb",
    iv: bytes | None = None,
    padding: str = "pkcs7",
    encoding: str = "hex",
) -> str:
    """Encrypt a CP body (the text between ``CP=&&`` and ``&&``) → ciphertext text.

    ``encoding``: ``"hex"``, ``"base64"`` or ``"clist"``.  ``padding="none"``: with ``clist`` the
    tail shorter than a block stays in clear after the list (§6.4.2/A.2); with hex/base64 the
    plaintext must be whole blocks.
    """
    raw = normalize_key(key)
    data = plaintext.encode("utf-8")
    tail = b""
    if padding == "pkcs7":
        n = 16 - len(data) % 16
        data += bytes([n]) * n
    elif padding == "zero":
        data += b"\0" * (-len(data) % 16)
    elif padding != "none":
        raise HJ212Error("bad_cp", f"unknown SM4 padding {padding!r}", "CP", None)
    elif len(data) % 16:
        if encoding != "clist":
            raise HJ212Error("bad_cp", f"CP of {len(data)} bytes cannot be SM4-encrypted without padding as {encoding}", "CP", plaintext)
        cut = len(data) - len(data) % 16
        data, tail = data[:cut], data[cut:]
    if mode == "cbc" and (iv is None or len(iv) != 16):
        raise HJ212Error("decrypt_failed", "SM4-CBC needs a 16-byte IV", "CP", None)
    out = sm4_encrypt_blocks(data, raw, iv if mode == "cbc" else None) if data else b""
    if encoding == "clist":
        return (format_clist(out) if out else "") + tail.decode("utf-8")
    if encoding == "hex":
        return out.hex().upper()
    if encoding == "base64":
        return base64.b64encode(out).decode("ascii")
    raise HJ212Error("bad_cp", f"unknown SM4 text form {encoding!r}", "CP", None)


@dataclass(frozen=True, slots=True)
class Decrypted:
    """Result of :func:`decrypt_cp_detail`: the plaintext CP and what was detected."""

    text: str
    form: str  # "clist" | "hex" | "base64"
    padding: str  # "none" | "pkcs7" | "zero"


def decrypt_cp(
    ciphertext: str,
    key: bytes | str,
    *,
    mode: str = "ecb",
    iv: bytes | None = None,
    encoding: str | None = None,
) -> str:
    """Decrypt a CP body → plaintext CP text; ``encoding`` None detects the C-style list, hex or
    base64.  Raises ``HJ212Error(decrypt_failed)`` when the text is not ciphertext, the key is wrong
    or the result is not CP text."""
    return decrypt_cp_detail(ciphertext, key, mode=mode, iv=iv, encoding=encoding).text


def decrypt_cp_detail(
    ciphertext: str,
    key: bytes | str,
    *,
    mode: str = "ecb",
    iv: bytes | None = None,
    encoding: str | None = None,
) -> Decrypted:
    """:func:`decrypt_cp` with the detected text form and padding."""
    raw = normalize_key(key)
    tail = ""
    if encoding is None:
        encoding = "clist" if is_clist(ciphertext) else "hex" if _HEX.fullmatch(ciphertext) else "base64"
    if encoding == "clist":
        m = _CLIST.match(ciphertext)
        if m is None:
            raise HJ212Error("decrypt_failed", "CP ciphertext is not a C-style byte list {0x..,0x..}", "CP", ciphertext)
        data = bytes(int(b, 16) for b in m.group(1).split(","))
        tail = ciphertext[m.end() :]
        if "{" in tail or "}" in tail:
            raise HJ212Error("decrypt_failed", "text after the C-style byte list is not a clear CP tail", "CP", tail)
    else:
        try:
            if encoding == "hex":
                data = bytes.fromhex(ciphertext)
            else:
                data = base64.b64decode(ciphertext, validate=True)
        except (ValueError, binascii.Error):
            raise HJ212Error("decrypt_failed", f"CP ciphertext is neither a C-style byte list, hex nor {encoding} text", "CP", ciphertext) from None
    if not data or len(data) % 16:
        raise HJ212Error("decrypt_failed", f"CP ciphertext of {len(data)} bytes is not whole SM4 blocks", "CP", ciphertext)
    if mode == "cbc" and (iv is None or len(iv) != 16):
        raise HJ212Error("decrypt_failed", "SM4-CBC needs a 16-byte IV", "CP", None)
    plain = sm4_decrypt_blocks(data, raw, iv if mode == "cbc" else None)
    padding = "none"
    last = plain[-1]
    if not tail and 1 <= last <= 16 and plain[-last:] == bytes([last]) * last:
        plain = plain[:-last]
        padding = "pkcs7"
    elif not tail and last == 0:
        plain = plain.rstrip(b"\0")
        padding = "zero"
    try:
        text = plain.decode("utf-8") + tail
    except UnicodeDecodeError:
        raise HJ212Error("decrypt_failed", "SM4 decryption gave no UTF-8 text (wrong key?)", "CP", ciphertext) from None
    if text and ("=" not in text or not text.isprintable()):
        raise HJ212Error("decrypt_failed", "SM4 decryption gave no CP text (wrong key or mode?)", "CP", ciphertext)
    return Decrypted(text, encoding, padding)
