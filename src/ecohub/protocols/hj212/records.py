"""Flat measurement records from a decoded data packet (CN 2011 / 2051 / 2061 / 2031)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import NamedTuple

from .codes import INTERVAL_BY_CN, PARAMETERS, code_2017
from .errors import HJ212Error
from .packet import Packet
from .times import parse_time

__all__ = ["Record", "records", "NON_VALUE_KINDS"]

#: Item kinds that describe a value rather than being one.
NON_VALUE_KINDS = frozenset({"Flag", "EFlag", "SampleTime", "Info", "SN"})


class Record(NamedTuple):
    """One value of one factor.

    Attributes:
        mn: device id.
        code: the factor code as transmitted (``a21026``, or a 2005 code such as ``011``).
        code_2017: the HJ 212-2017 code (2005 codes mapped, others unchanged).
        parameter: ecohub canonical parameter (``so2``, ``cod`` …) or None when the code is unknown.
        kind: ``Rtd``, ``Avg``, ``Min``, ``Max``, ``Cou``, ``ZsRtd``, ``ZsAvg`` … (other numeric
            kinds, e.g. electricity ``Ia``, are kept as transmitted).
        value: the value as a float.
        flag: the data flag (``N``, ``F``, ``D`` …) of the factor, or None.
        time: aware UTC datetime: ``DataTime`` (period start for min/hour/day data; the sampling
            moment for real-time data).
        sample_time: aware UTC ``-SampleTime`` of the factor, when sent.
        interval: ``"rt"``, ``"min"``, ``"hour"`` or ``"day"``.
        eflag: extended flag ``-EFlag`` or None.
    """

    mn: str
    code: str
    code_2017: str
    parameter: str | None
    kind: str
    value: float
    flag: str | None
    time: datetime
    interval: str
    sample_time: datetime | None = None
    eflag: str | None = None


def records(packet: Packet) -> list[Record]:
    """Records of a data packet (CN 2011/2051/2061/2031); ``[]`` for other commands and for
    requests without values.  Raises :class:`HJ212Error` when the CP is still encrypted, has no
    valid ``DataTime``, or repeats a value (``a21026-Rtd`` twice)."""
    interval = INTERVAL_BY_CN.get(packet.cn)
    if interval is None:
        return []
    cp = packet.cp
    if cp.encrypted:
        raise HJ212Error("decrypt_failed", "CP is SM4-encrypted and no key was given (Dialect.sm4_key)", "CP", cp.text)
    factors = cp.factors
    if not factors:
        return []
    dt_text = cp.fields.get("DataTime")
    if dt_text is None:
        raise HJ212Error("missing_field", f"CN={packet.cn} packet has values but no DataTime", "DataTime", None)
    when = parse_time(dt_text, "DataTime").astimezone(UTC)
    if len(cp.fields) != len(cp):
        seen: set[str] = set()
        for name, _ in cp.pairs:
            if "-" in name and name in seen:
                raise HJ212Error("bad_cp", f"CP item {name} occurs twice", name, None)
            seen.add(name)
    out: list[Record] = []
    mn = packet.mn
    non_value = NON_VALUE_KINDS
    for code, kinds in factors.items():
        flag = kinds.get("Flag")
        eflag = kinds.get("EFlag")
        st = kinds.get("SampleTime")
        sample = None if st is None else parse_time(st, f"{code}-SampleTime").astimezone(UTC)
        c17 = code_2017(code)
        param = PARAMETERS.get(code) or PARAMETERS.get(c17)
        for kind, text in kinds.items():
            if kind in non_value:
                continue
            try:
                value = float(text)
            except ValueError:
                continue  # non-numeric device parameter of an unknown kind
            if not math.isfinite(value):
                continue
            out.append(Record(mn, code, c17, param, kind, value, flag, when, interval, sample, eflag))
    return out
