"""The demo province: registers load, replay writes real values time-shifted (time of day kept), status page."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from importlib import resources

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ecohub.api.app import create_app
from ecohub.demo.province import is_loaded, load_registers
from ecohub.demo.replay import HOUR, Replayer
from ecohub.store.queries import SeriesFilter, latest_values, observations
from ecohub.store.schema import device, enterprise, site

NOW = datetime(2026, 11, 22, 21, 30, tzinfo=UTC)


@pytest.fixture
def demo_store(sqlite_store):
    load_registers(sqlite_store)
    return sqlite_store


def test_registers(demo_store):
    assert is_loaded(demo_store)
    with demo_store.engine.connect() as c:
        kinds = dict(c.execute(select(site.c.kind, func.count()).group_by(site.c.kind)).all())
        assert c.scalar(select(func.count()).select_from(enterprise)) == 8
        assert c.scalar(select(func.count()).select_from(device)) == 12
    assert kinds["air_station"] == 53 and kinds["water_section"] == 33
    load_registers(demo_store)  # idempotent
    with demo_store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(site)) == sum(kinds.values())


def test_replay_writes_real_values_shifted(demo_store):
    r = Replayer(demo_store)
    counts = r.backfill(2, now=NOW)
    assert counts.imported > 53 * 6 * 40  # most stations have all six pollutants most hours
    again = r.backfill(2, now=NOW)
    assert again.imported == 0 and again.duplicates == counts.imported
    last_h = int(NOW.timestamp()) // HOUR - 1
    rows = list(observations(demo_store, SeriesFilter(sites=["1029A"], parameters=["pm25"])))
    assert rows[-1]["time"] == datetime.fromtimestamp(last_h * HOUR, UTC)
    # the value written for a demo hour is the published value of the mapped source hour
    with resources.files("ecohub.data.demo").joinpath("air_hourly.csv.gz").open("rb") as f:
        src = pl.read_csv(gzip.decompress(f.read()), schema_overrides={"value": pl.Float64})
    src = src.filter((pl.col("site") == "1029A") & (pl.col("parameter") == "pm25")).with_columns(
        (pl.col("time").str.to_datetime("%Y-%m-%dT%H:%M:%S%z").dt.epoch("s") // HOUR).alias("h"))
    by_h = dict(zip(src["h"].to_list(), src["value"].to_list(), strict=True))
    run = r.runs["1029A"]
    for row in rows:
        h = int(row["time"].timestamp()) // HOUR
        sh = run.start_h + (h - run.start_h) % run.period_h
        assert (sh - h) % 24 == 0  # time of day kept
        assert row["value"] == by_h[sh]


def test_water_snapshot_and_status_page(demo_store):
    r = Replayer(demo_store)
    r.backfill(1, now=NOW)
    water = latest_values(demo_store, SeriesFilter(kinds=["water_section"], parameters=["ph"]))
    assert len(water) >= 30 and all(6 <= w["value"] <= 9.5 for w in water)
    client = TestClient(create_app(demo_store))
    page = client.get("/status")
    assert page.status_code == 200 and "职工医院" in page.text and "ecohub" in page.text
    status = client.get("/api/v1/status").json()
    assert status["counts"]["site"] >= 98 and status["backend"] == "sqlite"
    assert client.get("/api/v1/latest", params={"site": "1029A", "parameter": "pm25"}).json()[0]["site"] == "1029A"
    assert client.get("/openapi.json").status_code == 200
