"""Turning an authenticated packet into work for the commit path: observations (one per factor and kind, in the
series of the device's site × parameter × interval), quarantine rows for the bad items, ``device_event`` rows
for the other CNs (:class:`PacketRecords`); and :func:`primary_values`, the fast reading of a data packet's
values."""

from __future__ import annotations

import contextlib
import math
import re
import time
from datetime import UTC, datetime
from typing import Any

from ecohub.domain.parameters import STAT_SUFFIX, UnknownParameter, resolve_for_site
from ecohub.ingest.hj212.auth import DeviceInfo
from ecohub.ingest.hj212.work import AckTarget, QnHolder, Work
from ecohub.protocols.hj212 import (
    DATA_FLAGS_2005,
    DATA_FLAGS_2017,
    FACTORS,
    HJ212Error,
    Packet,
    code_2017,
    parse_time,
)
from ecohub.protocols.hj212.codes import INTERVAL_BY_CN
from ecohub.protocols.hj212.cp import NUMERIC_KINDS

__all__ = ["DATA_CNS", "PacketRecords", "event_row", "mask_password", "primary_values", "validate_items"]

DATA_CNS = ("2011", "2051", "2061", "2031")
_INTERVAL = {"rt": "rt", "min": "minute", "hour": "hour", "day": "day"}
_PRIMARY_KIND = {"rt": ("Rtd",), "min": ("Avg", "Data"), "hour": ("Avg", "Data"), "day": ("Avg", "Data")}
# kinds stored beside the primary value, into the derived parameters ``<name>_zs/_min/_max/_cou``
_STAT_KIND = {"rt": frozenset({"ZsRtd"}), "min": frozenset({"ZsAvg", "Min", "Max", "Cou"}),
              "hour": frozenset({"ZsAvg", "Min", "Max", "Cou"}), "day": frozenset({"ZsAvg", "Min", "Max", "Cou"})}
_EVENT_KIND = {"2021": "status", "2041": "runtime", "2081": "boot", "1013": "time_request", "1011": "device_time",
               "1061": "rtd_interval", "1063": "min_interval", "3019": "instrument_sn", "3020": "device_info"}
ALL_FLAGS = frozenset(DATA_FLAGS_2017) | frozenset(DATA_FLAGS_2005)
_UNKNOWN: Any = object()  # plan marker: a factor code outside the catalogue (or a kind not planned yet)
_MAX_PLANS = 200_000
_FUTURE_SLACK = 86400  # same rule as every other ingest channel: at most one day ahead

ParamRef = tuple[int, float]  # (parameter id, scale to the stored unit)


class PacketRecords:
    """Builds the :class:`~ecohub.ingest.hj212.work.Work` of one packet. ``params`` (parameter name → id) is
    loaded when the gateway starts; the factor → parameter lookups are cached."""

    def __init__(self, counters: dict[str, int]):
        self.counters = counters
        self.params: dict[str, int] = {}
        self._pmap: dict[tuple[str, str], ParamRef | None] = {}
        self._smap: dict[tuple[str, str, str], ParamRef | None] = {}
        self._plans: dict[tuple[int, str, str], dict[str, Any]] = {}  # (site id, site kind, CN) → plan

    def _param(self, code: str, kind: str) -> ParamRef | None:
        key = (code, kind)
        hit = self._pmap.get(key, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        c17 = code_2017(code)
        out = None
        p = None
        for c in (c17, code):  # the 2017 code, then the code as sent; by the site's kind (a21026 on a gas outlet)
            try:
                p = resolve_for_site(c, kind)
                break
            except UnknownParameter:
                continue
        if p is not None:
            pid = self.params.get(p.name)
            if pid is not None:
                scale = 1.0
                f = FACTORS.get(c17)
                # HJ 212-2017 default unit µg/L for Hg, Cd, Cr(VI), As, Pb; ecohub stores mg/L. A 2005 code
                # (mg/L in HJ/T 212-2005) is stored as sent.
                if code == c17 and f is not None and f.unit == "µg/L" and p.unit == "mg/L":
                    scale = 0.001
                out = (pid, scale)
        self._pmap[key] = out
        return out

    def _stat_param(self, code: str, skind: str, kind: str) -> ParamRef | None:
        """(parameter id, scale) of a statistic kind (``Min``, ``Max``, ``Cou``, ``ZsRtd``, ``ZsAvg``) of a
        factor whose base code is known: the derived parameter ``<name>_<suffix>``; ``None`` when the
        catalogue has none (ambient air, noise …: the value is counted in ``not_stored_kinds``)."""
        key = (code, skind, kind)
        hit = self._smap.get(key, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        out = None
        c17 = code_2017(code)
        p = None
        for c in (c17, code):
            try:
                p = resolve_for_site(c, skind)
                break
            except UnknownParameter:
                continue
        if p is not None:
            pid = self.params.get(f"{p.name}_{STAT_SUFFIX[kind]}")
            if pid is not None:
                scale = 1.0
                f = FACTORS.get(c17)
                if code == c17 and f is not None:
                    if kind == "Cou":
                        # HJ 212-2017 amount unit g (heavy metals) → kg, the unit of ``<name>_cou``
                        if f.amount_unit == "g":
                            scale = 0.001
                    elif f.unit == "µg/L" and p.unit == "mg/L":
                        scale = 0.001  # same as the primary value
                out = (pid, scale)
        self._smap[key] = out
        return out

    # --- per site and CN: factor → kind → (series key, scale), worked out once -----------------------------------
    def _new_plan(self, site_id: int, site_kind: str, cn: str) -> dict[str, Any]:
        if len(self._plans) >= _MAX_PLANS:  # bounded: a province's sites × CNs, well within this
            self._plans.clear()
        plan: dict[str, Any] = {}
        self._plans[(site_id, site_kind, cn)] = plan
        return plan

    def _plan_factor(self, site_id: int, site_kind: str, cn: str, code: str) -> dict[str, Any]:
        """The kinds of one factor at one site and CN (filled as they come), or ``_UNKNOWN`` (not in the
        catalogue: quarantined)."""
        pm = self._pmap.get((code, site_kind), False)
        if pm is False:
            pm = self._param(code, site_kind)
        return _UNKNOWN if pm is None else {}

    def _plan_kind(self, site_id: int, site_kind: str, cn: str, code: str, kind: str
                   ) -> tuple[tuple[int, int, str], float] | None:
        """(series key, scale) of one factor's kind at a site and CN; ``None``: a statistic the catalogue has
        no derived parameter for (counted in ``not_stored_kinds``). The key tuple is shared by every row of
        that series: no key is built per value."""
        interval = _INTERVAL[INTERVAL_BY_CN[cn]]
        if kind in _STAT_KIND[INTERVAL_BY_CN[cn]]:
            pm = self._stat_param(code, site_kind, kind)
        else:
            pm = self._param(code, site_kind)
        if pm is None:
            return None
        return (site_id, pm[0], interval), pm[1]

    def build(self, conn: AckTarget, session: QnHolder, info: DeviceInfo, packet: Packet, frame: bytes,
              qns: list[str], acks: list[bytes], t0: float, loose: bool) -> Work:
        """The work of one packet. ``loose``: the packet was decoded without the value rules (its header is
        fine, some items are not); the items failing them are quarantined, the others stored."""
        c = self.counters
        cn = packet.cn
        mn = packet.mn
        rows: list[tuple[Any, ...]] = []
        quarantine: list[tuple[Any, ...]] = []
        events: list[dict[str, Any]] = []
        raw: str | None = None
        bad_items = validate_items(packet) if loose else None
        if cn in DATA_CNS:
            c["data_packets"] += 1
            extracted: tuple[int, list[tuple[str, str, float, str | None]], int] | None
            try:
                extracted = primary_values(packet, stats=True)
            except HJ212Error as e:
                quarantine.append((f"{e.reason}: {e}", e.field, mask_password(frame)))
                extracted = None
            skip: set[str] = set()
            if bad_items:
                raw = mask_password(frame)
                for code, reason, fld in bad_items:
                    skip.add(code)
                    quarantine.append((reason, fld, raw))
            if extracted is not None:
                t, values, others = extracted
                c["not_stored_kinds"] += others
                if t > time.time() + _FUTURE_SLACK:
                    quarantine.append((f"DataTime {packet.cp.fields.get('DataTime')} is more than one day in the "
                                       "future (device clock?)", "DataTime", mask_password(frame)))
                    values = []
                plan = self._plans.get((info.site_id, info.site_kind, cn))
                if plan is None:
                    plan = self._new_plan(info.site_id, info.site_kind, cn)
                for code, kind, value, flag in values:
                    if code in skip:
                        continue
                    if flag is not None and flag not in ALL_FLAGS:
                        skip.add(code)
                        if raw is None:
                            raw = mask_password(frame)
                        quarantine.append((f"bad_flag: {code}-Flag={flag!r} is not an HJ 212 data flag",
                                           f"{code}-Flag", raw))
                        continue
                    by_kind = plan.get(code)
                    if by_kind is None:
                        by_kind = plan[code] = self._plan_factor(info.site_id, info.site_kind, cn, code)
                    if by_kind is _UNKNOWN:
                        skip.add(code)  # once per factor, whatever kinds it carries
                        if raw is None:
                            raw = mask_password(frame)
                        quarantine.append((f"unknown_code: factor code {code!r} is not in the parameter catalogue",
                                           f"{code}-{kind}", raw))
                        continue
                    entry = by_kind.get(kind, _UNKNOWN)
                    if entry is _UNKNOWN:
                        entry = by_kind[kind] = self._plan_kind(info.site_id, info.site_kind, cn, code, kind)
                    if entry is None:
                        c["not_stored_kinds"] += 1
                        continue
                    key, scale = entry
                    rows.append((key, t, value * scale if scale != 1.0 else value, flag))
                c["records"] += len(rows)
            c["quarantined"] += len(quarantine)
        else:
            c["event_packets"] += 1
            kind = _EVENT_KIND.get(cn, "upload")
            fields = packet.cp.fields
            when = None
            for name in ("DataTime", "RestartTime", "SystemTime"):
                v = fields.get(name)
                if v is not None:
                    with contextlib.suppress(HJ212Error):
                        when = parse_time(v, name).astimezone(UTC)
                    break
            ref = packet.qn or (fields.get("DataTime") if fields.get("DataTime") else None)
            payload: dict[str, Any] = {"params": packet.cp.params}
            if packet.cp.factors:
                payload["factors"] = packet.cp.factors
            if packet.cp.encrypted:
                payload = {"encrypted": True}
            events.append(event_row(mn, info.id, kind, cn, ref, when, payload, conn.peer))
        if quarantine:
            quarantine = [(reason, fld, r, mn) for reason, fld, r in quarantine]
        return Work(conn, session, qns, acks, rows, quarantine, events, t0)


def event_row(mn: str, device_id: int | None, kind: str, cn: str | None, ref: str | None, when: datetime | None,
              payload: dict[str, Any] | None, peer: str | None) -> dict[str, Any]:
    """A ``device_event`` row."""
    return {"mn": mn[:64], "device_id": device_id, "kind": kind, "cn": cn, "ref": ref, "time": when,
            "payload": payload, "peer": (peer or "")[:64] or None, "received_at": datetime.now(UTC)}


def primary_values(packet: Packet, stats: bool = False
                   ) -> tuple[int, list[tuple[str, str, float, str | None]], int] | None:
    """The values the gateway stores from a data packet (2011/2051/2061/2031): ``(DataTime as UTC epoch
    seconds, [(factor code, kind, value, data flag)], number of other numeric values not returned)`` — the
    ``Rtd`` of real-time data, the ``Avg`` (or noise ``Data``) of minute/hour/day data; ``None`` when the
    packet carries no values. With ``stats=True`` also the statistic kinds the gateway stores into derived
    parameters: ``ZsRtd`` of real-time data, ``Min``, ``Max``, ``Cou``, ``ZsAvg`` of minute/hour/day data
    (each factor's primary value first, then these in data-area order).

    These are exactly the :func:`~ecohub.protocols.hj212.records` of the packet with those kinds (a test
    checks it); read straight from the decoded data area because building every ``Record`` (20 per
    ten-factor packet with ``-ZsRtd``) costs ~40 µs per packet, a third of the gateway's per-packet work.
    Raises :class:`HJ212Error` for what ``records`` refuses (encrypted CP, no or bad DataTime, an item twice).
    """
    interval = INTERVAL_BY_CN.get(packet.cn)
    if interval is None:
        return None
    cp = packet.cp
    if cp.encrypted:
        raise HJ212Error("decrypt_failed", "CP is SM4-encrypted and no key was given (Dialect.sm4_key)", "CP", cp.text)
    factors = cp.factors
    if not factors:
        return None
    fields = cp.fields
    dt_text = fields.get("DataTime")
    if dt_text is None:
        raise HJ212Error("missing_field", f"CN={packet.cn} packet has values but no DataTime", "DataTime", None)
    t = int(parse_time(dt_text, "DataTime").timestamp())
    if len(fields) != len(cp):
        seen: set[str] = set()
        for name, _ in cp.pairs:
            if "-" in name and name in seen:
                raise HJ212Error("bad_cp", f"CP item {name} occurs twice", name, None)
            seen.add(name)
    primary = _PRIMARY_KIND[interval]
    extra = _STAT_KIND[interval] if stats else frozenset()
    out: list[tuple[str, str, float, str | None]] = []
    others = 0
    for code, kinds in factors.items():
        chosen = None
        for k in primary:
            text = kinds.get(k)
            if text is not None:
                chosen = k
                try:
                    v = float(text)
                except ValueError:
                    break
                if math.isfinite(v):
                    out.append((code, k, v, kinds.get("Flag")))
                break
        for k, text in kinds.items():
            if k == chosen:
                continue
            if k in extra:
                try:
                    v = float(text)
                except ValueError:
                    continue
                if math.isfinite(v):
                    out.append((code, k, v, kinds.get("Flag")))
            elif k in NUMERIC_KINDS:
                others += 1
    return t, out, others


def validate_items(packet: Packet) -> list[tuple[str, str, str]]:
    """Items of a loosely decoded CP that fail the value rules: (factor code, reason, field)."""
    bad: list[tuple[str, str, str]] = []
    for code, kinds in packet.cp.factors.items():
        for kind, value in kinds.items():
            name = f"{code}-{kind}"
            reason = None
            if kind in NUMERIC_KINDS:
                try:
                    if not math.isfinite(float(value)):
                        reason = f"bad_field: {name}={value!r} is not a finite number"
                except ValueError:
                    reason = f"bad_field: {name}={value!r} is not a number"
            elif kind == "Flag":
                if len(value) != 1 or value not in ALL_FLAGS:
                    reason = f"bad_flag: {name}={value!r} is not an HJ 212 data flag"
            elif kind == "SampleTime":
                try:
                    parse_time(value, name)
                except HJ212Error as e:
                    reason = f"bad_time: {e}"
            if reason is not None:
                bad.append((code, reason, name))
                break  # the factor's values are quarantined together
    return bad


_PW_RE = re.compile(r"(^|;)PW=[^;]*")


def mask_password(frame: bytes) -> str:
    """A frame as text for the quarantine, its password masked (``PW=***``)."""
    return _PW_RE.sub(r"\1PW=***", frame.decode("utf-8", "replace"), count=1)
