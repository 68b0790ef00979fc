"""Heavy-pollution warnings as alerts of rule ``pollution_warning``: issue, upgrade, downgrade, lift — one
alert per city through the existing lifecycle, each issue applied once; on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from ecohub.alerts.pollution_warning import apply_warnings, cause_key
from ecohub.alerts.worker import run_once
from ecohub.store.schema_alerts import alert, alert_event, outbox, subscription
from ecohub.store.schema_forecast import forecast_issue
from ecohub.store.tx import write_tx

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


def _issue(store, city: str, k: int, level: int) -> int:
    with write_tx(store) as c:
        return c.execute(insert(forecast_issue).values(
            target_kind="city", target_code=city, region_code=city, name="天津市", issued_at=T0 + timedelta(days=k),
            issue_day=date(2026, 12, 1) + timedelta(days=k), model_version="gbm-aqi-1", method="model",
            inputs_from=date(2024, 1, 1), inputs_to=date(2026, 12, 1) + timedelta(days=k), input_days=700,
            met_used=False, warning_level=level, warning_scheme="2018", warning_reason=f"crafted level {level}",
            details={"warning": {"sequence": [{"day": "2026-12-02", "aqi": 180.0 + 40 * level}]}},
        )).inserted_primary_key[0]


def _apply(store, k: int) -> dict:
    with write_tx(store) as c:
        return apply_warnings(c, int((T0 + timedelta(days=k, hours=1)).timestamp()))


def _alert(store, city="120100"):
    with store.engine.connect() as c:
        rows = [dict(r) for r in c.execute(select(alert).where(alert.c.cause_key == cause_key(city))
                                           .order_by(alert.c.id)).mappings()]
        events = [r.kind for r in c.execute(select(alert_event.c.kind).join(alert, alert.c.id == alert_event.c.alert_id)
                                            .where(alert.c.cause_key == cause_key(city)).order_by(alert_event.c.id))]
    return rows, events


def test_issue_upgrade_downgrade_lift(store):
    with write_tx(store) as c:
        c.execute(insert(subscription).values(audience="staff", channel="webhook", target="http://127.0.0.1:9/hook",
                                              rules=["pollution_warning"], min_severity="info", confirmed=True,
                                              active=True, token="t" * 32, created_at=T0))
    _issue(store, "120100", 0, 0)
    assert _apply(store, 0)["issue"] == 0 and _alert(store)[0] == []
    _issue(store, "120100", 1, 2)  # yellow
    assert _apply(store, 1)["issue"] == 1
    rows, events = _alert(store)
    assert len(rows) == 1 and rows[0]["severity"] == "warning" and rows[0]["level"] == 2 and rows[0]["status"] == "open"
    assert "黄色预警" in rows[0]["message"] and events == ["opened"]
    assert _apply(store, 1)["unchanged"] == 1  # the same issue is applied once
    _issue(store, "120100", 2, 3)  # orange
    assert _apply(store, 2)["upgrade"] == 1
    rows, events = _alert(store)
    assert rows[0]["severity"] == "major" and rows[0]["level"] == 3 and events[-1] == "upgraded"
    _issue(store, "120100", 3, 1)  # blue
    assert _apply(store, 3)["downgrade"] == 1
    rows, events = _alert(store)
    assert rows[0]["severity"] == "info" and rows[0]["level"] == 1 and events[-1] == "downgraded"
    _issue(store, "120100", 4, 0)  # lifted
    assert _apply(store, 4)["lift"] == 1
    rows, events = _alert(store)
    assert len(rows) == 1 and not rows[0]["active"]
    assert events[-1] == "cleared"
    with store.engine.connect() as c:  # the new warning queued a notification to the staff webhook
        assert c.execute(select(outbox.c.event).where(outbox.c.alert_id == rows[0]["id"])).scalars().all() == ["opened"]
    # a new warning after the lift re-activates the same (still open, unacknowledged) alert
    _issue(store, "120100", 5, 4)
    assert _apply(store, 5)["issue"] == 1
    rows, events = _alert(store)
    assert rows[0]["active"] and rows[0]["severity"] == "critical" and "reactivated" in events


def test_worker_pass_applies_warnings(store):
    _issue(store, "130100", 0, 2)
    out = run_once(store, now=T0 + timedelta(hours=2))
    assert out["alerts"]["pollution_warning"]["issue"] == 1
    assert _alert(store, "130100")[0][0]["rule"] == "pollution_warning"
