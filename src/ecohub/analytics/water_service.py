"""The latest GB 3838-2002 class of each surface-water section, from its latest values.

For each section the items of its newest reading (values within 24 h of its newest time) that GB 3838
classifies are evaluated with ``gb3838.water_quality_class`` (single factor, worst item wins, the 21 items of
the national method; TN only reported). Lakes and reservoirs (register column ``site.water_body`` ``lake`` /
``reservoir``, GB 3838-2002 Table 1 湖、库) use the lake/reservoir TP limits; rivers and sections without a
type use the river limits. ``official_class`` (when the site carries one) is shown beside it.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from ecohub.standards import gb3838
from ecohub.store.db import Store
from ecohub.store.queries import Scope, SeriesFilter, latest_values, region_prefix, sites

WINDOW = timedelta(hours=24)


def latest_classes(store: Store, *, scope: Scope | None = None, codes=(), region_code: str | None = None) -> list[dict]:
    st = {s["code"]: s for s in sites(store, kinds=["water_section"], codes=list(codes), region=region_code,
                                      scope=scope)}
    if not st:
        return []
    rows = latest_values(store, SeriesFilter(sites=list(codes), kinds=["water_section"],
                                             region_prefix=region_prefix(region_code)), scope=scope)
    by_site: dict[str, list[dict]] = {}
    for r in rows:
        if r["site"] in st:
            by_site.setdefault(r["site"], []).append(r)
    lst = sorted(by_site)
    if not lst:
        return []
    newest = {c: max(r["time"] for r in by_site[c]) for c in lst}
    items = [i for i in gb3838.ALL_ITEMS]
    arrays = {i: np.full(len(lst), np.nan) for i in items}
    values: list[dict] = []
    for k, c in enumerate(lst):
        v = {}
        for r in by_site[c]:
            if r["value"] is not None and newest[c] - r["time"] <= WINDOW:
                v[r["parameter"]] = r["value"]
                if r["parameter"] in arrays:
                    arrays[r["parameter"]][k] = r["value"]
        values.append(v)
    present = {i: a for i, a in arrays.items() if np.any(~np.isnan(a))}
    lake = np.array([st[c].get("water_body") in ("lake", "reservoir") for c in lst])
    out = []
    if present:
        res = gb3838.water_quality_class(present, lake=lake)
    for k, c in enumerate(lst):
        s = st[c]
        cls = int(res["class"][k]) if present else 0
        out.append({
            "site": c, "name": s["name"], "region_code": s["region_code"], "lon": s["lon"], "lat": s["lat"],
            "time": newest[c], "water_body": s.get("water_body"), "class": cls or None,
            "label": str(res["label"][k]) if present and cls else None,
            "category_zh": str(res["category_zh"][k]) if present and cls else None,
            "category_en": str(res["category_en"][k]) if present and cls else None,
            "worst_items": [x for x in str(res["worst_items"][k]).split(",") if x] if present and cls else [],
            "exceeds_target": bool(res["exceeds_target"][k]) if present and cls else None,
            "official_class": (s["attrs"] or {}).get("official_class"),
            "values": values[k],
        })
    return out
