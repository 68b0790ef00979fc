"""Audit: every write, sign-in, permission change and export is recorded (who, what, when, from where),
the log is append-only in the database, and only admins read it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from conftest import PASSWORD
from ecohub.store.schema_identity import audit_log


def _entries(world, **params):
    r = world.get("admin", "/api/v1/audit", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_audit_records_every_kind_of_event(world):
    h = world.headers("admin")
    world.login("ent1", "Wrong-pass-000")
    t = world.login("ent1").json()
    world.client.post("/api/v1/auth/refresh", json={"refresh_token": t["refresh_token"]})
    world.client.post("/api/v1/users", json={"name": "newbie", "password": PASSWORD, "role": "partner",
                                             "department": "水利厅"}, headers=h)
    world.client.patch("/api/v1/users/newbie", json={"role": "public"}, headers=h)
    k = world.client.post("/api/v1/apikeys", json={"name": "k", "scopes": ["read"]}, headers=h).json()
    world.client.delete(f"/api/v1/apikeys/{k['prefix']}", headers=h)
    ds = world.client.post("/api/v1/datasets", headers=h, json={
        "code": "complaints", "title": "12369 投诉", "description": "complaints", "owner_department": "监测处",
        "update_frequency": "daily", "sharing_level": "conditional", "open_level": "closed",
        "fields": [{"name": "phone", "type": "string", "mask": "phone"}], "source": {"type": "records"}}).json()
    world.client.post(f"/api/v1/datasets/{ds['id']}/records", headers=h,
                      json={"records": [{"phone": "13812345678"}]})
    world.client.get(f"/api/v1/datasets/{ds['id']}/export?format=csv", headers=h)
    world.get("officer_sjz", "/api/v1/observations?site=OUT-SJZ-E1&format=csv")
    world.client.post("/api/v1/sites", headers=h)  # a write that fails (405) is recorded too
    world.client.post("/api/v1/users", json={"name": "x"}, headers={"Authorization": "Bearer forged"})

    rows = _entries(world)
    by = {}
    for r in rows:
        by.setdefault(r["action"], []).append(r)
    assert {"login", "login_failed", "token_refresh", "permission", "write", "export"} <= set(by)
    failed = by["login_failed"][0]
    assert failed["actor"] == "ent1" and failed["ip"] == "testclient" and failed["detail"]["reason"] == "bad password"
    perms = {(r["target"], r["detail"]["change"]) for r in by["permission"]}
    assert {("user:newbie", "create"), ("user:newbie", "update"), (f"apikey:{k['prefix']}", "create"),
            (f"apikey:{k['prefix']}", "revoke")} <= perms
    upd = next(r for r in by["permission"] if r["detail"]["change"] == "update")
    assert upd["detail"]["fields"]["role"] == ["partner", "public"] and upd["actor"] == "admin"
    exports = {r["target"]: r for r in by["export"]}
    assert exports["dataset:complaints"]["detail"]["masked_fields"] == ["phone"]
    assert exports["observations"]["actor"] == "officer_sjz" and exports["observations"]["detail"]["rows"] == 96
    writes = [(r["method"], r["path"], r["status"]) for r in by["write"]]
    assert ("POST", "/api/v1/sites", 405) in writes and ("POST", "/api/v1/users", 401) in writes
    assert ("POST", f"/api/v1/datasets/{ds['id']}/records", 200) in writes
    assert all(r["at"] and r["id"] for r in rows)


def test_audit_filters_and_paging(world):
    for _ in range(3):
        world.login("partner", "Wrong-pass-000")
    only = _entries(world, actor="partner", action="login_failed")
    assert len(only) == 3 and all(r["actor"] == "partner" for r in only)
    page = world.get("admin", "/api/v1/audit", params={"limit": 2}).json()
    assert len(page["results"]) == 2 and page["meta"]["next_cursor"]
    nxt = world.get("admin", "/api/v1/audit", params={"limit": 2, "cursor": page["meta"]["next_cursor"]}).json()
    assert nxt["results"][0]["id"] < page["results"][-1]["id"]


def test_audit_is_admin_only(world):
    for who in ("anonymous", "analyst", "officer_sjz", "ent1", "partner", "officer_ts_key"):
        assert world.get(who, "/api/v1/audit").status_code in (401, 403)


def test_audit_log_is_append_only_in_the_database(world):
    world.login("ent1", "Wrong-pass-000")
    with world.store.engine.connect() as c:
        n = c.scalar(select(func.count()).select_from(audit_log))
    assert n > 0
    for stmt in (update(audit_log).values(actor="nobody"), delete(audit_log)):
        with pytest.raises(DBAPIError, match="append-only"), world.store.engine.begin() as c:
            c.execute(stmt)
    if world.store.is_postgres:
        with pytest.raises(DBAPIError, match="append-only"), world.store.engine.begin() as c:
            c.execute(text("TRUNCATE audit_log"))
    with world.store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(audit_log)) == n
