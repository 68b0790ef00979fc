"""Every write path of the API and the web while observations stream in (issue 10, item 1).

A background thread writes observations in small committed batches (as the gateway does under load). On
SQLite a write path that begins deferred, reads, and then writes fails with "database is locked" as soon as
one of those commits lands between its read and its write — the API answered 503, and a wrong password
answered 503 was never counted. Every path now takes the write lock up front (``ecohub.store.tx.write_tx``).
Run on both backends; every answer must be below 500 and the lock-out must count every failure.
"""

from __future__ import annotations

import threading
import time

import pytest

from conftest import PASSWORD, T0, build_world
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter
from ecohub.web import mount_web


class Ingest(threading.Thread):
    """Commits a few observations at a time, as fast as it can, until stopped."""

    def __init__(self, store):
        super().__init__(daemon=True)
        self.store, self.stop, self.commits, self.error = store, threading.Event(), 0, None
        with store.engine.begin() as c:
            R.upsert_site(c, R.SiteInput("ING-1", "air_station", "ING-1", 114.6, 38.1, "130100"))
            self.series = R.SeriesResolver().get(c, R.site_index(c)["ING-1"][0], R.parameter_index(c)["pm25"], "rt")

    def run(self):
        w = ObservationWriter(self.store, "import", "ingest-thread")
        t = T0
        try:
            while not self.stop.is_set():
                for _ in range(3):
                    t += 30
                    w.add(self.series, t, 35.0 + t % 7)
                w.flush()
                self.commits += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


@pytest.fixture
def busy(store, tmp_path):
    world = build_world(store)
    mount_web(world.app, store, data_dir=tmp_path)
    ing = Ingest(store)
    ing.start()
    deadline = time.monotonic() + 10
    while ing.commits < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    yield world, ing
    ing.stop.set()
    ing.join(10)
    assert ing.error is None, ing.error
    assert ing.commits > 5, "the ingest thread did not keep writing"


ROUNDS = 8


def _ok(r, *expected):
    assert r.status_code < 500, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    if expected:
        assert r.status_code in expected, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    return r


def test_sign_in_refresh_and_sign_out_under_ingest(busy):
    world, _ = busy
    c = world.client
    for _ in range(ROUNDS):
        tok = _ok(world.login("analyst"), 200).json()
        new = _ok(c.post("/api/v1/auth/refresh", json={"refresh_token": tok["refresh_token"]}), 200).json()
        _ok(c.get("/api/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"}), 200)
        _ok(c.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {new['access_token']}"}), 204)


def test_every_wrong_password_counts_under_ingest(busy):
    world, _ = busy
    for _ in range(5):  # max_failures
        _ok(world.login("partner", "Wrong-Password-1"), 401)
    # locked: the right password is refused too — none of the five failures was lost to a 503
    _ok(world.login("partner", PASSWORD), 401)
    rows = world.get("admin", "/api/v1/audit?actor=partner&action=login_failed").json()["results"]
    assert len(rows) == 6 and rows[0]["detail"]["reason"] == "locked"


def test_complaints_and_subscriptions_under_ingest(busy):
    world, _ = busy
    for i in range(5):  # the per-address burst allows five
        r = _ok(world.post("anonymous", "/api/v1/complaints", data={
            "category": "air", "description": f"夜间偷排废气，气味刺鼻 {i}", "lon": "114.4548", "lat": "38.0513"}), 201)
        code = r.json()["tracking_code"]
        _ok(world.post("admin", f"/api/v1/complaints/{code}/status", json={"status": "accepted"}), 200)
    ids = []
    for i in range(4):  # the per-address limit allows five
        r = _ok(world.post("anonymous", "/api/v1/web/subscriptions",
                           json={"email": f"s{i}@example.org", "site": "AIR-SJZ-1", "min_level": 3}), 201)
        ids.append(r.json()["id"])
    from sqlalchemy import select

    from ecohub.store.schema_alerts import subscription

    with world.store.engine.connect() as c:
        tokens = list(c.scalars(select(subscription.c.token).where(subscription.c.id.in_(ids))))
    for tok in tokens:
        _ok(world.post("anonymous", "/api/v1/web/subscriptions/confirm", json={"token": tok}), 200)
        _ok(world.post("anonymous", "/api/v1/web/subscriptions/unsubscribe", json={"token": tok}), 200)


def test_catalogue_keys_and_users_under_ingest(busy):
    world, _ = busy
    spec = {"title": "t", "description": "d", "owner_department": "监测处", "update_frequency": "hourly",
            "sharing_level": "conditional", "open_level": "closed",
            "source": {"type": "observations", "kinds": ["gas_outlet"]}}
    for i in range(ROUNDS):
        ds = _ok(world.post("admin", "/api/v1/datasets", json={**spec, "code": f"ds{i}"}), 201).json()["id"]
        rid = _ok(world.post("partner", f"/api/v1/datasets/{ds}/requests", json={"purpose": "防汛会商 flood"}), 201).json()["id"]
        _ok(world.post("admin", f"/api/v1/access-requests/{rid}/decision", json={"approve": True, "days": 3}), 200)
        _ok(world.post("admin", f"/api/v1/access-requests/{rid}/revoke", json={"reason": "到期前收回"}), 200)
        key = _ok(world.post("analyst", "/api/v1/apikeys", json={"name": f"k{i}", "scopes": ["read"]}), 201).json()
        _ok(world.client.get("/api/v1/me", headers={"X-API-Key": key["key"]}), 200)
        _ok(world.client.delete(f"/api/v1/apikeys/{key['prefix']}", headers=world.headers("analyst")), 204)
        _ok(world.post("admin", "/api/v1/users", json={"name": f"u{i}", "password": "Another-Pass-9",
                                                       "role": "public"}), 201)


def _new_alert(store, site_code: str, message: str) -> int:
    """An open alert, written as every writer must write under load (the lock up front)."""
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from ecohub.store.schema import parameter, site
    from ecohub.store.schema_alerts import alert
    from ecohub.store.tx import write_tx

    now = datetime.now(UTC)
    with write_tx(store) as c:
        sid = c.scalar(select(site.c.id).where(site.c.code == site_code))
        pid = c.scalar(select(parameter.c.id).where(parameter.c.name == "so2_gas"))
        return int(c.execute(insert(alert).values(
            rule="permit", cause_key=f"permit:{site_code}:{message}", site_id=sid, parameter_id=pid,
            severity="major", status="open", active=True, message=message, opened_at=now, last_seen_at=now,
            occurrences=1, escalation_level=0)).inserted_primary_key[0])


def test_alert_actions_under_ingest(busy):
    world, _ = busy
    for i in range(ROUNDS):
        aid = _new_alert(world.store, "OUT-TS-E2", f"排口超标 {i}")
        _ok(world.post("admin", f"/api/v1/alerts/{aid}/acknowledge", json={"note": "已通知企业"}), 200)
        _ok(world.post("admin", f"/api/v1/alerts/{aid}/close", json={"reason": "企业已整改"}), 200)
