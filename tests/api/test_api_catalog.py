"""The data resource catalogue: sharing and open levels, request → approve/refuse → grant with expiry, masked
and watermarked exports, and ``ecohub watermark identify`` naming the recipient of a re-saved file."""

from __future__ import annotations

import csv
import io
import random

from sqlalchemy import update
from typer.testing import CliRunner

from conftest import PASSWORD
from ecohub.cli.main import app as cli
from ecohub.store.schema_catalog import access_request

FROM, TO = "2026-01-11T00:00", "2026-01-13T00:00"  # Beijing time


def _dataset(world, **kw) -> int:
    spec = {"code": "ds", "title": "t", "description": "d", "owner_department": "监测处", "update_frequency": "hourly",
            "sharing_level": "conditional", "open_level": "closed",
            "source": {"type": "observations", "kinds": ["gas_outlet"]}}
    spec.update(kw)
    r = world.post("admin", "/api/v1/datasets", json=spec)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_catalogue_visibility_by_levels(world):
    closed = _dataset(world, code="closed", sharing_level="none", open_level="closed")
    shared = _dataset(world, code="shared", sharing_level="unconditional", open_level="closed")
    opened = _dataset(world, code="opened", sharing_level="unconditional", open_level="open",
                      source={"type": "observations", "kinds": ["air_station"]})
    listing = {who: {d["code"]: d["access"] for d in world.get(who, "/api/v1/datasets").json()}
               for who in ("anonymous", "partner", "ent1", "analyst")}
    assert listing["anonymous"] == {"opened": "open"}
    assert listing["partner"] == {"shared": "shared", "opened": "open"}
    assert listing["ent1"] == {"opened": "open"}
    assert listing["analyst"] == {"closed": "full", "shared": "full", "opened": "full"}
    assert world.get("partner", f"/api/v1/datasets/{closed}").status_code == 404
    assert world.get("anonymous", f"/api/v1/datasets/{shared}/export").status_code == 404
    ok = world.get("anonymous", f"/api/v1/datasets/{opened}/export?format=json&from={FROM}&to={TO}")
    assert ok.status_code == 200 and {r["site"] for r in ok.json()} == {"AIR-SJZ-1", "AIR-TS-1", "AIR-TS-CLOSED"}
    ok = world.get("partner", f"/api/v1/datasets/{shared}/export?format=csv&from={FROM}&to={TO}")
    assert ok.status_code == 200 and "OUT-TS-E2" in ok.text  # a shared dataset is the dataset, not the region


def test_request_approve_refuse_expire(world):
    ds = _dataset(world)
    url = f"/api/v1/datasets/{ds}/export?format=csv&from={FROM}&to={TO}"
    assert world.get("partner", url).status_code == 403
    assert world.get("anonymous", url).status_code in (401, 404)
    r = world.post("partner", f"/api/v1/datasets/{ds}/requests", json={"purpose": "防汛会商 flood coordination"})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    rid = r.json()["id"]
    # neither the partner itself nor another city's officer may decide
    assert world.post("partner", f"/api/v1/access-requests/{rid}/decision", json={"approve": True}).status_code == 403
    assert world.post("officer_ts", f"/api/v1/access-requests/{rid}/decision",
                      json={"approve": True}).status_code == 403
    r = world.post("admin", f"/api/v1/access-requests/{rid}/decision", json={"approve": True, "days": 30})
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["expires_at"]
    assert world.get("partner", url).status_code == 200
    mine = world.get("partner", "/api/v1/access-requests").json()
    assert [m["id"] for m in mine] == [rid]
    with world.store.engine.begin() as c:  # the grant expires
        from datetime import UTC, datetime, timedelta

        c.execute(update(access_request).where(access_request.c.id == rid).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert world.get("partner", url).status_code == 403
    # a second request is refused with a reason, which the partner sees
    rid2 = world.post("partner", f"/api/v1/datasets/{ds}/requests", json={"purpose": "again, please"}).json()["id"]
    assert world.post("admin", f"/api/v1/access-requests/{rid2}/decision",
                      json={"approve": False}).status_code == 400  # a refusal needs a reason
    r = world.post("admin", f"/api/v1/access-requests/{rid2}/decision",
                   json={"approve": False, "reason": "涉及企业商业秘密"})
    assert r.json()["status"] == "refused"
    assert world.get("partner", "/api/v1/access-requests?status=refused").json()[0]["reason"] == "涉及企业商业秘密"


def test_owner_department_decides(world):
    ds = _dataset(world, owner_department="唐山市生态环境局")
    rid = world.post("partner", f"/api/v1/datasets/{ds}/requests", json={"purpose": "水资源调度"}).json()["id"]
    assert world.post("officer_sjz", f"/api/v1/access-requests/{rid}/decision",
                      json={"approve": True}).status_code == 403
    r = world.post("officer_ts", f"/api/v1/access-requests/{rid}/decision", json={"approve": True})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = world.post("officer_ts", f"/api/v1/access-requests/{rid}/revoke", json={"approve": False, "reason": "到期前收回"})
    assert r.json()["status"] == "revoked"


def test_unshared_dataset_cannot_be_requested(world):
    ds = _dataset(world, code="none", sharing_level="none", open_level="closed", owner_department="唐山市生态环境局")
    assert world.post("officer_ts", f"/api/v1/datasets/{ds}/requests", json={"purpose": "x" * 10}).status_code == 400
    assert world.post("partner", f"/api/v1/datasets/{ds}/requests", json={"purpose": "x" * 10}).status_code == 404


def _complaints(world) -> int:
    did = _dataset(world, code="complaints", title="12369 环保举报", sharing_level="conditional",
                   update_frequency="daily", source={"type": "records"},
                   fields=[{"name": "case", "type": "string"}, {"name": "name", "type": "string", "mask": "name"},
                           {"name": "phone", "type": "string", "mask": "phone"},
                           {"name": "pm25", "type": "number", "decimals": 0, "watermark": True}])
    recs = [{"case": f"C{i:03d}", "name": "王小明", "phone": f"1391234{i:04d}", "pm25": 50 + i} for i in range(40)]
    r = world.post("admin", f"/api/v1/datasets/{did}/records", json={"records": recs})
    assert r.status_code == 200 and r.json()["count"] == 40
    return did


def test_exports_are_masked(world):
    did = _complaints(world)
    r = world.get("admin", f"/api/v1/datasets/{did}/export?format=json")
    assert r.status_code == 200
    rows = r.json()
    assert rows[0]["phone"] == "139****0000" and rows[0]["name"] == "王**"
    assert "13912340000" not in r.text and "王小明" not in r.text
    assert abs(rows[0]["pm25"] - 50) < 0.5 and rows[0]["pm25"] != 50 or rows[0]["pm25"] == 50.0


def test_watermark_names_the_recipient_of_a_re_saved_file(world, tmp_path, monkeypatch):
    ds = _dataset(world, code="outlets-shared", sharing_level="unconditional")
    got = {}
    for who in ("partner", "officer_ts", "analyst"):
        r = world.get(who, f"/api/v1/datasets/{ds}/export?format=csv&from={FROM}&to={TO}")
        assert r.status_code == 200 and r.headers["x-export-id"]
        got[who] = r.content
    # the officer's file leaks: opened in a spreadsheet, sorted differently, saved again (GB18030, CRLF)
    text = got["officer_ts"].decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    random.Random(3).shuffle(rows)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["时间", "站点", "参数", "数值"])
    for row in rows[:60]:
        w.writerow([row["time"].replace("T", " ")[:16], row["site"], row["parameter"], repr(float(row["value"]))])
    leaked = tmp_path / "转发的数据.csv"
    leaked.write_bytes(out.getvalue().encode("gb18030"))
    url = world.store.engine.url.render_as_string(hide_password=False)
    res = CliRunner().invoke(cli, ["watermark", "identify", str(leaked), "--json", "--database-url", url])
    assert res.exit_code == 0, res.output
    import json

    verdict = json.loads(res.output.strip().splitlines()[-1])
    assert verdict["identified"] and verdict["recipient"] == "officer_ts" and verdict["dataset"] == "outlets-shared"
    # a file without a mark is not pinned on anyone
    plain = tmp_path / "plain.csv"
    plain.write_text("site,parameter,value\n" + "".join(f"A,pm25,{v}\n" for v in range(50)))
    res = CliRunner().invoke(cli, ["watermark", "identify", str(plain), "--database-url", url])
    assert res.exit_code == 1


def test_cli_user_and_apikey(world):
    url = world.store.engine.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(cli, ["user", "add", "cli_officer", "--role", "officer", "--region", "130200",
                                 "--password-stdin", "--database-url", url], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["user", "add", "bad", "--role", "officer", "--password-stdin",
                                 "--database-url", url], input=PASSWORD + "\n")
    assert r.exit_code == 2 and "region" in r.output
    r = CliRunner().invoke(cli, ["apikey", "create", "--user", "cli_officer", "--database-url", url])
    assert r.exit_code == 0
    key = r.output.strip().splitlines()[-1]
    assert key.startswith("ek_")
    assert world.client.get("/api/v1/sites/OUT-TS-E2", headers={"X-API-Key": key}).status_code == 200
    assert world.client.get("/api/v1/sites/OUT-SJZ-E1", headers={"X-API-Key": key}).status_code == 404
    assert world.login("cli_officer").status_code == 200


def test_revoke_needs_no_approve_field(world):
    """``revoke`` takes a reason only (it demanded an ``approve`` field it ignored: issue 10 item 11)."""
    dss = [_dataset(world, code=f"rv{i}", owner_department="唐山市生态环境局") for i in range(2)]
    rids = [world.post("partner", f"/api/v1/datasets/{ds}/requests", json={"purpose": "水资源调度 planning"}).json()["id"]
            for ds in dss]
    for rid in rids:
        assert world.post("officer_ts", f"/api/v1/access-requests/{rid}/decision", json={"approve": True}).status_code == 200
    r = world.post("officer_ts", f"/api/v1/access-requests/{rids[0]}/revoke", json={"reason": "到期前收回"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = world.post("officer_ts", f"/api/v1/access-requests/{rids[1]}/revoke")  # no body at all
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    schema = world.client.get("/openapi.json").json()["components"]["schemas"]["RevokeIn"]
    assert "approve" not in schema["properties"]
