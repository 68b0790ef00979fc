"""City ranking by the ambient air quality comprehensive index (城市环境空气质量排名技术规定, HJ 663).

For a period of Beijing days: site daily values (``aqi_service.site_daily_values``: 24-h means with ≥ 20
hours, O3 daily max 8-h), city daily values = mean of the valid site values (``hj663.city_daily``), then per
city the period means of SO2, NO2, PM10, PM2.5, the 95th percentile of CO daily means and the 90th
percentile of O3 daily max 8-h (``hj663.percentile``, Appendix A), each rounded as published
(``hj663.round_stat``), the comprehensive index I_sum (``hj663.comprehensive_index``, GB 3095-2012 class 2
limits) and the rank (ascending, ties share the lowest rank, ``hj663.rank``) — the pure definition
:func:`ecohub.analytics.period.city_period`, which the Spark job applies too. A city needs at least one
valid day per statistic; a city without them is listed unranked (rank null).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np

from ecohub.analytics import period
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
    ev = period.city_period(city, dv.days, with_aqi=False)
    index, ranks, valid_days = ev["index"], period.ranks(ev["index"]), ev["valid_days"]
    out = []
    for i, c in enumerate(codes):
        ok = not np.isnan(index[i])
        out.append({
            "city": c, "name": names.get(c, c), "stations": len(groups[c]), "days": len(dv.days),
            "valid_days": int(valid_days[i]),
            "index": float(index[i]) if ok else None, "rank": int(ranks[i]) if ok and ranks[i] > 0 else None,
            "primary": (str(ev["primary"][i]) or None) if ok else None,
            **{k: _f(ev[k][i]) for k in period.STATS},
        })
    out.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["city"]))
    return out


def _f(x) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x
