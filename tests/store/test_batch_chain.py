"""The raw-observation batch chain: every batch the writer commits is recorded (count, SM3, link); verify
finds a changed value, a deleted row, a deleted batch record and rows written around the writer — both
backends, on every path of the writer (fast insert, duplicates, conflicts, repeats within a batch)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from typer.testing import CliRunner

from ecohub.store import batch_chain
from ecohub.store import registry as R
from ecohub.store.schema_crypto import obs_batch
from ecohub.store.writer import ObservationWriter

T0 = int(datetime(2026, 11, 30, 20, tzinfo=UTC).timestamp())


def _series(store, code="S1", param="pm25"):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput(code, "air_station", "站点" + code, 114.5, 38.0, "130100"))
        return R.SeriesResolver().get(c, R.site_index(c)[code][0], R.parameter_index(c)[param], "hour")


def tamper(store, sql: str, **params) -> None:
    with store.engine.begin() as c:
        if store.is_postgres:
            c.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for t in ("observation_no_delete", "observation_immutable"):
                c.execute(text(f"DROP TRIGGER IF EXISTS {t}"))
        c.execute(text(sql), params)


def batches(store) -> list[dict]:
    with store.engine.connect() as c:
        return [dict(r) for r in c.execute(select(obs_batch).order_by(obs_batch.c.source_id, obs_batch.c.seq)).mappings()]


def _write_mixed(store):
    s1, s2 = _series(store, "S1"), _series(store, "S2")
    w = ObservationWriter(store, "import", "t")
    for i in range(30):  # fast path
        w.add(s1, T0 + 3600 * i, float(i), "N")
        w.add(s2, T0 + 3600 * i, None if i % 7 == 0 else i / 3, None if i % 5 == 0 else "N")
    assert w.flush().imported == 60
    for i in range(25, 40):  # 5 duplicates, 10 new: the staged path
        w.add(s1, T0 + 3600 * i, float(i), "N")
    w.add(s1, T0, 999.0, "N")  # a conflict
    w.add(s2, T0 + 3600 * 100, 1.0, "N")
    w.add(s2, T0 + 3600 * 100, 2.0, "N")  # repeated key within the batch
    c = w.flush()
    assert (c.imported, c.conflicts) == (11, 2)  # the stored row and the repeat within the batch
    for i in range(3):
        w.add(s1, T0 + 3600 * (50 + i), 1.0, "N")
    w.flush()  # the same second (usually): takes the next second
    w2 = ObservationWriter(store, "hj212", "t")
    w2.add(s1, T0, 5.0, "N")
    w2.flush()
    return s1, s2


def test_every_batch_recorded_and_verified(store):
    _write_mixed(store)
    b = batches(store)
    assert [x["count"] for x in b] == [60, 11, 3, 1]
    assert [x["seq"] for x in b] == [1, 2, 3, 1]  # per source
    assert len({(x["source_id"], x["received_at"]) for x in b}) == 4
    rep = batch_chain.verify_store(store)
    assert rep.ok, rep.as_dict()
    assert rep.batches == 4 and rep.rows == 75


def test_changed_value_is_located(store):
    s1, _ = _write_mixed(store)
    b = batches(store)
    tamper(store, "UPDATE observation SET value = 12.5 WHERE series_id = :s AND value = 31", s=s1)
    rep = batch_chain.verify_store(store)
    assert not rep.ok and rep.broken["seq"] == 2 and rep.broken["source"] == "import"
    assert rep.broken["received_at"] == b[1]["received_at"] and "changed" in rep.broken["reason"]


def test_deleted_row_is_located(store):
    s1, _ = _write_mixed(store)
    tamper(store, "DELETE FROM observation WHERE series_id = :s AND value = 3", s=s1)
    rep = batch_chain.verify_store(store)
    assert not rep.ok and rep.broken["seq"] == 1 and "60 rows were written, 59" in rep.broken["reason"]


def test_deleted_batch_and_its_record(store):
    _write_mixed(store)
    b = batches(store)[1]  # the middle one of source "import": seq 3 then follows seq 1
    tamper(store, "DELETE FROM obs_batch WHERE id = :i", i=b["id"])
    rep = batch_chain.verify_store(store)
    assert not rep.ok and any("missing" in p["reason"] for p in rep.problems)
    assert any("no batch record" in p["reason"] for p in rep.problems)


def test_since_limits_the_check(store):
    _write_mixed(store)
    last = batches(store)[2]["received_at"]
    rep = batch_chain.verify_store(store, since=last)
    assert rep.ok and rep.batches >= 1 and rep.rows < 75


def test_chain_off_writes_no_record(store):
    s1 = _series(store)
    w = ObservationWriter(store, "import", "t", chain=False)
    w.add(s1, T0, 1.0, "N")
    w.flush()
    assert batches(store) == []


def test_cli_data_verify(tmp_path, monkeypatch, sqlite_template):
    from ecohub.cli.main import app
    from ecohub.store.db import Store

    db = tmp_path / "ecohub.db"
    db.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("ECOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECOHUB_DATABASE_URL", raising=False)
    store = Store.open(f"sqlite:///{db}")
    s1, _ = _write_mixed(store)
    r = CliRunner().invoke(app, ["data", "verify"])
    assert r.exit_code == 0 and "intact" in r.output
    tamper(store, "DELETE FROM observation WHERE series_id = :s AND value = 3", s=s1)
    r = CliRunner().invoke(app, ["data", "verify"])
    assert r.exit_code == 1 and "batch seq 1" in r.output
    r = CliRunner().invoke(app, ["data", "verify", "--since", "2999-01-01"])
    assert r.exit_code == 0
    r = CliRunner().invoke(app, ["data", "verify", "--since", "yesterday"])
    assert r.exit_code == 2 and "--since" in r.output
