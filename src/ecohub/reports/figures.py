"""Every number of a monthly or annual environmental quality report (环境质量月报 / 年报), computed once from
stored data within the caller's scope, with the query that gives it (the JSON sidecar of the report).

Air (HJ 663 / 城市环境空气质量排名技术规定): per city the period statistics and comprehensive index from
``analytics.rankings.ranking_from_daily`` (site daily values with GB 3095 validity → city daily values); city
daily AQI (HJ 633 daily) → days per level, good-day ratio (优良天数比例 = level I–II days / valid days) and
heavy-pollution days (重污染: AQI > 200, levels V–VI); the province line is the mean of its cities' values
(as provincial bulletins give "设区市平均"); change vs the same period last year in % (index, PM2.5) and in
percentage points (good-day ratio); rank by the index (1 = best) and by improvement (largest fall of the index).

Water (GB 3838-2002, 地表水环境质量评价办法（试行）): per section the period mean of each item → class by the
single-factor method; shares of I–III, IV–V and 劣V; sections worse than their target (section_target, default
III); main pollutants = items above class III ranked by the number of sections (exceedance share).

Noise (GB 3096 / HJ 640), radiation (background mean ± 3σ), soil (GB 15618 / GB 36600): where the store has
data for the period; otherwise the section says "no data". Exceedances: alerts opened in the period by rule;
complaints received by category.

Nothing is invented: a figure without data is ``None`` and the report prints "无数据 / no data".
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import func, inspect, select

from ecohub.analytics import noise_service, period
from ecohub.analytics.aqi_service import city_of, day_bounds, region_names, site_daily_values
from ecohub.analytics.rankings import ranking_from_daily
from ecohub.standards import gb3838, hj663, radiation
from ecohub.store.db import Store
from ecohub.store.queries import Scope, SeriesFilter, aggregate, observations, region_prefix, sites

KINDS = ("monthly", "annual")
STAT_KEYS = ("pm25", "pm10", "o3_8h_p90", "no2", "so2", "co_p95")
STAT_NAMES = {"pm25": "PM2.5", "pm10": "PM10", "o3_8h_p90": "O3-8h(第90百分位)", "no2": "NO2", "so2": "SO2",
              "co_p95": "CO(第95百分位)"}


@dataclass(frozen=True)
class Period:
    kind: str
    label: str  # 2026-11 | 2026
    start: date
    end: date

    def last_year(self) -> Period:
        s = self.start.replace(year=self.start.year - 1)
        e_day = min(self.end.day, calendar.monthrange(self.end.year - 1, self.end.month)[1])
        e = self.end.replace(year=self.end.year - 1, day=e_day)
        label = str(s.year) if self.kind == "annual" else f"{s.year:04d}-{s.month:02d}"
        return Period(self.kind, label, s, e)


def parse_period(kind: str, text: str) -> Period:
    """``monthly`` + ``YYYY-MM`` or ``annual`` + ``YYYY`` → the Beijing days of the period."""
    if kind not in KINDS:
        raise ValueError(f"kind: {kind!r} is not monthly or annual")
    try:
        if kind == "monthly":
            y, m = (int(x) for x in text.split("-"))
            if not 1 <= m <= 12 or len(text) != 7:
                raise ValueError
            return Period(kind, f"{y:04d}-{m:02d}", date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]))
        y = int(text)
        if len(text) != 4:
            raise ValueError
        return Period(kind, f"{y:04d}", date(y, 1, 1), date(y, 12, 31))
    except ValueError:
        want = "YYYY-MM" if kind == "monthly" else "YYYY"
        raise ValueError(f"period: {text!r} is not a {kind} period ({want})") from None


def _f(x, nd: int = 1):
    if x is None:
        return None
    x = float(x)
    return None if np.isnan(x) else round(x, nd)


def _pct_change(now, before):
    if now is None or before is None or before == 0:
        return None
    return round((now - before) / before * 100.0, 1)


# --- air -------------------------------------------------------------------------------------------------------
def _air_period(store: Store, region: str, p: Period, scope: Scope | None) -> dict:
    dv = site_daily_values(store, p.start, p.end, scope=scope, region_code=region, max_days=366)
    if not dv.sites:
        return {"cities": {}, "daily": [], "stations": 0}
    ranking = {r["city"]: r for r in ranking_from_daily(store, dv)}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(dv.sites):
        groups[city_of(s["region_code"])].append(i)
    codes = sorted(groups)
    city = {k: np.stack([hj663.city_daily(v[groups[c]], axis=0) for c in codes]) for k, v in dv.values.items()}
    nd = len(dv.days)
    aqi, levels = period.city_daily_aqi(city, dv.days)
    stats = hj663.aqi_day_statistics(levels, axis=1)
    out = {}
    for i, c in enumerate(codes):
        r = ranking.get(c, {})
        valid = int(stats["valid_days"][i])
        out[c] = {
            "city": c, "name": r.get("name", c), "stations": len(groups[c]), "days": nd, "valid_days": valid,
            "good_days": int(stats["good_days"][i]) if valid else None,
            "good_ratio": _f(stats["good_share"][i] * 100) if valid else None,
            "heavy_days": int(stats["days_level_5"][i] + stats["days_level_6"][i]) if valid else None,
            "days_per_level": [int(stats[f"days_level_{k}"][i]) for k in range(1, 7)],
            "index": r.get("index"), "rank": r.get("rank"), "primary": r.get("primary"),
            **{k: r.get(k) for k in STAT_KEYS},
        }
    valid_n = np.sum(~np.isnan(aqi), axis=0)
    mean_aqi = np.where(valid_n > 0, np.nansum(aqi, axis=0) / np.maximum(valid_n, 1), np.nan)
    daily = [{"date": d.isoformat(), "mean_aqi": _f(mean_aqi[j], 0)} for j, d in enumerate(dv.days)]
    return {"cities": out, "daily": daily, "stations": len(dv.sites)}


def _mean(vals) -> float | None:
    v = [x for x in vals if x is not None]
    return round(float(np.mean(v)), 2) if v else None


def air_section(store: Store, region: str, p: Period, scope: Scope | None) -> dict:
    now = _air_period(store, region, p, scope)
    prev = _air_period(store, region, p.last_year(), scope)
    cities = now["cities"]
    if not cities or all(c["valid_days"] == 0 for c in cities.values()):
        return {"has_data": False, "stations": now["stations"], "cities": [], "province": None, "daily": [],
                "note": "no valid air quality data in the period"}
    rows = []
    for c, r in cities.items():
        pr = prev["cities"].get(c)
        r = dict(r)
        r["index_last_year"] = pr["index"] if pr else None
        r["index_change_pct"] = _pct_change(r["index"], r["index_last_year"])
        r["pm25_last_year"] = pr["pm25"] if pr else None
        r["pm25_change_pct"] = _pct_change(r["pm25"], r["pm25_last_year"])
        r["good_ratio_last_year"] = pr["good_ratio"] if pr else None
        r["good_ratio_change_pp"] = (round(r["good_ratio"] - pr["good_ratio"], 1)
                                     if pr and r["good_ratio"] is not None and pr["good_ratio"] is not None else None)
        rows.append(r)
    # GB 3095-2012 Table 4: a year needs ≥ 324 valid days, a month ≥ 27 (February ≥ 25) for its statistics
    required = 324 if p.kind == "annual" else (25 if p.start.month == 2 else 27)
    for r in rows:
        r["complete"] = r["valid_days"] >= required
    improved = sorted([r for r in rows if r["index_change_pct"] is not None], key=lambda r: r["index_change_pct"])
    for k, r in enumerate(improved, start=1):
        r["improvement_rank"] = k
    for r in rows:
        r.setdefault("improvement_rank", None)
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["city"]))
    province = {k: _mean(r[k] for r in rows) for k in ("good_ratio", "index", *STAT_KEYS)}
    for k, nd in (("good_ratio", 1), ("index", 2), ("co_p95", 1)):
        province[k] = _f(province[k], nd)
    for k in ("pm25", "pm10", "o3_8h_p90", "no2", "so2"):
        province[k] = _f(province[k], 0)
    province["heavy_days"] = sum(r["heavy_days"] or 0 for r in rows)
    prov_prev = {k: _mean(r[k] for r in prev["cities"].values()) for k in ("good_ratio", "index", "pm25")}
    prov_prev = {"good_ratio": _f(prov_prev["good_ratio"], 1), "index": _f(prov_prev["index"], 2),
                 "pm25": _f(prov_prev["pm25"], 0)}
    province["good_ratio_last_year"] = prov_prev["good_ratio"]
    province["good_ratio_change_pp"] = (round(province["good_ratio"] - prov_prev["good_ratio"], 1)
                                        if province["good_ratio"] is not None and prov_prev["good_ratio"] is not None
                                        else None)
    province["pm25_last_year"] = prov_prev["pm25"]
    province["pm25_change_pct"] = _pct_change(province["pm25"], prov_prev["pm25"])
    province["index_change_pct"] = _pct_change(province["index"], prov_prev["index"])
    best = next((r for r in rows if r["rank"] == 1), None)
    worst = max((r for r in rows if r["rank"]), key=lambda r: r["rank"], default=None)
    return {"has_data": True, "stations": now["stations"], "cities": rows, "province": province, "daily": now["daily"],
            "best_city": best["name"] if best else None, "worst_city": worst["name"] if worst else None,
            "required_days": required, "incomplete_cities": [r["name"] for r in rows if not r["complete"]],
            "last_year_has_data": bool(prev["cities"])}


# --- water -----------------------------------------------------------------------------------------------------
def _water_period(store: Store, region: str, p: Period, scope: Scope | None) -> list[dict]:
    st = {s["code"]: s for s in sites(store, kinds=["water_section"], region=region, scope=scope)}
    if not st:
        return []
    start, end = day_bounds(p.start, p.end)
    acc: dict[str, dict[str, list[tuple[float, int]]]] = defaultdict(lambda: defaultdict(list))
    flt = SeriesFilter(parameters=list(gb3838.ALL_ITEMS), kinds=["water_section"], region_prefix=region_prefix(region))
    for r in aggregate(store, flt, "month", start, end, scope=scope):
        if r["site"] in st and r["mean"] is not None and r["count"]:
            acc[r["site"]][r["parameter"]].append((float(r["mean"]), int(r["count"])))
    codes = sorted(acc)
    if not codes:
        return []
    items = sorted({i for c in codes for i in acc[c]})
    arrays = {i: np.array([sum(m * n for m, n in acc[c][i]) / sum(n for _, n in acc[c][i]) if acc[c][i] else np.nan
                           for c in codes]) for i in items}
    lake = np.array([(st[c].get("water_body") or (st[c]["attrs"] or {}).get("waterbody")) in ("lake", "reservoir")
                     for c in codes])
    res = gb3838.water_quality_class(arrays, lake=lake)
    targets = _targets(store, codes)
    out = []
    for k, c in enumerate(codes):
        cls = int(res["class"][k])
        if not cls:
            continue
        tgt = targets.get(c, 3)
        out.append({"site": c, "name": st[c]["name"], "region_code": st[c]["region_code"], "class": cls,
                    "label": str(res["label"][k]), "target": tgt, "worse_than_target": cls > tgt,
                    "above_iii": [x for x in str(res["exceeding_items"][k]).split(",") if x]})
    return out


def _targets(store: Store, codes: list[str]) -> dict[str, int]:
    from ecohub.store.schema import site
    from ecohub.store.schema_alerts import section_target

    with store.engine.connect() as conn:
        q = (select(site.c.code, section_target.c.target_class)
             .select_from(section_target.join(site, site.c.id == section_target.c.site_id))
             .where(site.c.code.in_(codes)))
        return {c: int(t) for c, t in conn.execute(q).all()}


def _shares(rows: list[dict]) -> dict:
    n = len(rows)
    if not n:
        return {"sections": 0, "i_iii": None, "iv_v": None, "worse_v": None}
    cnt = Counter(r["class"] for r in rows)
    return {"sections": n, "i_iii": round(100 * sum(cnt[k] for k in (1, 2, 3)) / n, 1),
            "iv_v": round(100 * (cnt[4] + cnt[5]) / n, 1), "worse_v": round(100 * cnt[6] / n, 1),
            "per_class": {gb3838_label(k): cnt[k] for k in range(1, 7)}}


def _zh(item: str) -> str:
    from ecohub.domain.parameters import BY_NAME

    p = BY_NAME.get(item)
    return p.name_zh if p is not None else item


def gb3838_label(k: int) -> str:
    return ("I", "II", "III", "IV", "V", "劣V")[k - 1]


def water_section(store: Store, region: str, p: Period, scope: Scope | None) -> dict:
    now = _water_period(store, region, p, scope)
    if not now:
        return {"has_data": False, "note": "no water quality data in the period", "sections": []}
    prev = _water_period(store, region, p.last_year(), scope)
    sh, sh_prev = _shares(now), _shares(prev)
    pollutants = Counter(i for r in now for i in r["above_iii"])
    main = [{"item": i, "name": _zh(i), "sections": n, "share": round(100 * n / len(now), 1)}
            for i, n in pollutants.most_common(3)]
    return {"has_data": True, **sh, "last_year": sh_prev if prev else None,
            "i_iii_change_pp": (round(sh["i_iii"] - sh_prev["i_iii"], 1) if prev else None),
            "worse_than_target": [r for r in now if r["worse_than_target"]], "main_pollutants": main,
            "sections_list": now}


# --- noise, radiation, soil, exceedances -------------------------------------------------------------------------
def noise_section(store: Store, region: str, p: Period, scope: Scope | None) -> dict:
    pts = {s["code"]: s for s in sites(store, kinds=["noise_point"], region=region, scope=scope)}
    if not pts:
        return {"has_data": False, "note": "no noise monitoring points", "points": []}
    start, end = day_bounds(p.start, p.end)
    data: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    flt = SeriesFilter(sites=list(pts), parameters=["leq"], interval="hour")
    for r in observations(store, flt, start, end, scope=scope):
        data[r["site"]][0].append(r["time"])
        data[r["site"]][1].append(r["value"])
    rows = []
    for c in sorted(data):
        zone = str((pts[c]["attrs"] or {}).get("zone") or "")
        if not zone:
            rows.append({"site": c, "name": pts[c]["name"], "zone": None, "note": "no functional zone class"})
            continue
        res = noise_service.functional_zone(*data[c], zone)
        rows.append({"site": c, "name": pts[c]["name"], "zone": zone,
                     **{k: res[k] for k in ("day_compliance_rate", "night_compliance_rate", "day_assessed",
                                            "night_assessed")}, "gaps": len(res["gaps"])})
    if not rows:
        return {"has_data": False, "note": "no noise data in the period", "points": []}
    return {"has_data": True, "points": rows,
            "day_compliance_rate": _mean(r.get("day_compliance_rate") for r in rows),
            "night_compliance_rate": _mean(r.get("night_compliance_rate") for r in rows)}


def radiation_section(store: Store, region: str, p: Period, scope: Scope | None) -> dict:
    pts = {s["code"]: s for s in sites(store, kinds=["radiation_point"], region=region, scope=scope)}
    if not pts:
        return {"has_data": False, "note": "no radiation monitoring points", "points": []}
    start, end = day_bounds(p.start, p.end)
    hist_start = start - timedelta(days=365)
    vals: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    flt = SeriesFilter(sites=list(pts), parameters=["gamma_dose_rate"])
    for r in observations(store, flt, hist_start, end, scope=scope):
        if r["value"] is not None:
            vals[r["site"]].append((r["time"], float(r["value"])))
    rows = []
    for c in sorted(vals):
        cur = np.array([v for t, v in vals[c] if t >= start])
        hist = np.array([v for t, v in vals[c] if t < start])
        if cur.size == 0:
            continue
        row = {"site": c, "name": pts[c]["name"], "n": int(cur.size), "mean": _f(cur.mean()),
               "min": _f(cur.min()), "max": _f(cur.max()), "background": None, "anomalies": None}
        try:
            bg = radiation.background_range(hist)
            row["background"] = {k: _f(bg[k]) for k in ("mean", "low", "high")}
            row["anomalies"] = int(np.sum(radiation.classify(cur, bg) == "high"))
        except ValueError as e:
            row["note"] = str(e)
        rows.append(row)
    if not rows:
        return {"has_data": False, "note": "no radiation data in the period", "points": []}
    return {"has_data": True, "points": rows}


def soil_section(store: Store, region: str, p: Period, scope: Scope | None) -> dict:
    from ecohub.store.schema import site
    from ecohub.store.schema_reports import soil_sample

    start, end = day_bounds(p.start, p.end)
    sc = scope
    q = (select(site.c.code, site.c.region_code, soil_sample.c.worst, soil_sample.c.standard)
         .select_from(soil_sample.join(site, site.c.id == soil_sample.c.site_id))
         .where(soil_sample.c.sampled_at >= start, soil_sample.c.sampled_at < end,
                site.c.region_code.startswith(region_prefix(region) or "", autoescape=True)))
    if sc is not None:
        q = sc.apply(q)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    if not rows:
        return {"has_data": False, "note": "no soil samples in the period"}
    cnt = Counter(r.worst or "unclassified" for r in rows)
    return {"has_data": True, "samples": len(rows), "sites": len({r.code for r in rows}), "classes": dict(cnt)}


def exceedance_section(store: Store, region: str, p: Period, scope: Scope | None) -> dict:
    from ecohub.store.schema import site
    from ecohub.store.schema_alerts import alert

    start, end = day_bounds(p.start, p.end)
    pref = region_prefix(region) or ""
    q = (select(alert.c.rule, func.count()).select_from(alert.join(site, site.c.id == alert.c.site_id))
         .where(alert.c.opened_at >= start, alert.c.opened_at < end,
                site.c.region_code.startswith(pref, autoescape=True)).group_by(alert.c.rule).order_by(alert.c.rule))
    if scope is not None:
        q = scope.apply(q)
    out: dict = {}
    with store.engine.connect() as conn:
        out["alerts_by_rule"] = {r: int(n) for r, n in conn.execute(q).all()}
        if inspect(conn).has_table("complaint") and (scope is None or scope.full or scope.role == "officer"):
            from ecohub.store.schema_supervision import complaint

            cq = (select(complaint.c.category, func.count()).where(
                complaint.c.submitted_at >= start, complaint.c.submitted_at < end,
                complaint.c.region_code.startswith(pref, autoescape=True))
                .group_by(complaint.c.category).order_by(complaint.c.category))
            if scope is not None and scope.role == "officer" and scope.region_code:
                cq = cq.where(complaint.c.region_code.startswith(region_prefix(scope.region_code), autoescape=True))
            out["complaints_by_category"] = {c: int(n) for c, n in conn.execute(cq).all()}
    out["alerts_total"] = sum(out["alerts_by_rule"].values())
    out["complaints_total"] = sum(out.get("complaints_by_category", {}).values())
    out["enforcement_cases"] = None  # no enforcement-case register in this store yet: reported as no data
    return out


TREND_YEARS = 5
#: station-months with at least this many hourly PM2.5 values count (≈ 27 days × 20 h, GB 3095 Table 4 — an
#: approximation on hours, not on valid days)
MIN_HOURS_MONTH = 540


def trend_section(store: Store, region: str, p: Period, scope: Scope | None) -> dict:
    """Per city: seasonal Mann–Kendall and Sen's slope of monthly PM2.5 over the 5 years ending with the period
    (city month = mean of its station months with ≥ 540 hours); needs ≥ 24 valid months."""
    from ecohub.analytics.mannkendall import seasonal_mann_kendall

    start_d = date(p.end.year - TREND_YEARS + 1, 1, 1) if p.kind == "annual" else date(
        p.end.year - TREND_YEARS, p.end.month, 1)
    start, end = day_bounds(start_d, p.end)
    months = []
    y, m = start_d.year, start_d.month
    while (y, m) <= (p.end.year, p.end.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    index = {k: i for i, k in enumerate(months)}
    flt = SeriesFilter(parameters=["pm25"], kinds=["air_station"], interval="hour", region_prefix=region_prefix(region))
    st = {s["code"]: s for s in sites(store, kinds=["air_station"], region=region, scope=scope)}
    acc: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in months])
    for r in aggregate(store, flt, "month", start, end, scope=scope):
        j = index.get(r["window"][:7])
        if j is None or r["site"] not in st or r["mean"] is None or r["count"] < MIN_HOURS_MONTH:
            continue
        acc[city_of(st[r["site"]]["region_code"])][j].append(float(r["mean"]))
    names = region_names(store, list(acc))
    rows = []
    for c in sorted(acc):
        series = np.array([np.mean(v) if v else np.nan for v in acc[c]])
        valid = int(np.sum(~np.isnan(series)))
        row = {"city": c, "name": names.get(c, c), "months": valid, "trend": None, "slope": None, "p": None}
        if valid >= 24:
            res = seasonal_mann_kendall(series, 12)
            row.update(trend=res.trend, slope=round(res.slope, 2), p=float(res.p), tau=round(res.tau, 3))
        rows.append(row)
    has = any(r["trend"] is not None for r in rows)
    return {"has_data": has, "from": months[0], "to": months[-1], "cities": rows,
            "note": None if has else "fewer than 24 valid months of PM2.5 per city: no trend"}


def compute(store: Store, kind: str, region: str, period: str, *, scope: Scope | None = None) -> dict:
    """All figures of the report (the JSON sidecar). ``ValueError`` for a bad kind, period or region."""
    p = parse_period(kind, period)
    names = region_names(store, [region])
    if region not in names:
        raise ValueError(f"region: {region!r} is not a known division code")
    api_q = f"region={region}&from={p.start.isoformat()}&to={p.end.isoformat()}"
    fig = {
        "meta": {"kind": kind, "period": p.label, "from": p.start.isoformat(), "to": p.end.isoformat(),
                 "region": region, "region_name": names[region], "last_year": p.last_year().label,
                 "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                 "scope": scope.role if scope is not None else "system"},
        "air": air_section(store, region, p, scope),
        "water": water_section(store, region, p, scope),
        "noise": noise_section(store, region, p, scope),
        "soil": soil_section(store, region, p, scope),
        "radiation": radiation_section(store, region, p, scope),
        "exceedances": exceedance_section(store, region, p, scope),
        "trends": trend_section(store, region, p, scope),
    }
    fig["queries"] = {
        "air.cities": {"function": "ecohub.analytics.rankings.ranking_from_daily + ecohub.standards.aqi_cn.aqi_daily",
                       "api": f"/api/v1/rankings/cities?{api_q}" if p.kind == "monthly" else None,
                       "api_daily": f"/api/v1/aqi/daily?by=city&{api_q}" if p.kind == "monthly" else None},
        "air.last_year": {"from": p.last_year().start.isoformat(), "to": p.last_year().end.isoformat()},
        "water": {"function": "ecohub.reports.figures.water_section (period means → gb3838.water_quality_class)",
                  "params": {"region": region, "from": p.start.isoformat(), "to": p.end.isoformat()}},
        "noise": {"function": "ecohub.analytics.noise_service.functional_zone"},
        "radiation": {"function": "ecohub.standards.radiation.background_range (365 days before the period)"},
        "soil": {"function": "soil_sample rows sampled in the period"},
        "exceedances": {"function": "alert rows opened in the period by rule; complaint rows by category"},
        "trends": {"function": "ecohub.analytics.mannkendall.seasonal_mann_kendall on city monthly PM2.5",
                   "api": "/api/v1/trends?site=CODE&parameter=pm25&interval=month (per station)"},
    }
    return fig
