"""The lake and Spark: ``ecohub lake sync`` is incremental and never loses or repeats a committed row; Spark's
daily AQI equals the embedded path's on a year of real CNEMC data of 12 stations (one per city)."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow.parquet as pq
import pytest
from lake_support import load_months
from typer.testing import CliRunner

from ecohub.analytics import aqi_service
from ecohub.cli.main import app
from ecohub.domain.timeutil import BEIJING
from ecohub.lake.sync import committed_files, read_manifest, sync


def test_sync_is_incremental_and_readers_see_each_row_once(sqlite_store, tmp_path):
    n1 = load_months(sqlite_store, [1])
    lake = tmp_path / "lake"
    time.sleep(1.1)  # a sync stops before the current second (received_at has whole seconds)
    r1 = sync(sqlite_store, lake, settle_seconds=0)
    assert r1.rows == n1 and r1.previous is None
    again = sync(sqlite_store, lake, settle_seconds=0)
    assert again.rows == 0  # nothing new received
    # a sync that died after writing files and before committing: its files are removed by the next one
    stale = next(iter(committed_files(lake))).with_name("part-deadbeef-0-0.parquet")
    shutil.copy(next(iter(committed_files(lake))), stale)
    n2 = load_months(sqlite_store, [2])
    time.sleep(1.1)
    r2 = sync(sqlite_store, lake, settle_seconds=0)
    assert r2.rows == n2 and r2.removed_stale_files == 1 and not stale.exists()
    files = committed_files(lake)
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    assert total == n1 + n2
    assert [s["rows"] for s in read_manifest(lake)["syncs"]] == [n1, 0, n2]
    # hive layout by interval, kind and Beijing date
    assert all("interval=hour/kind=air_station/date=2019-0" in f.as_posix() for f in files)
    jan1 = [f for f in files if "date=2019-01-01" in f.as_posix()]
    t = pq.read_table(jan1[0])
    bj = [x.astimezone(BEIJING).date() for x in t.column("time").to_pylist()]
    assert set(bj) == {date(2019, 1, 1)}


def test_lake_sync_cli_reports_and_rejects_bad_input(sqlite_store, tmp_path):
    load_months(sqlite_store, [3])
    time.sleep(1.1)
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(app, ["lake", "sync", "--to", str(tmp_path / "l"), "--settle-seconds", "0", "--json",
                                 "--database-url", url])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip().splitlines()[-1])["rows"] > 0
    r = CliRunner().invoke(app, ["lake", "sync", "--to", str(tmp_path / "l"), "--settle-seconds", "-1",
                                 "--database-url", url])
    assert r.exit_code == 2 and "--settle-seconds" in r.output
    r = CliRunner().invoke(app, ["spark", "daily-aqi", "--lake", str(tmp_path / "nolake"), "--from", "2019-03-01",
                                 "--to", "2019-03-02"])
    assert r.exit_code == 2 and "no lake there" in r.output
    r = CliRunner().invoke(app, ["spark", "daily-aqi", "--lake", str(tmp_path / "l"), "--from", "2019-03-09",
                                 "--to", "2019-03-01"])
    assert r.exit_code == 2 and "after" in r.output


@pytest.mark.slow
def test_spark_daily_aqi_equals_the_embedded_path_on_a_year_of_real_data(sqlite_store, tmp_path):
    pytest.importorskip("pyspark")
    load_months(sqlite_store, range(1, 13))
    lake = tmp_path / "lake"
    time.sleep(1.1)
    sync(sqlite_store, lake, settle_seconds=0)
    from ecohub.lake.spark_jobs import daily_aqi, session

    spark = session("local[2]")
    try:
        got = {(r["site"], r["date"]): r.asDict() for r in daily_aqi(spark, lake, date(2019, 1, 1),
                                                                     date(2019, 12, 31)).collect()}
    finally:
        spark.stop()
    want = {}
    d = date(2019, 1, 1)
    while d <= date(2019, 12, 31):
        e = min(d + timedelta(days=90), date(2019, 12, 31))
        for r in aqi_service.daily(sqlite_store, d, e):
            want[(r["site"], r["date"])] = r
        d = e + timedelta(days=1)
    assert len(got) == len(want) == 12 * 365
    with_aqi = [k for k, r in want.items() if r["aqi"] is not None]
    assert len(with_aqi) > 0.9 * len(want)
    diff = [k for k in want if (got[k]["aqi"], got[k]["level"], got[k]["primary_pollutant"])
            != (want[k]["aqi"], want[k]["level"], want[k]["primary_pollutant"])]
    assert diff == []
    for k in want:  # the daily concentrations too (same rounding as published)
        for p in ("so2", "no2", "co", "pm10", "pm25", "o3_8h"):
            a, b = got[k][p], want[k]["concentrations"][p]
            assert (a is None) == (b is None), (k, p, a, b)
            if a is not None:
                assert np.isclose(np.round(a, 1), b, atol=0.51), (k, p, a, b)


def test_daily_definition_on_a_hand_made_day():
    from ecohub.lake.daily import station_daily

    d = date(2025, 3, 3)  # HJ 633-2012 in force (2026 changed the PM2.5 breakpoints)
    t0 = int(datetime(2025, 3, 3, tzinfo=BEIJING).astimezone(UTC).timestamp())
    hours = np.arange(24)
    times = np.concatenate([t0 + 3600 * hours] * 2)
    params = np.array(["pm25"] * 24 + ["so2"] * 24)
    pm = np.full(24, 75.0)
    pm[:4] = np.nan  # 20 valid hours: still a valid daily mean
    so2 = np.full(24, 10.0)
    so2[:5] = np.nan  # 19 valid hours: no daily SO2
    out = station_daily("X", times, params, np.concatenate([pm, so2]), d, d)
    assert out["pm25"] == [75.0] and out["so2"] == [None]
    assert out["aqi"] == [100] and out["level"] == [2]  # PM2.5 75 µg/m³: IAQI 100 (HJ 633-2012 Table 1)
    later = station_daily("X", times + 3600 * 24 * 364, params, np.concatenate([pm, so2]), date(2026, 3, 2),
                          date(2026, 3, 2))
    assert later["aqi"] == [114]  # HJ 633-2026 (from 2026-03-01): PM2.5 75 µg/m³ is above its IAQI-100 point
