"""``latest`` kept by the writer in one upsert per batch (issue 12 item 1: on PostgreSQL its columns go as array
literals): the newest row per series, exactly, whatever the value (None, tiny, huge, negative) or the flag text;
an older row never replaces a newer one. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ecohub.store import registry as R
from ecohub.store.schema import latest
from ecohub.store.writer import ObservationWriter

T = int(datetime(2026, 3, 1, 4, tzinfo=UTC).timestamp())
VALUES = [None, 0.0, -1.5, 1e-300, 1.7976931348623157e308, 0.1 + 0.2, 123456789.123456789, 7]
FLAGS = [None, "N", 'a"b', "c\\d", "NULL", "{x}", "e,f", "ü"]


def _series(store, n):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("LT1", "air_station", "甲", 114.5, 38.0, "130100"))
        site_id = R.site_index(c)["LT1"][0]
        par = R.parameter_index(c)
        names = [p for p in ("pm25", "pm10", "so2", "no2", "co", "o3", "temp", "rh") if p in par][:n]
        res = R.SeriesResolver()
        return [res.get(c, site_id, par[p], "hour") for p in names]


def test_latest_is_the_newest_row_per_series_whatever_its_value_and_flag(store):
    sids = _series(store, len(VALUES))
    w = ObservationWriter(store, "import", "t")
    for i, sid in enumerate(sids):
        w.add(sid, T + 3600, VALUES[i], FLAGS[i])  # the newest …
        w.add(sid, T, 99.0, "N")  # … and an older one in the same batch
    w.flush()
    w.add(sids[0], T - 3600, 5.0, "N")  # an older row in a later batch changes nothing
    w.flush()
    with store.engine.connect() as c:
        rows = {r.series_id: r for r in c.execute(select(latest))}
    for i, sid in enumerate(sids):
        r = rows[sid]
        assert int(r.time.timestamp()) == T + 3600
        assert r.value == (None if VALUES[i] is None else float(VALUES[i]))
        assert r.flag == FLAGS[i]
