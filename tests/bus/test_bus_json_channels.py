"""The JSON channels on the bus (issue 18.1): the MQTT subscriber and the HTTP push publish validated records to
the JetStream ingest stream and acknowledge (PUBACK, HTTP 202) only after the stream's ack; a bus writer stores
them once. With NATS down, HTTP push answers 503 and the subscriber acknowledges nothing until NATS is back.
A NATS server of the test's own (conftest); the MQTT part needs ECOHUB_TEST_MQTT_URL (fails under CI=true
without it, like tests/ingest/test_mqtt.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import nats
import paho.mqtt.client as mqtt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ecohub.bus.consume import BusWriter
from ecohub.bus.records import RecordPublisher
from ecohub.bus.streams import STREAM, BusConfig, subject_for
from ecohub.ingest.http_push import PATH, ingest_router
from ecohub.ingest.mqtt import MqttSubscriber, parse_broker_url
from ecohub.store import registry as R
from ecohub.store.apikeys import create_key
from ecohub.store.schema import observation, quarantine, source

WAIT = 30.0  # seconds any single wait may take

RECORDS = [
    {"site": "1029A", "parameter": "pm25", "time": "2024-05-01T13:00:00+08:00", "value": 35, "flag": "N"},
    {"site": "1029A", "parameter": "so2", "time": "2024-05-01T13:00:00+08:00", "value": 8},
    {"site": "GAS1", "parameter": "so2", "time": "2024-05-01T13:00:00+08:00", "value": 12.5},
    {"site": "NOPE", "parameter": "pm25", "time": "2024-05-01T13:00:00+08:00", "value": 1},  # refused
]


@pytest.fixture
def sites(store):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
        R.add_enterprise(c, "91350100M000100Y43", "示例电厂", "130200")
        R.upsert_site(c, R.SiteInput("GAS1", "gas_outlet", "1#排口", 114.7, 38.1, "130200", "91350100M000100Y43"))
    return store


def wait_until(pred, what: str, timeout: float = WAIT) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:  # bounded poll
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def count(store, table=observation, *where) -> int:
    with store.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(table).where(*where)))


def stream_state(url: str) -> tuple[int, list[str]]:
    async def main() -> tuple[int, list[str]]:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(STREAM, subjects_filter=">")
            return info.state.messages, sorted((info.state.subjects or {}).keys())
        finally:
            await nc.close()

    return asyncio.run(main())


@contextmanager
def bus_writer(store, cfg: BusConfig) -> Iterator[BusWriter]:
    """A bus writer in a thread of its own (its own event loop) until the block ends."""
    w = BusWriter(store, cfg)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    t = threading.Thread(target=lambda: loop.run_until_complete(w.run(stop)), daemon=True)
    t.start()
    try:
        yield w
    finally:
        loop.call_soon_threadsafe(stop.set)
        t.join(WAIT)
        loop.close()


def drained(store, w: BusWriter, url: str, n_obs: int) -> None:
    """Wait until the writer acked every message of the stream and the store holds ``n_obs`` observations."""
    wait_until(lambda: w.counters["acked"] >= stream_state(url)[0] and count(store) >= n_obs, "the writer")


# --- HTTP push -------------------------------------------------------------------------------------------------
def test_http_push_through_the_bus_acked_after_the_stream_stored_once(sites, nats_server):
    store = sites
    with store.engine.begin() as c:
        key = create_key(c, "partner", ["ingest"], owner="test")
    cfg = BusConfig(url=nats_server.url, publish_timeout=1.0)
    pub = RecordPublisher(store, cfg, "http")
    app = FastAPI()
    app.include_router(ingest_router(store, publisher=pub))
    h = {"Authorization": f"Bearer {key}"}
    try:
        with TestClient(app) as client:
            r = client.post(PATH, json=RECORDS, headers=h)
            assert r.status_code == 202, r.text
            body = r.json()
            assert body["accepted"] == 3 and body["rejected"] == 1 and body["errors"][0]["field"] == "site"
            assert count(store) == 0  # in the stream, not yet in the database
            n_msgs, subjects = stream_state(nats_server.url)
            assert subjects == sorted([subject_for("air_station", "130100"), subject_for("gas_outlet", "130200"),
                                       subject_for(None, None)])  # by kind and region; the quarantine aside
            assert client.post(PATH, json=RECORDS, headers=h).status_code == 202  # sent again: same message ids
            assert stream_state(nats_server.url)[0] == n_msgs == 3  # JetStream dropped the second copy
            with bus_writer(store, cfg) as w:
                drained(store, w, nats_server.url, 3)
                assert count(store) == 3  # once
                assert count(store, observation, observation.c.source_id == select(source.c.id).where(
                    source.c.name == "http").scalar_subquery()) == 3
                with store.engine.connect() as c:
                    q = c.execute(select(quarantine.c.channel, quarantine.c.line, quarantine.c.field,
                                         quarantine.c.origin)).all()
                assert [(x.channel, x.line, x.field) for x in q] == [("http", 3, "site")]
                assert q[0].origin.startswith("apikey:")

                nats_server.kill()  # the bus down: nothing is acknowledged
                late = [dict(RECORDS[0], time="2024-05-01T14:00:00+08:00")]
                r = client.post(PATH, json=late, headers=h)
                assert r.status_code == 503, r.text
                assert r.headers["retry-after"] and "send it again" in r.json()["detail"]
                nats_server.start()  # back: the same batch is taken and stored
                status = {}

                def accepted() -> bool:
                    status["code"] = client.post(PATH, json=late, headers=h).status_code
                    return status["code"] == 202

                wait_until(accepted, "the bus back")
                drained(store, w, nats_server.url, 4)
                assert count(store) == 4
    finally:
        pub.close()


def test_http_push_answers_503_when_the_bus_was_never_there(sites):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    store = sites
    with store.engine.begin() as c:
        key = create_key(c, "partner", ["ingest"], owner="test")
    pub = RecordPublisher(store, BusConfig(url=f"nats://127.0.0.1:{port}", publish_timeout=0.5), "http")
    app = FastAPI()
    app.include_router(ingest_router(store, publisher=pub))
    try:
        with TestClient(app) as client:
            r = client.post(PATH, json=RECORDS[:1], headers={"X-API-Key": key})
        assert r.status_code == 503 and "cannot reach the bus" in r.json()["detail"]
        assert count(store) == 0 and count(store, quarantine) == 0
    finally:
        pub.close()


# --- MQTT ------------------------------------------------------------------------------------------------------
def test_mqtt_through_the_bus_puback_after_the_stream_stored_once(sites, nats_server, mqtt_broker):
    store = sites
    root = f"t{uuid.uuid4().hex[:10]}/ecohub/v1"
    cfg = BusConfig(url=nats_server.url, publish_timeout=1.0)
    pub = RecordPublisher(store, cfg, "mqtt")
    sub = MqttSubscriber(store, mqtt_broker, root=root, client_id=f"bus-{uuid.uuid4().hex[:8]}", batch_ms=50,
                         session_expiry=120, reconnect_max=2, publisher=pub)
    b = parse_broker_url(mqtt_broker)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}",
                         protocol=mqtt.MQTTv5)
    client.connect(b.host, b.port)
    client.loop_start()

    def send(topic: str, payload) -> None:
        client.publish(f"{root}/{topic}", json.dumps(payload), qos=1).wait_for_publish(WAIT)

    sub.start()
    try:
        assert sub.wait_connected(WAIT), sub.last_error
        send("batch/hour", RECORDS)
        send("obs/1029A/hour", {"parameter": "no2", "time": "2024-05-01T13:00:00+08:00", "value": 20})
        wait_until(lambda: sub.stats.acked == 2, "both messages acknowledged")
        assert sub.stats.published == 4 and sub.stats.rejected == 1
        assert count(store) == 0  # acknowledged on the stream's ack, before any database write
        with bus_writer(store, cfg) as w:
            drained(store, w, nats_server.url, 4)
            assert count(store) == 4
            with store.engine.connect() as c:
                q = c.execute(select(quarantine.c.channel, quarantine.c.line, quarantine.c.origin)).all()
            assert [(x.channel, x.line) for x in q] == [("mqtt", 3)] and q[0].origin.endswith("/batch/hour")

            nats_server.kill()  # the bus down: the message is taken, not acknowledged
            failures = sub.stats.commit_failures
            send("obs/1029A/hour", {"parameter": "co", "time": "2024-05-01T13:00:00+08:00", "value": 0.6})
            wait_until(lambda: sub.stats.commit_failures > failures, "a failed publish")
            assert sub.stats.acked == 2 and sub.stats.received == 3
            nats_server.start()
            wait_until(lambda: sub.stats.acked == 3, "the message acknowledged once the bus is back")
            drained(store, w, nats_server.url, 5)
            assert count(store) == 5
    finally:
        sub.stop(timeout=5)
        client.disconnect()
        client.loop_stop()
        pub.close()
