"""/api/v1/cases, /api/v1/inspections, /api/v1/credit and the public read endpoints: scope walls (an officer of
one city cannot read another's cases; an enterprise sees only its own), 409 for steps the procedure does not
allow, 400 naming the field for bad input, the public sees only what disclosure allows."""

from __future__ import annotations

from conftest import E1, E2


def _case(world, who="officer_sjz", **kw):
    body = {"enterprise": E1, "violation": "air_exceed", "source_kind": "alert", "source_ref": "1",
            "discovered_on": "2026-03-02", "filed_on": "2026-03-03", "supervisor": "admin"} | kw
    return world.post(who, "/api/v1/cases", json=body)


def test_case_walls_and_steps(world):
    assert _case(world, "officer_ts").status_code == 403  # E1 is in 石家庄
    assert _case(world, "ent1").status_code == 403
    assert world.post("anonymous", "/api/v1/cases", json={}).status_code == 401
    r = _case(world)
    assert r.status_code == 201, r.text
    n = r.json()["number"]
    assert r.json()["state"] == "filed" and r.json()["decision_due"] == "2026-06-01"
    assert world.get("officer_ts", f"/api/v1/cases/{n}").status_code == 404
    assert world.get("officer_ts", "/api/v1/cases").json() == []
    assert world.get("ent2", "/api/v1/cases").json() == []
    assert [c["number"] for c in world.get("ent1", "/api/v1/cases").json()] == [n]
    assert world.get("public_user", "/api/v1/cases").status_code == 403
    r = world.post("officer_sjz", f"/api/v1/cases/{n}/advance", json={"to": "closed", "on": "2026-03-04"})
    assert r.status_code == 409 and "not a step of the procedure" in r.json()["detail"]
    assert world.post("ent1", f"/api/v1/cases/{n}/advance", json={"on": "2026-03-04"}).status_code == 403
    assert world.post("officer_sjz", f"/api/v1/cases/{n}/advance", json={"on": "2026-03-04"}).status_code == 200
    r = world.post("officer_sjz", f"/api/v1/cases/{n}/penalties", json={"kind": "fine", "amount_yuan": 1})
    assert r.status_code == 400 and "amount_yuan" in r.json()["detail"]
    r = world.post("officer_sjz", f"/api/v1/cases/{n}/penalties", json={"kind": "fine", "amount_yuan": 150000})
    assert r.status_code == 200
    assert world.post("officer_sjz", f"/api/v1/cases/{n}/advance", json={"on": "2026-03-05"}).status_code == 200
    r = world.post("officer_sjz", f"/api/v1/cases/{n}/advance", json={"on": "2026-03-20"})
    assert r.status_code == 200 and r.json()["state"] == "decided"
    assert world.get("anonymous", "/api/v1/public/penalties").json()[0]["number"] == n
    assert "owner" not in world.get("anonymous", "/api/v1/public/penalties").text
    assert _case(world, violation="unknown_thing").status_code == 400


def test_draw_and_credit_endpoints(world):
    from ecohub.store.audit import Origin
    from ecohub.store.queries import SYSTEM
    from ecohub.supervision.inspect import service as I

    I.import_objects(world.store, SYSTEM, Origin("t"), data=f"uscc,category\n{E1},key\n{E2},key\n".encode())
    I.import_inspectors(world.store, SYSTEM, Origin("t"),
                        data="code,name,region\nA,甲,130100\nB,乙,130100\nC,丙,130200\nD,丁,130200\n".encode())
    body = {"period": "2026-12", "seed": "123", "ratios": {"key": 1.0}}
    assert world.post("officer_sjz", "/api/v1/inspections/draws", json=body).status_code == 403  # whole province
    r = world.post("admin", "/api/v1/inspections/draws", json=body)
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    assert world.post("admin", "/api/v1/inspections/draws", json=body).status_code == 400
    assert world.get("anonymous", f"/api/v1/public/draws/{did}").status_code == 404  # not yet published
    assert world.post("admin", f"/api/v1/inspections/draws/{did}/publish").status_code == 200
    pub = world.get("anonymous", f"/api/v1/public/draws/{did}")
    assert pub.status_code == 200 and "inspectors" not in pub.json()["items"][0]
    assert world.get("anonymous", f"/api/v1/public/draws/{did}/verify").json()["same"] is True
    assert world.get("ent1", "/api/v1/inspections/draws").status_code == 403
    r = world.post("officer_sjz", "/api/v1/credit/ratings", json={"year": 2026, "enterprise": E1})
    assert r.status_code == 201 and r.json()[0]["level"] in ("green", "blue", "yellow", "red")
    assert world.post("officer_sjz", "/api/v1/credit/ratings", json={"year": 2026, "enterprise": E2}).status_code == 400
    assert world.get("ent2", f"/api/v1/credit/enterprises/{E1}").json() == []
    assert world.get("ent1", f"/api/v1/credit/enterprises/{E1}").json()[0]["facts"]["permit_missing"] == 1
    assert world.get("anonymous", f"/api/v1/credit/enterprises/{E1}").status_code == 401
    levels = world.get("anonymous", "/api/v1/public/credit", params={"year": 2026}).json()
    assert levels[0]["uscc"] == E1 and "facts" not in levels[0]
    assert world.get("anonymous", "/api/v1/public/blacklist").status_code == 200


def test_inspection_upload_evidence_and_document(world):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    form = {"enterprise": E1, "inspected_at": "2026-03-01T10:00:00+08:00", "inspectors": "甲,乙",
            "trigger_kind": "alert", "trigger_ref": "9", "checklist": '{"permit_posted": "ok"}'}
    fake = [("files", ("photo.png", b"MZ\x90\x00not an image", "image/png"))]
    r = world.client.post("/api/v1/inspections", data=form, files=fake, headers=world.headers("officer_sjz"))
    assert r.status_code == 400 and "attachments[0]" in r.json()["detail"]
    r = world.client.post("/api/v1/inspections", data=form, files=[("files", ("p.png", png, "image/png"))],
                          headers=world.headers("officer_ts"))
    assert r.status_code == 403
    r = world.client.post("/api/v1/inspections", data=form, files=[("files", ("p.png", png, "image/png"))],
                          headers=world.headers("officer_sjz"))
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    assert world.get("ent2", f"/api/v1/inspections/{iid}").status_code == 404
    assert world.get("ent1", f"/api/v1/inspections/{iid}").status_code == 200
    ev = world.get("officer_sjz", f"/api/v1/inspections/{iid}/evidence")
    assert ev.status_code == 200 and ev.json()["outlets"][0]["site"] == "OUT-SJZ-E1"
    n = _case(world).json()["number"]
    r = world.post("officer_sjz", f"/api/v1/cases/{n}/documents", json={"kind": "penalty_decision"})
    assert r.status_code == 400 and "issued in states" in r.json()["detail"]
    world.post("officer_sjz", f"/api/v1/cases/{n}/advance", json={"on": "2026-03-04"})
    r = world.post("officer_sjz", f"/api/v1/cases/{n}/documents", json={"kind": "correction_order"})
    assert r.status_code == 201
    f = world.get("ent1", f"/api/v1/cases/{n}/documents/{r.json()['id']}")
    assert f.status_code == 200 and f.content[:2] == b"PK"
    assert world.get("ent2", f"/api/v1/cases/{n}/documents/{r.json()['id']}").status_code == 404
