"""The one exception of the HJ 212 codec."""

from __future__ import annotations

__all__ = ["HJ212Error", "REASONS"]

#: Machine codes of :attr:`HJ212Error.reason`, with what each means.
REASONS: dict[str, str] = {
    "bad_header": "the frame does not start with '##' or is too short to hold header, length and CRC",
    "bad_length": "the 4-character length field is not 4 decimal digits",
    "too_long": "the declared (or built) data-segment length is above the maximum (1024 by default)",
    "length_mismatch": "the data segment received is not as long as the length field declares",
    "bad_crc": "the CRC field is not hexadecimal or does not match the data segment",
    "missing_field": "a required field is absent (QN, ST, CN, PW, MN, Flag, PNUM/PNO, CP, DataTime)",
    "bad_field": "a field is present but its value is not allowed (format, range, encoding, duplicate)",
    "bad_time": "a time value is not a valid YYYYMMDDhhmmss[zzz] Beijing-time timestamp",
    "too_many": "more parts, groups or bytes than the configured bound",
    "bad_cp": "the CP data area is malformed (no CP=&&…&&, an item without '=', duplicate item)",
    "unknown_code": "a system (ST), command (CN) or data-flag code not in the tables (strict dialect only)",
    "bad_flag": "the header Flag or an item's data flag (xxxxxx-Flag) is not valid",
    "decrypt_failed": "the HJ 212-2025 SM4-encrypted CP could not be decrypted (no key, wrong key, bad text)",
    "bad_type": "the input is not bytes or str",
}


class HJ212Error(ValueError):
    """A packet (or a request to build one) was rejected.

    Attributes:
        reason: short machine code, one of :data:`REASONS`.
        field: the packet field concerned (``"CRC"``, ``"QN"``, ``"a21026-Rtd"`` …) or ``None``.
        value: the offending value as received (truncated to 80 characters) or ``None``.

    ``str(err)`` is a human message naming the field and the value.
    """

    __slots__ = ("reason", "field", "value")

    def __init__(self, reason: str, message: str, field: str | None = None, value: object = None) -> None:
        if isinstance(value, (bytes, bytearray, memoryview)):
            value = bytes(value)[:80].decode("utf-8", "backslashreplace")
        elif value is not None:
            value = str(value)
            if len(value) > 80:
                value = value[:77] + "..."
        self.reason = reason
        self.field = field
        self.value = value
        super().__init__(message)

    def to_dict(self) -> dict[str, object]:
        """JSON-able form: ``{"error": message, "reason": …, "field": …, "value": …}``."""
        return {"error": str(self), "reason": self.reason, "field": self.field, "value": self.value}

    def __reduce__(self):  # keep attributes through pickling (multiprocessing workers)
        return (self.__class__, (self.reason, str(self), self.field, self.value))
