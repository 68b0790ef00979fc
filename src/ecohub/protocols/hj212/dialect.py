"""Per-device dialect profiles: what a gateway tolerates from a given device."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = ["Dialect", "STANDARD", "CRC_MODES"]

CRC_MODES = ("hj212", "modbus", "either", "unchecked")


@dataclass(frozen=True, slots=True)
class Dialect:
    """Options of the decoder/encoder.  The default is the standard plus the field tolerances every
    gateway needs (lowercase CRC hex, 2005 headers without QN/Flag, 2005 headers with 2017 codes,
    optional trailing CRLF).

    Attributes:
        name: label for logs.
        crc: ``"hj212"`` (the standard's CRC), ``"modbus"`` (device known to send CRC-16/MODBUS),
            ``"either"`` (accept both), ``"unchecked"`` (CRC field must be hex but is not verified).
        short_crc: accept a CRC field of 1–3 hex digits (devices that print ``%X``).
        max_length: maximum data-segment length (the standard's 1024).
        length_unit: ``"bytes"`` (count UTF-8 bytes of the data segment — our default, and what
            HJ 212-2025 implementations do) or ``"chars"`` (devices that count characters).
        version: force the edition (``"2005"``, ``"2017"``, ``"2025"``) whatever the Flag says —
            e.g. devices that set version bits 000010 while speaking 2017.
        strict_codes: reject ST/CN codes not in the tables and data flags not in the edition's
            list with ``unknown_code``.
        strict_values: check CP value formats (numbers, one-character flags, times).  Off: only
            the CP structure is checked.
        require_qn: reject 2005-style headers without QN/Flag.
        sm4_key: HJ 212-2025 SM4 key (16 bytes, 32 hex characters, or 16 ASCII characters).
        sm4_mode: ``"ecb"`` (what public 2025 implementations state) or ``"cbc"``.
        sm4_iv: 16-byte IV for CBC.
        sm4_padding: padding used when *encrypting*: ``"pkcs7"``, ``"zero"`` or ``"none"``;
            decryption detects all three (CP text never ends in a control character).
        sm4_encoding: ciphertext text form when encrypting: ``"hex"`` or ``"base64"``; decryption
            detects the form unless set to one of them with ``sm4_detect=False``.
        sm4_detect: detect the ciphertext text form on decryption.
    """

    name: str = "standard"
    crc: str = "hj212"
    short_crc: bool = False
    max_length: int = 1024
    length_unit: str = "bytes"
    version: str | None = None
    strict_codes: bool = False
    strict_values: bool = True
    require_qn: bool = False
    sm4_key: bytes | str | None = None
    sm4_mode: str = "ecb"
    sm4_iv: bytes | None = None
    sm4_padding: str = "pkcs7"
    sm4_encoding: str = "hex"
    sm4_detect: bool = True
    _fast: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fast", self.crc == "hj212" and self.length_unit == "bytes")
        if self.crc not in CRC_MODES:
            raise ValueError(f"Dialect.crc must be one of {CRC_MODES}, not {self.crc!r}")
        if self.length_unit not in ("bytes", "chars"):
            raise ValueError("Dialect.length_unit must be 'bytes' or 'chars'")
        if self.version not in (None, "2005", "2017", "2025"):
            raise ValueError("Dialect.version must be None, '2005', '2017' or '2025'")
        if not 1 <= self.max_length <= 9999:
            raise ValueError("Dialect.max_length must be 1…9999 (4 length digits)")
        if self.sm4_mode not in ("ecb", "cbc") or self.sm4_padding not in ("pkcs7", "zero", "none"):
            raise ValueError("Dialect.sm4_mode must be ecb|cbc and sm4_padding pkcs7|zero|none")
        if self.sm4_encoding not in ("hex", "base64"):
            raise ValueError("Dialect.sm4_encoding must be 'hex' or 'base64'")

    def with_(self, **changes: object) -> Dialect:
        """A copy with some options changed."""
        return replace(self, **changes)


#: The default dialect.
STANDARD = Dialect()
