"""Spark over the lake gives the embedded path's numbers on the same data: the HJ 663 period evaluation of 12
cities for the year 2019 and for each of its months (real CNEMC hourly data of one station per city, the
repository's fixture), the city ranking, completeness per site and day, and emissions per outlet, pollutant and
day (two simulated outlets: hourly gas data with Cou, minute wastewater data; device faults, a stopped spell,
short and long gaps). One Spark session (``local[2]``) and one lake for the module."""

from __future__ import annotations

import time
from datetime import date, datetime

import numpy as np
import pytest
from lake_support import load_months

from ecohub.analytics import aqi_service
from ecohub.analytics.rankings import ranking_from_daily
from ecohub.domain.timeutil import BEIJING
from ecohub.lake.sync import sync
from ecohub.quality.completeness import completeness as embedded_completeness
from ecohub.quality.completeness import site_summary
from ecohub.reports.figures import _air_period, parse_period
from ecohub.store import registry as R
from ecohub.store.db import Store
from ecohub.store.writer import ObservationWriter
from ecohub.supervision.permits import rollup
from ecohub.supervision.permits.emissions import outlet_emissions

#: the fixture's station of each city (stations_included.csv) → the city's division code (GB/T 2260)
CITY = {"1001A": "110100", "1015A": "120100", "1029A": "130100", "1129A": "230100", "1141A": "310100",
        "1345A": "440100", "1409A": "460100", "1431A": "510100", "1456A": "540100", "1462A": "610100",
        "1476A": "620100", "1490A": "650100"}
ENT = "91130100MA00000012"  # a valid GB 32100 code
OUT0 = datetime(2019, 3, 3, tzinfo=BEIJING)  # outlet data: 2019-03-03 … 2019-03-18 (inside March)
OUT_HOURS = 16 * 24
H = 3600

pytestmark = pytest.mark.slow


def _load_outlets(store: Store) -> None:
    """GAS1: hourly SO2/NOx/flow with SO2 Cou 4 hours in 5, starting on day 2 (missing hours before), a 6-hour
    and a 40-hour fault (flag D: substituted), a 5-hour stop (flag F: zero). WAT1: minute COD and flow, a fault
    hour with only 30 valid minutes."""
    with store.engine.begin() as c:
        R.add_enterprise(c, ENT, "示例企业", "130100")
        for i, (s, kind) in enumerate((("GAS1", "gas_outlet"), ("WAT1", "water_outlet"))):
            R.upsert_site(c, R.SiteInput(s, kind, s + " 排口", 114.5 + i * 0.01, 38.0, "130100", ENT))
        idx, par, res = R.site_index(c), R.parameter_index(c), R.SeriesResolver()
        sid = {p: res.get(c, idx["GAS1"][0], par[p], "hour") for p in ("so2_gas", "so2_gas_cou", "nox", "flow_gas")}
        sid |= {p: res.get(c, idx["WAT1"][0], par[p], "minute") for p in ("cod", "flow_water")}
    rng = np.random.default_rng(18)
    bad = set(range(100, 106)) | set(range(200, 240))
    stopped = set(range(300, 305))
    t0 = int(OUT0.timestamp())
    with ObservationWriter(store, "import") as w:
        for h in range(OUT_HOURS):
            t = t0 + h * H
            f = "F" if h in stopped else "D" if h in bad else "N"
            if h >= 24:
                q, so2 = 80 + 10 * rng.random(), 25 + 5 * rng.random()
                w.add(sid["flow_gas"], t, round(q, 2), f)
                w.add(sid["so2_gas"], t, round(so2, 2), f)
                w.add(sid["nox"], t, round(40 + 5 * rng.random(), 2), f)
                if h % 5:
                    w.add(sid["so2_gas_cou"], t, round(so2 * q * 3.6e-3, 4), f)
            for m in range(60):
                mf = f if (f != "D" or m < 30) else "N"
                w.add(sid["flow_water"], t + 60 * m, round(20 + rng.random(), 3), mf)
                w.add(sid["cod"], t + 60 * m, round(50 + 10 * rng.random(), 2), mf)


@pytest.fixture(scope="module")
def world(sqlite_template, tmp_path_factory):
    pytest.importorskip("pyspark")
    from ecohub.lake.spark_jobs import session

    d = tmp_path_factory.mktemp("lake_stats")
    (d / "ecohub.db").write_bytes(sqlite_template.read_bytes())
    store = Store.open(f"sqlite:///{d / 'ecohub.db'}")
    load_months(store, range(1, 13), CITY.get)
    _load_outlets(store)
    time.sleep(1.1)  # a sync stops before the current second
    sync(store, d / "lake", settle_seconds=0)
    spark = session("local[2]")
    yield store, d / "lake", spark
    spark.stop()
    store.close()


def _close(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.isclose(a, b, rtol=0, atol=1e-9))


def test_hj663_year_months_and_ranking_equal_the_embedded_path(world):
    from ecohub.lake import spark_stats

    store, lake, spark = world
    year = {r["city"]: r.asDict() for r in spark_stats.hj663(spark, lake, date(2019, 1, 1),
                                                             date(2019, 12, 31)).collect()}
    months = {(r["period"], r["city"]): r.asDict() for r in spark_stats.hj663(
        spark, lake, date(2019, 1, 1), date(2019, 12, 31), by="month").collect()}
    assert len(year) == 12 and len(months) == 144
    checked = 0
    for label, got in [("2019", year)] + [(f"2019-{m:02d}", {c: months[(f"2019-{m:02d}", c)] for c in CITY.values()})
                                          for m in range(1, 13)]:
        want = _air_period(store, "", parse_period("annual" if len(label) == 4 else "monthly", label), None)["cities"]
        assert set(want) == set(got)
        for c, w in want.items():
            g = got[c]
            assert (g["stations"], g["days"], g["aqi_valid_days"]) == (w["stations"], w["days"], w["valid_days"])
            assert g["good_days"] == (w["good_days"] or 0), (label, c)
            assert [g[f"days_level_{k}"] for k in range(1, 7)] == w["days_per_level"], (label, c)
            assert g["heavy_days"] == (w["heavy_days"] or 0), (label, c)
            if w["good_ratio"] is not None:
                assert round(g["good_share"] * 100, 1) == w["good_ratio"], (label, c)
            assert (g["rank"], g["primary"]) == (w["rank"], w["primary"]), (label, c)
            for k in ("index", "pm25", "pm10", "o3_8h_p90", "no2", "so2", "co_p95"):
                assert _close(None if np.isnan(g[k]) else g[k], w[k]), (label, c, k, g[k], w[k])
            checked += 1
    assert checked == 13 * 12
    dv = aqi_service.site_daily_values(store, date(2019, 1, 1), date(2019, 12, 31), max_days=366)
    want_rank = ranking_from_daily(store, dv)
    ranking = sorted(year.values(), key=lambda r: (r["rank"], r["city"]))  # what spark_stats.rankings selects
    assert [(r["city"], r["rank"], r["index"], r["primary"], r["stations"], r["valid_days"]) for r in ranking] == \
        [(r["city"], r["rank"], r["index"], r["primary"], r["stations"], r["valid_days"]) for r in want_rank]
    ranks = [r["rank"] for r in want_rank]
    assert len(set(ranks)) >= 11 and max(ranks) == 12  # a real ranking (one tie in 2019)


def test_completeness_equals_the_embedded_path(world):
    from ecohub.lake import spark_stats

    store, lake, spark = world
    d0, d1 = date(2019, 3, 1), date(2019, 3, 31)
    got = {(r["site"], r["period"]): r.asDict() for r in spark_stats.completeness(spark, lake, d0, d1).collect()}
    start, end = (int(t.timestamp()) for t in aqi_service.day_bounds(d0, d1))
    with store.engine.connect() as c:
        want = site_summary(embedded_completeness(c, [*CITY, "GAS1", "WAT1"], start, end, by="day"))
    assert len(want) == 14 * 31
    assert {(w["site"], w["period"]) for w in want} == set(got)
    for w in want:
        assert got[(w["site"], w["period"])] == w, w
    gas = [w for w in want if w["site"] == "GAS1"]
    assert any(w["received"] > w["valid"] > 0 for w in gas)  # device faults counted apart
    assert any(w["received"] == 0 for w in gas)  # days before the outlet reported


def test_emissions_per_outlet_pollutant_day_equal_the_embedded_path(world):
    from ecohub.lake import spark_stats

    store, lake, spark = world
    d0, d1 = date(2019, 3, 1), date(2019, 3, 20)
    rows = [r.asDict() for r in spark_stats.emissions(spark, lake, d0, d1).collect()]
    got: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        got.setdefault((r["site"], r["pollutant"]), []).append(r)
    start, end = (int(t.timestamp()) for t in aqi_service.day_bounds(d0, d1))
    with store.engine.connect() as c:
        idx = R.site_index(c)
        items = [(idx[s][0], s, k, p, 0) for s, k, p in (("GAS1", "gas_outlet", "so2_gas"),
                                                          ("GAS1", "gas_outlet", "nox"),
                                                          ("WAT1", "water_outlet", "cod"))]
        scratch = outlet_emissions(c, items, start, end)
    assert set(got) == {(i[1], i[3]) for i in items}
    for (sid, pol), e in scratch.items():
        code = next(i[1] for i in items if i[0] == sid)
        want = rollup.totals_of_grid(e, by_day=True)
        days = sorted(got[(code, pol)], key=lambda r: r["date"])
        assert len(days) == 20
        for m in ("cou", "cxq", "stopped", "substituted"):
            assert sum(r[f"hours_{m}"] for r in days) == want.hours[m], (code, pol, m)
        assert sum(r["missing_hours"] for r in days) == want.missing
        by_day = {datetime.fromtimestamp(d, BEIJING).date().isoformat(): kg for d, kg in want.by_day.items()}
        for r in days:
            assert r["kg"] == pytest.approx(by_day.get(r["date"], 0.0), rel=1e-12, abs=1e-12), (code, pol, r)
        assert sum(r["kg"] for r in days) == pytest.approx(want.kg, rel=1e-12)
    so2 = {m: sum(r[f"hours_{m}"] for r in got[("GAS1", "so2_gas")]) for m in ("cou", "cxq", "stopped",
                                                                              "substituted")}
    assert so2["cou"] > 0 and so2["cxq"] > 0 and so2["stopped"] == 5 and so2["substituted"] == 46


def test_spark_cli_runs_a_job_and_rejects_bad_input(world, tmp_path):
    import json

    from typer.testing import CliRunner

    from ecohub.cli.main import app

    _store, lake, _spark = world
    r = CliRunner().invoke(app, ["spark", "rankings", "--lake", str(lake), "--from", "2019-07-01", "--to",
                                 "2019-07-31", "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.output.strip().splitlines() if x.startswith("{")]
    assert len(rows) == 12 and rows[0]["rank"] == 1
    r = CliRunner().invoke(app, ["spark", "hj663", "--lake", str(lake), "--from", "2019-07-01", "--to", "2019-07-31",
                                 "--by", "week"])
    assert r.exit_code == 2 and "--by" in r.output
    r = CliRunner().invoke(app, ["spark", "emissions", "--lake", str(lake), "--from", "2018-01-01", "--to",
                                 "2018-01-02"])
    assert r.exit_code == 2 and "no" in r.output and "2018-01-01" in r.output
