"""Alert lifecycle on both backends: de-duplication by the database, acknowledge, close, clear, escalate."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ecohub.alerts.lifecycle import Condition, clear_condition, escalate_due, raise_condition
from ecohub.alerts.notify import add_subscription, outbox_rows
from ecohub.alerts.service import acknowledge, close, get_alert, list_alerts
from ecohub.domain.errors import InputError
from ecohub.store.schema_alerts import alert

NOW = int(datetime(2026, 5, 1, 8, tzinfo=UTC).timestamp())


def cond(key="permit:G1:nox:hour", severity="major", value=150.0):
    return Condition("permit", key, severity, f"{key} exceeds", value=value, level=0.5, period_time=NOW - 3600)


def raise_(store, c, now=NOW):
    with store.engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        return raise_condition(conn, c, now)


def test_one_open_alert_per_cause_updated_while_it_lasts(store):
    a = raise_(store, cond())
    b = raise_(store, cond(value=170.0, severity="critical"), NOW + 3600)
    assert a.created and not b.created and a.alert_id == b.alert_id and b.severity_raised
    al = get_alert(store, a.alert_id)
    assert al["occurrences"] == 2 and al["value"] == 170.0 and al["severity"] == "critical"
    assert al["status"] == "open" and al["active"]
    assert [e["kind"] for e in al["events"]] == ["opened", "severity"]
    # the severity is never lowered by a later, milder occurrence
    raise_(store, cond(severity="warning"), NOW + 7200)
    assert get_alert(store, a.alert_id)["severity"] == "critical"
    assert len(list_alerts(store)) == 1


def test_database_refuses_a_second_open_alert_for_a_cause(store):
    raise_(store, cond())
    row = {"rule": "permit", "cause_key": "permit:G1:nox:hour", "severity": "major", "status": "open",
           "message": "dup", "opened_at": datetime.now(UTC), "last_seen_at": datetime.now(UTC)}
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(alert).values(**row))
    # a closed alert with the same cause is fine
    with store.engine.begin() as conn:
        conn.execute(insert(alert).values(**{**row, "status": "closed"}))


def test_concurrent_workers_open_one_alert(store):
    errors = []

    def work(i):
        try:
            for k in range(5):
                raise_(store, cond(value=100.0 + i * 10 + k), NOW + k)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(alert)) == 1
        assert c.scalar(select(alert.c.occurrences)) == 20


def test_acknowledge_close_and_a_new_alert_after_closing(store):
    a = raise_(store, cond()).alert_id
    al = acknowledge(store, a, "张三", "on it")
    assert al["status"] == "acknowledged" and al["acknowledged_by"] == "张三" and al["acknowledged_at"]
    # still one alert while the exceedance lasts, now acknowledged
    assert raise_(store, cond(), NOW + 60).alert_id == a
    with pytest.raises(InputError):
        close(store, a, "张三", " ")
    al = close(store, a, "李四", "stack repaired, verified by site visit")
    assert al["status"] == "closed" and al["closed_by"] == "李四"
    assert [e["kind"] for e in al["events"]] == ["opened", "acknowledged", "closed"]
    assert al["events"][1]["actor"] == "张三"
    with pytest.raises(InputError):
        acknowledge(store, a, "张三")
    b = raise_(store, cond(), NOW + 7200)
    assert b.created and b.alert_id != a
    assert [x["status"] for x in list_alerts(store)] == ["open", "closed"]
    assert [x["id"] for x in list_alerts(store, "closed")] == [a]


def test_clear_reactivate_and_auto_close_after_acknowledgement(store):
    a = raise_(store, cond()).alert_id
    with store.engine.begin() as conn:
        assert clear_condition(conn, "permit:G1:nox:hour", NOW + 3600) == a
        assert clear_condition(conn, "permit:G1:nox:hour", NOW + 3600) is None  # already cleared
    al = get_alert(store, a)
    assert al["status"] == "open" and not al["active"] and al["cleared_at"]  # CLEARED_UNACK
    out = raise_(store, cond(), NOW + 7200)
    assert out.alert_id == a and out.reactivated and get_alert(store, a)["active"]
    acknowledge(store, a, "ops")
    with store.engine.begin() as conn:
        clear_condition(conn, "permit:G1:nox:hour", NOW + 9000)
    al = get_alert(store, a)
    assert al["status"] == "closed" and al["closed_by"] == "system"  # CLEARED_ACK


def test_escalation_when_not_acknowledged_in_time(store):
    add_subscription(store, channel="email", target="boss@example.org", audience="escalation")
    add_subscription(store, channel="email", target="duty@example.org", audience="staff", min_severity="critical")
    a = raise_(store, cond(severity="critical")).alert_id
    b = raise_(store, cond("permit:G2:so2_gas:hour", severity="critical")).alert_id
    acknowledge(store, b, "ops")
    with store.engine.begin() as conn:
        assert escalate_due(conn, NOW + 29 * 60) == []
        assert escalate_due(conn, NOW + 31 * 60) == [a]  # b was acknowledged: no escalation
        assert escalate_due(conn, NOW + 40 * 60) == []  # next step 30 min after the previous escalation
        assert escalate_due(conn, NOW + 62 * 60) == [a]
    al = get_alert(store, a)
    assert al["escalation_level"] == 2
    events = [(m["event"], m["target"]) for m in outbox_rows(store)]
    assert events.count(("escalated", "boss@example.org")) == 2
    assert ("opened", "duty@example.org") in events and ("opened", "boss@example.org") not in events
    # a warning escalates only after 8 hours
    w = raise_(store, cond("qc:S1:pm25:hour:flatline", severity="warning")).alert_id
    with store.engine.begin() as conn:
        assert w not in escalate_due(conn, NOW + 7 * 3600, {"warning": timedelta(hours=8)})
        assert w in escalate_due(conn, NOW + 9 * 3600, {"warning": timedelta(hours=8)})
