"""The alerts router on a small FastAPI app: list, one alert, and the live feed (server-sent events) served
by a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime

import httpx
import uvicorn
from alerts_support import free_port
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ecohub.alerts.api import alerts_router, event_stream
from ecohub.alerts.lifecycle import Condition, acknowledge, raise_condition


def raise_(store, key):
    with store.engine.begin() as conn:
        return raise_condition(conn, Condition("qc", key, "warning", f"{key} failed"),
                               int(datetime.now(UTC).timestamp())).alert_id


def test_list_and_one(sqlite_store):
    app = FastAPI()
    app.include_router(alerts_router(sqlite_store))
    a = raise_(sqlite_store, "qc:a")
    raise_(sqlite_store, "qc:b")
    acknowledge(sqlite_store, a, "ops")
    c = TestClient(app)
    assert c.get("/api/v1/alerts").json()["count"] == 2
    assert [x["id"] for x in c.get("/api/v1/alerts", params={"status": "acknowledged"}).json()["results"]] == [a]
    assert c.get("/api/v1/alerts", params={"status": "bogus"}).status_code == 422
    assert [e["kind"] for e in c.get(f"/api/v1/alerts/{a}").json()["events"]] == ["opened", "acknowledged"]
    assert c.get("/api/v1/alerts/999").status_code == 404


def test_event_stream_generator_resumes_after_an_id(sqlite_store):
    raise_(sqlite_store, "qc:a")
    raise_(sqlite_store, "qc:b")

    async def take(after, n):
        out = []
        async for chunk in event_stream(sqlite_store, after, poll=0.05, max_events=n):
            out.append(chunk)
        return out

    chunks = asyncio.run(take(0, 2))
    assert chunks[0].startswith("retry:")
    first = chunks[1]
    assert first.startswith("id: 1\nevent: opened\ndata: ")
    assert json.loads(first.split("data: ", 1)[1])["message"] == "qc:a failed"
    again = asyncio.run(take(1, 1))
    assert again[1].startswith("id: 2\n")


def test_live_feed_over_http(sqlite_store):
    app = FastAPI()
    app.include_router(alerts_router(sqlite_store, poll=0.05))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        got = []
        with httpx.stream("GET", f"http://127.0.0.1:{port}/api/v1/alerts/stream", timeout=10) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            threading.Timer(0.3, raise_, args=(sqlite_store, "qc:live")).start()
            for line in r.iter_lines():
                if line.startswith("data: "):
                    got.append(json.loads(line[6:]))
                    break
        assert got[0]["kind"] == "opened" and got[0]["message"] == "qc:live failed"
        # a reconnecting client with Last-Event-ID gets what it missed
        raise_(sqlite_store, "qc:missed")
        with httpx.stream("GET", f"http://127.0.0.1:{port}/api/v1/alerts/stream",
                          headers={"Last-Event-ID": str(got[0]["id"])}, timeout=10) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    assert json.loads(line[6:])["message"] == "qc:missed failed"
                    break
    finally:
        server.should_exit = True
        th.join(5)
