"""Acknowledge and close alerts through the API (both backends): who may (admin; an officer in its own region),
who may not (analyst, enterprise, partner, public, anonymous, read-only keys, an officer outside its region),
what the answers are (404 when the alert is not visible, 403 when visible but not the caller's, 409 for a
transition the lifecycle refuses) and the audit row each action leaves."""

from __future__ import annotations

from sqlalchemy import select

from conftest import add_alert
from ecohub.store.schema_identity import audit_log


def audit_rows(store, target: str) -> list[dict]:
    with store.engine.connect() as c:
        return [dict(r) for r in c.execute(select(audit_log).where(audit_log.c.target == target)
                                           .order_by(audit_log.c.id)).mappings()]


def test_admin_acknowledges_then_closes_with_audit_rows(world):
    a = add_alert(world.store, "OUT-TS-E2", "SO2 超标")
    r = world.post("admin", f"/api/v1/alerts/{a}/acknowledge", json={"note": "已电话通知企业"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == "admin" and body["acknowledged_at"]
    # acknowledging again changes nothing, and is still answered (and audited as unchanged)
    assert world.post("admin", f"/api/v1/alerts/{a}/acknowledge").json()["status"] == "acknowledged"
    r = world.post("admin", f"/api/v1/alerts/{a}/close", json={"reason": "现场核查：设备故障已修复"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["close_reason"] == "现场核查：设备故障已修复"
    # the lifecycle refuses what a closed alert cannot do: 409 with the reason
    for path, body in (("acknowledge", None), ("close", {"reason": "again"})):
        r = world.post("admin", f"/api/v1/alerts/{a}/{path}", json=body)
        assert r.status_code == 409 and "closed" in r.json()["detail"]
    rows = audit_rows(world.store, f"alert:{a}")
    assert [(x["action"], x["actor"], x["actor_role"], x["status"]) for x in rows] == [
        ("alert_acknowledge", "admin", "admin", 200), ("alert_acknowledge", "admin", "admin", 200),
        ("alert_close", "admin", "admin", 200)]
    assert rows[0]["detail"] == {"by": "admin", "note": "已电话通知企业", "changed": True}
    assert rows[1]["detail"]["changed"] is False
    assert rows[0]["method"] == "POST" and rows[0]["path"] == f"/api/v1/alerts/{a}/acknowledge"
    # the alert's own history names who and why
    hist = world.get("admin", f"/api/v1/alerts/{a}").json()
    assert hist["status"] == "closed"
    # refused attempts are in the audit log too (written by the middleware with their status)
    with world.store.engine.connect() as c:
        refused = c.execute(select(audit_log.c.status).where(
            audit_log.c.path.in_([f"/api/v1/alerts/{a}/acknowledge", f"/api/v1/alerts/{a}/close"]),
            audit_log.c.status == 409)).all()
    assert len(refused) == 2


def test_officer_acts_in_its_own_region_only(world):
    in_ts = add_alert(world.store, "OUT-TS-E2", "唐山 排口 超标")  # 130283: 唐山's, not open
    open_ts = add_alert(world.store, "OUT-TS-E2-KEY", "唐山 重点排污单位 超标")  # 130283, open (key unit)
    in_sjz = add_alert(world.store, "OUT-SJZ-E1", "石家庄 排口 超标")  # 130110
    # 石家庄's officer: 唐山's closed outlet is invisible (404), its open one visible but not theirs (403)
    assert world.post("officer_sjz", f"/api/v1/alerts/{in_ts}/acknowledge").status_code == 404
    r = world.post("officer_sjz", f"/api/v1/alerts/{open_ts}/acknowledge")
    assert r.status_code == 403 and "outside your region" in r.json()["detail"]
    assert world.post("officer_sjz", f"/api/v1/alerts/{in_sjz}/acknowledge").status_code == 200
    # 唐山's officer acts on both of 唐山's, not on 石家庄's (invisible to it)
    assert world.post("officer_ts", f"/api/v1/alerts/{in_ts}/acknowledge").status_code == 200
    assert world.post("officer_ts", f"/api/v1/alerts/{open_ts}/close", json={"reason": "已整改"}).status_code == 200
    assert world.post("officer_ts", f"/api/v1/alerts/{in_sjz}/close", json={"reason": "x"}).status_code == 404
    statuses = {a: world.get("admin", f"/api/v1/alerts/{a}").json()["status"] for a in (in_ts, open_ts, in_sjz)}
    assert statuses == {in_ts: "acknowledged", open_ts: "closed", in_sjz: "acknowledged"}
    assert [x["actor"] for x in audit_rows(world.store, f"alert:{in_ts}")] == ["officer_ts"]


def test_roles_that_may_not_act(world):
    a = add_alert(world.store, "OUT-TS-E2-KEY", "公开排口 超标")  # visible to everybody
    assert world.post("anonymous", f"/api/v1/alerts/{a}/acknowledge").status_code == 401
    for who in ("analyst", "ent2", "partner", "public_user", "officer_ts_key"):  # the key is read-only
        r = world.post(who, f"/api/v1/alerts/{a}/acknowledge")
        assert r.status_code == 403, (who, r.text)
        r = world.post(who, f"/api/v1/alerts/{a}/close", json={"reason": "x"})
        assert r.status_code == 403, (who, r.text)
    assert world.get("admin", f"/api/v1/alerts/{a}").json()["status"] == "open"
    assert audit_rows(world.store, f"alert:{a}") == []  # nothing changed, no action row


def test_bad_input_is_named(world):
    a = add_alert(world.store, "OUT-TS-E2", "SO2 超标")
    r = world.post("admin", f"/api/v1/alerts/{a}/close", json={})
    assert r.status_code == 422 and "reason" in r.text
    r = world.post("admin", f"/api/v1/alerts/{a}/close", json={"reason": "   "})
    assert r.status_code == 400 and "reason" in r.json()["detail"]
    assert world.post("admin", "/api/v1/alerts/999999/acknowledge").status_code == 404
    assert world.post("admin", "/api/v1/alerts/0/acknowledge").status_code == 422
