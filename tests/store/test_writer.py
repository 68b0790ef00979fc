"""The one writer: idempotent, conflicts recorded and never overwritten, latest maintained — on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from ecohub.store import registry as R
from ecohub.store.schema import latest, observation, observation_conflict
from ecohub.store.writer import ObservationWriter

T0 = int(datetime(2019, 1, 31, 20, tzinfo=UTC).timestamp())  # crosses a month boundary in the hours below


def _series(store, code="S1", param="pm25", interval="hour"):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput(code, "air_station", "站点" + code, 114.5, 38.0, "130100"))
        site_id = R.site_index(c)[code][0]
        return R.SeriesResolver().get(c, site_id, R.parameter_index(c)[param], interval)


def _count(store, table):
    with store.engine.connect() as c:
        return c.scalar(select(func.count()).select_from(table))


def test_new_rows_then_same_rows_again_are_duplicates(store):
    sid = _series(store)
    w = ObservationWriter(store, "import", "t")
    for i in range(48):
        w.add(sid, T0 + 3600 * i, float(i), "N")
    assert w.flush().as_dict() == {"imported": 48, "duplicates": 0, "conflicts": 0}
    for i in range(48):
        w.add(sid, T0 + 3600 * i, float(i), "N")
    assert w.flush().as_dict() == {"imported": 0, "duplicates": 48, "conflicts": 0}
    assert _count(store, observation) == 48
    assert _count(store, observation_conflict) == 0


def test_different_value_is_a_conflict_and_stored_row_stays(store):
    sid = _series(store)
    w = ObservationWriter(store, "import", "first.csv")
    w.add(sid, T0, 10.0, "N")
    w.add(sid, T0 + 3600, 11.0, "N")
    w.flush()
    w2 = ObservationWriter(store, "import", "second.csv")
    w2.add(sid, T0, 99.0, "N")  # value differs
    w2.add(sid, T0 + 3600, 11.0, "D")  # flag differs
    w2.add(sid, T0 + 7200, 12.0, "N")  # new
    assert w2.flush().as_dict() == {"imported": 1, "duplicates": 0, "conflicts": 2}
    with store.engine.connect() as c:
        stored = dict(c.execute(select(observation.c.time, observation.c.value)).all())
        conflicts = c.execute(select(observation_conflict.c.stored_value, observation_conflict.c.new_value,
                                     observation_conflict.c.stored_flag, observation_conflict.c.new_flag,
                                     observation_conflict.c.origin).order_by(observation_conflict.c.time)).all()
    assert sorted(stored.values()) == [10.0, 11.0, 12.0]
    assert conflicts[0][:2] == (10.0, 99.0) and conflicts[0][4] == "second.csv"
    assert conflicts[1][2:4] == ("N", "D")


def test_same_key_twice_within_one_batch(store):
    sid = _series(store)
    w = ObservationWriter(store, "import", "t")
    w.add(sid, T0, 1.0, None)
    w.add(sid, T0, 1.0, None)  # exact repeat: duplicate
    w.add(sid, T0, 2.0, None)  # same key, other value: conflict; first one wins
    assert w.flush().as_dict() == {"imported": 1, "duplicates": 1, "conflicts": 1}
    with store.engine.connect() as c:
        assert c.scalar(select(observation.c.value)) == 1.0
        assert c.scalar(select(latest.c.value)) == 1.0


def test_sources_are_separate_keys(store):
    sid = _series(store)
    for src, v in (("import", 1.0), ("hj212", 2.0)):
        w = ObservationWriter(store, src, "t")
        w.add(sid, T0, v, None)
        assert w.flush().imported == 1
    assert _count(store, observation) == 2


def test_latest_keeps_newest_and_ignores_older_batches(store):
    a, b = _series(store, "S1"), _series(store, "S2")
    w = ObservationWriter(store, "import", "t")
    for i in range(5):
        w.add(a, T0 + 3600 * i, float(i))
        w.add(b, T0 + 3600 * i, float(10 * i))
    w.flush()
    w.add(a, T0 - 3600, -1.0)  # older than what latest holds
    w.flush()
    with store.engine.connect() as c:
        rows = dict(c.execute(select(latest.c.series_id, latest.c.value)).all())
        t = c.scalar(select(latest.c.time).where(latest.c.series_id == a))
    assert rows == {a: 4.0, b: 40.0}
    assert t == datetime.fromtimestamp(T0 + 4 * 3600, UTC)


def test_auto_flush_by_batch_size_and_totals(store):
    sid = _series(store)
    w = ObservationWriter(store, "import", "t", batch_size=7)
    for i in range(30):
        w.add(sid, T0 + 60 * i, float(i))
    assert w.pending() == 30 % 7
    w.flush()
    assert w.totals.imported == 30
    assert _count(store, observation) == 30


def test_null_value_with_flag_is_kept(store):
    sid = _series(store)
    w = ObservationWriter(store, "import", "t")
    w.add(sid, T0, None, "D")
    assert w.flush().imported == 1
    w.add(sid, T0, None, "D")
    assert w.flush().duplicates == 1


def test_mixed_batch_on_every_path_gives_the_same_counts(store):
    """A batch of new, repeated and changed rows: counted alike whether the writer goes straight to the staged
    path (it wrote those keys itself) or first tries the fast path (a new writer that knows nothing)."""
    a, b = _series(store, "S1"), _series(store, "S2")
    first = ObservationWriter(store, "hj212", "t")
    for i in range(10):
        first.add(a, T0 + 3600 * i, float(i), "N")
    first.flush()

    def again(w):
        for i in range(5, 15):  # 5..9 stored (7 changed), 10..14 new
            w.add(a, T0 + 3600 * i, 70.0 if i == 7 else float(i), "N")
        w.add(b, T0, 1.0, "N")  # another series, new
        return w.flush().as_dict()

    assert again(first) == {"imported": 6, "duplicates": 4, "conflicts": 1}  # knows the keys: staged first
    fresh = ObservationWriter(store, "hj212", "t")  # knows nothing: fast path, falls back on stored keys
    assert again(fresh) == {"imported": 0, "duplicates": 10, "conflicts": 1}
    assert _count(store, observation) == 16
    assert _count(store, observation_conflict) == 2
    with store.engine.connect() as c:
        rows = dict(c.execute(select(latest.c.series_id, latest.c.value)).all())
    assert rows == {a: 14.0, b: 1.0}
