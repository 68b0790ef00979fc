"""The maintained daily rollup of every series (``series_daily``, both backends): ``aggregate(window="day")``
answers the same rows from it as the raw rollup of the observations — every range (whole days, partial edge
days, open ends), limit, filter and scope; late (back-filled) rows and rows of a transaction that committed
after the pass are rolled up until the next pass takes them; the worker's pass builds and keeps it; retention's
deletions are reflected in the same transaction; maintenance runs beside ingest."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from ecohub.alerts.worker import WorkerSettings, run_once
from ecohub.domain.timeutil import BEIJING
from ecohub.store import queries as Q
from ecohub.store import registry as R
from ecohub.store import series_daily as D
from ecohub.store import writer as W
from ecohub.store.retention import run_retention
from ecohub.store.schema import observation
from ecohub.store.schema_analytics import series_daily as table
from ecohub.store.writer import ObservationWriter

DAY0 = int(datetime(2026, 10, 31, 16, tzinfo=UTC).timestamp())  # 2026-11-01 00:00 Beijing
DAYS = 6
H = 3600
SCOPES = (Q.SYSTEM, Q.PUBLIC, Q.Scope("officer", region_code="130200"))


def at(hours: float) -> datetime:
    return datetime.fromtimestamp(DAY0 + int(hours * H), UTC)


@pytest.fixture
def province(store):
    """Air stations in two cities (one closed to the public) with hourly PM2.5, SO2 and CO of demo-like
    values (1–3 decimals; some full-precision floats so the order of a sum shows), gaps and null values, a day
    whose values are all null, a second source for some hours, a minute series and a water section."""
    rng = np.random.default_rng(12)
    with store.engine.begin() as c:
        for code, region, attrs in (("A1", "130100", None), ("A2", "130100", {"open": False}),
                                    ("B1", "130200", None)):
            R.upsert_site(c, R.SiteInput(code, "air_station", code, 114.5, 38.0, region, None, attrs))
        R.upsert_site(c, R.SiteInput("W1", "water_section", "W1", 115.0, 38.5, "130200"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {(s, p, i): res.get(c, idx[s][0], par[p], i) for s in ("A1", "A2", "B1") for p in ("pm25", "so2", "co")
               for i in ("hour",)}
        ids[("A1", "pm25", "minute")] = res.get(c, idx["A1"][0], par["pm25"], "minute")
        ids[("W1", "ph", "hour")] = res.get(c, idx["W1"][0], par["ph"], "hour")
    w, w2 = ObservationWriter(store, "import", "t"), ObservationWriter(store, "hj212", "t2")
    for k, ((s, p, i), sid) in enumerate(sorted(ids.items())):
        if i == "minute":
            for m in range(0, DAYS * 24 * 60, 7):
                w.add(sid, DAY0 + 60 * m, round(float(rng.normal(40, 12)), 1))
            continue
        for h in range(DAYS * 24):
            if (h + k) % 11 == 0:
                continue  # gaps
            v: float | None = float(rng.gamma(3.0, 17.0))
            v = v if k % 4 == 0 else round(v, 1 + k % 3)
            if (h * 7 + k) % 13 == 0 or (s == "B1" and p == "co" and 48 <= h < 72):
                v = None  # null values; B1's CO of day 3 all null
            w.add(sid, DAY0 + h * H, v)
            if h % 5 == 0 and s == "A1":
                w2.add(sid, DAY0 + h * H, None if v is None else v + 0.3)
    w.flush()
    w2.flush()
    return store, ids


def settled(store):
    """Past the second of the writes (SQLite keeps whole seconds)."""
    time.sleep(1.05)
    return store


def raw(monkeypatch, *args, **kw) -> list[dict]:
    with monkeypatch.context() as m:
        m.setattr(D, "reader", lambda *a, **k: None)
        return Q.aggregate(*args, **kw)


def same(got: list[dict], want: list[dict], exact: bool) -> None:
    """Identical rows, or with ``exact`` false identical but for a mean's last bits: a raw rollup's mean depends
    on the order its plan feeds the values to the sum — PostgreSQL's sort is not stable, and SQLite's rollup of
    the whole table (no range, no limit) reads in receipt order (the received_at index); the table sums in key
    order (time, source), as SQLite's rollup through the series key (the API's path) does."""
    if exact:
        assert got == want
        return
    assert [{**r, "mean": None} for r in got] == [{**r, "mean": None} for r in want]
    for a, b in zip(got, want, strict=True):
        assert (a["mean"] is None) == (b["mean"] is None)
        assert a["mean"] is None or a["mean"] == pytest.approx(b["mean"], rel=1e-14, abs=0)


RANGES = [
    (at(0), at(24 * DAYS)),  # every whole day
    (at(5), at(24 * 4 + 3)),  # partial first and last day
    (at(24), at(48)),  # one whole day
    (at(30), at(40)),  # inside one day
    (None, at(24 * 3 + 12)),
    (at(24 * 2 - 1), None),
    (None, None),
]


def check_all(store, monkeypatch) -> int:
    """Every range × scope × filter × limit: the answer equals the raw rollup's."""
    n = 0
    exact = not store.is_postgres
    flts = [Q.SeriesFilter(), Q.SeriesFilter(sites=["A1"]), Q.SeriesFilter(parameters=["co"], interval="hour")]
    for start, end in RANGES:
        for scope in SCOPES:
            for flt in flts:
                want = raw(monkeypatch, store, flt, "day", start, end, scope=scope, limit=10**6)  # through the key
                same(raw(monkeypatch, store, flt, "day", start, end, scope=scope), want, False)
                same(Q.aggregate(store, flt, "day", start, end, scope=scope), want, exact)
                for limit in (1, 7, len(want) - 1):
                    if limit >= 1:
                        got = Q.aggregate(store, flt, "day", start, end, scope=scope, limit=limit)
                        same(got, want[:limit], exact)
                n += len(want)
    return n


def tamper(store, sid: int, day: date) -> None:
    """Mark one stored day (so a reader that uses the table shows it)."""
    with store.engine.begin() as c:
        assert c.execute(update(table).where(table.c.series_id == sid, table.c.day == day).values(n=999)).rowcount


def test_table_answers_what_the_rollup_gives(province, monkeypatch):
    store, ids = province
    assert check_all(store, monkeypatch) > 0  # never built: the raw rollup
    res = D.maintain(settled(store), overlap=0)
    assert res["pairs"] is None and res["rows"] == len(ids) * DAYS
    assert check_all(store, monkeypatch) > 0  # now the whole days from the table
    with store.engine.connect() as c:
        stored = {(r.series_id, r.day): r for r in c.execute(select(table))}
        obs = c.execute(select(observation.c.series_id, observation.c.time, observation.c.value)
                        .order_by(observation.c.series_id, observation.c.time, observation.c.source_id)).all()
    co = stored[(ids[("B1", "co", "hour")], date(2026, 11, 3))]
    assert co.n == 0 and co.total is None and co.vmin is None  # a day of null values: a row of count 0
    if store.is_postgres:  # summed in key order, left to right, as SQLite reads them
        folds: dict = {}
        for sid, t, v in obs:
            if v is not None:
                key = (sid, t.astimezone(BEIJING).date())
                folds[key] = v if key not in folds else folds[key] + v
        assert all(stored[k].total == folds[k] for k in folds)
    # the table is really read: a marked day shows (whole days only, not a partial one)
    sid = ids[("A1", "so2", "hour")]
    tamper(store, sid, date(2026, 11, 2))
    flt = Q.SeriesFilter(sites=["A1"], parameters=["so2"])
    counts = {r["window"][:10]: r["count"] for r in Q.aggregate(store, flt, "day", at(0), at(72))}
    assert counts["2026-11-02"] == 999 and counts["2026-11-01"] < 30
    counts = {r["window"][:10]: r["count"] for r in Q.aggregate(store, flt, "day", at(25), at(48))}
    assert counts["2026-11-02"] < 30  # the day is not whole in [01:00, 24:00): rolled up
    month = Q.aggregate(store, flt, "month")  # month and year windows are not read from the table
    assert month == raw(monkeypatch, store, flt, "month")


def test_late_rows_are_rolled_up_until_the_next_pass(province, monkeypatch):
    store, ids = province
    D.maintain(settled(store), overlap=0)
    sid = ids[("B1", "pm25", "hour")]
    w = ObservationWriter(store, "mqtt", "late")  # back-filled: day 2's missing hours, another source
    for h in range(24, 48):
        w.add(sid, DAY0 + h * H + 1800, 900.123 + h)
    w.flush()
    with store.engine.connect() as c:
        assert D.reader(c, None, None).live == {sid: date(2026, 11, 2)}
    assert check_all(store, monkeypatch) > 0  # day 2 on of B1 rolled up, the rest read
    marked = ids[("A1", "co", "hour")]
    tamper(store, marked, date(2026, 11, 2))
    res = D.maintain(settled(store), overlap=0)
    assert res["pairs"] == 1 and res["rows"] == 1  # only the touched (series, day) recomputed
    flt = Q.SeriesFilter(sites=["B1"], parameters=["pm25"])
    day2 = Q.aggregate(store, flt, "day", at(0), at(72))[1]
    assert day2["window"] == "2026-11-02T00:00:00+08:00" and day2["max"] == 900.123 + 47
    counts = {r["window"][:10]: r["count"] for r in Q.aggregate(store, Q.SeriesFilter(sites=["A1"],
                                                                                      parameters=["co"]), "day")}
    assert counts["2026-11-02"] == 999  # untouched by the pass: still the (marked) stored row
    assert D.refresh(store, [(marked, date(2026, 11, 2))]) == 1
    assert check_all(store, monkeypatch) > 0


def test_a_row_committed_after_the_pass_inside_its_overlap_is_rolled_up(province, monkeypatch):
    store, ids = province
    settled(store)
    now = datetime.now(UTC).replace(microsecond=0)
    D.maintain(store, now=now + timedelta(seconds=400))  # the 300 s overlap window ends before the data
    with store.engine.connect() as c:
        reader = D.reader(c, at(0), at(72))
    assert reader is not None and reader.live == {}
    sid = ids[("A2", "so2", "hour")]
    monkeypatch.setattr(W, "_now", lambda: float(now.timestamp() + 200))  # received before the watermark
    w = ObservationWriter(store, "mqtt", "slow transaction")
    w.add(sid, DAY0 + 30 * H + 60, 5000.0)
    w.flush()
    with store.engine.connect() as c:
        assert D.reader(c, at(0), at(72)).live == {sid: date(2026, 11, 2)}
    assert check_all(store, monkeypatch) > 0
    flt = Q.SeriesFilter(sites=["A2"], parameters=["so2"])
    assert Q.aggregate(store, flt, "day", at(0), at(72))[1]["max"] == 5000.0


def test_the_worker_pass_builds_and_keeps_the_table(province, monkeypatch):
    store, ids = province
    settled(store)
    now = datetime.now(UTC).replace(microsecond=0)
    first = run_once(store, WorkerSettings(deliver=False), now=now)["series_daily"]
    assert first["since"] is None and first["rows"] == len(ids) * DAYS
    sid = ids[("A1", "pm25", "hour")]
    w = ObservationWriter(store, "mqtt", "late")
    w.add(sid, DAY0 + 5 * H + 1, 1234.5)
    w.flush()
    again = run_once(store, WorkerSettings(deliver=False), now=now + timedelta(seconds=60))["series_daily"]
    assert again["pairs"] == len(ids) * DAYS  # the 300 s overlap re-takes the fixture's rows: the same values
    run_once(store, WorkerSettings(deliver=False), now=now + timedelta(seconds=1000))
    later = now + timedelta(seconds=2000)  # a pass whose overlap window lies after every receipt
    assert run_once(store, WorkerSettings(deliver=False), now=later)["series_daily"]["pairs"] == 0
    tamper(store, sid, date(2026, 11, 1))
    flt = Q.SeriesFilter(sites=["A1"], parameters=["pm25"], interval="hour")
    assert Q.aggregate(store, flt, "day")[0]["count"] == 999  # read from the table
    assert D.refresh(store, [(sid, date(2026, 11, 1))]) == 1  # recomputed: the rollup's answers again
    assert Q.aggregate(store, flt, "day")[0]["max"] == 1234.5
    assert check_all(store, monkeypatch) > 0
    assert "series_daily" not in run_once(store, WorkerSettings(deliver=False, series_daily=False), now=later)


def test_retention_recomputes_the_days_it_thins(province, monkeypatch):
    store, ids = province
    D.maintain(settled(store), overlap=0)
    minute = ids[("A1", "pm25", "minute")]
    before = Q.aggregate(store, Q.SeriesFilter(sites=["A1"], parameters=["pm25"], interval="minute"), "day")
    assert len(before) == DAYS
    res = run_retention(store, cutoff=at(24 * 2 + 12), synced_until=datetime.now(UTC) + timedelta(days=1))
    assert res.rows > 0
    after = Q.aggregate(store, Q.SeriesFilter(sites=["A1"], parameters=["pm25"], interval="minute"), "day")
    assert [r["window"][:10] for r in after] == ["2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]
    assert after[0]["count"] < before[2]["count"] and after[1:] == before[3:]
    with store.engine.connect() as c:
        days = [r.day for r in c.execute(select(table).where(table.c.series_id == minute).order_by(table.c.day))]
    assert days == [date(2026, 11, d) for d in range(3, 7)]
    assert check_all(store, monkeypatch) > 0


def test_maintenance_beside_ingest(province, monkeypatch):
    """The worker's passes while a writer commits batch after batch (new hours and back-filled ones): no
    "database is locked", no duplicate key; after the last pass the table answers what the rollup gives."""
    store, ids = province
    sids = sorted(ids.values())
    stop = threading.Event()
    errors: list[BaseException] = []

    def ingest():
        try:
            w = ObservationWriter(store, "mqtt", "stream")
            k = 0
            while not stop.is_set() and k < 400:
                for sid in sids[k % 3::3]:
                    w.add(sid, DAY0 + (k % (DAYS * 24)) * H + 900, float(k) + 0.25)
                w.flush()
                k += 1
        except BaseException as e:  # noqa: BLE001 — reported below
            errors.append(e)

    t = threading.Thread(target=ingest)
    t.start()
    try:
        for _ in range(4):
            D.maintain(store, overlap=0)
    finally:
        stop.set()
        t.join()
    assert errors == []
    D.maintain(store, overlap=3600)  # what committed after a pass's read with an earlier receipt: the overlap
    D.maintain(settled(store), overlap=0)  # then a pass that leaves the reader nothing live
    assert check_all(store, monkeypatch) > 0
