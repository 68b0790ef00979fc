"""Push exchange with a partner (a local test-double partner server on 127.0.0.1 that checks our signatures with
its own code of the documented scheme), pull = push, at-least-once delivery with the same batch id, the exchange
log reconciled with the partner's; incoming signed batches from a partner department through the one writer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from conftest import SITES
from ecohub.catalog import service as C
from ecohub.catalog import watermark
from ecohub.crypto import sm2
from ecohub.crypto.sm3 import sm3_hex
from ecohub.exchange.partners import add_partner, subscribe
from ecohub.exchange.push import compare_logs, exchange_log, push
from ecohub.exchange.signing import Signer
from ecohub.store.schema import observation, quarantine, source
from ecohub.store.tx import write_tx

FROM, TO = "2026-01-11T00:00", "2026-01-13T00:00"  # Beijing time


class PartnerDouble:
    """What a partner runs: checks the headers and HMAC signature per docs/exchange.md (its own code), the rows
    hash, applies each batch id once, keeps its log; ``down`` makes it answer 503."""

    def __init__(self, secret: str | None = None):
        self.secret = secret
        self.alg = "hmac-sha256"
        self.public: str | None = None  # sm2: the sender's public key
        self.down = False
        self.batches: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.refused: list[str] = []
        app = Starlette(routes=[Route("/ecohub/batches", self.receive, methods=["POST"]),
                                Route("/ecohub/batches/log", self.log, methods=["GET"])])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}/ecohub/batches"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def hash(self, data: bytes) -> str:
        return sm3_hex(data) if self.alg == "sm2" else hashlib.sha256(data).hexdigest()

    def check(self, request: Request, body: bytes) -> str | None:
        h = request.headers
        digest = ("sm3=" if self.alg == "sm2" else "sha256=") + self.hash(body)
        if h.get("x-ecohub-content-digest") != digest or h.get("x-ecohub-signature-alg") != self.alg:
            return "digest"
        msg = "\n".join(["ECOHUB-EXCHANGE-1", request.method, request.url.path, h["x-ecohub-timestamp"],
                         h["x-ecohub-batch-id"], h["x-ecohub-key-id"], digest]).encode()
        sig = base64.b64decode(h["x-ecohub-signature"])
        if self.alg == "sm2":
            if not sm2.verify(self.public or "", msg, sig):
                return "signature"
        elif not hmac.compare_digest(sig, hmac.new(bytes.fromhex(self.secret or ""), msg, hashlib.sha256).digest()):
            return "signature"
        if abs(int(h["x-ecohub-timestamp"]) - time.time()) > 300:
            return "time"
        return None

    async def receive(self, request: Request) -> JSONResponse:
        body = await request.body()
        self.requests.append(dict(request.headers))
        if self.down:
            return JSONResponse({"detail": "maintenance"}, status_code=503)
        why = self.check(request, body)
        if why:
            self.refused.append(why)
            return JSONResponse({"detail": why}, status_code=401)
        doc = json.loads(body)
        canon = json.dumps(doc["rows"], ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        if self.hash(canon) != doc["rows_hash"] or len(doc["rows"]) != doc["row_count"]:
            return JSONResponse({"detail": "rows hash"}, status_code=400)
        bid = request.headers["x-ecohub-batch-id"]
        dup = bid in self.batches
        if not dup:
            self.batches[bid] = doc
        return JSONResponse({"received": len(doc["rows"]), "duplicate": dup})

    async def log(self, request: Request) -> JSONResponse:
        if self.check(request, b""):
            return JSONResponse({"detail": "signature"}, status_code=401)
        return JSONResponse([{"batch_id": b, "rows": d["row_count"], "hash": d["rows_hash"]}
                             for b, d in self.batches.items()])


@pytest.fixture
def double():
    d = PartnerDouble()
    yield d
    d.stop()


def _dataset(world, **kw) -> dict:
    spec = {"code": "air-hourly", "title": "空气小时数据", "description": "d", "owner_department": "监测处",
            "update_frequency": "hourly", "sharing_level": "conditional", "open_level": "closed",
            "source": {"type": "observations", "kinds": ["air_station"]}}
    spec.update(kw)
    r = world.post("admin", "/api/v1/datasets", json=spec)
    assert r.status_code == 201, r.text
    with world.store.engine.connect() as c:
        return C.get_dataset(c, r.json()["id"])


def _grant(world, ds_id: int) -> None:
    rid = world.post("partner", f"/api/v1/datasets/{ds_id}/requests", json={"purpose": "防汛会商 flood coordination"}).json()["id"]
    assert world.post("admin", f"/api/v1/access-requests/{rid}/decision",
                      json={"approve": True, "days": 30}).status_code == 200


def _key(r: dict) -> tuple:
    return tuple(r[k] for k in ("site", "parameter", "interval", "time", "flag", "source"))


def test_push_equals_pull_at_least_once_with_a_grant_and_reconciles(world, double):
    store = world.store
    ds = _dataset(world)
    p = add_partner(store, "water-dept", endpoint=double.url, user="partner", department="水利厅")
    double.secret = p["secret"]
    subscribe(store, "water-dept", "air-hourly")
    time.sleep(1.1)  # a delta stops before the current second (received_at has whole seconds)
    # no grant yet: nothing is pushed
    [r] = push(store, "water-dept")
    assert r["status"] == "no access" and "grant" in r["error"] and double.requests == []
    _grant(world, ds["id"])
    # the partner is down: the batch is kept and counted, the round stops
    double.down = True
    [r] = push(store, "water-dept", max_rows=200)
    assert r["status"] == "partner unreachable" and r["pending"] == 1 and "503" in r["error"]
    [first] = exchange_log(store, "water-dept")
    assert first["status"] == "pending" and first["attempts"] == 1 and first["rows"] > 0
    # back up: the same batch (same id, same rows) goes first, then the rest of the delta in batches of ≤ 200 rows
    double.down = False
    [r] = push(store, "water-dept", max_rows=200)
    assert r["status"] == "ok" and r["delivered"] >= 2
    log = exchange_log(store, "water-dept")
    assert {b["status"] for b in log} == {"delivered"} and first["batch_id"] in double.batches
    assert [b["attempts"] for b in log if b["batch_id"] == first["batch_id"]] == [2]
    assert all(b["rows"] <= 200 for b in log) and double.refused == []
    assert sum(b["rows"] for b in log) == r["rows"] and r["rows"] == sum(
        len(d["rows"]) for d in double.batches.values())
    # nothing new: no empty batch
    assert push(store, "water-dept")[0]["delivered"] == 0 and len(exchange_log(store, "water-dept")) == len(log)
    # pull (the catalogue export the partner may download) gives the same rows: same keys and fields; values
    # equal at their published precision (each export carries its own recipient watermark below it)
    pulled = world.get("partner", f"/api/v1/datasets/{ds['id']}/export?format=json&from={FROM}&to={TO}").json()
    pushed = [row for d in double.batches.values() for row in d["rows"]]
    assert len(pulled) == len(pushed) > 100
    assert sorted(map(_key, pulled)) == sorted(map(_key, pushed))
    by_key = {_key(row): row for row in pulled}
    for row in pushed:
        d = watermark.DECIMALS.get(row["parameter"], 3)
        assert round(row["value"], d) == round(by_key[_key(row)]["value"], d)
    assert {row["site"] for row in pushed} == {s for s, v in SITES.items() if v[0] == "air_station"}
    # the rows of a pushed batch carry the partner's watermark (one key per batch): a leaked copy names it
    found = C.identify(store, max((d["rows"] for d in double.batches.values()), key=len))
    assert found["identified"] and found["recipient"] == "partner:water-dept"
    # reconcile: our log and the partner's agree; a changed hash on their side is named
    theirs = [{"batch_id": b, "rows": d["row_count"], "hash": d["rows_hash"]} for b, d in double.batches.items()]
    ok = compare_logs(exchange_log(store, "water-dept"), theirs)
    assert ok["ok"] and ok["matched"] == len(log)
    theirs[0]["hash"] = "0" * 64
    bad = compare_logs(exchange_log(store, "water-dept"), theirs[:-1])
    assert not bad["ok"] and [d["batch_id"] for d in bad["differ"]] == [theirs[0]["batch_id"]]
    assert bad["missing_there"] == [theirs[-1]["batch_id"]]


def test_a_records_dataset_is_pushed_masked_exactly_as_pulled_and_reconciled_by_cli(world, double, tmp_path):
    store = world.store
    fields = [{"name": "name", "type": "string", "mask": "name"}, {"name": "phone", "type": "string", "mask": "phone"},
              {"name": "station", "type": "string"}, {"name": "level", "type": "number"}]
    ds = _dataset(world, code="flood-contacts", source={"type": "records"}, fields=fields)
    with write_tx(store) as c:
        C.add_records(c, ds, [{"name": "张三丰", "phone": "13812345678", "station": "滹沱河", "level": 3.2},
                              {"name": "李四", "phone": "13987654321", "station": "滏阳河", "level": 1.5}])
    _grant(world, ds["id"])
    p = add_partner(store, "flood-office", endpoint=double.url, user="partner")
    double.secret = p["secret"]
    subscribe(store, "flood-office", "flood-contacts")
    assert push(store, "flood-office")[0]["status"] == "ok"
    with write_tx(store) as c:  # a delta: only the new record goes next
        C.add_records(c, ds, [{"name": "王五", "phone": "13700001111", "station": "子牙河", "level": 0.4}])
    assert push(store, "flood-office")[0]["rows"] == 1
    pushed = [row for d in double.batches.values() for row in d["rows"]]
    pulled = world.get("partner", f"/api/v1/datasets/{ds['id']}/export?format=json").json()
    assert pushed == pulled and pushed[0]["name"] != "张三丰" and "1234" not in pushed[0]["phone"]
    # ecohub exchange reconcile reads the partner's log (signed GET) and compares
    from ecohub.cli.main import app as cli

    url = store.engine.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(cli, ["exchange", "reconcile", "--partner", "flood-office", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["matched"] == 2
    r = CliRunner().invoke(cli, ["exchange", "log", "--partner", "flood-office", "--json", "--database-url", url])
    assert [json.loads(x)["rows"] for x in r.output.splitlines()] == [1, 2]


def _incoming_setup(world) -> tuple[dict, Signer]:
    _dataset(world, code="meteo-sjz", source={"type": "observations", "sites": ["AIR-SJZ-1"]})
    p = add_partner(world.store, "meteo", incoming=["meteo-sjz"], department="省气象局")
    return p, Signer(p["key_id"], "hmac-sha256", secret=p["secret"])


def _post(world, signer: Signer, rows: list[dict[str, Any]], batch_id: str, *, dataset: str = "meteo-sjz",
          rows_hash: str | None = None, tamper=None):
    canon = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    doc = {"batch_id": batch_id, "interval": "hour", "rows": rows,
           "rows_hash": rows_hash or hashlib.sha256(canon).hexdigest()}
    body = json.dumps(doc, ensure_ascii=False).encode()
    path = f"/api/v1/exchange/incoming/{dataset}"
    headers = signer.headers("POST", path, batch_id, body)
    if tamper is not None:
        body = tamper(body)
    return world.client.post(path, content=body, headers={**headers, "Content-Type": "application/json"})


def _count(store, src: str) -> int:
    with store.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(observation.join(
            source, source.c.id == observation.c.source_id)).where(source.c.name == src)))


def test_incoming_batch_goes_through_validation_and_the_writer_once(world):
    store = world.store
    _p, signer = _incoming_setup(world)
    rows = [{"site": "AIR-SJZ-1", "parameter": "temp", "time": "2026-01-12T08:00:00+08:00", "value": -3.5},
            {"site": "AIR-SJZ-1", "parameter": "humidity", "time": "2026-01-12T08:00:00+08:00", "value": "wet"},
            {"site": "AIR-TS-1", "parameter": "temp", "time": "2026-01-12T08:00:00+08:00", "value": 1.0}]
    r = _post(world, signer, rows, "met-0001")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["imported"], out["rejected"], out["duplicate"]) == (1, 2, False)
    assert {(e["index"], e["field"], e["value"]) for e in out["errors"]} == {(1, "value", "wet"),
                                                                             (2, "site", "AIR-TS-1")}
    assert _count(store, "exchange") == 1
    with store.engine.connect() as c:
        q = c.execute(select(quarantine.c.channel, quarantine.c.field, quarantine.c.origin)
                      .where(quarantine.c.channel == "exchange")).all()
    assert sorted(x.field for x in q) == ["site", "value"] and q[0].origin == "partner:meteo/meteo-sjz"
    # a replay (same batch id) is answered as before and not applied twice
    again = _post(world, signer, rows, "met-0001").json()
    assert again["duplicate"] is True and again["imported"] == 1 and _count(store, "exchange") == 1
    [logged] = exchange_log(store, "meteo", "in")
    assert (logged["rows"], logged["status"], logged["detail"]["rejected"]) == (3, "applied", 2)


def test_incoming_refusals_name_the_reason(world):
    _p, signer = _incoming_setup(world)
    rows = [{"site": "AIR-SJZ-1", "parameter": "temp", "time": "2026-01-12T09:00:00+08:00", "value": 2.0}]
    # a changed byte after signing
    r = _post(world, signer, rows, "met-x1", tamper=lambda b: b.replace(b"2.0", b"9.0"))
    assert r.status_code == 401 and "body was changed" in r.json()["detail"]
    # the wrong key
    r = _post(world, Signer(signer.key_id, "hmac-sha256", secret="ab" * 32), rows, "met-x2")
    assert r.status_code == 401 and "does not verify" in r.json()["detail"]
    r = _post(world, Signer("nobody-1", "hmac-sha256", secret="ab" * 32), rows, "met-x3")
    assert r.status_code == 401 and "nobody-1" in r.json()["detail"]
    # signed, but the rows hash in the batch does not match its rows
    r = _post(world, signer, rows, "met-x4", rows_hash="0" * 64)
    assert r.status_code == 400 and "rows were changed" in r.json()["detail"]
    _dataset(world, code="other-ds")
    r = _post(world, signer, rows, "met-x5", dataset="other-ds")
    assert r.status_code == 403 and "other-ds" in r.json()["detail"]
    # a replay of an old request outside the time window
    body = json.dumps({"batch_id": "met-x6", "rows": rows}).encode()
    path = "/api/v1/exchange/incoming/meteo-sjz"
    old = signer.headers("POST", path, "met-x6", body, now=time.time() - 3600)
    r = world.client.post(path, content=body, headers=old)
    assert r.status_code == 401 and "Timestamp" in r.json()["detail"]
    assert _count(world.store, "exchange") == 0
    # the log endpoints are the admin's
    assert world.get("partner", "/api/v1/exchange/log").status_code == 403
    assert world.get("admin", "/api/v1/exchange/log").status_code == 200


def test_sm2_partner_both_ways(world, double):
    """An SM2 partner: what we push is signed with our SM2 key for it (verified by the partner with our public
    key) and hashed with SM3; what it pushes is verified with its public key; a changed byte is refused."""
    store = world.store
    _dataset(world, code="sm2-in", source={"type": "observations", "sites": ["AIR-SJZ-1"]})
    ds = _dataset(world, code="sm2-out", sharing_level="unconditional",
                  source={"type": "observations", "sites": ["AIR-TS-1"]})
    their_private, their_public = sm2.generate_keypair()
    p = add_partner(store, "nation", alg="sm2", endpoint=double.url, user="partner", incoming=["sm2-in"],
                    partner_public=their_public)
    assert p["secret"] is None and p["sign_public"].startswith("04") and len(p["sign_public"]) == 130
    double.alg, double.public = "sm2", p["sign_public"]
    subscribe(store, "nation", "sm2-out")
    time.sleep(1.1)
    [r] = push(store, "nation")
    assert r["status"] == "ok" and r["rows"] > 0 and double.refused == [], (r, double.refused)
    [b] = exchange_log(store, "nation", "out")
    assert b["hash_alg"] == "sm3" and b["batch_id"] in double.batches and ds["code"] == "sm2-out"
    # incoming, signed by the partner's SM2 key
    signer = Signer(p["key_id"], "sm2", private=their_private)
    rows = [{"site": "AIR-SJZ-1", "parameter": "temp", "time": "2026-01-12T10:00:00+08:00", "value": 4.5}]
    canon = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    body = json.dumps({"batch_id": "n-1", "interval": "hour", "rows": rows, "rows_hash": sm3_hex(canon)}).encode()
    path = "/api/v1/exchange/incoming/sm2-in"
    headers = signer.headers("POST", path, "n-1", body)
    bad = world.client.post(path, content=body.replace(b"4.5", b"5.4"), headers=headers)
    assert bad.status_code == 401 and "body was changed" in bad.json()["detail"]
    forged = Signer(p["key_id"], "sm2", private=sm2.generate_keypair()[0]).headers("POST", path, "n-1", body)
    assert world.client.post(path, content=body, headers=forged).status_code == 401
    ok = world.client.post(path, content=body, headers=headers)
    assert ok.status_code == 200 and ok.json()["imported"] == 1, ok.text
    assert _count(store, "exchange") == 1


def test_forwarding_status_on_the_status_page_api_and_metrics(world):
    from ecohub.exchange.forward import add_destination
    from ecohub.store.schema_exchange import forward_outbox

    d = add_destination(world.store, "national-platform", "10.9.8.7", 6020)
    with write_tx(world.store) as c:  # one packet waiting for 90 s
        from datetime import UTC, datetime, timedelta

        c.execute(forward_outbox.insert().values(destination_id=d["id"], mn="MN1", cn="2011", ref="1", frame="##…",
                                                 status="pending", created_at=datetime.now(UTC) - timedelta(
                                                     seconds=90)))
    st = world.get("anonymous", "/api/v1/status").json()["forwarding"]
    assert [(f["name"], f["backlog"]) for f in st] == [("national-platform", 1)] and st[0]["lag_seconds"] >= 90
    assert "host" not in st[0] and "10.9.8.7" not in world.get("anonymous", "/api/v1/status").text
    page = world.get("anonymous", "/status").text
    assert "数据转发" in page and "national-platform" in page and "10.9.8.7" not in page
    metrics = world.get("anonymous", "/metrics").text
    assert 'ecohub_forward_backlog{destination="national-platform"} 1.0' in metrics
    assert 'ecohub_forward_lag_seconds{destination="national-platform"}' in metrics
    assert world.get("partner", "/api/v1/exchange/forwarding").status_code == 403
    full = world.get("admin", "/api/v1/exchange/forwarding").json()
    assert full[0]["host"] == "10.9.8.7" and full[0]["backlog"] == 1
