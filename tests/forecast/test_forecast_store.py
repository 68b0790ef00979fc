"""The forecast store on both backends: issues are insert-only, the latest issue is served, verification is
recomputed from the stored issues and observations; the stored-data path from hourly observations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from ecohub.domain.errors import InputError, NotFound
from ecohub.forecast import service
from ecohub.forecast.history import read_daily_file
from ecohub.forecast.model import MODEL_VERSION, ModelSettings
from ecohub.store import registry as R
from ecohub.store.schema_forecast import forecast_day, forecast_issue
from ecohub.store.writer import ObservationWriter

FIX = Path(__file__).parent.parent / "fixtures" / "forecast"
FAST = ModelSettings(rounds=40, pollutant_rounds=20)
TIANJIN = "120100"


@pytest.fixture(scope="module")
def tianjin():
    return read_daily_file(FIX / "tianjin_daily_2014-01-01_2022-05-31.csv").since(np.datetime64("2017-06-01"))


def _at(day: str, hour: int = 8) -> datetime:  # hour in UTC (16:00 Beijing = 08:00 UTC)
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _rows(store, iid):
    with store.engine.connect() as c:
        issue = dict(c.execute(select(forecast_issue).where(forecast_issue.c.id == iid)).mappings().one())
        days = [dict(r) for r in c.execute(select(forecast_day).where(forecast_day.c.issue_id == iid)
                                           .order_by(forecast_day.c.day)).mappings()]
    return issue, days


def test_issue_is_stored_and_never_overwritten(store, tianjin):
    h = tianjin.until(np.datetime64("2019-06-30"))
    first = service.issue(store, TIANJIN, h, now=_at("2019-06-30"), settings=FAST, name="天津市")
    assert first["issued"] and first["method"] == "model"
    assert [d["day"] for d in first["days"]] == ["2019-07-01", "2019-07-02", "2019-07-03"]
    before = _rows(store, first["id"])
    # a re-run at the same instant is refused, the stored issue is untouched
    with pytest.raises(InputError, match="never overwritten"):
        service.issue(store, TIANJIN, h, now=_at("2019-06-30"), settings=FAST)
    # a re-run later the same day is a new issue; the first one is unchanged
    again = service.issue(store, TIANJIN, h, now=_at("2019-06-30", 9), settings=ModelSettings(rounds=80),
                          name="天津市")
    assert again["id"] != first["id"]
    assert _rows(store, first["id"]) == before
    issues = service.list_issues(store, TIANJIN)
    assert [i["id"] for i in issues] == [again["id"], first["id"]]
    latest = service.latest(store, target=TIANJIN)
    assert len(latest) == 1 and latest[0]["id"] == again["id"]
    lt = latest[0]
    assert lt["issued_at"].startswith("2019-06-30T09:00") and lt["inputs_to"] == "2019-06-30"
    assert lt["model_version"] == MODEL_VERSION and lt["input_days"] > 700
    d1 = lt["days"][0]
    assert d1["aqi_low"] <= d1["aqi"] <= d1["aqi_high"] and d1["category_zh"] in ("优", "良", "轻度污染", "中度污染",
                                                                                 "重度污染", "严重污染")
    assert d1["persistence_aqi"] == float(h.aqi[-1]) and d1["climatology_aqi"] is not None


def test_verification_from_stored_issues(store, tianjin):
    for day in ("2019-07-01", "2019-07-02", "2019-07-03", "2019-07-04"):
        prev = str(np.datetime64(day) - 1)
        r = service.issue(store, TIANJIN, tianjin.until(np.datetime64(prev)), now=_at(prev), settings=FAST)
        assert r["issued"]
    res = service.verify(store, now=_at("2019-07-08"), histories={TIANJIN: tianjin})
    assert res["targets"] == 1 and res["observed_days"] >= 6
    rep = service.verification(store, target=TIANJIN)
    lead1 = rep["leads"][0]
    assert lead1["lead"] == 1 and lead1["days"] == 4  # D+1 of the four issues: 07-01 … 07-04
    # by hand from the stored values
    pairs = [(d["aqi"], float(tianjin.aqi[int((np.datetime64(d["day"]) - tianjin.days[0]).astype(int))]))
             for i in service.list_issues(store, TIANJIN) for d in i["days"] if d["lead"] == 1]
    mae = round(float(np.mean([abs(a - b) for a, b in pairs])), 2)
    assert lead1["aqi_mae"] == mae
    assert lead1["persistence"]["days"] == 4
    assert rep["leads"][2]["days"] == 4  # D+3 of the four issues: 07-03 … 07-06 (observed up to 07-07)
    rows = service.forecast_vs_observed(store, TIANJIN, days=30, now=_at("2019-07-08"))
    assert [r["day"] for r in rows] == ["2019-07-01", "2019-07-02", "2019-07-03", "2019-07-04"]


def test_short_history_gives_a_persistence_issue_labelled_as_such(store, tianjin):
    h = tianjin.until(np.datetime64("2017-09-01"))
    r = service.issue(store, TIANJIN, h, now=_at("2017-09-01"))
    assert r["issued"] and r["method"] == "persistence" and "persistence only" in r["note"]
    assert all(d["aqi"] == float(h.aqi[-1]) for d in r["days"])
    stale = service.issue(store, TIANJIN, h, now=_at("2017-09-20"))
    assert not stale["issued"] and "too old" in stale["reason"]


def test_run_from_stored_hourly_observations(store):
    """Two stations of one city with 10 days of hourly data: daily AQI through analytics, persistence issue."""
    t0 = int(datetime(2026, 1, 1, 16, tzinfo=UTC).timestamp())  # 2026-01-02 00:00 Beijing
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("F1", "air_station", "预1", 114.5, 38.0, "130102"))
        R.upsert_site(c, R.SiteInput("F2", "air_station", "预2", 114.6, 38.1, "130104"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {(s, p): res.get(c, idx[s][0], par[p], "hour") for s in ("F1", "F2")
               for p in ("pm25", "pm10", "so2", "no2", "co", "o3")}
    w = ObservationWriter(store, "import", "t")
    base = {"pm25": 80, "pm10": 120, "so2": 10, "no2": 40, "co": 1.0, "o3": 50}
    for hh in range(10 * 24):
        for (s, p), sid in ids.items():
            w.add(sid, t0 + 3600 * hh, base[p] * (1.2 if s == "F2" else 1.0))
    w.flush()
    now = datetime(2026, 1, 12, 8, tzinfo=UTC)  # 16:00 Beijing on 01-12; data up to 01-11
    assert service.cities(store) == ["130100"]
    h = service.city_history(store, "130100", date(2026, 1, 11), days=30)
    assert int(np.count_nonzero(~np.isnan(h.aqi))) == 10
    out = service.run(store, now=now)
    assert len(out) == 1 and out[0]["issued"] and out[0]["method"] == "persistence"
    # PM2.5 city mean 88 µg/m³ → IAQI 50 + (88-75)·50/40 = 66.25 → … → the same AQI as the standard gives
    assert out[0]["days"][0]["aqi"] == float(h.aqi[-1]) and out[0]["days"][0]["primary_pollutant"] == "PM2.5"
    assert [d["day"] for d in out[0]["days"]] == ["2026-01-13", "2026-01-14", "2026-01-15"]
    res = service.verify(store, now=now + timedelta(days=5))
    assert res["targets"] == 1
    # one station, its own history (F2: 1.2 × F1's concentrations)
    st = service.run(store, site="F2", now=now)
    assert len(st) == 1 and st[0]["issued"] and st[0]["kind"] == "site" and st[0]["method"] == "persistence"
    hs = service.city_history(store, "", date(2026, 1, 11), days=30, site="F2")
    assert st[0]["days"][0]["aqi"] == float(hs.aqi[-1]) > out[0]["days"][0]["aqi"]
    assert [i["target_code"] for i in service.latest(store, kind="site")] == ["F2"]
    assert service.list_issues(store, "F2", kind="site")[0]["region_code"] == "130104"
    with pytest.raises(NotFound):
        service.run(store, site="NOPE", now=now)


def test_run_refuses_bad_input(store, tianjin):
    with pytest.raises(InputError, match="scheme"):
        service.issue(store, TIANJIN, tianjin, scheme="1999")
    with pytest.raises(InputError, match="city"):
        service.run(store, daily=tianjin)
