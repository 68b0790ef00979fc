"""Incidents on both backends: level from the national plan's criteria, workflow, tasks, notification through
alerts, dispersion stored with affected receptors, nearby monitoring, map features; and the API flow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from ecohub.domain.errors import InputError, NotFound
from ecohub.emergency import incident as I
from ecohub.store.queries import SYSTEM, Scope
from ecohub.store.schema_alerts import alert, outbox, subscription
from ecohub.store.schema_emergency import receptor

OFFICER = Scope("officer", region_code="130100", name="officer_sjz")


def test_response_level_criteria():
    assert I.response_level()[0] == "IV"
    assert I.response_level(deaths=3)[0] == "III"
    assert I.response_level(poisoned=60)[0] == "II"
    assert I.response_level(evacuated=60_000)[0] == "I"
    assert I.response_level(loss_wan_yuan=2_500)[0] == "II"
    lvl, basis = I.response_level(deaths=2, evacuated=6_000)
    assert lvl == "III" and "evacuated" in basis
    with pytest.raises(InputError, match="deaths"):
        I.response_level(deaths=-1)


def _receptors(store):
    with store.engine.begin() as conn:
        conn.execute(insert(receptor).values(code="SCH-1", name="第一小学（演示）", type="school", lon=114.52, lat=38.0,
                                             population=800, region_code="130102", imported_at=datetime.now(UTC)))


def test_incident_lifecycle(store):
    _receptors(store)
    with store.engine.begin() as conn:  # a staff webhook subscribed to incident alerts
        conn.execute(insert(subscription).values(audience="staff", channel="webhook", target="https://hooks.invalid/x",
                                                 secret="s", rules=["incident"], min_severity="info", confirmed=True,
                                                 active=True, token="t" * 32, created_at=datetime.now(UTC)))
    inc = I.report(store, OFFICER, title="氨泄漏（演示）", lon=114.5, lat=38.0, occurred_at="2026-12-04T10:00",
                   substance="氨", amount_kg=500, evacuated=600, by="officer_sjz")
    assert inc["code"].startswith("INC-20261204-") and inc["level"] == "IV" and inc["status"] == "reported"
    assert inc["region_code"].startswith("1301")
    with store.engine.connect() as conn:
        a = conn.execute(select(alert).where(alert.c.rule == "incident")).one()
        assert a.severity == "warning" and inc["code"] in a.message
        sent = conn.execute(select(outbox.c.event, outbox.c.channel, outbox.c.alert_id)).all()
        assert sent == [("opened", "webhook", a.id)]  # the notification is queued for delivery
    with pytest.raises(PermissionError):
        I.report(store, Scope("officer", region_code="130200"), title="x", lon=114.5, lat=38.0,
                 occurred_at="2026-12-04T10:00")
    with pytest.raises(InputError, match="level_basis"):
        I.report(store, OFFICER, title="x", lon=114.5, lat=38.0, occurred_at="2026-12-04T10:00", level="II")
    with pytest.raises(InputError, match="lower than"):
        I.report(store, OFFICER, title="x", lon=114.5, lat=38.0, occurred_at="2026-12-04T10:00", deaths=12,
                 level="IV")
    iid = inc["id"]
    res = I.run_dispersion(store, OFFICER, iid, {"wind_ms": 3, "wind_from_deg": 270, "rate_gs": 100,
                                                 "thresholds_mg_m3": [1.0], "stability": "D"}, by="officer_sjz")
    assert [r["id"] for r in res["receptors"]] == ["SCH-1"]
    t = I.add_task(store, OFFICER, iid, kind="monitoring", title="下风向 2 km 布设监测点", owner="监测站",
                   due_at="2026-12-04T12:00", lon=114.52, lat=38.0)
    I.complete_task(store, OFFICER, iid, t["id"], {"nh3_mg_m3": 0.8})
    with pytest.raises(InputError, match="kind"):
        I.add_task(store, OFFICER, iid, kind="party", title="x")
    with pytest.raises(InputError, match="summary"):
        I.set_status(store, OFFICER, iid, "closed")
    assert I.set_status(store, OFFICER, iid, "responding")["status"] == "responding"
    with pytest.raises(InputError, match="not allowed"):
        I.set_status(store, OFFICER, iid, "responding")
    fc = I.features(store, SYSTEM)
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert kinds.count("incident") == 1 and "isopleth" in kinds and "receptor" in kinds
    done = I.set_status(store, OFFICER, iid, "closed", summary="泄漏已控制，监测达标")
    assert done["status"] == "closed" and done["summary"].startswith("泄漏")
    kinds = [t["kind"] for t in done["tasks"]]
    assert kinds[0] == "note" and "dispersion" in kinds and "monitoring" in kinds
    assert I.features(store, SYSTEM)["features"] == []
    with pytest.raises(NotFound):
        I.get(store, Scope("officer", region_code="130200"), iid)
    with pytest.raises(PermissionError):
        I.list_incidents(store, Scope("public"))
