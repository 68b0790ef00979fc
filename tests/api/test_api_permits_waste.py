"""/api/v1/permits, /api/v1/emissions, /api/v1/waste: role and scope walls (an enterprise sees only its own, an
officer only his region; writes by officers/admins, manifests by the parties), 409 for illegal manifest steps."""

from __future__ import annotations

from conftest import E1, E2

N1 = E1 + "001P"
PERMIT = {
    "permits": [{"number": N1, "enterprise": E1, "category": "key", "industry": "水泥制造 3011",
                 "issued_on": "2025-01-01", "valid_from": "2025-01-01", "valid_to": "2029-12-31"}],
    "outlets": [{"permit": N1, "outlet_code": "DA001", "site": "OUT-SJZ-E1", "type": "main"}],
    "limits": [{"permit": N1, "outlet": "DA001", "parameter": "a21026", "limit": "100", "unit": "mg/m³",
                "period": "hour", "converted_o2": "10", "standard": "GB 4915-2013"}],
    "tonnage": [{"permit": N1, "parameter": "so2", "tonnes": "50"}],
}


def test_permit_walls(world):
    assert world.post("ent1", "/api/v1/permits", json=PERMIT).status_code == 403  # enterprises read only
    r = world.post("officer_ts", "/api/v1/permits", json=PERMIT)  # E1 is in 石家庄, not 唐山
    assert r.status_code == 422 and "outside your region" in r.json()["errors"][0]["reason"]
    r = world.post("officer_sjz", "/api/v1/permits", json=PERMIT)
    assert r.status_code == 200, r.text
    assert r.json()["permits_saved"] == [N1]
    assert world.get("anonymous", "/api/v1/permits").status_code == 401
    assert [p["number"] for p in world.get("ent1", "/api/v1/permits").json()] == [N1]
    assert world.get("ent2", "/api/v1/permits").json() == []
    assert world.get("officer_ts", "/api/v1/permits").json() == []
    assert world.get("ent2", f"/api/v1/permits/{N1}").status_code == 404
    d = world.get("officer_sjz", f"/api/v1/permits/{N1}").json()
    assert d["limits"][0]["parameter"] == "so2_gas" and d["outlets"][0]["site"] == "OUT-SJZ-E1"
    pub = world.get("anonymous", f"/api/v1/public/permits/{N1}")
    assert pub.status_code == 200 and "OUT-SJZ-E1" not in pub.text
    e = world.get("ent1", "/api/v1/emissions", params={"enterprise": E1, "year": 2026})
    assert e.status_code == 200, e.text
    assert e.json()["pollutants"][0]["permitted_t"] == 50
    assert world.get("ent2", "/api/v1/emissions", params={"enterprise": E1, "year": 2026}).status_code == 404
    bad = dict(PERMIT, permits=[dict(PERMIT["permits"][0], number=E1 + "001X")])
    r = world.post("admin", "/api/v1/permits", json=bad)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "number"


def test_manifest_walls_and_conflict(world):
    from datetime import date

    from ecohub.store.audit import Origin
    from ecohub.supervision.waste.codes import add_licence

    add_licence(world.store, Origin("t"), uscc=E2, licence_no="冀危许T", codes=["HW08"], valid_from=date(2025, 1, 1),
                valid_to=date(2035, 1, 1))
    body = {"generator": E1, "receiver": E2, "code": "900-249-08", "tonnes": 3.0}
    assert world.post("ent2", "/api/v1/waste/manifests", json=body).status_code == 403  # not the generator
    r = world.post("ent1", "/api/v1/waste/manifests", json=body)
    assert r.status_code == 201, r.text
    n = r.json()["number"]
    bad = world.post("ent1", "/api/v1/waste/manifests", json=dict(body, code="999-999-99"))
    assert bad.status_code == 400 and "unknown waste code" in bad.text
    step = f"/api/v1/waste/manifests/{n}"
    assert world.post("ent1", f"{step}/receive", json={"tonnes": 3}).status_code == 409
    assert world.post("ent1", f"{step}/dispatch", json={"transporter": "T", "vehicle": "冀A1"}).status_code == 200
    assert world.post("ent1", f"{step}/receive", json={"tonnes": 3}).status_code == 403  # only the receiver
    assert world.post("ent2", f"{step}/receive", json={"tonnes": 3}).status_code == 200
    r = world.post("ent2", f"{step}/receive", json={"tonnes": 3})
    assert r.status_code == 409 and "it is received" in r.text
    assert [m["number"] for m in world.get("officer_ts", "/api/v1/waste/manifests").json()] == [n]
    assert [m["number"] for m in world.get("officer_sjz", "/api/v1/waste/manifests?state=open").json()] == [n]
    assert world.get("anonymous", "/api/v1/waste/manifests").status_code == 401
    ev = world.get("ent2", f"{step}/events").json()
    assert [e["to_state"] for e in ev] == ["created", "dispatched", "received"]


def test_report_submit_and_return_through_the_api(world):
    assert world.post("officer_sjz", "/api/v1/permits", json=PERMIT).status_code == 200
    r = world.post("ent2", f"/api/v1/permits/{N1}/reports", json={"kind": "month", "period": "2026-01"})
    assert r.status_code == 404  # not its permit
    r = world.post("ent1", f"/api/v1/permits/{N1}/reports", json={"kind": "month", "period": "2026-01",
                                                                  "content": {"note": "正常"}})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert world.post("ent1", f"/api/v1/permit-reports/{rid}/review", json={"action": "accept"}).status_code == 403
    assert world.post("officer_ts", f"/api/v1/permit-reports/{rid}/review",
                      json={"action": "accept"}).status_code == 404  # another region
    r = world.post("officer_sjz", f"/api/v1/permit-reports/{rid}/review", json={"action": "return"})
    assert r.status_code == 400 and "reasons" in r.text
    r = world.post("officer_sjz", f"/api/v1/permit-reports/{rid}/review", json={"action": "return", "note": "缺项"})
    assert r.status_code == 200 and r.json()["state"] == "returned"
    r = world.post("officer_sjz", f"/api/v1/permit-reports/{rid}/review", json={"action": "accept"})
    assert r.status_code == 409
    assert [x["state"] for x in world.get("ent1", "/api/v1/permit-reports").json()] == ["returned"]
