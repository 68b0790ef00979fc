"""City ranking by the ambient air quality comprehensive index (城市环境空气质量排名技术规定, HJ 663).

For a period of Beijing days: site daily values (``aqi_service.site_daily_values``: 24-h means with ≥ 20
hours, O3 daily max 8-h), city daily values = mean of the valid site values (``hj663.city_daily``), then per
city the period means of SO2, NO2, PM10, PM2.5, the 95th percentile of CO daily means and the 90th
percentile of O3 daily max 8-h (``hj663.percentile``, Appendix A), each rounded as published
(``hj663.round_stat``), the comprehensive index I_sum (``hj663.comprehensive_index``, GB 3095-2012 class 2
limits) and the rank (ascending, ties share the lowest rank, ``hj663.rank``). A city needs at least one
valid day per statistic; a city without them is listed unranked (rank null).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np

from ecohub.analytics.aqi_service import DailyValues, city_of, region_names, site_daily_values
from ecohub.standards import hj663
from ecohub.store.db import Store
from ecohub.store.queries import Scope


def city_ranking(store: Store, d0: date, d1: date, *, scope: Scope | None = None,
                 region_code: str | None = None) -> list[dict]:
    dv = site_daily_values(store, d0, d1, scope=scope, region_code=region_code)
    return ranking_from_daily(store, dv)


def ranking_from_daily(store: Store, dv: DailyValues) -> list[dict]:
    """The ranking of the cities of already computed site daily values (reports reuse one computation)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(dv.sites):
        groups[city_of(s["region_code"])].append(i)
    codes = sorted(groups)
    if not codes:
        return []
    names = region_names(store, codes)
    city = {k: np.stack([hj663.city_daily(v[groups[c]], axis=0) for c in codes]) for k, v in dv.values.items()}
    stats: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for p in ("so2", "no2", "pm10", "pm25"):
            a = city[p]
            n = np.sum(~np.isnan(a), axis=1)
            stats[p] = np.where(n > 0, np.nansum(a, axis=1) / np.where(n > 0, n, 1), np.nan)
        stats["co"] = hj663.percentile(city["co"], 95, axis=1)
        stats["o3_8h"] = hj663.percentile(city["o3_8h"], 90, axis=1)
    rounded = {p: hj663.round_stat(v, "co" if p == "co" else p) for p, v in stats.items()}
    idx = hj663.comprehensive_index(so2=rounded["so2"], no2=rounded["no2"], pm10=rounded["pm10"],
                                    pm25=rounded["pm25"], co_p95=rounded["co"], o3_8h_p90=rounded["o3_8h"])
    index = np.round(np.asarray(idx["index"], dtype=float), 2)
    ranks = hj663.rank(index)
    valid_days = np.sum(~np.isnan(city["pm25"]), axis=1)
    out = []
    for i, c in enumerate(codes):
        ok = not np.isnan(index[i])
        out.append({
            "city": c, "name": names.get(c, c), "stations": len(groups[c]), "days": len(dv.days),
            "valid_days": int(valid_days[i]),
            "index": float(index[i]) if ok else None, "rank": int(ranks[i]) if ok and ranks[i] > 0 else None,
            "primary": (str(idx["primary"][i]) or None) if ok else None,
            "so2": _f(rounded["so2"][i]), "no2": _f(rounded["no2"][i]), "pm10": _f(rounded["pm10"][i]),
            "pm25": _f(rounded["pm25"][i]), "co_p95": _f(rounded["co"][i]), "o3_8h_p90": _f(rounded["o3_8h"][i]),
        })
    out.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["city"]))
    return out


def _f(x) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x
