"""The permission walls: nobody reads what is not theirs, through any endpoint.

Every GET operation of the OpenAPI document is called by every kind of caller (anonymous, public user,
partner, each enterprise, each city's officer — by token and by API key —, analyst, admin), both unfiltered
and aimed at each site (``site=CODE``, ``/sites/CODE``); the response must never contain the code of a site
the caller may not see. A test also fails when an endpoint appears that the crawl does not cover.
"""

from __future__ import annotations

import re

from conftest import SITES, VISIBLE, add_alert

DAY = "2026-01-11"
FROM, TO = "2026-01-10T16:00:00Z", "2026-01-11T16:00:00Z"

# URL templates per OpenAPI path; {site} is replaced by each site code in turn, {any} URLs are called once.
CRAWL = {
    "/api/v1/regions": ["/api/v1/regions?under=130200&limit=50"],
    "/api/v1/parameters": ["/api/v1/parameters"],
    "/api/v1/sites": ["/api/v1/sites", "/api/v1/sites?region=130200", "/api/v1/sites?bbox=100,30,130,50",
                      "/api/v1/sites?near=114.6,38.1&radius=100", "/api/v1/sites?kind=gas_outlet"],
    "/api/v1/sites/{code}": ["/api/v1/sites/{site}"],
    "/api/v1/series": ["/api/v1/series", "/api/v1/series?site={site}"],
    "/api/v1/observations": [f"/api/v1/observations?site={{site}}&from={FROM}&to={TO}",
                             f"/api/v1/observations?from={FROM}&to={TO}&limit=10000",
                             "/api/v1/observations?site={site}&format=csv",
                             "/api/v1/observations?site={site}&format=parquet"],
    "/api/v1/latest": ["/api/v1/latest", "/api/v1/latest?site={site}", "/api/v1/latest?region=130200"],
    "/api/v1/aggregates": ["/api/v1/aggregates?site={site}&window=day",
                           f"/api/v1/aggregates?from={FROM}&to={TO}&window=hour&limit=10000"],
    "/api/v1/enterprises": ["/api/v1/enterprises"],
    "/api/v1/aqi/hourly": ["/api/v1/aqi/hourly", "/api/v1/aqi/hourly?site={site}", "/api/v1/aqi/hourly?by=city"],
    "/api/v1/aqi/daily": [f"/api/v1/aqi/daily?date={DAY}", f"/api/v1/aqi/daily?date={DAY}&site={{site}}",
                          f"/api/v1/aqi/daily?date={DAY}&by=city"],
    "/api/v1/rankings/cities": [f"/api/v1/rankings/cities?from={DAY}&to={DAY}"],
    "/api/v1/water/quality": ["/api/v1/water/quality", "/api/v1/water/quality?site={site}"],
    "/api/v1/alerts": ["/api/v1/alerts", "/api/v1/alerts?site={site}"],
    "/api/v1/alerts/{alert_id}": ["/api/v1/alerts/{alert}"],
    "/api/v1/datasets": ["/api/v1/datasets"],
    "/api/v1/datasets/{dataset_id}": ["/api/v1/datasets/{dataset}"],
    "/api/v1/datasets/{dataset_id}/export": [f"/api/v1/datasets/{{dataset}}/export?format=json&from={FROM}&to={TO}"],
    "/api/v1/access-requests": ["/api/v1/access-requests"],
    "/api/v1/audit": ["/api/v1/audit?limit=1000"],
    "/api/v1/users": ["/api/v1/users"],
    "/api/v1/apikeys": ["/api/v1/apikeys", "/api/v1/apikeys?all=true"],
    "/api/v1/me": ["/api/v1/me"],
    "/api/v1/status": ["/api/v1/status"],
    "/api/v1/exchange/log": ["/api/v1/exchange/log", "/api/v1/exchange/log?direction=out"],
    "/api/v1/exchange/forwarding": ["/api/v1/exchange/forwarding"],
    "/api/v1/keys/platform": ["/api/v1/keys/platform"],
    "/healthz": ["/healthz"],
    "/metrics": ["/metrics"],
    "/readyz": ["/readyz"],
    "/api/v1/permits": ["/api/v1/permits", "/api/v1/permits?enterprise=91130110DEMY000589"],
    "/api/v1/permits/{number}": ["/api/v1/permits/91130283DEMY00015Q001P"],
    "/api/v1/public/permits/{number}": ["/api/v1/public/permits/91130283DEMY00015Q001P"],
    "/api/v1/public/permits": ["/api/v1/public/permits", "/api/v1/public/permits?q=91130283&region=1302"],
    "/api/v1/emissions": ["/api/v1/emissions?enterprise=91130283DEMY00015Q&year=2026",
                          "/api/v1/emissions?enterprise=91130283DEMY00015Q&year=2026&by=month"],
    "/api/v1/waste/codes": ["/api/v1/waste/codes"],
    "/api/v1/permits/{number}/reports": ["/api/v1/permits/91130283DEMY00015Q001P/reports"],
    "/api/v1/permits/{number}/reports/due": ["/api/v1/permits/91130283DEMY00015Q001P/reports/due"],
    "/api/v1/permit-reports": ["/api/v1/permit-reports"],
    "/api/v1/permits/{number}/completeness": ["/api/v1/permits/91130283DEMY00015Q001P/completeness?kind=month"
                                              "&period=2026-01"],
    "/api/v1/waste/manifests": ["/api/v1/waste/manifests", "/api/v1/waste/manifests?state=open"],
    "/api/v1/waste/manifests/{number}/events": ["/api/v1/waste/manifests/{manifest}/events"],
    "/api/v1/waste/flows": ["/api/v1/waste/flows", "/api/v1/waste/flows?state=open"],
    "/api/v1/forecasts": ["/api/v1/forecasts", "/api/v1/forecasts?city=130200", "/api/v1/forecasts?site={site}",
                          "/api/v1/forecasts?city=130100&issued=all"],
    "/api/v1/forecasts/observed": ["/api/v1/forecasts/observed?city=130200", "/api/v1/forecasts/observed?site={site}"],
    "/api/v1/forecasts/hourly": ["/api/v1/forecasts/hourly?city=130200", "/api/v1/forecasts/hourly?site={site}"],
    "/api/v1/forecasts/verification": ["/api/v1/forecasts/verification", "/api/v1/forecasts/verification?site={site}"],
    "/api/v1/assessments/noise": ["/api/v1/assessments/noise?site={site}"],
    "/api/v1/assessments/radiation": ["/api/v1/assessments/radiation?site={site}"],
    "/api/v1/assessments/soil/samples": ["/api/v1/assessments/soil/samples",
                                         "/api/v1/assessments/soil/samples?region=130200"],
    "/api/v1/trends": ["/api/v1/trends?site={site}&parameter=pm25"],
    "/api/v1/trends/correlation": ["/api/v1/trends/correlation?site={site}"],
    "/api/v1/surfaces": ["/api/v1/surfaces?parameter=pm25&time=2026-01-11T04:00:00Z",
                         "/api/v1/surfaces?parameter=so2&time=2026-01-11T04:00:00Z&method=kriging"],
    "/api/v1/reports": ["/api/v1/reports", "/api/v1/reports?region=130200"],
    "/api/v1/reports/{report_id}": ["/api/v1/reports/1"],
    "/api/v1/reports/{report_id}/download": ["/api/v1/reports/1/download"],
    "/api/v1/incidents": ["/api/v1/incidents", "/api/v1/incidents?format=geojson"],
    "/api/v1/incidents/{incident_id}": ["/api/v1/incidents/1"],
    "/api/v1/receptors": ["/api/v1/receptors", "/api/v1/receptors?bbox=100,30,130,50"],
    "/api/v1/redlines": ["/api/v1/redlines", "/api/v1/redlines?bbox=100,30,130,50"],
    "/api/v1/redlines/areas": ["/api/v1/redlines/areas"],
    "/api/v1/redlines/check": ["/api/v1/redlines/check", "/api/v1/redlines/check?buffer_m=1000"],
    "/api/v1/risk-sources": ["/api/v1/risk-sources", "/api/v1/risk-sources?format=geojson"],
    "/api/v1/cases": ["/api/v1/cases", "/api/v1/cases?overdue=true"],
    "/api/v1/cases/{ref}": ["/api/v1/cases/1"],
    "/api/v1/cases/{ref}/documents/{document_id}": ["/api/v1/cases/1/documents/1"],
    "/api/v1/credit/enterprises/{uscc}": ["/api/v1/credit/enterprises/91130283DEMY00015Q",
                                          "/api/v1/credit/enterprises/91130110DEMY000589"],
    "/api/v1/inspections/draws": ["/api/v1/inspections/draws"],
    "/api/v1/inspections/draws/{draw_id}": ["/api/v1/inspections/draws/1"],
    "/api/v1/inspections/draws/{draw_id}/verify": ["/api/v1/inspections/draws/1/verify"],
    "/api/v1/inspections/tasks": ["/api/v1/inspections/tasks", "/api/v1/inspections/tasks?overdue=true&mine=true"],
    "/api/v1/inspections/{inspection_id}": ["/api/v1/inspections/1"],
    "/api/v1/inspections/{inspection_id}/evidence": ["/api/v1/inspections/1/evidence"],
    "/api/v1/public/blacklist": ["/api/v1/public/blacklist"],
    "/api/v1/public/credit": ["/api/v1/public/credit?year=2026"],
    "/api/v1/public/draws": ["/api/v1/public/draws"],
    "/api/v1/public/draws/{draw_id}": ["/api/v1/public/draws/1"],
    "/api/v1/public/draws/{draw_id}/verify": ["/api/v1/public/draws/1/verify"],
    "/api/v1/complaint-tasks": ["/api/v1/complaint-tasks", "/api/v1/complaint-tasks?overdue=true"],
    "/api/v1/complaints/{code}/loop": ["/api/v1/complaints/ABCDEFGHJKMN/loop"],
    "/api/v1/public/complaint-results": ["/api/v1/public/complaint-results",
                                         "/api/v1/public/complaint-results?region=130200"],
    "/api/v1/public/complaint-results/{code}": ["/api/v1/public/complaint-results/ABCDEFGHJKMN"],
    "/api/v1/public/penalties": ["/api/v1/public/penalties", "/api/v1/public/penalties?region=130200"],
    "/status": ["/status"],
}
CALLERS = sorted(VISIBLE)
ADMIN_ONLY = {"/api/v1/audit", "/api/v1/users", "/api/v1/apikeys?all=true"}
# Endpoints for one kind of site or one stored object the crawl's world does not hold (a noise point, a report):
# they may answer 404 even to an admin; every other rule of the crawl applies to them.
NOT_IN_THIS_WORLD = ("/api/v1/assessments/noise", "/api/v1/assessments/radiation", "/api/v1/reports/1",
                     "/api/v1/incidents/1", "/api/v1/forecasts/observed", "/api/v1/trends",
                     "/api/v1/surfaces", "/api/v1/cases/1", "/api/v1/inspections/1", "/api/v1/inspections/draws/1", "/api/v1/public/draws/1",
                     "/api/v1/credit/enterprises/", "/api/v1/complaints/ABCDEFGHJKMN/loop",
                     "/api/v1/public/complaint-results/")  # surfaces: the world has 3 air stations, a surface needs 5


def _secret_dataset(world) -> int:
    """A dataset of outlet observations that is neither shared nor open (only its owner and admins)."""
    r = world.post("admin", "/api/v1/datasets", json={
        "code": "outlets-closed", "title": "排口在线监测（不予共享）", "description": "outlets",
        "owner_department": "监测处", "update_frequency": "hourly", "sharing_level": "none", "open_level": "closed",
        "source": {"type": "observations", "kinds": ["gas_outlet"]}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_crawl_covers_every_get_operation(world):
    paths = {p for p, ops in world.app.openapi()["paths"].items() if "get" in ops} | {"/status"}
    missing = paths - set(CRAWL) - {"/api/v1/ingest/observations"}
    assert not missing, f"add these endpoints to the wall crawl: {sorted(missing)}"


def _permit_and_manifest(world) -> str:
    """A permit of E2 whose outlet is the non-open OUT-TS-E2, and a manifest E2 → E1 (for the crawl)."""
    n = "91130283DEMY00015Q001P"
    r = world.post("admin", "/api/v1/permits", json={
        "permits": [{"number": n, "enterprise": "91130283DEMY00015Q", "category": "key", "issued_on": "2025-01-01",
                     "valid_from": "2025-01-01", "valid_to": "2029-12-31"}],
        "outlets": [{"permit": n, "outlet_code": "DA001", "site": "OUT-TS-E2", "type": "main"}],
        "tonnage": [{"permit": n, "parameter": "so2", "tonnes": "10"}]})
    assert r.status_code == 200, r.text
    r = world.post("admin", "/api/v1/waste/manifests", json={"generator": "91130283DEMY00015Q",
                                                             "receiver": "91130110DEMY000589", "code": "900-249-08",
                                                             "tonnes": 1})
    assert r.status_code == 201, r.text
    return r.json()["number"]


def test_no_caller_sees_a_site_it_may_not(world):
    alert_ids = {code: add_alert(world.store, code, f"排放超标 at {code}") for code in ("OUT-TS-E2", "OUT-SJZ-E1")}
    ds = _secret_dataset(world)
    manifest_no = _permit_and_manifest(world)
    # the codes must be findable only where they belong: none of them is a substring of another code's
    # visible text except through the site itself
    for who in CALLERS:
        hidden = set(SITES) - VISIBLE[who]
        seen_ok = set()
        for path, templates in CRAWL.items():
            for t in templates:
                urls = []
                if "{site}" in t:
                    urls = [t.replace("{site}", code) for code in SITES]
                elif "{alert}" in t:
                    urls = [t.replace("{alert}", str(i)) for i in alert_ids.values()]
                else:
                    urls = [t.replace("{dataset}", str(ds)).replace("{manifest}", manifest_no)]
                for url in urls:
                    r = world.get(who, url)
                    assert r.status_code < 500, (who, url, r.status_code, r.text[:300])
                    if who == "admin" and not url.startswith(("/api/v1/sites/NO", *NOT_IN_THIS_WORLD)):
                        assert r.status_code == 200, (url, r.text[:300])  # the crawl really asks for data
                    body = r.content.decode("utf-8", "replace")
                    if r.status_code >= 400:  # an error may echo the request (instance), never data
                        assert r.headers["content-type"].startswith("application/problem+json"), (who, url)
                        continue
                    leaked = sorted(code for code in hidden if re.search(re.escape(code) + r"(?![-\w])", body))
                    if path == "/api/v1/audit":
                        leaked = []  # admins see the audit log of requests, which names what was asked for
                    assert not leaked, f"{who} saw {leaked} through {url}: {body[:300]}"
                    if r.status_code == 200:
                        seen_ok |= {code for code in VISIBLE[who] if code in body}
                    if any(url.startswith(a) for a in ADMIN_ONLY) and who != "admin":
                        assert r.status_code in (401, 403), (who, url, r.status_code)
        assert seen_ok == VISIBLE[who], f"{who} should see {sorted(VISIBLE[who] - seen_ok)} too"


DETAIL_CASES = [
    ("officer_sjz", "OUT-TS-E2", 404), ("officer_sjz", "AIR-TS-CLOSED", 404), ("officer_ts", "OUT-SJZ-E1", 404),
    ("ent1", "OUT-TS-E2", 404), ("ent2", "OUT-SJZ-E1", 404), ("anonymous", "OUT-SJZ-E1", 404),
    ("partner", "MIC-TS-1", 404), ("officer_sjz", "OUT-SJZ-E1", 200), ("ent2", "OUT-TS-E2", 200),
    ("anonymous", "OUT-TS-E2-KEY", 200), ("officer_ts_key", "AIR-TS-CLOSED", 200), ("analyst", "MIC-TS-1", 200),
    ("anonymous", "NO-SUCH-SITE", 404),
]


def test_site_detail_answers_404_not_403(world):
    """Existence of a site one may not see is not disclosed (404, the same as a site that does not exist)."""
    for who, code, expected in DETAIL_CASES:
        assert world.get(who, f"/api/v1/sites/{code}").status_code == expected, (who, code)


def test_other_city_observations_are_empty_not_partial(world):
    r = world.get("officer_sjz", "/api/v1/observations", params={"site": ["OUT-TS-E2", "OUT-SJZ-E1"],
                                                                 "parameter": "so2_gas"})
    assert r.status_code == 200
    sites = {o["site"] for o in r.json()["results"]}
    assert sites == {"OUT-SJZ-E1"} and len(r.json()["results"]) == 48


def test_bad_credentials_are_refused_not_downgraded(world):
    for h in ({"Authorization": "Bearer nonsense"}, {"X-API-Key": "ek_deadbeef_nope"},
              {"Authorization": "Basic dXNlcjpwYXNz"}):
        r = world.client.get("/api/v1/sites", headers=h)
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


def test_admin_only_and_write_endpoints_refuse_others(world):
    for who in ("anonymous", "partner", "officer_sjz", "ent1", "analyst"):
        assert world.get(who, "/api/v1/audit").status_code in (401, 403)
        assert world.get(who, "/api/v1/users").status_code in (401, 403)
        r = world.post(who, "/api/v1/users", json={"name": "mallory", "password": "Xx-1234567890",
                                                   "role": "admin"})
        assert r.status_code in (401, 403)
    # a read key of an officer cannot write even where the officer could
    r = world.post("officer_ts_key", "/api/v1/apikeys", json={"name": "more"})
    assert r.status_code == 403
