"""``ecohub.store.grid.hourly_grid``: the same values as reading ``queries.observations`` row by row into arrays
(the loop it replaced in the one map's time slider, a station's hours and the daily O3 windows) — repeated
hours from two sources (the higher source id kept), missing values, hours outside the range, other intervals,
sites outside the caller's scope, sites with no value. Both backends."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np

from ecohub.store import queries as Q
from ecohub.store import registry as R
from ecohub.store.grid import hourly_grid
from ecohub.store.writer import ObservationWriter

T0 = datetime(2026, 3, 1, 4, tzinfo=UTC)
PARAMS = ["pm25", "o3", "co"]
SITES = {"GA": "130100", "GB": "130200", "GC": "130100", "GEMPTY": "130100"}


def _world(store):
    rng = random.Random(7)
    with store.engine.begin() as c:
        for code, reg in SITES.items():
            attrs = {"open": False} if code == "GB" else None  # GB: closed to the public (and other cities)
            R.upsert_site(c, R.SiteInput(code, "air_station", code, 114.5, 38.0, reg, attrs=attrs))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        sids = {(code, p, iv): res.get(c, idx[code][0], par[p], iv)
                for code in SITES for p in PARAMS for iv in ("hour", "day")}
    a, b = ObservationWriter(store, "import", "a"), ObservationWriter(store, "gateway", "b")
    t0 = int(T0.timestamp())
    for (code, _p, iv), sid in sids.items():
        if code == "GEMPTY":
            continue
        for h in range(-3, 30):  # three hours before the range and some after it
            if rng.random() < 0.15:
                continue  # missing hour
            v = None if rng.random() < 0.1 else round(rng.uniform(0, 300), 1)
            a.add(sid, t0 + 3600 * h, v)
            if iv == "hour" and rng.random() < 0.2:  # the same hour from a second source
                b.add(sid, t0 + 3600 * h, round(rng.uniform(0, 300), 1))
    a.flush()
    b.flush()
    return sids


def _by_loop(store, flt, start, hours, scope):
    """The reading this replaced: rows of ``observations`` into arrays, the last row of an hour kept."""
    out: dict[str, dict[str, np.ndarray]] = {}
    t0 = int(start.timestamp())
    for r in Q.observations(store, flt, start, start + timedelta(hours=hours), scope=scope):
        if r["value"] is None:
            continue
        h = (int(r["time"].timestamp()) - t0) // 3600
        g = out.setdefault(r["site"], {p: np.full(hours, np.nan) for p in PARAMS})
        g[r["parameter"]][h] = r["value"]
    return out


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a.tolist(), b.tolist(), strict=True))


def test_grid_equals_the_row_by_row_reading(store):
    _world(store)
    officer = Q.Scope("officer", region_code="130100")
    for scope, flt in [(Q.SYSTEM, Q.SeriesFilter(kinds=["air_station"])),
                       (officer, Q.SeriesFilter(kinds=["air_station"])),
                       (Q.SYSTEM, Q.SeriesFilter(sites=["GB", "GEMPTY"])),
                       (Q.SYSTEM, Q.SeriesFilter(region_prefix="1302"))]:
        for start, hours in [(T0, 24), (T0 + timedelta(hours=5), 3), (T0 - timedelta(hours=10), 72)]:
            g = hourly_grid(store, flt, start, hours, PARAMS, scope=scope)
            want = _by_loop(store, Q.SeriesFilter(flt.sites, PARAMS, "hour", flt.kinds, flt.region_prefix),
                            start, hours, scope)
            assert g.sites == sorted(want), (scope.role, flt, start)
            for i, code in enumerate(g.sites):
                for p in PARAMS:
                    assert g.values[p].shape == (len(g.sites), hours)
                    assert _same(g.values[p][i], want[code][p]), (code, p, start, hours)
    officer_sites = hourly_grid(store, Q.SeriesFilter(), T0, 24, PARAMS, scope=officer).sites
    assert officer_sites == ["GA", "GC"]  # GB is another city's, closed; GEMPTY has no values
    assert hourly_grid(store, Q.SeriesFilter(), T0, 24, PARAMS, scope=Q.PUBLIC).sites == ["GA", "GC"]


def test_repeated_hours_keep_the_higher_source(store):
    sids = _world(store)
    sid = sids["GA", "pm25", "hour"]
    t = int((T0 + timedelta(hours=2)).timestamp())
    hi, lo = ObservationWriter(store, "zz-hi", "x"), ObservationWriter(store, "aa-lo", "y")
    hi.add(sid, t, 111.0)
    hi.flush()
    lo.add(sid, t, 222.0)  # written later; the source ids decide, not the order of writing
    lo.flush()
    ids = {store.source_id("zz-hi"): 111.0, store.source_id("aa-lo"): 222.0}
    g = hourly_grid(store, Q.SeriesFilter(sites=["GA"]), T0, 24, ["pm25"], scope=Q.SYSTEM)
    assert g.values["pm25"][0, 2] == ids[max(ids)]


def test_nothing_to_read(store):
    g = hourly_grid(store, Q.SeriesFilter(sites=["NONE"]), T0, 5, PARAMS, scope=Q.SYSTEM)
    assert g.sites == [] and g.values["o3"].shape == (0, 5)
