"""QC in the store (SQLite and PostgreSQL): flags beside the raw data, idempotent, incremental; validity."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, select

from ecohub.quality.qc import run_qc
from ecohub.quality.valid import daily_means, load_series
from ecohub.store import registry as R
from ecohub.store.schema import observation
from ecohub.store.schema_quality import qc_flag
from ecohub.store.writer import ObservationWriter

T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) - 8 * 3600  # 2024-01-01 00:00 Beijing


def station(store, code="S1", params=("pm25",)):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput(code, "air_station", code, 114.5, 38.0, "130100"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        return [res.get(c, idx[code][0], par[p], "hour") for p in params]


def write(store, sid, values, start=T0, flags=None, source="import"):
    with ObservationWriter(store, source) as w:
        for i, v in enumerate(values):
            w.add(sid, start + 3600 * i, v, flags[i] if flags else None)


def stored_flags(store):
    with store.engine.connect() as c:
        return sorted((r.series_id, int(r.time.timestamp()), r.rule, r.level) for r in c.execute(select(qc_flag)))


def test_flags_stored_raw_unchanged_and_rerun_idempotent(store):
    (sid,) = station(store)
    v = [40.0 + (i % 7) for i in range(48)]
    v[3] = -5.0
    v[10:24] = [88.0] * 14
    fl = [None] * 48
    fl[30] = "D"
    write(store, sid, v, flags=fl)
    now = datetime.now(UTC)
    res = run_qc(store, None, now)
    assert res.series == 1 and res.observations == 48
    assert res.by_rule == {"negative": 1, "flatline": 14, "device_flag": 1}
    first = stored_flags(store)
    assert (sid, T0 + 3 * 3600, "negative", 2) in first
    assert (sid, T0 + 30 * 3600, "device_flag", 2) in first
    # raw data untouched
    with store.engine.connect() as c:
        assert c.scalar(select(observation.c.value).where(observation.c.time == T0 + 3 * 3600)) == -5.0
        assert c.scalar(select(func.count()).select_from(observation)) == 48
    # again: the same flags, no more
    run_qc(store, None, now)
    assert stored_flags(store) == first


def test_incremental_new_data_extends_a_flat_line_and_backfill_breaks_it(store):
    (sid,) = station(store)
    write(store, sid, [40.0 + (i % 5) for i in range(20)] + [66.0] * 10)  # 10 equal: not yet a flat line
    t1 = datetime.now(UTC)
    assert run_qc(store, None, t1).flags == 0
    write(store, sid, [66.0] * 3, start=T0 + 30 * 3600)  # 13 equal now
    t2 = datetime.fromtimestamp(int(t1.timestamp()) + 5, UTC)
    res = run_qc(store, int(t1.timestamp()) - 300, t2)
    assert res.series == 1
    flagged = [t for s, t, r, lv in stored_flags(store) if r == "flatline"]
    assert flagged == [T0 + 3600 * h for h in range(20, 33)]


def test_valid_data_leave_out_invalid_values(store):
    (sid,) = station(store)
    v = [50.0] * 6 + [60.0 + i for i in range(18)]  # day 1: 24 hours
    v[6] = -1.0
    fl = [None] * 24
    fl[7] = "C"
    write(store, sid, v, flags=fl)
    run_qc(store, None, datetime.now(UTC))
    with store.engine.connect() as c:
        sv = load_series(c, {sid: (T0, T0 + 86400)})[sid]
    assert sv.time.size == 24
    assert (~sv.valid).sum() == 2  # negative and calibrating
    d, m, n = daily_means(sv.time, sv.valid_values)
    assert n.tolist() == [22]
    expected = np.mean([x for i, x in enumerate(v) if i not in (6, 7)])
    assert abs(m[0] - expected) < 1e-9
    # with fewer than 20 valid hours the day has no valid mean (GB 3095 Table 4)
    d, m, n = daily_means(sv.time[:19], sv.valid_values[:19])
    assert np.isnan(m[0])
