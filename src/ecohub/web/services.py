"""What the pages need beyond the API's endpoints, computed with the same services (``ecohub.analytics``, the
query layer) and **always with the caller's scope**: the one-map features (every visible site with its
state), a station's last hours of AQI, a day of AQI for the map's time slider, the cockpit's key figures, the
disclosed online monitoring of key polluters against their permit limits, and a site's permit limits.

Nothing here bypasses :class:`~ecohub.store.queries.Scope`: site lists come from ``queries.sites`` /
``latest_values`` / ``observations`` with the scope, and tables that reference sites (alerts, permits,
devices) are joined to ``site`` and filtered with ``scope.site_condition()``.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np

from ecohub.alerts import service as A
from ecohub.analytics import aqi_hourly, aqi_service, rankings, water_service
from ecohub.config import settings
from ecohub.domain.timeutil import BEIJING
from ecohub.store import queries as Q
from ecohub.store.db import Store
from ecohub.store.grid import hourly_grid
from ecohub.store.queries import Scope, SeriesFilter

POLLUTANTS = aqi_service.POLLUTANTS
OUTLET_KINDS = Q.OUTLET_KINDS
OFFLINE_MINUTES = settings().offline_minutes  # as the alerts' offline rule (ECOHUB_OFFLINE_MINUTES)
PM25_TARGET = settings().pm25_target  # µg/m³; GB 3095 class 2 annual limit (ECOHUB_PM25_TARGET)


def _bj(t: datetime | None) -> str | None:
    return t.astimezone(BEIJING).isoformat() if isinstance(t, datetime) else t


# --- one map ----------------------------------------------------------------------------------------------
FEATURE_COLUMNS = ("code", "name", "kind", "lon", "lat", "region", "value", "level", "status", "alerts", "time")


def open_alerts_by_site(store: Store, scope: Scope) -> dict[str, dict]:
    """Per visible site: open alerts — count, worst severity, rules of the active ones (the alerts service)."""
    return A.open_by_site(store, scope)


def _newest_received(store: Store, scope: Scope, kinds) -> dict[str, datetime]:
    return Q.newest_received_by_site(store, scope, kinds)


def source_status(code: str, alerts: dict[str, dict], newest: datetime | None, now: datetime) -> str:
    """normal | exceeding | suspicious | offline: an active permit alert, an active suspicious-data alert, no
    data for OFFLINE_MINUTES (or an active offline alert), else normal."""
    rules = alerts.get(code, {}).get("active_rules", set())
    if "permit" in rules:
        return "exceeding"
    if "suspicious" in rules:
        return "suspicious"
    if "offline" in rules or newest is None or now - newest > timedelta(minutes=OFFLINE_MINUTES):
        return "offline"
    return "normal"


def alert_version(store: Store) -> int:
    return A.version(store)


def map_features_cached(store: Store, scope: Scope) -> dict:
    """:func:`map_features`, reused for up to 30 s while no value and no alert event is newer."""
    return cached(("features", scope_key(scope), data_version(store), alert_version(store)), 30,
                  lambda: map_features(store, scope))


def map_features(store: Store, scope: Scope, *, now: datetime | None = None) -> dict:
    """Every site the scope may see with its state, as rows of :data:`FEATURE_COLUMNS`:

    * air stations: value = AQI of the newest hour, level = AQI level (1-6);
    * water sections: level = GB 3838 class (1-6), value = the class too;
    * outlets: status normal / exceeding / suspicious / offline (:func:`source_status`);
    * noise points and others: value = newest value of their first series;
    * ``alerts``: number of open alerts of the site.
    """
    now = now or datetime.now(UTC)
    rows = Q.sites(store, scope=scope)
    aqi = {r["site"]: r for r in aqi_service.hourly_now(store, scope=scope)}
    water = {r["site"]: r for r in water_service.latest_classes(store, scope=scope)}
    alerts = open_alerts_by_site(store, scope)
    other_kinds = {r["kind"] for r in rows} - {"air_station", "water_section"}
    newest = _newest_received(store, scope, other_kinds) if other_kinds else {}
    other_values: dict[str, tuple] = {}
    if other_kinds - set(OUTLET_KINDS):
        for r in Q.latest_values(store, SeriesFilter(kinds=sorted(other_kinds - set(OUTLET_KINDS))), scope=scope):
            other_values.setdefault(r["site"], (r["value"], r["time"]))
    out = []
    for s in rows:
        code, kind = s["code"], s["kind"]
        value = level = status = t = None
        if kind == "air_station":
            a = aqi.get(code)
            if a is not None:
                value, level, t = a["aqi"], a["level"], a["time"]
            status = "normal" if a is not None and a["aqi"] is not None else "offline"
        elif kind == "water_section":
            w = water.get(code)
            if w is not None and w["class"]:
                value = level = w["class"]
                t = w["time"]
            status = "normal" if w is not None else "offline"
        elif kind in OUTLET_KINDS:
            status = source_status(code, alerts, newest.get(code), now)
            t = newest.get(code)
        else:
            v = other_values.get(code)
            if v is not None:
                value, t = v
            status = "normal" if v is not None else "offline"
        al = alerts.get(code, {}).get("count", 0)
        out.append([code, s["name"], kind, s["lon"], s["lat"], s["region_code"],
                    None if value is None else round(float(value), 1), level, status, al, _bj(t)])
    return {"columns": list(FEATURE_COLUMNS), "generated_at": _bj(now), "offline_minutes": OFFLINE_MINUTES,
            "sites": out}


# --- portal -----------------------------------------------------------------------------------------------
PORTAL_COLUMNS = ("site", "name", "lon", "lat", "region_code", "aqi", "level", "primary_pollutant", "pm25", "pm10",
                  "time")


def data_version(store: Store) -> datetime | None:
    """When the newest value arrived (any series): a cheap validator for caches of derived figures."""
    return Q.data_version(store)


def portal_aqi(store: Store, scope: Scope) -> dict:
    """The real-time AQI of every visible air station (``aqi_service.hourly_now``, the one definition) in a
    compact columnar form for the portal's map and list: :data:`PORTAL_COLUMNS` per row. Cached per scope
    until a newer value arrives."""
    def compute():
        rows = aqi_service.hourly_now(store, scope=scope)
        return {"columns": list(PORTAL_COLUMNS),
                "time": _bj(max((r["time"] for r in rows), default=None)),
                "rows": [[r["site"], r["name"], r["lon"], r["lat"], r["region_code"], r["aqi"], r["level"],
                          r["primary_pollutant"], r["concentrations"].get("pm25"), r["concentrations"].get("pm10"),
                          _bj(r["time"])] for r in rows]}

    return cached(("portal", scope_key(scope), data_version(store)), 300, compute)


# --- AQI history ------------------------------------------------------------------------------------------
def _newest_air_hour(store: Store, scope: Scope, codes: list[str] | None = None) -> datetime | None:
    return Q.newest_time(store, scope, kind="air_station", interval="hour", codes=codes or ())


def station_hours(store: Store, scope: Scope, code: str, hours: int = 24) -> dict | None:
    """The last ``hours`` hours of one air station (ending at its newest hour): per hour the AQI, level,
    colour, primary pollutant and the six concentrations. None when the scope may not see the station."""
    if not Q.sites(store, codes=[code], kinds=["air_station"], scope=scope):
        return None
    end = _newest_air_hour(store, scope, [code])
    if end is None:
        return {"site": code, "hours": []}
    start = end - timedelta(hours=hours - 1)
    grid = hourly_grid(store, SeriesFilter(sites=[code], kinds=["air_station"]), start, hours, POLLUTANTS,
                       scope=scope)
    if code not in grid.sites:
        return {"site": code, "hours": []}
    res = aqi_hourly.station_hour_aqi(grid)
    i = grid.sites.index(code)
    out = []
    for h in range(hours):
        ok = not np.isnan(res.aqi[h])
        conc = {p: (None if np.isnan(grid.values[p][i, h]) else float(grid.values[p][i, h])) for p in POLLUTANTS}
        out.append({"time": _bj(start + timedelta(hours=h)), "aqi": int(res.aqi[h]) if ok else None,
                    "level": int(res.level[h]) if ok else None,
                    "color": str(res.color[h]) if ok else None,
                    "primary_pollutant": (str(res.primary_pollutant[h]) or None) if ok else None,
                    "concentrations": conc})
    return {"site": code, "hours": out}


def replay(store: Store, scope: Scope, hours: int = 24) -> dict:
    """AQI of every visible air station for each of the last ``hours`` hours (for the map's time slider):
    ``aqi[i][h]`` for ``sites[i]`` and ``times[h]``; null where the hour is missing. From the worker's maintained
    hourly AQI (:mod:`ecohub.analytics.aqi_hourly`) up to its last pass, computed after it."""
    end = _newest_air_hour(store, scope)
    if end is None:
        return {"times": [], "sites": [], "aqi": [], "level": []}
    start = end - timedelta(hours=hours - 1)
    times = [_bj(start + timedelta(hours=h)) for h in range(hours)]
    codes, a, lv = aqi_hourly.hour_aqi(store, scope, start, hours)
    if not codes:
        return {"times": times, "sites": [], "aqi": [], "level": []}
    missing = np.isnan(a)
    return {"times": times, "sites": codes,
            "aqi": _ints_or_none(np.where(missing, 0, a).astype(np.int64), missing),
            "level": _ints_or_none(np.where(missing, 0, lv).astype(np.int64), missing)}


def _ints_or_none(values: np.ndarray, missing: np.ndarray) -> list[list[int | None]]:
    """Rows of Python ints with None where ``missing`` (one ``tolist`` instead of a NaN test per cell)."""
    out = values.tolist()
    for i, j in zip(*np.nonzero(missing), strict=True):
        out[i][j] = None
    return out


# --- permits and disclosed online monitoring --------------------------------------------------------------
def permits_for(store: Store, scope: Scope, codes: list[str] | None = None) -> dict[str, list[dict]]:
    """Permit limits per visible outlet (the alerts package's permit register)."""
    from ecohub.alerts.permits import permit_limits

    return permit_limits(store, scope, codes)


def judged_values(store: Store, codes: list[str], now: datetime) -> dict[str, dict[str, dict]]:
    """What each permit limit of the outlets ``codes`` is judged on, as the alert rule ``permit`` judges it
    (:func:`ecohub.quality.outlets.permit_values`): the newest complete hourly mean (hour limits) or valid daily
    mean (day limits: natural Beijing day, at least 20 valid hours), converted to the reference O2 where the permit
    says the limit applies to the converted concentration. {site code: {parameter: {value, period, start,
    basis ("converted" | "measured"), o2_reference, limit, unit}}}."""
    from ecohub.quality.outlets import outlet_hourly, permit_values, permits

    end = int(now.timestamp()) // 3600 * 3600  # complete hours only
    start = end - 3 * 86400
    wanted = set(codes)
    with store.engine.connect() as conn:
        plist = [p for p in permits(conn) if p.site in wanted]
        if not plist:
            return {}
        hourly = outlet_hourly(conn, sorted({p.site_id for p in plist}), start, end,
                               parameters={p.parameter for p in plist} | {"o2"})
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for p in plist:
        t, v, info = permit_values(p, hourly.get(p.site_id, {}))
        ok = np.flatnonzero(np.isfinite(v))
        cur = out[p.site].get(p.parameter)
        if cur is not None and cur["period"] == "hour":
            continue  # the hourly limit is the one shown (as before: the daily one when there is none)
        out[p.site][p.parameter] = {
            "value": float(v[ok[-1]]) if ok.size else None,
            "start": _bj(datetime.fromtimestamp(int(t[ok[-1]]), UTC)) if ok.size else None,
            "period": p.period, "basis": "converted" if info.get("converted") else "measured",
            "o2_reference": info.get("o2_reference"), "limit": p.limit, "unit": p.unit}
    return dict(out)


def disclosed_sources(store: Store, scope: Scope, *, now: datetime | None = None) -> list[dict]:
    """Outlets the scope may see (for the public: key polluting units' disclosed outlets): the newest reading of
    each parameter (real-time, minute or hourly — shown, never compared with a limit) and, where a permit limit
    exists, the value the limit is judged on (:func:`judged_values`: hourly or daily mean, measured or converted
    as the permit says) against that limit — like with like."""
    now = now or datetime.now(UTC)
    outlets = Q.sites(store, kinds=list(OUTLET_KINDS), scope=scope)
    if not outlets:
        return []
    ents = {e["uscc"]: e["name"] for e in Q.enterprises(store, scope=scope)}
    codes = [o["code"] for o in outlets]
    judged = judged_values(store, codes, now)
    alerts = open_alerts_by_site(store, scope)
    newest = _newest_received(store, scope, OUTLET_KINDS)
    values: dict[str, list[dict]] = defaultdict(list)
    for r in Q.latest_values(store, SeriesFilter(kinds=list(OUTLET_KINDS)), scope=scope):
        if r["interval"] not in ("hour", "rt", "min"):
            continue
        values[r["site"]].append(r)
    names = {p["name"]: p for p in Q.parameters(store)}
    out = []
    for o in outlets:
        lim = judged.get(o["code"], {})
        by_param: dict[str, dict] = {}
        for r in values.get(o["code"], []):  # the newest reading of each parameter
            cur = by_param.get(r["parameter"])
            if cur is None or r["time"] > cur["time"]:
                by_param[r["parameter"]] = r
        items = []
        for pname in sorted(set(by_param) | set(lim)):
            r = by_param.get(pname)
            j = lim.get(pname)
            meta = names.get(pname, {})
            items.append({
                "parameter": pname, "name_zh": meta.get("name_zh"), "name_en": meta.get("name_en"),
                "value": r["value"] if r else None, "unit": r["unit"] if r else meta.get("unit"),
                "interval": r["interval"] if r else None, "time": _bj(r["time"]) if r else None,
                "judged_value": j["value"] if j else None, "judged_start": j["start"] if j else None,
                "basis": j["basis"] if j else None, "o2_reference": j["o2_reference"] if j else None,
                "limit": j["limit"] if j else None, "limit_period": j["period"] if j else None,
                "limit_unit": j["unit"] if j else None,
                "exceeding": bool(j and j["value"] is not None and j["value"] > j["limit"])})
        out.append({"code": o["code"], "name": o["name"], "kind": o["kind"], "lon": o["lon"], "lat": o["lat"],
                    "region_code": o["region_code"], "region_name": o["region_name"], "enterprise": o["enterprise"],
                    "enterprise_name": ents.get(o["enterprise"]),
                    "status": source_status(o["code"], alerts, newest.get(o["code"]), now), "items": items})
    return out


# --- cockpit ----------------------------------------------------------------------------------------------
_cache: dict[tuple, tuple[float, object]] = {}
_cache_lock = threading.Lock()


def cached(key: tuple, ttl: float, fn):
    """A small in-process cache for the heavier figures (per scope; ``ttl`` seconds)."""
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
    value = fn()
    with _cache_lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = (now, value)
    return value


def scope_key(scope: Scope) -> tuple:
    return (scope.role, scope.region_code, scope.enterprise_id)


def _chunks(d0: date, d1: date, n: int = aqi_service.MAX_DAYS):
    while d0 <= d1:
        e = min(d1, d0 + timedelta(days=n - 1))
        yield d0, e
        d0 = e + timedelta(days=1)


def year_air_figures(store: Store, scope: Scope, today: date) -> dict:
    """Share of good city-days (AQI ≤ 100 with all six items) and the PM2.5 mean (mean of the city daily
    means) from 1 January (or the first day with data) to yesterday, Beijing days."""
    first = date(today.year, 1, 1)
    last = today - timedelta(days=1)
    good = valid = 0
    pm = []
    days: set[str] = set()
    if first <= last:
        for a, b in _chunks(first, last):
            for r in aqi_service.daily(store, a, b, scope=scope, by="city"):
                if r["aqi"] is not None and not r["missing"]:
                    valid += 1
                    good += r["aqi"] <= 100
                    days.add(r["date"])
                v = r["concentrations"].get("pm25")
                if v is not None:
                    pm.append(v)
    return {"from": min(days, default=None), "to": max(days, default=None), "days": len(days),
            "city_days": valid, "good_city_days": good,
            "good_share": round(100.0 * good / valid, 1) if valid else None,
            "pm25_mean": round(float(np.mean(pm)), 1) if pm else None, "pm25_target": PM25_TARGET}


def daily_levels(store: Store, scope: Scope, d0: date, d1: date) -> dict:
    """Per day: how many cities had each AQI level (days with all six items), for a stacked chart."""
    days = [(d0 + timedelta(days=i)).isoformat() for i in range((d1 - d0).days + 1)]
    counts = {lv: [0] * len(days) for lv in range(1, 7)}
    idx = {d: i for i, d in enumerate(days)}
    for r in aqi_service.daily(store, d0, d1, scope=scope, by="city"):
        if r["level"] and not r["missing"] and r["date"] in idx:
            counts[r["level"]][idx[r["date"]]] += 1
    return {"days": days, "levels": {str(k): v for k, v in counts.items()}}


def offline_devices(store: Store, scope: Scope, now: datetime) -> dict:
    """Devices of visible sites, and how many sent nothing for OFFLINE_MINUTES."""
    rows = Q.devices_last_seen(store, scope)
    limit = now - timedelta(minutes=OFFLINE_MINUTES)
    off = [r for r in rows if r["last"] is None or r["last"] < limit]
    return {"devices": len(rows), "offline": len(off), "offline_minutes": OFFLINE_MINUTES}


def alert_counts(store: Store, scope: Scope, today_start: datetime) -> dict:
    return A.counts(store, scope, today_start)


def cockpit(store: Store, scope: Scope, *, now: datetime | None = None) -> dict:
    """The cockpit's key figures and chart data, within the scope."""
    now = now or datetime.now(UTC)
    today = now.astimezone(BEIJING).date()
    today_start = datetime(today.year, today.month, today.day, tzinfo=BEIJING).astimezone(UTC)
    sk = scope_key(scope)
    year = cached(("year", sk, today), 600, lambda: year_air_figures(store, scope, today))
    d1 = today - timedelta(days=1)
    d0 = d1 - timedelta(days=29)
    levels_by_day = cached(("levels", sk, today), 600, lambda: daily_levels(store, scope, d0, d1))
    ranking = cached(("ranking", sk, today), 600, lambda: rankings.city_ranking(store, d0, d1, scope=scope))
    now_aqi = aqi_service.hourly_now(store, scope=scope)
    level_now = {str(k): 0 for k in range(1, 7)}
    for r in now_aqi:
        if r["level"]:
            level_now[str(r["level"])] += 1
    water = water_service.latest_classes(store, scope=scope)
    classes = {str(k): 0 for k in range(1, 7)}
    for w in water:
        if w["class"]:
            classes[str(w["class"])] += 1
    classified = sum(classes.values())
    good_water = sum(classes[str(k)] for k in (1, 2, 3))
    try:
        from ecohub.supervision import complaints as C

        comp = C.statistics(store, scope, now=now)
    except PermissionError:
        comp = None
    return {
        "generated_at": _bj(now),
        "air_year": year,
        "water": {"sections": len(water), "classified": classified, "good": good_water,
                  "good_share": round(100.0 * good_water / classified, 1) if classified else None,
                  "classes": classes},
        "alerts": alert_counts(store, scope, today_start),
        "devices": offline_devices(store, scope, now),
        "complaints": comp,
        "aqi_now": {"stations": len(now_aqi), "levels": level_now,
                    "time": _bj(max((r["time"] for r in now_aqi), default=None))},
        "daily_levels": levels_by_day,
        "ranking": [{k: r[k] for k in ("city", "name", "index", "rank", "primary", "valid_days")} for r in ranking],
    }


def enterprise_names(store: Store) -> dict[int, str]:
    return Q.enterprise_names(store)
