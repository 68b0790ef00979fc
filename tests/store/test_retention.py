"""Retention of raw minute data (issue 18.4): ``ecohub retention run`` drops only raw minute rows that are old
*and* in the Parquet lake (received by the manifest's watermark); dry-run changes nothing; unsynced, recent and
other-interval rows stay; audited; the append-only trigger is back afterwards; ``data verify`` still passes;
refused when nothing is synced; on PostgreSQL a month whose rows all qualify goes as a whole partition."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from ecohub.domain.errors import InputError
from ecohub.lake.retention import retention
from ecohub.lake.sync import sync
from ecohub.store import registry as R
from ecohub.store import writer as W
from ecohub.store.batch_chain import verify_store
from ecohub.store.schema import observation, series
from ecohub.store.schema_identity import audit_log
from ecohub.store.writer import ObservationWriter

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = int(NOW.timestamp()) - 3600  # received-at of what the lake gets


def at(s: str) -> int:
    return int(datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp())


@pytest.fixture
def data(store, tmp_path, monkeypatch):
    """Minute rows of January and February 2024 and of yesterday, one old hourly row (received T0, synced),
    then minute rows of March 2024 received after the lake's watermark (not synced)."""
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
        site_id, pm25 = R.site_index(c)["1029A"][0], R.parameter_index(c)["pm25"]
        res = R.SeriesResolver()
        m, h = res.get(c, site_id, pm25, "minute"), res.get(c, site_id, pm25, "hour")
    monkeypatch.setattr(W, "_now", lambda: float(T0))
    with ObservationWriter(store, "hj212") as w:
        for i in range(10):
            w.add(m, at("2024-01-10T00:00:00") + 60 * i, 10.0 + i, "N")
        for i in range(5):
            w.add(m, at("2024-02-10T00:00:00") + 60 * i, 20.0 + i, "N")
        w.add(h, at("2024-02-10T01:00:00"), 30.0, "N")
        for i in range(3):
            w.add(m, int((NOW - timedelta(days=1)).timestamp()) + 60 * i, 40.0 + i, "N")
    lake = tmp_path / "lake"
    assert sync(store, lake, settle_seconds=0, now=datetime.fromtimestamp(T0 + 10, UTC)).rows == 19
    monkeypatch.setattr(W, "_now", lambda: float(T0 + 1000))
    with ObservationWriter(store, "hj212") as w:
        for i in range(4):
            w.add(m, at("2024-03-10T00:00:00") + 60 * i, 50.0 + i, "N")
    return store, lake, m, h


def rows(store, *where) -> int:
    with store.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(observation).where(*where)))


def delete_refused(store) -> bool:
    try:
        with store.engine.begin() as c:
            c.execute(observation.delete().where(observation.c.value == 40.0))
    except Exception as e:  # noqa: BLE001 - the trigger's refusal, whatever the driver wraps it in
        return "append-only" in str(e)
    return False


def test_refused_when_nothing_is_synced(store, tmp_path):
    with pytest.raises(InputError, match="nothing is synced"):
        retention(store, tmp_path / "empty", older_than_days=30)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "_ecohub_lake.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="not a lake manifest"):
        retention(store, tmp_path / "broken", older_than_days=30, dry_run=True)


def test_dry_run_counts_and_changes_nothing(data):
    store, lake, m, h = data
    before = rows(store)
    res = retention(store, lake, older_than_days=30, dry_run=True)
    assert (res.rows, res.by_month, res.kept_unsynced, res.batches) == (15, {"2024-01": 10, "2024-02": 5}, 4, 1)
    assert rows(store) == before == 23 and res.partitions_dropped == []
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(audit_log).where(audit_log.c.action == "retention")) == 0


def test_run_drops_only_old_synced_minute_rows_audited_and_verifiable(data):
    store, lake, m, h = data
    res = retention(store, lake, older_than_days=30)
    assert res.rows == 15 and res.kept_unsynced == 4
    assert rows(store) == 8
    assert rows(store, observation.c.series_id == h) == 1  # another interval: kept
    assert rows(store, observation.c.series_id == m, observation.c.time >= NOW - timedelta(days=2)) == 3  # recent
    assert rows(store, observation.c.value >= 50.0) == 4  # old but not in the lake: kept
    assert delete_refused(store)  # the append-only trigger is back
    rep = verify_store(store)
    assert rep.ok, rep.problems
    assert rep.retained_rows == 15
    with store.engine.connect() as c:
        a = c.execute(select(audit_log.c.actor, audit_log.c.detail).where(audit_log.c.action == "retention")).one()
        n_minute = c.scalar(select(func.count()).select_from(series).where(series.c.interval == "minute"))
    detail = a.detail if isinstance(a.detail, dict) else json.loads(a.detail)
    assert detail["rows"] == 15 and detail["by_month"] == {"2024-01": 10, "2024-02": 5} and n_minute == 1
    if store.is_postgres:  # January held only qualifying rows: the whole partition went
        assert res.partitions_dropped == ["observation_p202401"]
        with store.engine.connect() as c:
            left = set(c.execute(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                      "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'observation'"))
                       .scalars())
        assert "observation_p202401" not in left and "observation_p202402" in left
    again = retention(store, lake, older_than_days=30)  # nothing more to drop
    assert again.rows == 0 and rows(store) == 8 and verify_store(store).ok


def test_a_batch_that_does_not_verify_stops_the_run(data):
    store, lake, m, h = data
    with store.engine.begin() as c:
        c.execute(text("UPDATE obs_batch SET rows_sm3 = :x"), {"x": "0" * 64})
    with pytest.raises(InputError, match="does not verify"):
        retention(store, lake, older_than_days=30)
    assert rows(store) == 23 and delete_refused(store)


def test_cli_dry_run_and_refusal(data, tmp_path):
    from ecohub.cli.main import build

    store, lake, m, h = data
    db = store.engine.url.render_as_string(hide_password=False)
    app = build(["ecohub.cli.lake_cmds"])
    r = CliRunner().invoke(app, ["retention", "run", "--lake", str(lake), "--older-than-days", "30", "--dry-run",
                                 "--json", "--database-url", db])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"] == 15 and rows(store) == 23
    r = CliRunner().invoke(app, ["retention", "run", "--lake", str(tmp_path / "none"), "--database-url", db])
    assert r.exit_code == 2 and "nothing is synced" in r.output
