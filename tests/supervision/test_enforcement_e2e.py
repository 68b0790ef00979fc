"""The loop closed, end to end (issue 15 proof): an outlet exceeds its permit limit, reported over HJ 212 through
the real gateway on 127.0.0.1 → the permit alert → a targeted inspection whose evidence panel shows those hours
→ a case opened from the alert and advanced to a penalty decision with a generated DOCX → the enterprise's credit
level drops with the case among its facts → the public penalty endpoint shows it. Both backends."""

from __future__ import annotations

import io
import socket
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from permit_support import ENT, make_enterprise

from ecohub.alerts.permits import import_permits
from ecohub.alerts.service import list_alerts
from ecohub.alerts.worker import WorkerSettings, run_once
from ecohub.api.app import create_app
from ecohub.api.identity import AuthConfig
from ecohub.ingest.hj212 import GatewayConfig, start_in_thread
from ecohub.protocols.hj212 import BEIJING, StreamFramer, frame_segment
from ecohub.store import registry as R
from ecohub.store.audit import Origin
from ecohub.store.queries import SYSTEM
from ecohub.supervision.cases import documents
from ecohub.supervision.cases import service as cases
from ecohub.supervision.credit import service as credit
from ecohub.supervision.inspect import evidence, records

ORIG = Origin("officer-e2e", "officer")
MN = "E2E0000000001"
PW = "123456"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


def _send_hours(port: int, hours: list[datetime], nox: float) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    framer = StreamFramer()
    try:
        for i, t in enumerate(hours):
            qn = datetime.now(BEIJING).strftime("%Y%m%d%H%M%S") + f"{i:03d}"
            cp = f"DataTime={t.astimezone(BEIJING).strftime('%Y%m%d%H%M%S')};a21002-Avg={nox:.1f},a21002-Flag=N"
            sock.sendall(frame_segment(f"QN={qn};ST=31;CN=2061;PW={PW};MN={MN};Flag=5;CP=&&{cp}&&"))
            deadline = time.monotonic() + 10
            acked = False
            while not acked and time.monotonic() < deadline:
                data = sock.recv(65536)
                assert data, "the gateway closed the connection"
                for item in framer.feed(data):
                    acked = acked or qn.encode() in (item if isinstance(item, bytes) else str(item).encode())
            assert acked, f"no answer to packet {qn}"
    finally:
        sock.close()


def test_exceedance_to_public_penalty(store, tmp_path):
    make_enterprise(store, code=ENT, region="130102", outlets=(("E2E-GAS", "gas_outlet"),))
    with store.engine.begin() as c:
        R.add_device(c, MN, PW, "E2E-GAS", "2017")
    (tmp_path / "p.csv").write_text("site,parameter,limit,unit,period,converted_o2\nE2E-GAS,nox,100,mg/m3,hour,\n",
                                    encoding="utf-8")
    assert import_permits(store, tmp_path / "p.csv").imported == 1
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [now - timedelta(hours=h) for h in (6, 5, 4, 3)]
    gw = start_in_thread(store, port=0, config=GatewayConfig(command_poll=0.1))
    try:
        _send_hours(gw.port, hours, 150.0)
    finally:
        gw.stop()
    run_once(store, WorkerSettings(deliver=False))
    (a,) = [x for x in list_alerts(store) if x["rule"] == "permit"]
    assert a["site"] == "E2E-GAS" and a["parameter"] == "nox"

    before = credit.rate(store, SYSTEM, ORIG, now.year, uscc=ENT)[0]
    assert before["facts"]["cases_decided"] == 0

    insp = records.record(store, SYSTEM, ORIG, uscc=ENT, inspected_at=now - timedelta(hours=1),
                          inspectors=["张三", "李四"], kind="targeted", trigger_kind="alert", trigger_ref=str(a["id"]),
                          checklist={"treatment_running": "problem", "cems_running": "ok"},
                          findings="脱硝设施停运", attachments=[records.Attachment("site.jpg", "image/jpeg", JPEG)])
    assert insp["kind"] == "targeted" and insp["attachments"][0]["size"] == len(JPEG)
    panel = evidence.panel(store, SYSTEM, insp["id"])
    (out,) = panel["outlets"]
    assert out["exceedance_hour_count"] == 4
    assert {e["time"] for e in out["exceedance_hours"]} == {h.isoformat() for h in hours}
    assert out["alerts"][0]["rule"] == "permit"

    today = now.date()
    start = today - timedelta(days=3)  # decided today: in the year rated
    c = cases.open_case(store, SYSTEM, ORIG, uscc=ENT, violation="air_exceed", source_kind="alert",
                        source_ref=str(a["id"]), discovered_on=start, filed_on=start, supervisor="chief")
    n = c["number"]
    cases.advance(store, SYSTEM, ORIG, n, on=start + timedelta(days=1))
    cases.add_penalty(store, SYSTEM, ORIG, n, kind="fine", amount_yuan=200_000)
    cases.advance(store, SYSTEM, ORIG, n, on=start + timedelta(days=2))
    c = cases.advance(store, SYSTEM, ORIG, n, "decided", on=start + timedelta(days=3), waived=True,
                      note="当事人书面放弃陈述申辩和听证")
    assert c["state"] == "decided"
    doc = documents.generate(store, SYSTEM, ORIG, n, "penalty_decision")
    name, data = documents.content(store, SYSTEM, n, doc["id"])
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "行政处罚决定书" in text and ENT in text and "200,000.00 元" in text and "第九十九条" in text

    after = credit.rate(store, SYSTEM, ORIG, now.year, uscc=ENT)[0]
    assert after["version"] == before["version"] + 1
    assert n in after["facts"]["cases"] and after["score"] < before["score"]
    order = ["green", "blue", "yellow", "red"]
    assert order.index(after["level"]) > order.index(before["level"])

    app = create_app(store, auth=AuthConfig(secret="e2e-" + "x" * 40))
    pub = TestClient(app).get("/api/v1/public/penalties").json()
    assert pub[0]["number"] == n and pub[0]["penalties"][0]["amount_yuan"] == 200_000
