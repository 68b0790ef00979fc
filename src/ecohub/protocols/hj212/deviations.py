"""Warnings: deviations from the standard that the lenient dialect accepts and records.

Robustness principle: a packet that can be understood unambiguously is accepted, and what it did
differently is kept as a :class:`PacketWarning` on ``Packet.warnings`` so that the gateway can show it
per device and ``ecohub hj212 parse --json`` can print it.  ``Dialect(lenient=False)`` (``STRICT``)
rejects the same packets with the reason code noted in :data:`WARNINGS`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["PacketWarning", "WARNINGS", "WarningTally"]

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


class WarningTally:
    """Accepted deviations per device, for a gateway's status page: for each (MN, code) the count,
    the first and last time seen and the last field/value/message.  Thread-safe; at most
    ``max_devices`` devices are kept (the least recently warned is forgotten first).

        tally.add(packet.mn, packet.warnings)      # per decoded packet (cheap when there are none)
        tally.for_device("010000A8900016F000169DC0") -> [{"code", "count", "first_seen", …}, …]
    """

    def __init__(self, max_devices: int = 100_000, clock=time.time) -> None:
        self.max_devices = max_devices
        self.clock = clock
        self._lock = threading.Lock()
        self._devices: OrderedDict[str, dict[str, dict[str, object]]] = OrderedDict()

    def add(self, mn: str, warnings: Iterable[PacketWarning], when: float | None = None) -> None:
        if not warnings:
            return
        now = self.clock() if when is None else when
        with self._lock:
            codes = self._devices.get(mn)
            if codes is None:
                while len(self._devices) >= self.max_devices:
                    self._devices.popitem(last=False)
                codes = self._devices[mn] = {}
            else:
                self._devices.move_to_end(mn)
            for w in warnings:
                row = codes.get(w.code)
                if row is None:
                    row = codes[w.code] = {"code": w.code, "count": 0, "first_seen": now}
                row["count"] = int(row["count"]) + 1  # type: ignore[call-overload]
                row.update(last_seen=now, field=w.field, value=w.value, message=w.message)

    def for_device(self, mn: str) -> list[dict[str, object]]:
        """The device's deviations, most frequent first (copies)."""
        with self._lock:
            rows = [dict(r) for r in self._devices.get(mn, {}).values()]
        return sorted(rows, key=lambda r: (-int(r["count"]), str(r["code"])))  # type: ignore[call-overload]

    def snapshot(self) -> dict[str, list[dict[str, object]]]:
        """Every device with deviations → :meth:`for_device`."""
        with self._lock:
            mns = list(self._devices)
        return {mn: self.for_device(mn) for mn in mns}
