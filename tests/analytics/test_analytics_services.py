"""AQI per site and city (hourly, daily with GB 3095 validity), city ranking (HJ 663), water class (GB 3838),
computed from stored observations — checked against the standards engine on the same numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from ecohub.analytics import aqi_service, rankings, water_service
from ecohub.standards import aqi_cn, gb3095, gb3838, hj663
from ecohub.store import registry as R
from ecohub.store.queries import PUBLIC, SYSTEM
from ecohub.store.writer import ObservationWriter

T0 = int(datetime(2026, 1, 10, 16, tzinfo=UTC).timestamp())  # 2026-01-11 00:00 Beijing
DAY1, DAY2 = date(2026, 1, 11), date(2026, 1, 12)
POLL = ("pm25", "pm10", "so2", "no2", "co", "o3")


def _value(site: str, p: str, h: int) -> float:
    base = {"A1": 1.0, "A2": 1.5, "B1": 3.0}[site]
    v = {"pm25": 30, "pm10": 60, "so2": 10, "no2": 25, "co": 0.6, "o3": 40 + 5 * (h % 24 > 10)}[p]
    return round(v * base + (h % 5), 1)


@pytest.fixture
def air(store):
    """Cities 130100 (stations A1, A2) and 130200 (B1, dirtier); B1 misses 5 hours of PM2.5 on day 1."""
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("A1", "air_station", "甲1", 114.5, 38.0, "130100"))
        R.upsert_site(c, R.SiteInput("A2", "air_station", "甲2", 114.6, 38.1, "130102"))
        R.upsert_site(c, R.SiteInput("B1", "air_station", "乙1", 118.2, 39.6, "130200"))
        R.upsert_site(c, R.SiteInput("BX", "air_station", "乙X", 118.3, 39.7, "130200", attrs={"open": False}))
        R.upsert_site(c, R.SiteInput("W1", "water_section", "断面", 118.3, 39.7, "130200",
                                     attrs={"waterbody": "lake"}))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {(s, p): res.get(c, idx[s][0], par[p], "hour") for s in ("A1", "A2", "B1", "BX") for p in POLL}
        wids = {p: res.get(c, idx["W1"][0], par[p], "hour") for p in ("ph", "do", "nh3n", "tp", "codmn")}
    w = ObservationWriter(store, "import", "t")
    for h in range(48):
        for (s, p), sid in ids.items():
            if s == "B1" and p == "pm25" and 3 <= h < 8:
                continue
            w.add(sid, T0 + 3600 * h, _value("A1" if s == "BX" else s, p, h))
    for p, v in {"ph": 7.8, "do": 6.2, "nh3n": 0.4, "tp": 0.04, "codmn": 3.5}.items():
        w.add(wids[p], T0 + 3600 * 47, v)
    w.flush()
    return store


def test_hourly_site_aqi_matches_the_standard(air):
    rows = {r["site"]: r for r in aqi_service.hourly_now(air, scope=SYSTEM)}
    assert set(rows) == {"A1", "A2", "B1", "BX"}
    t = datetime.fromtimestamp(T0 + 47 * 3600, UTC)
    conc = {p: np.array([_value("B1", p, 47)]) for p in POLL}
    ref = aqi_cn.aqi_hourly(times=np.array([np.datetime64(int(t.timestamp()), "s")]), **conc)
    assert rows["B1"]["aqi"] == int(ref.aqi[0]) and rows["B1"]["time"] == t
    assert rows["B1"]["primary_pollutant"] == (str(ref.primary_pollutant[0]) or None)
    assert rows["B1"]["edition"] == 2012  # HJ 633-2026 applies from 2026-03-01
    # public scope: the closed station is not computed at all
    assert "BX" not in {r["site"] for r in aqi_service.hourly_now(air, scope=PUBLIC)}


def test_hourly_city_aqi_is_the_aqi_of_the_station_mean(air):
    city = {r["city"]: r for r in aqi_service.hourly_now(air, scope=PUBLIC, by="city")}
    assert city["130100"]["stations"] == 2 and city["130100"]["name"] == "石家庄市"
    mean = {p: np.array([(_value("A1", p, 47) + _value("A2", p, 47)) / 2]) for p in POLL}
    ref = aqi_cn.aqi_hourly(times=np.array([np.datetime64(T0 + 47 * 3600, "s")]), **mean)
    assert city["130100"]["aqi"] == int(ref.aqi[0])
    assert city["130200"]["stations"] == 1  # BX is not open


def test_daily_aqi_uses_validity_rules(air):
    rows = {(r["site"], r["date"]): r for r in aqi_service.daily(air, DAY1, DAY2, scope=SYSTEM)}
    b1 = rows[("B1", "2026-01-11")]
    assert b1["concentrations"]["pm25"] is None and "PM2.5" in b1["missing"]  # 19 hours < 20
    assert rows[("B1", "2026-01-12")]["concentrations"]["pm25"] is not None
    a1 = rows[("A1", "2026-01-11")]
    hours = [_value("A1", "o3", h) for h in range(24)]
    mx, _ = gb3095.daily_max_8h_o3(np.array(hours))
    assert a1["concentrations"]["o3_8h"] == aqi_cn.round_gbt8170(mx)[0]  # as published: integer µg/m³
    ref = aqi_cn.aqi_daily(times=np.array([np.datetime64(T0, "s")]),
                           **{p: np.array([np.mean([_value("A1", p, h) for h in range(24)])])
                              for p in ("pm25", "pm10", "so2", "no2", "co")}, o3_8h=mx)
    assert a1["aqi"] == int(ref.aqi[0])


def test_daily_aqi_rounds_the_daily_means_as_published(store):
    """Issue 10: a daily PM2.5 mean of 75.75 µg/m³ is published as 76 → IAQI 102 (HJ 633-2012 practice); the
    unrounded mean gives 50 + 1.25·40.75 = 100.94 → 101. Same for the city mean."""
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("R1", "air_station", "圆1", 114.5, 38.0, "130100"))
        R.upsert_site(c, R.SiteInput("R2", "air_station", "圆2", 114.6, 38.1, "130102"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {(s, p): res.get(c, idx[s][0], par[p], "hour") for s in ("R1", "R2") for p in ("pm25", "so2")}
    w = ObservationWriter(store, "import", "t")
    for h in range(24):
        w.add(ids[("R1", "pm25")], T0 + 3600 * h, 75.0 if h % 2 else 76.5)  # mean 75.75
        w.add(ids[("R2", "pm25")], T0 + 3600 * h, 75.5 if h % 2 else 76.0)  # mean 75.75
        w.add(ids[("R1", "so2")], T0 + 3600 * h, 10.0)
        w.add(ids[("R2", "so2")], T0 + 3600 * h, 10.0)
    w.flush()
    rows = {r["site"]: r for r in aqi_service.daily(store, DAY1, DAY1, scope=SYSTEM)}
    assert rows["R1"]["aqi"] == 102 and rows["R1"]["iaqi"]["pm25"] == 102
    assert rows["R1"]["concentrations"]["pm25"] == 76
    city = aqi_service.daily(store, DAY1, DAY1, scope=SYSTEM, by="city")
    assert [(r["city"], r["aqi"], r["concentrations"]["pm25"]) for r in city] == [("130100", 102, 76)]


def test_city_ranking(air):
    rows = rankings.city_ranking(air, DAY1, DAY2, scope=PUBLIC)
    assert [r["city"] for r in rows] == ["130100", "130200"] and [r["rank"] for r in rows] == [1, 2]
    a = rows[0]
    ref = hj663.comprehensive_index(so2=a["so2"], no2=a["no2"], pm10=a["pm10"], pm25=a["pm25"], co_p95=a["co_p95"],
                                    o3_8h_p90=a["o3_8h_p90"])
    assert a["index"] == pytest.approx(round(float(ref["index"]), 2))
    assert rows[1]["valid_days"] == 1  # B1's first day has too few PM2.5 hours


def test_water_class(air):
    rows = water_service.latest_classes(air, scope=PUBLIC)
    assert len(rows) == 1
    ref = gb3838.water_quality_class({"ph": [7.8], "do": [6.2], "nh3n": [0.4], "tp": [0.04], "codmn": [3.5]},
                                     lake=True)
    assert rows[0]["class"] == int(ref["class"][0]) == 3  # lake TP 0.04 → III
    assert rows[0]["label"] == "III" and rows[0]["worst_items"] == ["tp"]


def test_day_range_is_bounded():
    with pytest.raises(ValueError, match="at most"):
        aqi_service.check_days(date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(ValueError, match="after"):
        aqi_service.check_days(date(2026, 1, 2), date(2026, 1, 1))
