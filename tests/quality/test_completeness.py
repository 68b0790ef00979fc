"""Completeness per series, site and device per day/month, and missing periods (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from ecohub.quality.completeness import completeness, device_completeness, missing_periods, site_summary
from ecohub.quality.qc import run_qc
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter

T0 = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) - 8 * 3600  # 2024-03-01 00:00 Beijing
USCC = "91350100M000100Y43"


def outlet(store):
    with store.engine.begin() as c:
        R.add_enterprise(c, USCC, "示例公司", "130100")
        R.upsert_site(c, R.SiteInput("G1", "gas_outlet", "1#排口", 114.7, 38.1, "130100", USCC))
        R.add_device(c, "MN0001", "123456", "G1")
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        return res.get(c, idx["G1"][0], par["nox"], "hour"), res.get(c, idx["G1"][0], par["o2"], "hour")


def test_rates_and_missing_periods(store):
    nox, o2 = outlet(store)
    with ObservationWriter(store, "import") as w:
        for h in range(48):
            if 5 <= h < 9:  # day 1: 4 hours never arrived
                continue
            w.add(nox, T0 + 3600 * h, 50.0 + h % 3, "D" if h in (12, 13) else "N")  # 2 invalid (fault)
            w.add(o2, T0 + 3600 * h, 9.0 + (h % 4) / 10, "N")
    run_qc(store, None, datetime.now(UTC))
    with store.engine.connect() as c:
        rows = completeness(c, ["G1"], T0, T0 + 2 * 86400)
        by = {(r.parameter, r.period): r for r in rows}
        d1 = by[("nox", "2024-03-01")]
        assert (d1.expected, d1.received, d1.valid) == (24, 20, 18)
        assert round(d1.transmission_rate, 4) == round(20 / 24, 4)
        assert d1.effective_rate == 18 / 20
        assert round(d1.effective_transmission_rate, 4) == 0.75
        assert d1.flags == {"device_flag": 2}
        d2 = by[("nox", "2024-03-02")]
        assert (d2.expected, d2.received, d2.valid) == (24, 24, 24)
        summary = {(s["site"], s["period"]): s for s in site_summary(rows)}
        assert summary[("G1", "2024-03-01")]["expected"] == 48
        assert summary[("G1", "2024-03-01")]["valid"] == 18 + 20
        month = completeness(c, ["G1"], T0, T0 + 2 * 86400, by="month")
        assert {(r.parameter, r.period, r.expected) for r in month} == {("nox", "2024-03", 48), ("o2", "2024-03", 48)}
        dev = device_completeness(c, "MN0001", T0, T0 + 86400)
        assert dev[0]["device"] == "MN0001" and dev[0]["effective_transmission_rate"] == round(38 / 48, 4)
        gaps = missing_periods(c, "G1", T0, T0 + 2 * 86400)
        assert [(g["parameter"], g["start"], g["end"], g["slots"]) for g in gaps] == [
            ("nox", T0 + 5 * 3600, T0 + 9 * 3600, 4), ("o2", T0 + 5 * 3600, T0 + 9 * 3600, 4)]


def test_day_in_progress_expects_only_past_hours(store):
    nox, _ = outlet(store)
    with ObservationWriter(store, "import") as w:
        for h in range(10):
            w.add(nox, T0 + 3600 * h, 50.0, "N")
    with store.engine.connect() as c:
        rows = completeness(c, ["G1"], T0, T0 + 86400, until=T0 + 10 * 3600)
        r = next(x for x in rows if x.parameter == "nox")
        assert (r.expected, r.received, r.transmission_rate) == (10, 10, 1.0)
