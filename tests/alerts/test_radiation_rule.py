"""Alert rule ``radiation``: a gamma dose rate above the station's own background (mean ± 3σ of its history)
opens one alert; a value back in range clears it; too little history raises nothing (both backends)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select

from ecohub.alerts.rules import RuleSettings
from ecohub.alerts.worker import WorkerSettings, run_once
from ecohub.store import registry as R
from ecohub.store.schema_alerts import alert
from ecohub.store.writer import ObservationWriter

T0 = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
SETTINGS = WorkerSettings(overlap=0, deliver=False, rules=RuleSettings(enabled=("radiation",)))


def _series(store, code: str) -> int:
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput(code, "radiation_point", "辐射自动站", 114.5, 38.0, "130100"))
        idx, par = R.site_index(c), R.parameter_index(c)
        return R.SeriesResolver().get(c, idx[code][0], par["gamma_dose_rate"], "hour")


def _write(store, sid: int, items) -> None:
    w = ObservationWriter(store, "import", "t")
    for t, v in items:
        w.add(sid, t, v)
    w.flush()


def _alerts(store):
    with store.engine.connect() as c:
        return c.execute(select(alert.c.rule, alert.c.status, alert.c.active, alert.c.value, alert.c.message)
                         .where(alert.c.rule == "radiation")).all()


def test_radiation_anomaly_opens_and_clears(store):
    sid = _series(store, "RAD1")
    hist = [(T0 + 3600 * h, 100.0 + (h % 5) - 2) for h in range(24 * 20)]  # 98 … 102 nGy/h, σ ≈ 1.4
    _write(store, sid, hist)
    run_once(store, SETTINGS)
    assert _alerts(store) == []  # the history alone is its own background
    time.sleep(1.1)
    t_new = T0 + 3600 * 24 * 20
    _write(store, sid, [(t_new, 101.0), (t_new + 3600, 150.0)])
    run_once(store, SETTINGS)
    rows = _alerts(store)
    assert len(rows) == 1 and rows[0].status == "open" and rows[0].active and rows[0].value == 150.0
    assert "高于本底范围上限" in rows[0].message
    time.sleep(1.1)
    _write(store, sid, [(t_new + 7200, 100.0)])
    run_once(store, SETTINGS)
    assert not _alerts(store)[0].active


def test_too_little_history_raises_nothing(store):
    sid = _series(store, "RAD2")
    _write(store, sid, [(T0 + 3600 * h, 100.0) for h in range(10)])
    run_once(store, SETTINGS)
    time.sleep(1.1)
    _write(store, sid, [(T0 + 3600 * 11, 500.0)])
    run_once(store, SETTINGS)
    assert _alerts(store) == []
