"""AQI from stored hourly observations, per site and per city, with the national standards engine.

* **Hourly ("now")**: each air station's newest hour in ``latest`` (the six pollutants of that same hour;
  a pollutant whose newest value is from another hour counts as missing), HJ 633 real-time report
  (``aqi_cn.aqi_hourly``, edition by the hour's time, CNEMC practice for 2012). City: the arithmetic mean of
  its stations' concentrations of the city's newest hour (as CNEMC publishes city AQI), then the AQI.
* **Daily**: natural days in Beijing time. 24-h means need ≥ 20 valid hours (GB 3095 Table 4); O3 is the
  daily maximum 8-h moving mean with its validity rule (``gb3095.daily_max_8h_o3``); daily report
  (``aqi_cn.aqi_daily``, O3 1-h maximum not passed — the practice reproduced in docs/standards.md). City:
  the mean of its stations' valid daily values (``hj663.city_daily``), then the AQI.
* **Rounding**: the daily (and city-mean) concentrations are rounded as the publishers do — GB/T 8170, halves
  to even, integer µg/m³ and CO to 0.1 mg/m³ — before the IAQI, under both HJ 633 editions (done inside
  ``aqi_cn``; evidence in docs/standards.md). The concentrations returned are those rounded values.

Every read goes through the query layer with the caller's scope. A station's city is the city-level code of
its region (``130102`` → ``130100``). Data flags are not interpreted here (QC flags live with the quality
work); null values are missing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import select

from ecohub.domain.timeutil import BEIJING
from ecohub.standards import aqi_cn, gb3095, hj663
from ecohub.store.db import Store
from ecohub.store.grid import hourly_grid
from ecohub.store.queries import Scope, SeriesFilter, aggregate, latest_values, region_prefix
from ecohub.store.queries import sites as list_sites
from ecohub.store.schema import region

POLLUTANTS = ("so2", "no2", "co", "o3", "pm10", "pm25")
DAILY_KEYS = ("so2", "no2", "co", "pm10", "pm25", "o3_8h")
MAX_DAYS = 92


def city_of(region_code: str) -> str:
    """City-level division of a region code (``130102`` → ``130100``; a city or province code unchanged)."""
    if region_code.endswith("0000") or region_code.endswith("00"):
        return region_code
    return region_code[:4] + "00"


def region_names(store: Store, codes) -> dict[str, str]:
    codes = sorted(set(codes))
    if not codes:
        return {}
    with store.engine.connect() as conn:
        return dict(conn.execute(select(region.c.code, region.c.name).where(region.c.code.in_(codes))).all())


def _describe_all(res: aqi_cn.AqiResult) -> list[dict]:
    """One dict per row of an AQI result. Each derived property of ``res`` (colour, category, primary
    pollutant …) is an array built on access, so every property is read once, not once per row."""
    aqi, level, roman = res.aqi.tolist(), res.level.tolist(), res.level_roman.tolist()  # Python scalars once:
    zh, en, color = res.category_zh.tolist(), res.category_en.tolist(), res.color.tolist()  # numpy indexing per
    primary, missing, edition = (res.primary_pollutant.tolist(), res.missing_pollutants.tolist(),  # row costs
                                 res.edition.tolist())  # ~10x more on a month of cities
    iaqi = {k: v.tolist() for k, v in res.iaqi.items()}
    out = []
    for i in range(len(aqi)):
        ok = not math.isnan(aqi[i])
        out.append({
            "aqi": int(aqi[i]) if ok else None,
            "level": int(level[i]) if ok else None,
            "level_roman": str(roman[i]) if ok else None,
            "category_zh": str(zh[i]) if ok else None,
            "category_en": str(en[i]) if ok else None,
            "color": str(color[i]) if ok else None,
            "primary_pollutant": (str(primary[i]) or None) if ok else None,
            "missing": [m for m in str(missing[i]).split(",") if m],
            "edition": int(edition[i]) or None,
            "iaqi": {k: (None if math.isnan(v[i]) else int(v[i])) for k, v in iaqi.items()},
        })
    return out


def _conc(values: dict[str, float | None]) -> dict[str, float | None]:
    """Concentrations as published and as they enter the AQI: GB/T 8170 (halves to even) to integer µg/m³,
    CO to 0.1 mg/m³ (``aqi_cn.round_gbt8170``; HJ 633-2026 §4.2.2 and CNEMC's practice under 2012)."""
    out: dict[str, float | None] = {}
    for p, v in values.items():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out[p] = None
        else:
            r = float(aqi_cn.round_gbt8170(np.array([float(v)]), 1 if p == "co" else 0)[0])
            out[p] = r if p == "co" else int(r)
    return out


def _conc_columns(cols: dict[str, np.ndarray]) -> list[dict[str, float | None]]:
    """``_conc`` of every row of equally long columns, rounded column-wise (the same GB/T 8170 rounding)."""
    rounded = {p: aqi_cn.round_gbt8170(np.asarray(v, dtype=float), 1 if p == "co" else 0).tolist()
               for p, v in cols.items()}
    n = len(next(iter(rounded.values()), []))
    return [{p: (None if math.isnan(r[i]) else (r[i] if p == "co" else int(r[i]))) for p, r in rounded.items()}
            for i in range(n)]


# --- hourly ---------------------------------------------------------------------------------------------------
def hourly_now(store: Store, *, scope: Scope | None = None, sites=(), region_code: str | None = None,
               by: str = "site") -> list[dict]:
    """AQI of each station's (or city's) newest hour. ``by``: ``site`` or ``city``."""
    rows = latest_values(store, SeriesFilter(sites=list(sites), parameters=POLLUTANTS, kinds=["air_station"],
                                             interval="hour", region_prefix=region_prefix(region_code)),
                         scope=scope)
    stations: dict[str, dict] = {}
    for r in rows:
        s = stations.setdefault(r["site"], {"site": r["site"], "name": r["site_name"], "region_code":
                                            r["region_code"], "lon": r["lon"], "lat": r["lat"], "time": r["time"],
                                            "vals": {}})
        s["vals"][r["parameter"]] = (r["time"], r["value"])
        if r["time"] > s["time"]:
            s["time"] = r["time"]
    if not stations:
        return []
    if by == "city":
        return _city_hourly(store, list(stations.values()))
    lst = sorted(stations.values(), key=lambda s: s["site"])
    conc = {p: np.array([_at(s, p) for s in lst], dtype=float) for p in POLLUTANTS}
    times = np.array([np.datetime64(int(s["time"].timestamp()), "s") for s in lst])
    described = _describe_all(aqi_cn.aqi_hourly(times=times, **conc))
    out = []
    for i, s in enumerate(lst):
        out.append({"site": s["site"], "name": s["name"], "region_code": s["region_code"], "lon": s["lon"],
                    "lat": s["lat"], "time": s["time"],
                    "concentrations": _conc({p: conc[p][i] for p in POLLUTANTS}), **described[i]})
    return out


def _at(s: dict, p: str) -> float:
    tv = s["vals"].get(p)
    if tv is None or tv[0] != s["time"] or tv[1] is None:
        return np.nan
    return float(tv[1])


def _city_hourly(store: Store, stations: list[dict]) -> list[dict]:
    cities: dict[str, list[dict]] = defaultdict(list)
    for s in stations:
        cities[city_of(s["region_code"])].append(s)
    names = region_names(store, cities)
    codes = sorted(cities)
    newest = [max(s["time"] for s in cities[c]) for c in codes]
    conc = {p: np.full(len(codes), np.nan) for p in POLLUTANTS}
    counts = []
    for i, c in enumerate(codes):
        members = [s for s in cities[c] if s["time"] == newest[i]]
        counts.append(len(members))
        for p in POLLUTANTS:
            v = np.array([_at(s, p) for s in members], dtype=float)
            if np.any(~np.isnan(v)):
                conc[p][i] = np.nanmean(v)
    times = np.array([np.datetime64(int(t.timestamp()), "s") for t in newest])
    described = _describe_all(aqi_cn.aqi_hourly(times=times, **conc))
    return [{"city": c, "name": names.get(c, c), "time": newest[i], "stations": counts[i],
             "concentrations": _conc({p: conc[p][i] for p in POLLUTANTS}), **described[i]}
            for i, c in enumerate(codes)]


# --- daily ----------------------------------------------------------------------------------------------------
@dataclass
class DailyValues:
    """Site daily values over ``days``: ``values[key]`` shape (n_sites, n_days), NaN where invalid."""

    sites: list[dict]
    days: list[date]
    values: dict[str, np.ndarray]


def day_bounds(d0: date, d1: date) -> tuple[datetime, datetime]:
    """UTC instants of [d0 00:00, d1 + 1 day 00:00) Beijing."""
    start = datetime(d0.year, d0.month, d0.day, tzinfo=BEIJING).astimezone(UTC)
    end = datetime(d1.year, d1.month, d1.day, tzinfo=BEIJING).astimezone(UTC) + timedelta(days=1)
    return start, end


def check_days(d0: date, d1: date, max_days: int = MAX_DAYS) -> int:
    n = (d1 - d0).days + 1
    if n < 1:
        raise ValueError("from: the first day is after the last day")
    if n > max_days:
        raise ValueError(f"from/to: at most {max_days} days at once (asked for {n})")
    return n


def site_daily_values(store: Store, d0: date, d1: date, *, scope: Scope | None = None, sites=(),
                      region_code: str | None = None, max_days: int = MAX_DAYS, maintained: bool = True) -> DailyValues:
    """Daily means (≥ 20 valid hours) of SO2, NO2, CO, PM10, PM2.5 and the O3 daily max 8-h of each air station
    the scope may see, for the Beijing days d0 … d1 (at most ``max_days``: reports pass a year).

    Days the maintained table (``ecohub.analytics.aqi_daily``) covers are read from it; the days after its
    coverage (data arrived since the worker's last pass) and every day when it was never built are computed
    from the hourly observations — the same values either way (``maintained=False``: always computed)."""
    n_days = check_days(d0, d1, max_days)
    st = list_sites(store, kinds=["air_station"], codes=list(sites), region=region_code, scope=scope)
    days = [d0 + timedelta(days=i) for i in range(n_days)]
    vals = {k: np.full((len(st), n_days), np.nan) for k in DAILY_KEYS}
    if not st:
        return DailyValues(st, days, vals)
    live0 = d0
    if maintained:
        from ecohub.analytics import aqi_daily

        first_live = aqi_daily.live_from(store)
        if first_live > d0:
            last_stored = min(d1, first_live - timedelta(days=1))
            aqi_daily.fill_site_values(store, st, d0, last_stored, vals)
            live0 = last_stored + timedelta(days=1)
    if live0 <= d1:
        j0 = (live0 - d0).days
        part = computed_site_values(store, st, live0, d1, scope=scope, sites=sites, region_code=region_code)
        for k in DAILY_KEYS:
            vals[k][:, j0:] = part[k]
    return DailyValues(st, days, vals)


def computed_site_values(store: Store, st: list[dict], d0: date, d1: date, *, scope: Scope | None = None, sites=(),
                         region_code: str | None = None) -> dict[str, np.ndarray]:
    """The daily values of the stations ``st`` computed from the hourly observations (the definition the
    maintained table stores): ``{key: array (len(st), days)}``, NaN where not valid."""
    n_days = (d1 - d0).days + 1
    start, end = day_bounds(d0, d1)
    flt_kw = dict(sites=list(sites), kinds=["air_station"], interval="hour", region_prefix=region_prefix(region_code))
    index = {s["code"]: i for i, s in enumerate(st)}
    day_index = {(d0 + timedelta(days=i)).isoformat(): i for i in range(n_days)}
    vals = {k: np.full((len(st), n_days), np.nan) for k in DAILY_KEYS}
    # 24-h means and counts in SQL (one row per site, pollutant, Beijing day)
    for r in aggregate(store, SeriesFilter(parameters=["so2", "no2", "co", "pm10", "pm25"], **flt_kw), "day",
                       start, end, scope=scope):
        i, j = index.get(r["site"]), day_index.get(r["window"][:10])
        if i is None or j is None:
            continue
        if r["count"] >= gb3095.MIN_HOURS_DAY and r["mean"] is not None:
            vals[r["parameter"]][i, j] = float(r["mean"])
    # O3: the hourly grid, for the 8-h windows
    o3 = np.full((len(st), n_days * 24), np.nan)
    grid = hourly_grid(store, SeriesFilter(**flt_kw), start, n_days * 24, ["o3"], scope=scope)
    for k, code in enumerate(grid.sites):
        if code in index:
            o3[index[code]] = grid.values["o3"][k]
    for i in range(len(st)):
        vals["o3_8h"][i], _ = gb3095.daily_max_8h_o3(o3[i])
    return vals


def daily(store: Store, d0: date, d1: date, *, scope: Scope | None = None, sites=(), region_code: str | None = None,
          by: str = "site") -> list[dict]:
    """Daily AQI per station (or city) and day."""
    dv = site_daily_values(store, d0, d1, scope=scope, sites=sites, region_code=region_code)
    return daily_rows(store, dv, by)


def daily_rows(store: Store, dv: DailyValues, by: str = "site") -> list[dict]:
    """Rows of daily AQI per station (or city: the mean of its stations' valid values, HJ 663) and day."""
    if not dv.sites:
        return []
    if by == "city":
        groups: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(dv.sites):
            groups[city_of(s["region_code"])].append(i)
        codes = sorted(groups)
        names = region_names(store, codes)
        ent = [{"city": c, "name": names.get(c, c), "stations": len(groups[c])} for c in codes]
        vals = {k: np.stack([hj663.city_daily(v[groups[c]], axis=0) for c in codes]) for k, v in dv.values.items()}
    else:
        ent = [{"site": s["code"], "name": s["name"], "region_code": s["region_code"]} for s in dv.sites]
        vals = dv.values
    n, nd = len(ent), len(dv.days)
    day_starts = [datetime(d.year, d.month, d.day, tzinfo=BEIJING).astimezone(UTC) for d in dv.days]
    times = np.array([np.datetime64(int(t.timestamp()), "s") for t in day_starts] * n)
    flat = {k: v.reshape(-1) for k, v in vals.items()}
    described = _describe_all(aqi_cn.aqi_daily(times=times, so2=flat["so2"], no2=flat["no2"], co=flat["co"],
                                                pm10=flat["pm10"], pm25=flat["pm25"], o3_8h=flat["o3_8h"]))
    concs = _conc_columns({p: flat[p] for p in DAILY_KEYS})
    out = []
    for i, e in enumerate(ent):
        for j, d in enumerate(dv.days):
            k = i * nd + j
            out.append({**e, "date": d.isoformat(), "concentrations": concs[k], **described[k]})
    return out
