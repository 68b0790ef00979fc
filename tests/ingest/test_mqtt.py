"""MQTT subscriber against a real broker (ECOHUB_TEST_MQTT_URL, e.g. mqtt://127.0.0.1:1883).

Each test uses its own topic root and client ids, so tests do not see each other's messages. In CI (CI=true)
the broker must be configured: a test that would skip there fails instead.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
import typer
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from ecohub.cli.ingest_cmds import register
from ecohub.ingest.mqtt import AbortIngest, MqttSubscriber, _BoundedQueue, _Message, parse_broker_url
from ecohub.store import registry as R
from ecohub.store.schema import ingest_log, observation, quarantine, series, source

WAIT = 10.0  # seconds any single wait may take


@pytest.fixture(scope="session")
def broker(mqtt_broker: str) -> str:
    return mqtt_broker


@pytest.fixture
def root() -> str:
    return f"t{uuid.uuid4().hex[:10]}/ecohub/v1"


@pytest.fixture
def sites(store):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
        R.upsert_site(c, R.SiteInput("1030A", "air_station", "高新区", 114.6, 38.05, "130100"))
    return store


@pytest.fixture
def publisher(broker):
    b = parse_broker_url(broker)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}",
                    protocol=mqtt.MQTTv5)
    c.connect(b.host, b.port)
    c.loop_start()

    def publish(topic: str, payload, qos: int = 1) -> None:
        if not isinstance(payload, bytes | str):
            payload = json.dumps(payload)
        c.publish(topic, payload, qos=qos).wait_for_publish(WAIT)

    yield publish
    c.disconnect()
    c.loop_stop()


@pytest.fixture
def subscriber(broker, root):
    """Factory of subscribers on this test's root; all are stopped at the end."""
    made: list[MqttSubscriber] = []

    def make(store, client_id: str, **kw) -> MqttSubscriber:
        kw.setdefault("batch_ms", 50)
        kw.setdefault("session_expiry", 120)
        kw.setdefault("reconnect_max", 2)
        s = MqttSubscriber(store, kw.pop("broker", broker), root=root, client_id=client_id, **kw)
        made.append(s)
        s.start()
        assert s.wait_connected(WAIT), s.last_error
        return s

    yield make
    for s in made:
        s.stop(timeout=5)


def wait_until(pred, timeout: float = WAIT, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def count(store, table=observation) -> int:
    with store.engine.connect() as c:
        return c.scalar(select(func.count()).select_from(table))


def rec(t: str, v, **kw) -> dict:
    return {"parameter": "pm25", "time": t, "value": v, **kw}


def test_good_and_bad_messages(sites, publisher, subscriber, root):
    cid = f"ecohub-test-{uuid.uuid4().hex[:8]}"
    sub = subscriber(sites, cid, max_payload=4096)
    obs = f"{root}/obs/1029A"
    publisher(obs, rec("2024-05-01T13:00:00+08:00", 35, flag="N"))                              # 1 stored
    publisher(obs + "/hour", [rec("2024-05-01 13:00", 40), rec("2024-05-01 14:00", 41, site="1029A"),
                              rec("2024-05-01 15:00", 1, site="1030A"),                         # site mismatch
                              rec("2024-05-01 16:00", "12")])                                   # string value
    publisher(f"{root}/batch", {"observations": [{"site": "1030A", "parameter": "so2", "time": "2024-05-01 13:00",
                                                  "value": 8}, rec("2024-05-01 13:00", 1)]})    # 2nd: no site
    publisher(obs, b"\xff\xfe\x00")                                                              # not UTF-8
    publisher(obs, b"{nope")                                                                     # not JSON
    publisher(obs, b"42")                                                                        # wrong shape
    publisher(obs, json.dumps([rec("2024-05-01 13:00", 1)] * 100))                               # too large
    publisher(f"{root}/status", b"{}")                                                           # not in scheme
    publisher(obs + "/weekly", rec("2024-05-01 13:00", 1))                                       # bad interval
    # the acknowledgements follow the commit (committed counts first): wait for both
    wait_until(lambda: sub.stats.committed == 9 and sub.stats.acked == 9, what="9 messages committed and acked")
    assert count(sites) == 4
    assert (sub.stats.imported, sub.stats.rejected, sub.stats.malformed, sub.stats.acked) == (4, 9, 6, 9)
    with sites.engine.connect() as c:
        q = c.execute(select(quarantine).order_by(quarantine.c.id)).mappings().all()
        intervals = sorted(c.scalars(select(series.c.interval).join(observation,
                                                                     observation.c.series_id == series.c.id)))
        sources = set(c.scalars(select(source.c.name).join(observation, observation.c.source_id == source.c.id)))
        log = c.execute(select(ingest_log).where(ingest_log.c.channel == "mqtt")).mappings().one()
    assert intervals == ["hour", "hour", "rt", "rt"] and sources == {"mqtt"}
    assert {r["channel"] for r in q} == {"mqtt"}
    by_reason = {(r["origin"], r["line"], r["field"]) for r in q}
    assert (obs + "/hour", 2, "site") in by_reason and (obs + "/hour", 3, "value") in by_reason
    assert (f"{root}/batch", 1, "site") in by_reason
    assert (f"{root}/status", None, "topic") in by_reason and (obs + "/weekly", None, "topic") in by_reason
    reasons = " | ".join(r["reason"] for r in q)
    for needle in ("not UTF-8", "not JSON", "JSON array", "larger than the limit of 4096", "not an ecohub topic",
                   "does not match the site of the topic"):
        assert needle in reasons
    mismatch = next(r for r in q if r["line"] == 2)
    assert json.loads(mismatch["raw"])["site"] == "1030A"
    assert log["imported"] == 4 and log["rejected"] == 9
    # everything was acknowledged: the same session gets nothing again
    sub.stop()
    again = subscriber(sites, cid)
    time.sleep(1.0)
    assert again.stats.received == 0 and count(sites) == 4


def test_redelivery_after_abort_before_commit(sites, publisher, subscriber, root):
    """Received but not committed (the hook aborts like a crash): a restarted subscriber with the same client id
    gets the message again from the broker and stores it exactly once."""
    cid = f"ecohub-test-{uuid.uuid4().hex[:8]}"
    seen = []

    def crash(info):
        seen.append(info)
        raise AbortIngest("simulated crash before commit")

    first = subscriber(sites, cid, before_commit=crash)
    publisher(f"{root}/obs/1029A", rec("2024-05-01T13:00:00+08:00", 35))
    wait_until(lambda: first.aborted, what="the first subscriber to abort")
    assert seen and seen[0].records == 1
    assert count(sites) == 0 and first.stats.acked == 0
    first.stop()

    second = subscriber(sites, cid)
    wait_until(lambda: second.stats.committed >= 1, what="redelivery")
    assert count(sites) == 1 and (second.stats.imported, second.stats.duplicates) == (1, 0)
    second.stop()

    third = subscriber(sites, cid)  # acknowledged after the commit: nothing comes back
    time.sleep(1.0)
    assert third.stats.received == 0 and count(sites) == 1


CRASHING_SUBSCRIBER = r"""
import os, sys
from ecohub.store.db import Store
from ecohub.ingest.mqtt import MqttSubscriber
db, broker, root, cid = sys.argv[1:5]
sub = MqttSubscriber(Store.open(db), broker, root=root, client_id=cid, session_expiry=120, batch_ms=20,
                     before_commit=lambda info: os._exit(17))   # the process dies before the commit
sub.start()
assert sub.wait_connected(10)
print("ready", flush=True)
sys.stdin.read()
"""


def test_redelivery_after_process_killed_before_commit(sites, publisher, subscriber, broker, root):
    cid = f"ecohub-test-{uuid.uuid4().hex[:8]}"
    url = sites.engine.url.render_as_string(hide_password=False)
    p = subprocess.Popen([sys.executable, "-c", CRASHING_SUBSCRIBER, url, broker, root, cid],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        publisher(f"{root}/obs/1029A", [rec("2024-05-01 13:00", 1), rec("2024-05-01 14:00", 2)])
        assert p.wait(WAIT) == 17
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert count(sites) == 0
    again = subscriber(sites, cid)
    wait_until(lambda: again.stats.committed >= 1, what="redelivery after the crash")
    assert count(sites) == 2 and again.stats.imported == 2


def test_commit_failure_is_retried_without_ack(sites, publisher, subscriber, root):
    cid = f"ecohub-test-{uuid.uuid4().hex[:8]}"
    failures = []

    def flaky(info):  # the database is away for three attempts
        if len(failures) < 3:
            failures.append(info)
            raise OperationalError("COMMIT", {}, ConnectionRefusedError("database unavailable"))

    sub = subscriber(sites, cid, before_commit=flaky)
    publisher(f"{root}/obs/1029A", rec("2024-05-01 13:00", 1))
    wait_until(lambda: sub.stats.committed == 1 and sub.stats.acked == 1, what="commit after retries, acked")
    assert sub.stats.commit_failures == 3 and sub.stats.malformed == 0 and count(sites) == 1 and sub.stats.acked == 1


def test_poison_message_does_not_stall_the_channel(sites, publisher, subscriber, root):
    """Data the database refuses (not a lost connection) is retried once, then the batch is committed message by
    message; the message that still fails is kept whole in the quarantine and acknowledged."""
    poison = f"{root}/obs/1030A"

    def refuse(info):
        if info.records and poison in info.topics:
            raise ValueError("refused by the database")

    sub = subscriber(sites, f"ecohub-test-{uuid.uuid4().hex[:8]}", before_commit=refuse, batch_ms=500)
    publisher(f"{root}/obs/1029A", rec("2024-05-01 13:00", 1))
    publisher(poison, [rec("2024-05-01 13:00", 2), rec("2024-05-01 14:00", 3)])
    publisher(f"{root}/obs/1029A", rec("2024-05-01 14:00", 4))
    wait_until(lambda: sub.stats.acked == 3, what="all three acknowledged")
    assert count(sites) == 2 and sub.stats.commit_failures >= 2
    with sites.engine.connect() as c:
        q = c.execute(select(quarantine)).mappings().one()
    assert q["origin"] == poison and "could not be stored" in q["reason"]
    assert len(json.loads(q["raw"])) == 2  # the whole message


def test_batches_many_messages_per_commit(sites, publisher, subscriber, root):
    sub = subscriber(sites, f"ecohub-test-{uuid.uuid4().hex[:8]}", batch_ms=300, batch_records=10_000)
    for i in range(60):
        publisher(f"{root}/obs/1029A", rec(f"2024-05-01T{i // 60:02d}:{i % 60:02d}:00+08:00", i), qos=1)
    wait_until(lambda: sub.stats.committed == 60, what="60 messages")
    assert count(sites) == 60 and sub.stats.batches < 20


def test_back_pressure_bounded_queue(sites, publisher, subscriber, root):
    """QoS 0 floods are not limited by the broker's in-flight window: the queue stays bounded and reading
    from the socket pauses instead."""
    sub = subscriber(sites, f"ecohub-test-{uuid.uuid4().hex[:8]}", queue_messages=5, batch_records=1,
                     before_commit=lambda info: time.sleep(0.005))
    n = 150
    for i in range(n):
        publisher(f"{root}/obs/1029A", rec(f"2024-05-01T{i // 60:02d}:{i % 60:02d}:00+08:00", i), qos=0)
    wait_until(lambda: sub.stats.committed == n, timeout=30, what=f"{n} messages")
    assert count(sites) == n
    assert sub.queue.high_water <= 5 and sub.queue.full_waits > 0


def test_shared_subscription_spreads_the_load(sqlite_store, publisher, subscriber, root):
    with sqlite_store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
    share = [f"$share/g{uuid.uuid4().hex[:6]}/{root}/#"]
    a = subscriber(sqlite_store, f"ecohub-test-{uuid.uuid4().hex[:8]}", topics=share)
    b = subscriber(sqlite_store, f"ecohub-test-{uuid.uuid4().hex[:8]}", topics=share)
    for i in range(40):
        publisher(f"{root}/obs/1029A", rec(f"2024-05-01T00:{i:02d}:00+08:00", i))
    wait_until(lambda: a.stats.committed + b.stats.committed == 40, what="40 messages between the two")
    assert count(sqlite_store) == 40 and a.stats.imported + b.stats.imported == 40


def test_bounded_queue_blocks_until_taken():
    q = _BoundedQueue(max_items=2, max_bytes=10_000)
    give_up = threading.Event()
    for i in range(2):
        assert q.put(_Message("t", b"x", i, 1, 1, 1), give_up)
    done = []
    t = threading.Thread(target=lambda: done.append(q.put(_Message("t", b"x", 3, 1, 1, 1), give_up)))
    t.start()
    time.sleep(0.2)
    assert not done and len(q) == 2
    assert q.get(0.1).mid == 0
    t.join(2)
    assert done == [True] and len(q) == 2 and q.high_water == 2 and q.full_waits == 1
    t = threading.Thread(target=lambda: done.append(q.put(_Message("t", b"x", 4, 1, 1, 1), give_up)))
    t.start()
    give_up.set()
    t.join(2)
    assert done == [True, False]


def test_never_crashes_on_any_payload(sites, publisher, subscriber, root):
    sub = subscriber(sites, f"ecohub-test-{uuid.uuid4().hex[:8]}", max_payload=2048)
    rnd = random.Random(212)
    pieces = [b"{", b"}", b"[", b"]", b'"site"', b'"value"', b":", b",", b"null", b"1e999", b"NaN", b'"\\ud800"',
              b"\xff", b"\x00", b"true", b'"observations"', b'{"parameter":"pm25"}']
    payloads = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(300))) for _ in range(60)]
    payloads += [b"".join(rnd.choice(pieces) for _ in range(rnd.randrange(1, 30))) for _ in range(60)]
    payloads += [b"", b"[]", b"{}", b"[" * 5000 + b"]" * 5000, b"[null]", b'{"observations": null}', b"x" * 5000,
                 b'[{"site":"\\ud800","parameter":"\\u0000","time":"2024-05-01","value":1,"flag":"\\udfff"}]',
                 b'{"site":"1029A\\u0000","parameter":"pm25","time":"2024-05-01\\ud800","value":1}']
    topics = [f"{root}/obs/1029A", f"{root}/batch", f"{root}/obs/1029A/hour", f"{root}/obs/NOPE"]
    for i, p in enumerate(payloads):
        publisher(topics[i % len(topics)], p)
    publisher(f"{root}/obs/1029A", rec("2024-05-01 13:00", 7))
    wait_until(lambda: sub.stats.committed == len(payloads) + 1 and sub.stats.acked == len(payloads) + 1,
               what="all messages, acked")
    assert not sub.aborted and sub.last_error is None
    assert count(sites) >= 1 and sub.stats.acked == len(payloads) + 1


class _Proxy:
    """A TCP relay to the broker that the test can cut, to make the broker 'go away'."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.conns: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            if not self.up.is_set():
                c.close()
                continue
            u = socket.create_connection(self.target)
            self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.up.clear()
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.conns = []

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.lsock.close()


def test_reconnects_when_the_broker_goes_away(sqlite_store, publisher, subscriber, broker, root):
    with sqlite_store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
    b = parse_broker_url(broker)
    proxy = _Proxy(b.host, b.port)
    try:
        sub = subscriber(sqlite_store, f"ecohub-test-{uuid.uuid4().hex[:8]}", broker=f"mqtt://127.0.0.1:{proxy.port}",
                         reconnect_min=1, reconnect_max=1)
        publisher(f"{root}/obs/1029A", rec("2024-05-01 13:00", 1))
        wait_until(lambda: count(sqlite_store) == 1, what="first message")
        proxy.cut()
        wait_until(lambda: not sub._connected.is_set(), what="the subscriber to notice")
        publisher(f"{root}/obs/1029A", rec("2024-05-01 14:00", 2))  # kept by the broker for the session
        time.sleep(1.5)
        assert count(sqlite_store) == 1
        proxy.up.set()
        wait_until(lambda: count(sqlite_store) == 2, what="the message published while away")
        assert sub.stats.connects >= 2
    finally:
        proxy.close()


def test_cli_mqtt_subscribe(sqlite_store, publisher, broker, root):
    with sqlite_store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
    cid = f"ecohub-test-{uuid.uuid4().hex[:8]}"
    # the session exists before the command runs (as after an earlier run): the broker keeps what arrives meanwhile
    b = parse_broker_url(broker)
    pre = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 120
    pre.connect(b.host, b.port, clean_start=True, properties=props)
    pre.loop_start()
    pre.subscribe(f"{root}/#", qos=1)[1]
    time.sleep(0.3)
    pre.disconnect()
    pre.loop_stop()
    publisher(f"{root}/obs/1029A/hour", [rec("2024-05-01 13:00", 1), rec("2024-05-01 14:00", 2)])

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # more than one command: sub-command names are used
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(app, ["mqtt-subscribe", "--broker", broker, "--root", root, "--client-id", cid,
                                 "--duration", "2", "--json", "--database-url", url])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    assert out["imported"] == 2 and out["acked"] == 1
    assert count(sqlite_store) == 2
    bad = CliRunner().invoke(app, ["mqtt-subscribe", "--broker", "http://x", "--database-url", url])
    assert bad.exit_code == 2 and "broker" in bad.output
