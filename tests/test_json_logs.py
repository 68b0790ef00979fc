"""JSON structured logs (issue 18.4): one object a line with ts, level, logger, msg; the API's request id (the
caller's X-Request-ID or a generated one, echoed in the answer, carried into the handler's thread) and the HJ 212
gateway's connection id (one per TCP connection). ``--log-format`` / ``ECOHUB_LOG_FORMAT`` choose the format."""

from __future__ import annotations

import io
import json
import logging
import socket
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ecohub import logs


@pytest.fixture
def json_log():
    root = logging.getLogger()
    level = root.level
    buf = io.StringIO()
    handler = logs.setup("debug", fmt="json", stream=buf)
    yield buf
    root.removeHandler(handler)
    root.setLevel(level)


def lines(buf: io.StringIO) -> list[dict]:
    out = [json.loads(x) for x in buf.getvalue().splitlines() if x.strip()]  # every line is one JSON object
    for o in out:
        assert {"ts", "level", "logger", "msg"} <= o.keys() and o["ts"].endswith("+00:00"), o
    return out


def test_api_request_id_taken_or_generated_echoed_and_in_the_log_lines(store, json_log):
    from ecohub.api.app import create_app

    app = create_app(store)

    @app.get("/test-logs-inside")
    def inside() -> dict:  # a sync handler: runs in the thread pool
        logging.getLogger("ecohub.test").warning("inside the handler")
        return {}

    client = TestClient(app)
    r = client.get("/test-logs-inside", headers={"X-Request-ID": "req-42.a"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "req-42.a"
    gen = client.get("/healthz").headers["x-request-id"]
    bad = client.get("/healthz", headers={"X-Request-ID": "not a sane id;drop table"}).headers["x-request-id"]
    assert len(gen) == 32 and len(bad) == 32 and gen != bad and bad != "not a sane id"
    out = lines(json_log)
    mine = [o for o in out if o.get("request_id") == "req-42.a"]
    assert [(o["logger"], o["level"], o["msg"]) for o in mine if o["logger"] == "ecohub.test"] == [
        ("ecohub.test", "warning", "inside the handler")]
    assert any(o["logger"] == "ecohub.api.access" and o["msg"].startswith("GET /test-logs-inside 200") for o in mine)
    assert any(o.get("request_id") == gen and o["msg"].startswith("GET /healthz 200") for o in out)


def test_gateway_connection_id_per_tcp_connection(store, json_log):
    from ecohub.ingest.hj212 import start_in_thread

    handle = start_in_thread(store, port=0)
    try:
        for _ in range(2):
            with socket.create_connection(("127.0.0.1", handle.port), timeout=5) as s:
                s.sendall(b"##0000garbage\r\n")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum("closed after" in o["msg"] for o in lines(json_log)) < 2:
            time.sleep(0.05)  # bounded wait for both connections to be closed
    finally:
        handle.stop()
    gw = [o for o in lines(json_log) if o["logger"] == "ecohub.gateway" and "connection_id" in o]
    ids = list(dict.fromkeys(o["connection_id"] for o in gw))
    assert len(ids) == 2, gw  # one id per connection …
    for cid in ids:  # … on its connected and closed lines
        msgs = [o["msg"] for o in gw if o["connection_id"] == cid]
        assert any(m.endswith(": connected") for m in msgs) and any("closed after" in m for m in msgs), msgs
        assert cid.split("-", 1)[1].startswith("127.0.0.1:")
    assert not any("connection_id" in o for o in lines(json_log) if "listening" in o["msg"])


def test_format_from_the_configuration_and_the_command_line(monkeypatch):
    monkeypatch.setenv("ECOHUB_LOG_FORMAT", "json")
    assert logs.log_format() == "json"
    monkeypatch.setenv("ECOHUB_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        logs.log_format()
    monkeypatch.delenv("ECOHUB_LOG_FORMAT")
    assert logs.log_format() == "text"
    from ecohub.cli.main import build

    app = build(["ecohub.cli.config_cmds"])
    r = CliRunner().invoke(app, ["--log-format", "xml", "config", "show"])
    assert r.exit_code == 2 and "--log-format" in r.output
    try:
        r = CliRunner().invoke(app, ["--log-format", "json", "config", "show"])
        assert r.exit_code == 0 and logs.log_format() == "json"
    finally:
        logs.set_format(None)
    buf = io.StringIO()
    handler = logs.setup("info", fmt="text", stream=buf)
    try:
        token = logs.connection_id.set("7-127.0.0.1:5")
        logging.getLogger("ecohub.test").info("hello")
        logs.connection_id.reset(token)
    finally:
        logging.getLogger().removeHandler(handler)
    assert buf.getvalue().rstrip().endswith("ecohub.test: hello [conn=7-127.0.0.1:5]")
