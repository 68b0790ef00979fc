"""Warnings: deviations from the standard that the lenient dialect accepts and records.

Robustness principle: a packet that can be understood unambiguously is accepted, and what it did
differently is kept as a :class:`PacketWarning` on ``Packet.warnings`` so that the gateway can show it
per device and ``ecohub hj212 parse --json`` can print it.  ``Dialect(lenient=False)`` (``STRICT``)
rejects the same packets with the reason code noted in :data:`WARNINGS`.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["PacketWarning", "WARNINGS"]

#: code → (what the device did, what the strict dialect answers).
WARNINGS: dict[str, tuple[str, str]] = {
    "split_flag_without_parts": (
        "Flag has the split bit D but PNUM/PNO are missing: taken as a whole packet", "missing_field PNUM"),
    "parts_without_split_flag": (
        "PNUM/PNO are present but Flag has no split bit D: taken as one part of a split message", "accepted (warning only)"),
    "st_length": ("the system code ST is not 2 characters: kept as given", "bad_field ST"),
    "st_unknown": ("the system code ST is not in the HJ 212 tables: kept as given", "unknown_code ST with strict_codes"),
    "cn_unknown": ("the command code CN is not in the HJ 212 tables: kept as given", "unknown_code CN with strict_codes"),
    "qn_format": ("QN is not the 17-digit YYYYMMDDhhmmsszzz request number", "accepted (warning only)"),
    "time_ms": ("a time has milliseconds (17 digits) where the standard has YYYYMMDDhhmmss", "accepted (warning only)"),
    "crc_lowercase": ("the CRC is written in lowercase hex", "accepted (warning only)"),
    "crc_short": ("the CRC has 1–3 hex digits (printed without leading zeros)", "length_mismatch length"),
    "crc_unverified": (
        "the CRC does not match the transmitted segment and the encrypted CP could not be decrypted to "
        "check it over the plaintext (no SM4 key): header accepted unverified", "bad_crc CRC"),
    "sm4_form": ("the encrypted CP is written in another text form than the device's SM4 variant", "decrypt_failed CP"),
    "sm4_padding": ("the encrypted CP uses another padding than the device's SM4 variant", "decrypt_failed CP"),
    "sm4_crc": ("the CRC covers the other segment (plaintext/ciphertext) than the device's SM4 variant", "bad_crc CRC"),
    "sm4_length": ("the length field counts the plaintext segment, not the transmitted one", "length_mismatch length"),
}


class PacketWarning(NamedTuple):
    """One accepted deviation: ``code`` (a key of :data:`WARNINGS`), the packet ``field`` concerned,
    the ``value`` as received (truncated to 80 characters) and a human ``message``."""

    code: str
    field: str | None
    value: str | None
    message: str

    @classmethod
    def of(cls, code: str, field: str | None, value: object, message: str | None = None) -> PacketWarning:
        text = None if value is None else str(value)
        if text is not None and len(text) > 80:
            text = text[:77] + "..."
        return cls(code, field, text, message or WARNINGS[code][0])

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "field": self.field, "value": self.value, "message": self.message}
