"""Outlet data as the regulator assesses it: valid hourly values per outlet and parameter (from hourly,
minute or real-time series), converted (折算) concentrations where a permit asks for them, daily means, and the
suspicious-data indicators per outlet and period."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ecohub.quality import suspicious as S
from ecohub.quality.config import OUTLET_KINDS, resolution
from ecohub.quality.valid import daily_means, hourly_means, load_series, period_start
from ecohub.standards.emission import reference_oxygen_concentration

FLOW = ("flow_gas", "flow_water")
#: which series of an outlet parameter gives its hours: hourly preferred, else minute, else real-time
PREFERENCE = {"hour": 0, "minute": 1, "rt": 2}
_PREF = PREFERENCE


@dataclass
class Permit:
    id: int
    site_id: int
    site: str
    parameter: str
    parameter_id: int
    period: str
    limit: float
    unit: str
    converted_o2: float | None


def permits(conn: Connection, site_ids: list[int] | None = None) -> list[Permit]:
    q = ("SELECT l.id, l.site_id, s.code, p.name, p.id, l.period, l.limit_value, l.unit, l.converted_o2 "
         "FROM permit_limit l JOIN site s ON s.id = l.site_id JOIN parameter p ON p.id = l.parameter_id")
    if site_ids is not None:
        if not site_ids:
            return []
        q += f" WHERE l.site_id IN ({', '.join(str(int(x)) for x in site_ids)})"
    return [Permit(*r) for r in conn.execute(text(q + " ORDER BY s.code, p.name, l.period"))]


def outlet_hourly(conn: Connection, site_ids: list[int], start: int, end: int,
                  parameters: set[str] | None = None) -> dict[int, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """site id → parameter → (hour starts, valid hourly values); hourly series preferred, else minute, else rt."""
    return {s: {p: (h.time, h.value) for p, h in d.items()}
            for s, d in outlet_hours(conn, site_ids, start, end, parameters).items()}


@dataclass
class Hours:
    """One outlet parameter's hours: hour starts, valid hourly values (NaN where not valid), and whether the hour
    is marked *stopped* (HJ 212 flag ``F``, 停运): an hourly record flagged F, or — from minute / real-time data —
    an hour without a valid mean whose records are mostly flagged F."""

    time: np.ndarray
    value: np.ndarray
    stopped: np.ndarray
    interval: str = "hour"  # the series the hours come from: hour, minute or rt


def _stopped(sv, interval: str, hours: np.ndarray, values: np.ndarray) -> np.ndarray:
    is_f = np.array([f == "F" for f in sv.flag], dtype=bool) if len(sv.flag) else np.zeros(0, bool)
    if interval == "hour":
        return is_f & ~sv.valid
    if not is_f.any():
        return np.zeros(hours.size, bool)
    ps = period_start(sv.time, "hour")
    pos = np.searchsorted(hours, ps)
    n_f = np.bincount(pos, weights=is_f, minlength=hours.size)
    n = np.bincount(pos, minlength=hours.size)
    return (2 * n_f > n) & np.isnan(values)


def outlet_hours(conn: Connection, site_ids: list[int], start: int, end: int,
                 parameters: set[str] | None = None) -> dict[int, dict[str, Hours]]:
    """site id → parameter → :class:`Hours` (valid hourly values and stopped hours); hourly series preferred, else
    minute, else rt."""
    if not site_ids:
        return {}
    rows = conn.execute(text(
        "SELECT r.id, r.site_id, p.name, r.interval FROM series r JOIN parameter p ON p.id = r.parameter_id "  # noqa: S608 (integer ids and fixed names only)
        f"WHERE r.site_id IN ({', '.join(str(int(x)) for x in site_ids)}) AND r.interval IN ('hour', 'minute', 'rt')"
    )).all()
    best: dict[tuple[int, str], tuple[int, str]] = {}
    for sid, site_id, par, iv in rows:
        if parameters is not None and par not in parameters:
            continue
        k = (int(site_id), par)
        if k not in best or _PREF[iv] < _PREF[best[k][1]]:
            best[k] = (int(sid), iv)
    data = load_series(conn, {sid: (start, end) for sid, _ in best.values()})
    out: dict[int, dict[str, Hours]] = {}
    for (site_id, par), (sid, iv) in best.items():
        sv = data.get(sid)
        if sv is None:
            continue
        out.setdefault(site_id, {})[par] = hours_of(sv, iv)
    return out


def hours_of(sv, interval: str) -> Hours:
    """The :class:`Hours` of one series' values (``valid.SeriesValues``) of interval ``hour``, ``minute`` or ``rt``
    — pure: the valid hourly means (``valid.hourly_means``) and the stopped hours."""
    t, v = hourly_means(sv, interval)
    return Hours(t, v, _stopped(sv, interval, t, v), interval)


def _on(t: np.ndarray, series: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    out = np.full(t.size, np.nan)
    if series is None or series[0].size == 0:
        return out
    tb, vb = series
    pos = np.clip(np.searchsorted(tb, t), 0, tb.size - 1)
    hit = tb[pos] == t
    out[hit] = vb[pos[hit]]
    return out


def permit_values(permit: Permit, hourly: dict[str, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray,
                                                                                              dict]:
    """The values a permit is judged on: (period starts, period means, info) — converted with the O2 reading
    where the permit says so (hourly: C × (21 − O2ref)/(21 − O2); daily: mean of ≥ 20 valid converted hours)."""
    t, v = hourly.get(permit.parameter, (np.zeros(0, np.int64), np.zeros(0)))
    info: dict = {"converted": False}
    if permit.converted_o2 is not None and t.size:
        o2 = _on(t, hourly.get("o2"))
        v = reference_oxygen_concentration(v, o2, permit.converted_o2)  # NaN without an O2 reading
        info = {"converted": True, "o2_reference": permit.converted_o2}
    if permit.period == "day":
        d, m, n = daily_means(t, v)
        info["valid_hours"] = dict(zip(d.tolist(), n.tolist(), strict=True))
        return d, m, info
    return t, v, info


def suspicious_report(conn: Connection, start: int, end: int, site_ids: list[int] | None = None,
                      p: S.SuspiciousParams = S.SuspiciousParams()) -> dict[str, dict]:
    """Indicators and score per outlet for [start, end): {site code: {score, indicators: [...]}}.

    Copies are searched among all outlets (not only ``site_ids``), since a copy's source may be elsewhere."""
    all_outlets = {int(r[0]): r[1] for r in conn.execute(text(
        "SELECT id, code FROM site WHERE kind IN ('gas_outlet', 'water_outlet')"))}
    targets = list(all_outlets) if site_ids is None else [s for s in site_ids if s in all_outlets]
    if not targets:
        return {}
    hourly = outlet_hourly(conn, list(all_outlets), start, end)
    pm = {}
    for pr in permits(conn, targets):
        if pr.parameter not in pm.get(pr.site_id, {}) or pr.period == "hour":
            pm.setdefault(pr.site_id, {})[pr.parameter] = pr
    result: dict[str, dict] = {}
    by_param: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for site_id, series in hourly.items():
        for par, tv in series.items():
            if par not in FLOW and par != "o2":
                by_param.setdefault(par, {})[all_outlets[site_id]] = tv
    copies = {par: S.copied(d, par, resolution(par), p) for par, d in by_param.items()}
    for site_id in targets:
        code = all_outlets[site_id]
        series = hourly.get(site_id, {})
        inds: list[S.Indicator] = []
        flow = next((series[f] for f in FLOW if f in series), None)
        for par, (t, v) in sorted(series.items()):
            if par in FLOW or par == "o2":
                continue
            running = None
            if flow is not None:
                fv = _on(t, flow)
                running = ~(fv <= 0)  # unknown flow counts as running
            res = resolution(par)
            permit = pm.get(site_id, {}).get(par)
            vv = v
            if permit is not None:
                pt = permit_values(Permit(**{**permit.__dict__, "period": "hour"}), series)[1]
                vv = pt if permit.converted_o2 is not None else v
                inds.append(S.near_limit(par, vv if running is None else np.where(running, vv, np.nan),
                                         permit.limit, p))
            inds.append(S.low_variance(par, v, running, res, p))
            inds.append(S.level_shift(par, t, v, res, p))
            if par in copies and code in copies[par]:
                inds.append(copies[par][code])
            if "o2" in series and not par.endswith("_zs"):
                zs = series.get(f"{par}_zs")  # a reported converted series, where the ingest stores one
                inds.append(S.o2_inconsistent(par, v, _on(t, series["o2"]),
                                              permit.converted_o2 if permit is not None else None,
                                              _on(t, zs) if zs is not None else None, running, p))
        inds = [i for i in inds if i.score > 0]
        result[code] = {"site": code, "score": S.combine(inds), "indicators": [i.as_dict() for i in inds],
                        "start": start, "end": end}
    return result


__all__ = ["FLOW", "OUTLET_KINDS", "PREFERENCE", "Hours", "hours_of", "Permit", "outlet_hourly", "outlet_hours", "permit_values", "permits",
           "suspicious_report"]
