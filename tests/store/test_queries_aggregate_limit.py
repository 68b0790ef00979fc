"""``aggregate`` with ``limit`` rolls the series up a few at a time in the answer's order: the rows are exactly
the first ``limit`` rows of the whole rollup — whatever the density of the series (empty, sparse, dense), the
window, the filter and the caller's scope — on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecohub.store import queries as Q
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter

DAY0 = int(datetime(2026, 3, 1, 16, tzinfo=UTC).timestamp())  # 2026-03-02 00:00 Beijing


@pytest.fixture
def uneven(store):
    """12 stations × 2 parameters, 72 h: every third series empty, every third one value a day, the rest
    hourly; station S05 is closed to the public."""
    with store.engine.begin() as c:
        for i in range(12):
            attrs = {"open": False} if i == 5 else None
            R.upsert_site(c, R.SiteInput(f"S{i:02d}", "air_station", f"站{i}", 114.5, 38.0, "130100", None, attrs))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = [res.get(c, idx[f"S{i:02d}"][0], par[p], "hour") for i in range(12) for p in ("pm25", "so2")]
    w = ObservationWriter(store, "import", "t")
    for k, sid in enumerate(ids):
        for h in range(72):
            if k % 3 == 0 or (k % 3 == 1 and h % 24 != 7):
                continue
            w.add(sid, DAY0 + 3600 * h, float(k + h % 13))
    w.flush()
    return store


def _t(h: int) -> datetime:
    return datetime.fromtimestamp(DAY0 + 3600 * h, UTC)


def _rounded(rows: list[dict]) -> list[dict]:  # the database may sum in another order: the mean's last bit
    return [{**r, "mean": round(r["mean"], 9)} for r in rows]


@pytest.mark.parametrize("window,h0,h1", [("hour", 0, 72), ("hour", 30, 40), ("day", 0, 72), ("month", 0, 72)])
def test_limited_rollup_is_the_head_of_the_whole(uneven, window, h0, h1):
    for scope in (Q.SYSTEM, Q.PUBLIC):
        whole = Q.aggregate(uneven, Q.SeriesFilter(), window, _t(h0), _t(h1), scope=scope)
        assert whole  # the data are there
        for limit in (1, 2, 5, 17, 40, len(whole) - 1, len(whole), len(whole) + 50):
            if limit < 1:
                continue
            got = Q.aggregate(uneven, Q.SeriesFilter(), window, _t(h0), _t(h1), scope=scope, limit=limit)
            assert _rounded(got) == _rounded(whole[:limit]), (window, scope.role, limit)
    public = Q.aggregate(uneven, Q.SeriesFilter(), window, _t(h0), _t(h1), scope=Q.PUBLIC, limit=10_000)
    assert "S05" not in {r["site"] for r in public}


def test_limited_rollup_without_range_and_with_filters(uneven):
    flt = Q.SeriesFilter(sites=["S01", "S02", "S03", "S04"], parameters=["pm25"])  # S03's pm25 is empty
    whole = Q.aggregate(uneven, flt, "day")
    assert {r["site"] for r in whole} == {"S01", "S02", "S04"} and {r["parameter"] for r in whole} == {"pm25"}
    for limit in (1, 3, 4, len(whole)):
        assert _rounded(Q.aggregate(uneven, flt, "day", limit=limit)) == _rounded(whole[:limit])
