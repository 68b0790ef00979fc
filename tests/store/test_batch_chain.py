"""The raw-observation batch chain: every batch the writer commits is recorded (count, SM3, link); verify
finds a changed value, a deleted row, a deleted batch record and rows written around the writer — both
backends, on every path of the writer (fast insert, duplicates, conflicts, repeats within a batch)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from ecohub.store import batch_chain
from ecohub.store import registry as R
from ecohub.store import writer as writer_module
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
    w.flush()
    w2 = ObservationWriter(store, "hj212", "t")
    w2.add(s1, T0, 5.0, "N")
    w2.flush()
    return s1, s2


class Clock:
    """The writer's received-at clock, set by the test: each flush reads it once."""

    def __init__(self, monkeypatch, start: float, step: float = 1.0):
        self.now, self.step = start, step
        monkeypatch.setattr(writer_module, "_now", self)

    def __call__(self) -> float:
        t, self.now = self.now, self.now + self.step
        return t


@pytest.fixture(autouse=True)
def stepping_clock(monkeypatch):
    """By default a new second per flush: one record per batch (tests of one second set their own clock)."""
    return Clock(monkeypatch, 1_790_000_000)


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


def test_batches_in_one_second_share_its_record_and_never_run_ahead_of_the_clock(store, monkeypatch):
    """Under sustained load a source writes many batches a second: they join that second's record (count and
    SM3 over all its rows), and received_at stays the clock's (an earlier version took the next second per
    batch, and received_at ran ahead of the clock by the batch rate)."""
    clock = Clock(monkeypatch, 1_800_000_000.2, step=0.0)  # the clock stands still: every flush in one second
    s1, s2 = _series(store, "S1"), _series(store, "S2")
    w = ObservationWriter(store, "hj212", "t")
    for k in range(5):  # fast path, all in the same second
        for i in range(10):
            w.add(s1, T0 + 3600 * (10 * k + i), float(i), "N")
        assert w.flush().imported == 10
    w.add(s1, T0, 1.0, "N")  # a duplicate with a new row: the staged path, same second
    w.add(s2, T0, 2.0, "N")
    assert w.flush().imported == 1
    other = ObservationWriter(store, "hj212", "t")  # a second writer of the source, same second
    other.add(s2, T0 + 3600, 3.0, "N")
    other.flush()
    w.add(s2, T0 + 7200, 4.0, "N")  # w's rows of the second are stale now: read back
    w.flush()
    b = batches(store)
    assert [(x["seq"], x["count"], x["received_at"]) for x in b] == [(1, 53, 1_800_000_000)]
    with store.engine.connect() as c:
        got = {int(r[0]) if not hasattr(r[0], "timestamp") else int(r[0].timestamp())
               for r in c.execute(text("SELECT received_at FROM observation"))}
    assert got == {1_800_000_000}  # never ahead of the clock
    assert batch_chain.verify_store(store).ok
    clock.now = 1_799_999_990.0  # a writer whose reading is older than the tail (it waited for the lock)
    w.add(s2, T0 + 3 * 3600, 5.0, "N")
    w.flush()
    clock.now = 1_800_000_001.0  # the next second opens a new record
    w.add(s2, T0 + 4 * 3600, 6.0, "N")
    w.flush()
    b = batches(store)
    assert [(x["seq"], x["count"], x["received_at"]) for x in b] == [(1, 54, 1_800_000_000), (2, 1, 1_800_000_001)]
    assert b[1]["prev_hash"] == b[0]["hash"]
    assert batch_chain.verify_store(store).ok
    tamper(store, "DELETE FROM observation WHERE series_id = :s AND time = :t",
           s=s1, t=T0 + 3600 * 20 if not store.is_postgres else datetime.fromtimestamp(T0 + 3600 * 20, UTC))
    rep = batch_chain.verify_store(store)
    assert not rep.ok and rep.broken["seq"] == 1 and "deleted" in rep.broken["reason"]


def test_a_failed_batch_leaves_no_stale_rows_behind(store, monkeypatch):
    """A batch whose transaction fails is forgotten: the next batch of the second reads what is stored."""
    Clock(monkeypatch, 1_800_000_100.0, step=0.0)
    s1 = _series(store, "S1")
    w = ObservationWriter(store, "hj212", "t")
    w.add(s1, T0, 1.0, "N")
    w.flush()
    chain = w._chain
    assert chain is not None
    real = chain.finish

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(chain, "finish", boom)
    w.add(s1, T0 + 3600, 2.0, "N")
    try:
        w.flush()
    except RuntimeError:
        pass
    monkeypatch.setattr(chain, "finish", real)
    w.add(s1, T0 + 7200, 3.0, "N")
    w.flush()
    assert [x["count"] for x in batches(store)] == [2]
    assert batch_chain.verify_store(store).ok
