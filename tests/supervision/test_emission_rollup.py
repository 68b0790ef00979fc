"""The hourly emissions rollup kept by the worker equals the from-scratch computation — after late data, a QC
flag written later, a retransmission and data not yet seen by the worker — on both backends; stopped hours (flag
F) emit zero, from hourly and from minute data."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest
from permit_support import ENT, make_enterprise
from sqlalchemy import delete, func, select

from ecohub.quality import store_io as io
from ecohub.store import registry as R
from ecohub.store.schema_permits import emission_daily, emission_hourly
from ecohub.store.writer import ObservationWriter
from ecohub.supervision.permits import rollup
from ecohub.supervision.permits.emissions import outlet_emissions, outlet_totals
from ecohub.supervision.permits.hourly import hourly_emission

T0 = 1_767_196_800  # 2026-01-01 00:00 +08:00
H = 3600
OUTLETS = (("GAS1", "gas_outlet"), ("WAT1", "water_outlet"))


def test_stopped_hours_emit_zero_and_are_not_substituted():
    grid = np.arange(0, 10 * H, H)
    c = np.full(10, 20.0)
    c[3:6] = np.nan  # three hours without a value …
    stopped = np.zeros(10, bool)
    stopped[3:5] = True  # … two of them the source was stopped (flag F)
    e = hourly_emission(grid, c, np.full(10, 100.0), np.full(10, np.nan), 1e-6, stopped=stopped)
    assert list(e.method[3:6]) == ["stopped", "stopped", "substituted"]
    assert e.kg[3] == 0 and e.kg[4] == 0
    assert e.kg[5] == pytest.approx(0.5 * (0 + 7.2))  # the gap rule sees the stopped hour as a valid zero
    # a stopped flag never overrides a valid value
    e2 = hourly_emission(grid, np.full(10, 20.0), np.full(10, 100.0), np.full(10, np.nan), 1e-6,
                         stopped=np.ones(10, bool))
    assert set(e2.method) == {"cxq"}


def _series(store):
    with store.engine.begin() as c:
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        return {("GAS1", p): res.get(c, idx["GAS1"][0], par[p], "hour") for p in ("so2_gas", "so2_gas_cou",
                                                                                   "nox", "flow_gas")} | {
            ("WAT1", p): res.get(c, idx["WAT1"][0], par[p], "minute") for p in ("cod", "flow_water")}


def _write(store, sid, hours: range, rng, *, source="import", bad=(), stopped=()):
    with ObservationWriter(store, source) as w:
        for h in hours:
            t = T0 + h * H
            f = "F" if h in stopped else "D" if h in bad else "N"
            q = 80 + 10 * rng.random()
            so2 = 25 + 5 * rng.random()
            w.add(sid[("GAS1", "flow_gas")], t, round(q, 2), f)
            w.add(sid[("GAS1", "so2_gas")], t, round(so2, 2), f)
            w.add(sid[("GAS1", "nox")], t, round(40 + 5 * rng.random(), 2), f)
            if h % 5:  # Cou one hour in five missing: C × Q fills in
                w.add(sid[("GAS1", "so2_gas_cou")], t, round(so2 * q * 3.6e-3, 4), f)
            for m in range(60):  # wastewater: minute data, the hour's mean from ≥ 45 valid minutes
                mf = f if (f != "D" or m < 30) else "N"  # a D hour keeps 30 good minutes: too few
                w.add(sid[("WAT1", "flow_water")], t + 60 * m, round(20 + rng.random(), 3), mf)
                w.add(sid[("WAT1", "cod")], t + 60 * m, round(50 + 10 * rng.random(), 2), mf)


ITEMS_OF = (("GAS1", "gas_outlet", "so2_gas"), ("GAS1", "gas_outlet", "nox"), ("WAT1", "water_outlet", "cod"))


def _site(store, code: str) -> int:
    with store.engine.connect() as c:
        return R.site_index(c)[code][0]


def _compare(store, start, end):
    with store.engine.connect() as c:
        idx = R.site_index(c)
        items = [(idx[s][0], s, k, p, 0) for s, k, p in ITEMS_OF]
        scratch = outlet_emissions(c, items, start, end)
    got = outlet_totals(store, items, start, end, by_day=True)
    for key, e in scratch.items():
        want = rollup.totals_of_grid(e, by_day=True)
        have = got[key]
        assert have.hours == want.hours, key
        assert have.missing == want.missing, key
        assert have.kg == pytest.approx(want.kg, rel=1e-9), key
        assert set(have.by_day) == set(want.by_day), key
        for d, v in want.by_day.items():
            assert have.by_day[d] == pytest.approx(v, rel=1e-9, abs=1e-9), (key, d)
    return got


def test_rollup_equals_from_scratch_under_late_data(store):
    make_enterprise(store, code=ENT, outlets=OUTLETS)
    sid = _series(store)
    rng = np.random.default_rng(18)
    # days 0–5 with a 3-h fault, a 30-h hole (long gap), 4 stopped hours; hours 40–70 arrive later
    first = [h for h in range(144) if not 40 <= h < 70]
    _write(store, sid, first, rng, bad={10, 11, 12}, stopped={100, 101, 102, 103})
    res = rollup.maintain(store)
    assert res["outlets"] == 2 and res["rows"] > 0
    end = T0 + 144 * H
    got = _compare(store, T0, end)
    with store.engine.connect() as c:
        so2 = next(v for k, v in got.items() if k[1] == "so2_gas")
    assert so2.hours["stopped"] == 4 and so2.hours["substituted"] == 3 + 30
    # late data for part of the hole; QC (which re-evaluates a series from its earliest new value on) flags a
    # later hour of the same series in the same pass: both are taken
    time.sleep(1.1)  # receipt times are whole seconds: the late data is received after the pass's second
    _write(store, sid, range(40, 55), rng)
    with store.engine.begin() as c:
        io.upsert_flags(c, [(sid[("GAS1", "so2_gas")], T0 + 120 * H, 1, "range", 2, "test")],
                        int(datetime.now(UTC).timestamp()))
        ranges = rollup.touched(c, rollup.watermark(store))
    assert ranges[_site(store, "GAS1")] == (T0 + 40 * H, T0 + 121 * H)  # the flag's hour extends the range
    res2 = rollup.maintain(store)
    assert res2["outlets"] == 2
    got2 = _compare(store, T0, end)
    so2b = next(v for k, v in got2.items() if k[1] == "so2_gas")
    assert so2b.hours["substituted"] == 3 + 15 + 1  # the hole shrank; the flagged hour is now a gap
    # a retransmission from another source (the first source's values stay: one value per time, lowest source)
    _write(store, sid, range(130, 134), rng, source="retransmission")
    rollup.maintain(store)
    _compare(store, T0, end)
    # data the worker has not seen yet: a reader brings the rollup up to date first
    _write(store, sid, range(144, 170), rng)
    _compare(store, T0, T0 + 170 * H)
    # a month window inside the data, and the stored rows equal a rebuild from nothing
    _compare(store, T0 + 30 * H, T0 + 100 * H)
    with store.engine.connect() as c:
        kept = sorted(tuple(r) for r in c.execute(select(emission_hourly)))
        kept_days = sorted(tuple(r) for r in c.execute(select(emission_daily)))
    with store.engine.begin() as c:  # the daily rows kept through all the passes = the days of the hourly rows
        assert rollup.rebuild_days(c) == len(kept_days) > 0
        days = sorted(tuple(r) for r in c.execute(select(emission_daily)))
    assert [r[:4] + r[5:] for r in kept_days] == [r[:4] + r[5:] for r in days]
    assert all(a[4] == pytest.approx(b[4], rel=1e-12) for a, b in zip(kept_days, days, strict=True))
    with store.engine.begin() as c:
        c.execute(delete(emission_hourly))
    with store.engine.connect() as c:
        ranges = rollup.touched(c, None)
    rollup.recompute(store, ranges)
    with store.engine.connect() as c:
        rebuilt = sorted(tuple(r) for r in c.execute(select(emission_hourly)))
        n_stopped = c.scalar(select(func.count()).select_from(emission_hourly).where(
            emission_hourly.c.method == "stopped"))
    assert [r[:3] + (r[4],) for r in kept] == [r[:3] + (r[4],) for r in rebuilt]
    assert all(a[3] == pytest.approx(b[3], rel=1e-12) for a, b in zip(kept, rebuilt, strict=True))
    assert n_stopped == 4 * 3  # GAS1 so2, nox (hourly F) and WAT1 cod (minute F) — zero each


def test_concurrent_recomputes_of_the_same_hours(store):
    """The worker and a reader's refresh may recompute the same hours at once: no duplicate-key failure, and the
    rows are those of one recompute."""
    import threading

    make_enterprise(store, code=ENT, outlets=OUTLETS)
    sid = _series(store)
    _write(store, sid, range(0, 48), np.random.default_rng(3), bad={5}, stopped={30})
    with store.engine.connect() as c:
        ranges = rollup.touched(c, None)
    errors: list[BaseException] = []

    def run():
        try:
            for _ in range(3):
                rollup.recompute(store, ranges)
        except BaseException as e:  # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.engine.connect() as c:
        rows = sorted(tuple(r) for r in c.execute(select(emission_hourly)))
    rollup.recompute(store, ranges)
    with store.engine.connect() as c:
        assert sorted(tuple(r) for r in c.execute(select(emission_hourly))) == rows
    assert len(rows) == 3 * 47  # 3 pollutants × 48 h less the faulty hour 5 (the stopped hour 30 is a zero row)


def test_ranges_are_cut_into_pieces():
    step = rollup.SPAN_HOURS * H
    got = rollup.pieces({7: (step - 2 * H, 2 * step + H), 3: (step, step + H)})
    assert got == [(7, (step - 2 * H, step)), (3, (step, step + H)), (7, (step, 2 * step)),
                   (7, (2 * step, 2 * step + H))]


def test_minute_cou_is_not_an_hourly_amount(store):
    """A Cou sent only with minute data is not taken as the hour's amount (the quality layer's hourly value of a
    minute series is the mean of the minute amounts): C × Q fills in, in the rollup and from scratch alike."""
    make_enterprise(store, code=ENT, outlets=(("GAS1", "gas_outlet"),))
    with store.engine.begin() as c:
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        s = {p: res.get(c, idx["GAS1"][0], par[p], "minute") for p in ("so2_gas", "so2_gas_cou", "flow_gas")}
    with ObservationWriter(store, "import") as w:
        for m in range(120):
            t = T0 + 60 * m
            w.add(s["flow_gas"], t, 100.0 + (m % 7) / 10, "N")
            w.add(s["so2_gas"], t, 20.0 + (m % 5) / 10, "N")
            w.add(s["so2_gas_cou"], t, 0.12, "N")  # the minute's amount (kg)
    with store.engine.connect() as c:
        items = [(idx["GAS1"][0], "GAS1", "gas_outlet", "so2_gas", 0)]
        e = outlet_emissions(c, items, T0, T0 + 2 * H)[(idx["GAS1"][0], "so2_gas")]
    assert list(e.method) == ["cxq", "cxq"]
    assert e.kg[0] == pytest.approx(20.2 * 100.3 * 3600e-6, rel=0.01)  # ≈ 7.3 kg, not the minute mean 0.12
    rollup.maintain(store)
    got = outlet_totals(store, items, T0, T0 + 2 * H)[(idx["GAS1"][0], "so2_gas")]
    assert got.hours["cxq"] == 2 and got.kg == pytest.approx(float(np.sum(e.kg)), rel=1e-9)


def test_daily_totals_find_gaps_on_day_boundaries(store):
    """The totals read whole days from emission_daily and the hourly rows only of the days that can bound a gap:
    gaps that are exactly one Beijing day, that start at 00:00, that end at 23:00, that span days, and windows
    starting mid-day — all equal to the hour-by-hour computation."""
    make_enterprise(store, code=ENT, outlets=OUTLETS)
    site_id = _site(store, "GAS1")
    with store.engine.begin() as c:
        pid = R.parameter_index(c)["so2_gas"]
    n = 24 * 12
    kg = 1.0 + (np.arange(n) % 7)
    for a, b in ((72, 96), (144, 150), (210, 216), (230, 262), (100, 101)):  # day 3; 00–05 h; 18–23 h; 32 h; 1 h
        kg[a:b] = np.nan
    with store.engine.begin() as c:
        c.execute(emission_hourly.insert(), [{"site_id": site_id, "parameter_id": pid, "hour": T0 + H * i,
                                              "kg": float(kg[i]), "method": "cou"} for i in range(n)
                                             if np.isfinite(kg[i])])
        rollup.rebuild_days(c)
    for a, b in ((0, n), (5, n - 7), (30, 40), (73, 95), (0, 24 * 9)):
        grid = T0 + H * np.arange(a, b)
        nan = np.full(b - a, np.nan)
        want = rollup.totals_of_grid(hourly_emission(grid, nan, nan, kg[a:b], 1e-6))
        with store.engine.connect() as c:
            have = rollup.totals(c, [(site_id, pid)], T0 + H * a, T0 + H * b)[(site_id, pid)]
        assert have.hours == want.hours, (a, b)
        assert have.missing == want.missing, (a, b)
        assert have.kg == pytest.approx(want.kg, rel=1e-12), (a, b)


def test_ten_minute_only_outlet_counts(store):
    """An outlet that sends only HJ 212 2051 ten-minute data (stored as interval ``minute``): an hour with 5 or 6
    valid ten-minute values is a valid hour (≥ 45 of 60 minutes), so C × Q counts it; 4 values do not."""
    make_enterprise(store, code=ENT, outlets=OUTLETS)
    with store.engine.begin() as c:
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        sid = {p: res.get(c, idx["GAS1"][0], par[p], "minute") for p in ("so2_gas", "flow_gas")}
    rng = np.random.default_rng(51)
    c_m = np.round(25 + 5 * rng.random((48, 6)), 2)
    q_m = np.round(80 + 10 * rng.random((48, 6)), 2)
    with ObservationWriter(store, "import") as w:
        for h in range(48):
            for m in range(6):
                f = "D" if (h == 10 and m < 2) or (h == 20 and m == 0) else "N"  # hour 10: 4 valid; hour 20: 5
                w.add(sid["so2_gas"], T0 + h * H + 600 * m, float(c_m[h, m]), f)
                w.add(sid["flow_gas"], T0 + h * H + 600 * m, float(q_m[h, m]), "N")
    rollup.maintain(store)
    items = [(idx["GAS1"][0], "GAS1", "gas_outlet", "so2_gas", 0)]
    tot = outlet_totals(store, items, T0, T0 + 48 * H)[(idx["GAS1"][0], "so2_gas")]
    assert tot.hours == {"cou": 0, "cxq": 47, "stopped": 0, "substituted": 1} and tot.missing == 0
    ok = np.ones((48, 6), bool)
    ok[10, :2] = ok[20, 0] = False
    kg = np.array([c_m[h][ok[h]].mean() * q_m[h].mean() * 3600e-6 for h in range(48)])
    kg[10] = 0.5 * (kg[9] + kg[11])  # the invalid hour: mean of its neighbours (HJ 75-2017 short gap)
    assert tot.kg == pytest.approx(kg.sum(), rel=1e-9)
