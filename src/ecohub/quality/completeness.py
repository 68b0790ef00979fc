"""Completeness per series, site and device, per Beijing day and month, as pollution-source monitoring
assessments define it (国控污染源自动监控数据传输有效率考核):

* transmission rate 传输率 = values received / values that should have been received;
* effective-data rate 有效率 = valid values / values received;
* effective transmission rate 有效传输率 = transmission rate × effective-data rate = valid / expected.

"Should have been received" counts the interval slots of the period up to ``until`` (a day not yet over counts
only its past slots). Real-time series have no fixed slot, so only their received/valid counts are given.
Missing periods are the runs of empty slots; they feed the HJ 212 back-fill request (CN 2061/2031 … with
BeginTime/EndTime) of the ingestion work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from ecohub.quality import store_io as io
from ecohub.quality.config import INTERVAL_SECONDS
from ecohub.quality.valid import BEIJING_OFFSET, load_series, period_start


@dataclass
class Completeness:
    series_id: int
    site: str
    parameter: str
    interval: str
    period: str  # Beijing date (YYYY-MM-DD) or month (YYYY-MM)
    expected: int | None
    received: int
    valid: int
    flags: dict = field(default_factory=dict)

    @property
    def transmission_rate(self) -> float | None:
        return None if not self.expected else min(1.0, self.received / self.expected)

    @property
    def effective_rate(self) -> float | None:
        return None if not self.received else self.valid / self.received

    @property
    def effective_transmission_rate(self) -> float | None:
        return None if not self.expected else min(1.0, self.valid / self.expected)

    def as_dict(self) -> dict:
        r = lambda x: None if x is None else round(x, 4)  # noqa: E731
        return {"site": self.site, "parameter": self.parameter, "interval": self.interval, "period": self.period,
                "expected": self.expected, "received": self.received, "valid": self.valid,
                "transmission_rate": r(self.transmission_rate), "effective_rate": r(self.effective_rate),
                "effective_transmission_rate": r(self.effective_transmission_rate), "flags": self.flags}


def _label(t0: int, by: str) -> str:
    from datetime import UTC, datetime

    d = datetime.fromtimestamp(t0 + BEIJING_OFFSET, UTC)
    return d.strftime("%Y-%m-%d") if by == "day" else d.strftime("%Y-%m")


def _periods(start: int, end: int, by: str) -> list[tuple[int, int]]:
    """Beijing natural days or months covering [start, end)."""
    from datetime import UTC, datetime, timedelta

    out = []
    t = int(period_start(np.asarray([start]), "day")[0])
    if by == "month":
        d = datetime.fromtimestamp(t + BEIJING_OFFSET, UTC).replace(day=1)
        while int(d.timestamp()) - BEIJING_OFFSET < end:
            nxt = (d + timedelta(days=32)).replace(day=1)
            out.append((int(d.timestamp()) - BEIJING_OFFSET, int(nxt.timestamp()) - BEIJING_OFFSET))
            d = nxt
        return out
    while t < end:
        out.append((t, t + 86400))
        t += 86400
    return out


def series_of_sites(conn: Connection, site_codes: list[str]) -> dict[int, dict]:
    ids = [int(r[0]) for r in conn.execute(text(
        "SELECT r.id FROM series r JOIN site s ON s.id = r.site_id WHERE s.code IN :codes").bindparams(
        bindparam("codes", expanding=True)), {"codes": site_codes})]
    return io.series_meta(conn, ids)


def completeness(conn: Connection, site_codes: list[str], start: int, end: int, *, by: str = "day",
                 until: int | None = None) -> list[Completeness]:
    """Completeness of every series of the sites, per Beijing day or month in [start, end)."""
    meta = series_of_sites(conn, site_codes)
    if not meta:
        return []
    data = load_series(conn, {s: (start, end) for s in meta})
    flags = _flag_counts(conn, list(meta), start, end, by)
    until = end if until is None else min(end, until)
    out: list[Completeness] = []
    periods = _periods(start, end, by)
    for sid, m in sorted(meta.items(), key=lambda kv: (kv[1]["site"], kv[1]["parameter"], kv[1]["interval"])):
        sv = data.get(sid)
        t = sv.time if sv is not None else np.zeros(0, np.int64)
        ok = sv.valid if sv is not None else np.zeros(0, bool)
        for a, b in periods:
            exp, rec, val = slot_counts(m["interval"], t, ok, max(a, start), min(b, end), until)
            out.append(Completeness(sid, m["site"], m["parameter"], m["interval"], _label(a, by), exp, rec, val,
                                    flags.get((sid, a), {})))
    return out


def slot_counts(interval: str, t: np.ndarray, ok: np.ndarray, lo: int, hi: int, until: int) -> tuple[int | None,
                                                                                                     int, int]:
    """(expected, received, valid) of one series in [lo, hi) — pure, the definition every engine uses.

    ``t``: the series' times (one per time), ``ok``: their validity; expected = the interval slots of [lo, hi)
    up to ``until`` (None for real-time series, which have no fixed slot)."""
    step = INTERVAL_SECONDS.get(interval) if interval != "rt" else None
    sel = (t >= lo) & (t < hi)
    exp = None
    if step:
        first = -(-lo // step) * step if interval != "day" else lo
        last = min(hi, until)
        exp = max(0, -(-(last - first) // step)) if last > first else 0
    return exp, int(sel.sum()), int((ok & sel).sum())


def rates(expected: int, received: int, valid: int) -> dict:
    """The three rates of a site and period from its summed counts (module doc), rounded to 4 decimals."""
    return {"transmission_rate": round(min(1.0, received / expected), 4) if expected else None,
            "effective_rate": round(valid / received, 4) if received else None,
            "effective_transmission_rate": round(min(1.0, valid / expected), 4) if expected else None}


def _flag_counts(conn: Connection, ids: list[int], start: int, end: int, by: str) -> dict:
    out: dict = {}
    rows = conn.execute(text(
        f"SELECT series_id, {io.ep(conn, 'time')}, rule FROM qc_flag WHERE time >= {io.ts(conn, 'a')} "  # noqa: S608
        f"AND time < {io.ts(conn, 'b')}"), {"a": start, "b": end}).all()
    idset = set(ids)
    if not rows:
        return out
    ps = period_start(np.asarray([r[1] for r in rows], dtype=np.int64), "day")
    for (s, _t, rule), p in zip(rows, ps.tolist(), strict=True):
        if s not in idset:
            continue
        if by == "month":
            p = next(a for a, b in _periods(p, p + 1, "month"))
        d = out.setdefault((s, p), {})
        d[rule] = d.get(rule, 0) + 1
    return out


def site_summary(rows: list[Completeness]) -> list[dict]:
    """Per site and period: sums over the site's series (rt series left out of the rates)."""
    acc: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        if r.expected is None:
            continue
        a = acc.setdefault((r.site, r.period), [0, 0, 0])
        a[0] += r.expected
        a[1] += r.received
        a[2] += r.valid
    out = []
    for (s, p), (e, rc, v) in sorted(acc.items()):
        out.append({"site": s, "period": p, "expected": e, "received": rc, "valid": v, **rates(e, rc, v)})
    return out


def device_completeness(conn: Connection, mn: str, start: int, end: int, by: str = "day") -> list[dict]:
    """Completeness of an HJ 212 device = that of its site's series, labelled with the MN."""
    code = conn.execute(text("SELECT s.code FROM device d JOIN site s ON s.id = d.site_id WHERE d.mn = :mn"),
                        {"mn": mn}).scalar()
    if code is None:
        from ecohub.domain.errors import InputError

        raise InputError("mn", mn, "unknown device")
    return [dict(r, device=mn) for r in site_summary(completeness(conn, [code], start, end, by=by))]


def missing_periods(conn: Connection, site_code: str, start: int, end: int, *, parameter: str | None = None,
                    min_slots: int = 1) -> list[dict]:
    """Runs of empty slots per series of a site in [start, end): {site, parameter, interval, start, end, slots}
    (start inclusive, end exclusive, epoch seconds). Real-time series are left out."""
    meta = {k: v for k, v in series_of_sites(conn, [site_code]).items()
            if v["interval"] != "rt" and (parameter is None or v["parameter"] == parameter)}
    data = load_series(conn, {s: (start, end) for s in meta})
    out = []
    for sid, m in sorted(meta.items(), key=lambda kv: (kv[1]["parameter"], kv[1]["interval"])):
        step = INTERVAL_SECONDS[m["interval"]]
        first = -(-start // step) * step if m["interval"] != "day" else int(period_start(np.asarray([start]), "day")[0])
        grid = np.arange(first, end, step, dtype=np.int64)
        if grid.size == 0:
            continue
        t = data[sid].time if sid in data else np.zeros(0, np.int64)
        have = np.isin(grid, t)
        miss = ~have
        if not miss.any():
            continue
        d = np.diff(np.r_[0, miss.astype(np.int8), 0])
        starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            if b - a >= min_slots:
                out.append({"site": site_code, "parameter": m["parameter"], "interval": m["interval"],
                            "start": int(grid[a]), "end": int(grid[b - 1] + step), "slots": b - a})
    return out
