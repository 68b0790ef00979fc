"""Query layer: time ranges, latest per site, windowed aggregates in Beijing time — on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecohub.store import registry as R
from ecohub.store.queries import SeriesFilter, aggregate, latest_values, observations
from ecohub.store.writer import ObservationWriter

# 2019-01-07 16:00 UTC = 2019-01-08 00:00 Beijing
DAY0 = int(datetime(2019, 1, 7, 16, tzinfo=UTC).timestamp())


@pytest.fixture
def filled(store):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("A", "air_station", "甲", 114.5, 38.0, "130100"))
        R.upsert_site(c, R.SiteInput("B", "air_station", "乙", 115.5, 39.0, "130600"))
        R.upsert_site(c, R.SiteInput("W", "water_section", "丙", 116.0, 39.5, "130600"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {(s, p): res.get(c, idx[s][0], par[p], "hour") for s in "AB" for p in ("pm25", "so2")}
        ids[("W", "ph")] = res.get(c, idx["W"][0], par["ph"], "rt")
    w = ObservationWriter(store, "import", "t")
    for h in range(48):  # two Beijing days
        for (s, p), sid in ids.items():
            base = {"A": 10, "B": 20, "W": 7}[s]
            w.add(sid, DAY0 + 3600 * h, base + h % 24 + (0.5 if p == "so2" else 0))
    w.flush()
    return store


def test_observations_time_range_and_filters(filled):
    flt = SeriesFilter(sites=["A"], parameters=["pm25"], interval="hour")
    rows = list(observations(filled, flt, datetime.fromtimestamp(DAY0 + 3600 * 10, UTC),
                             datetime.fromtimestamp(DAY0 + 3600 * 20, UTC)))
    assert len(rows) == 10  # start inclusive, end exclusive
    assert rows[0]["value"] == 20 and rows[-1]["value"] == 29
    assert {r["site"] for r in rows} == {"A"} and rows[0]["source"] == "import"
    assert rows[0]["time"] == datetime.fromtimestamp(DAY0 + 36000, UTC)


def test_latest_per_site_and_region_filter(filled):
    rows = latest_values(filled)
    assert len(rows) == 5
    a = next(r for r in rows if r["site"] == "A" and r["parameter"] == "pm25")
    assert a["value"] == 10 + 47 % 24 and a["time"] == datetime.fromtimestamp(DAY0 + 47 * 3600, UTC)
    only_1306 = latest_values(filled, SeriesFilter(region_prefix="1306"))
    assert {r["site"] for r in only_1306} == {"B", "W"}
    assert {r["site"] for r in latest_values(filled, SeriesFilter(kinds=["water_section"]))} == {"W"}


def test_daily_aggregate_uses_beijing_days(filled):
    rows = aggregate(filled, SeriesFilter(sites=["A"], parameters=["pm25"]), "day")
    assert [r["window"] for r in rows] == ["2019-01-08T00:00:00+08:00", "2019-01-09T00:00:00+08:00"]
    assert all(r["count"] == 24 for r in rows)
    assert rows[0]["mean"] == pytest.approx(10 + 11.5) and rows[0]["min"] == 10 and rows[0]["max"] == 33


@pytest.mark.parametrize("window,n", [("hour", 48), ("month", 1), ("year", 1)])
def test_other_windows(filled, window, n):
    rows = aggregate(filled, SeriesFilter(sites=["B"], parameters=["so2"]), window)
    assert len(rows) == n and sum(r["count"] for r in rows) == 48


def test_unknown_window_is_refused(filled):
    with pytest.raises(ValueError, match="window"):
        aggregate(filled, SeriesFilter(), "week")
