"""Per-device dialect profiles: what a gateway tolerates from a given device."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .sm4 import Sm4Variant

__all__ = ["Dialect", "STANDARD", "LENIENT", "STRICT", "CRC_MODES", "DIALECTS", "dialect_named"]

CRC_MODES = ("hj212", "modbus", "either", "unchecked")


@dataclass(frozen=True, slots=True)
class Dialect:
    """Options of the decoder/encoder.  The default is the standard plus the robustness principle:
    what can be understood unambiguously is accepted and each deviation from the standard is
    recorded as a named warning on the packet (``Packet.warnings``, codes in ``deviations.WARNINGS``);
    ``lenient=False`` (:data:`STRICT`) rejects those deviations with the reason code the standard
    form would give.  Always tolerated (no warning): 2005 headers without QN/Flag, a missing or
    LF-only trailer.

    Attributes:
        name: label for logs.
        lenient: accept the recognisable deviations with a warning (see docs/hj212.md "Deviations"):
            split bit without PNUM/PNO (a whole packet), a system code ST that is not 2 characters,
            a 1–3 digit CRC, an HJ 212-2025 encrypted CP in another variant than ``sm4_variant``,
            a length field counting the plaintext of a C-style-list CP.  False: reject them.
        crc: ``"hj212"`` (the standard's CRC), ``"modbus"`` (device known to send CRC-16/MODBUS),
            ``"either"`` (accept both), ``"unchecked"`` (CRC field must be hex but is not verified).
        short_crc: accept a CRC field of 1–3 hex digits (devices that print ``%X``) even when not
            lenient; lenient dialects accept it anyway (warning ``crc_short``).
        max_length: maximum data-segment length (the standard's 1024).
        length_unit: ``"bytes"`` (count UTF-8 bytes of the data segment — our default, and what
            HJ 212-2025 implementations do) or ``"chars"`` (devices that count characters).
        version: force the edition (``"2005"``, ``"2017"``, ``"2025"``) whatever the Flag says —
            e.g. devices that set version bits 000010 while speaking 2017.
        strict_codes: reject ST/CN codes not in the tables and data flags not in the edition's
            list with ``unknown_code`` (otherwise unknown ST/CN give a warning).
        strict_values: check CP value formats (numbers, one-character flags, times).  Off: only
            the CP structure is checked.
        require_qn: reject 2005-style headers without QN/Flag.
        sm4_key: HJ 212-2025 SM4 key (16 bytes, 32 hex characters, or 16 ASCII characters).
        sm4_variant: the device's SM4 variant (:class:`Sm4Variant`): used to encrypt, and expected
            when decrypting.  None = the standard's text (``SM4_STANDARD``) with detection of the
            others (ciphertext form, padding, CRC over plain or cipher text, length of plain or
            cipher text) — each detected difference is a warning, or a rejection when not lenient.
    """

    name: str = "standard"
    lenient: bool = True
    crc: str = "hj212"
    short_crc: bool = False
    max_length: int = 1024
    length_unit: str = "bytes"
    version: str | None = None
    strict_codes: bool = False
    strict_values: bool = True
    require_qn: bool = False
    sm4_key: bytes | str | None = None
    sm4_variant: Sm4Variant | None = None
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
        if self.sm4_variant is not None and not isinstance(self.sm4_variant, Sm4Variant):
            raise ValueError("Dialect.sm4_variant must be an Sm4Variant (Sm4Variant.parse(name))")

    @property
    def accepts_short_crc(self) -> bool:
        return self.short_crc or self.lenient

    def with_(self, **changes: Any) -> Dialect:
        """A copy with some options changed."""
        return replace(self, **changes)


#: The default dialect: the standard, with the recognisable deviations accepted and recorded.
STANDARD = Dialect()
LENIENT = STANDARD
#: The standard only: every deviation is rejected with its reason code.
STRICT = Dialect(name="strict", lenient=False)

#: Named profiles a device can be given (``dialect_named``).
DIALECTS: dict[str, Dialect] = {"lenient": STANDARD, "standard": STANDARD, "strict": STRICT}


def dialect_named(name: str | None, **changes: Any) -> Dialect:
    """The profile ``name`` (``"lenient"`` — the default — or ``"strict"``) with ``changes``
    (e.g. ``sm4_key``, ``sm4_variant``, ``crc``).  Raises ValueError for an unknown name."""
    base = DIALECTS.get(name or "lenient")
    if base is None:
        raise ValueError(f"unknown HJ 212 dialect {name!r}: one of {sorted(DIALECTS)}")
    if not changes:
        return base
    changes.setdefault("name", base.name if name in (None, "lenient", "standard") else name)
    return replace(base, **changes)
