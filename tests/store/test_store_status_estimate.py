"""``store_status(estimate=True)``: big PostgreSQL tables get the planner's estimate instead of a full
``count(*)`` (``/api/v1/status``), named in ``estimated``; SQLite and small tables are counted exactly."""

from __future__ import annotations

from datetime import UTC, datetime

from ecohub.store import registry as R
from ecohub.store import writer as W
from ecohub.store.writer import ObservationWriter, store_status

T0 = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())


def test_estimated_counts_only_for_big_postgres_tables(store, monkeypatch):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("S1", "air_station", "站", 114.5, 38.0, "130100"))
        sid = R.SeriesResolver().get(c, R.site_index(c)["S1"][0], R.parameter_index(c)["pm25"], "hour")
    w = ObservationWriter(store, "import", "t")
    for h in range(50):
        w.add(sid, T0 + 3600 * h, float(h))
    w.flush()
    with store.engine.begin() as c:
        c.exec_driver_sql("ANALYZE")
    exact = store_status(store)
    assert exact["observation"] == 50 and exact["latest"] == 1
    est: list[str] = []
    assert store_status(store, estimate=True, estimated=est) == exact and est == []  # below the threshold
    monkeypatch.setattr(W, "ESTIMATE_FROM", 10)
    est = []
    counts = store_status(store, estimate=True, estimated=est)
    if store.is_postgres:
        assert est == ["observation"] and counts["observation"] == 50  # fresh statistics: the estimate is exact
    else:
        assert est == [] and counts == exact
