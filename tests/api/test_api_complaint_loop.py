"""/api/v1/complaints/{code}/loop, /advance, /links and /api/v1/public/complaint-results: staff walls by region,
409 with the reason for a step the loop does not declare, 400 naming the field, the public result without
personal data."""

from __future__ import annotations

from ecohub.supervision import complaints as C


def _complaint(world, tmp_path) -> str:
    inp = C.ComplaintInput(category="air", description="工厂烟囱冒黑烟，持续两个小时以上", lon=114.4548, lat=38.0513,
                           phone="13812345678")
    return C.submit(world.store, inp, tmp_path)["tracking_code"]


def test_loop_over_http(world, tmp_path):
    code = _complaint(world, tmp_path)
    assert world.get("anonymous", f"/api/v1/complaints/{code}/loop").status_code == 401
    assert world.get("ent1", f"/api/v1/complaints/{code}/loop").status_code == 403
    assert world.get("officer_ts", f"/api/v1/complaints/{code}/loop").status_code == 404
    assert world.get("analyst", f"/api/v1/complaints/{code}/loop").json()["stage"] == "received"
    step = lambda who, **b: world.post(who, f"/api/v1/complaints/{code}/advance", json=b)  # noqa: E731
    assert step("analyst", to="accepted").status_code == 403
    assert step("officer_ts", to="accepted").status_code == 404
    r = step("officer_sjz", to="replied", reply="x")
    assert r.status_code == 409 and "cannot move to replied" in r.json()["detail"]
    tasks = world.get("officer_sjz", "/api/v1/complaint-tasks").json()
    assert [(t["tracking_code"], t["stage"]) for t in tasks] == [(code, "received")] and tasks[0]["stage_due"]
    assert world.get("officer_ts", "/api/v1/complaint-tasks").json() == []
    assert world.get("ent1", "/api/v1/complaint-tasks").status_code == 403
    assert world.get("officer_sjz", "/api/v1/complaint-tasks?overdue=true").json() == []
    r = step("officer_sjz", to="accepted", supervisor="chief")
    assert r.status_code == 200 and r.json()["stage"] == "accepted" and r.json()["stage_due"]
    r = step("officer_sjz", to="transferred", region="999999")
    assert r.status_code == 400 and "region" in r.json()["detail"]
    assert step("officer_sjz", to="transferred", region="130105").json()["transferred_to"] == "130105"
    r = world.post("officer_sjz", f"/api/v1/complaints/{code}/links", json={"inspection_id": 99})
    assert r.status_code == 400 and "inspection" in r.json()["detail"]
    assert step("officer_sjz", to="handling").status_code == 200
    assert step("officer_sjz", to="handled", note="已责令整改").status_code == 200
    assert step("officer_sjz", to="replied", reply="经查属实，已责令整改。").status_code == 200
    r = step("officer_sjz", to="visited", satisfaction="so-so")
    assert r.status_code == 400 and "satisfaction" in r.json()["detail"]
    assert step("officer_sjz", to="visited", satisfaction="satisfied").status_code == 200
    assert world.get("anonymous", f"/api/v1/public/complaint-results/{code}").status_code == 404  # not yet
    assert world.get("officer_sjz", "/api/v1/complaint-tasks").json()[0]["stage"] == "visited"
    assert step("officer_sjz", to="closed").json()["published"] is True
    assert world.get("officer_sjz", "/api/v1/complaint-tasks").json() == []
    pub = world.get("anonymous", f"/api/v1/public/complaint-results/{code}").json()
    assert pub["result"] == "已责令整改" and pub["satisfaction"] == "satisfied"
    rows = world.get("anonymous", "/api/v1/public/complaint-results").json()
    assert len(rows) == 1 and "13812345678" not in str(rows) and "冒黑烟" not in str(rows)
    assert world.get("anonymous", "/api/v1/public/complaint-results?region=130200").json() == []
