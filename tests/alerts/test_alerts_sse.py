"""The alerts users get, on the application every process mounts (``create_app`` + ``mount_web``): the API's
list and one alert, and the live feed ``/api/v1/web/alerts/stream`` (server-sent events) served by a real
uvicorn server on 127.0.0.1 — with the caller's scope."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from alerts_support import free_port
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from ecohub.alerts.lifecycle import Condition, raise_condition
from ecohub.alerts.service import acknowledge
from ecohub.api.app import create_app
from ecohub.api.identity import create_user, use_hasher
from ecohub.api.security import ApiConfig
from ecohub.web import mount_web

use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
PASSWORD = "Correct-Horse-9"


def raise_(store, key):
    with store.engine.begin() as conn:
        return raise_condition(conn, Condition("qc", key, "warning", f"{key} failed"),
                               int(datetime.now(UTC).timestamp())).alert_id


@pytest.fixture
def app(sqlite_store, tmp_path):
    with sqlite_store.engine.begin() as c:
        create_user(c, "ops", PASSWORD, "admin")
    a = create_app(sqlite_store, secret_key="s" * 48, data_dir=tmp_path,
                   config=ApiConfig(rate_anon_per_min=0, rate_auth_per_min=0, public_cache_seconds=0))
    return mount_web(a, sqlite_store, data_dir=tmp_path)


def _token(client) -> dict:
    r = client.post("/api/v1/auth/token", data={"username": "ops", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_list_and_one(sqlite_store, app):
    a = raise_(sqlite_store, "qc:a")
    raise_(sqlite_store, "qc:b")
    acknowledge(sqlite_store, a, "ops")
    c = TestClient(app)
    h = _token(c)
    assert len(c.get("/api/v1/alerts", headers=h).json()["results"]) == 2
    assert [x["id"] for x in c.get("/api/v1/alerts", params={"status": "acknowledged"}, headers=h)
            .json()["results"]] == [a]
    assert c.get("/api/v1/alerts", params={"status": "bogus"}, headers=h).status_code == 422
    assert c.get(f"/api/v1/alerts/{a}", headers=h).json()["status"] == "acknowledged"
    assert c.get("/api/v1/alerts/999", headers=h).status_code == 404
    # alerts without a site are not the public's: the anonymous list is empty, the detail 404
    assert c.get("/api/v1/alerts").json()["results"] == []
    assert c.get(f"/api/v1/alerts/{a}").status_code == 404


def _serve(app):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    return server, th, f"http://127.0.0.1:{port}"


def _first_data(r) -> dict:
    for line in r.iter_lines():
        if line.startswith("data: ") and '"kind"' in line:
            return json.loads(line[6:])
    raise AssertionError("the stream ended without an event")


def test_live_feed_over_http(sqlite_store, app):
    server, th, base = _serve(app)
    try:
        h = _token(httpx.Client(base_url=base))
        url = f"{base}/api/v1/web/alerts/stream"
        with httpx.stream("GET", url, headers=h, timeout=10) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            threading.Timer(0.3, raise_, args=(sqlite_store, "qc:live")).start()
            got = _first_data(r)
        assert got["kind"] == "opened" and got["message"] == "qc:live failed"
        # a reconnecting client with Last-Event-ID gets what it missed
        raise_(sqlite_store, "qc:missed")
        with httpx.stream("GET", url, headers={**h, "Last-Event-ID": str(got["id"])}, timeout=10) as r:
            assert _first_data(r)["message"] == "qc:missed failed"
        # ?since=ID resumes after that event too
        with httpx.stream("GET", url, params={"since": 0}, headers=h, timeout=10) as r:
            assert _first_data(r)["message"] == "qc:live failed"
    finally:
        server.should_exit = True
        th.join(5)


def test_live_feed_keeps_the_scope(sqlite_store, app):
    """An anonymous listener does not receive events of alerts it may not see (no site: staff only)."""
    raise_(sqlite_store, "qc:hidden")
    server, th, base = _serve(app)
    try:
        got, hello = [], False
        with httpx.stream("GET", f"{base}/api/v1/web/alerts/stream", params={"since": 0},
                          timeout=httpx.Timeout(10, read=2.5)) as r:
            try:
                for line in r.iter_lines():
                    hello = hello or line.startswith("event: hello")
                    if line.startswith("data: ") and '"kind"' in line:
                        got.append(json.loads(line[6:]))
            except httpx.ReadTimeout:
                pass  # nothing more within 2.5 s (two polls of the feed)
        assert hello and got == []
    finally:
        server.should_exit = True
        th.join(5)
