"""The HTTP surface: problem+json errors, cursor paging, formats, ETags and caching, rate limits, size limits,
security headers, CORS."""

from __future__ import annotations

import io

import pyarrow.parquet as pq

from conftest import build_world
from ecohub.api.security import ApiConfig, RateLimiter

FROM, TO = "2026-01-10T16:00:00Z", "2026-01-11T16:00:00Z"


def test_problem_json_everywhere(world):
    c = world.client
    for r, status in ((c.get("/api/v1/nothing"), 404), (c.delete("/api/v1/sites"), 405),
                      (c.get("/api/v1/regions?level=9"), 422), (c.get("/api/v1/sites?bbox=1,2"), 400),
                      (c.get("/api/v1/observations?from=yesterday&site=X"), 400),
                      (c.get("/api/v1/sites?cursor=!!notours"), 400), (c.get("/api/v1/users"), 401),
                      (world.get("partner", "/api/v1/users"), 403)):
        assert r.status_code == status, (r.request.url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["status"] == status and body["title"] and "Traceback" not in r.text


def test_unexpected_error_is_a_500_problem_without_details(world):
    from fastapi.testclient import TestClient

    @world.app.get("/api/v1/boom", include_in_schema=False)
    def boom():
        raise RuntimeError("secret internals")

    c = TestClient(world.app, raise_server_exceptions=False)
    r = c.get("/api/v1/boom")
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
    assert "secret internals" not in r.text


def test_observation_paging_by_cursor(world):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"site": "AIR-SJZ-1", "parameter": ["pm25", "o3"], "limit": 7}
        if cursor:
            params["cursor"] = cursor
        body = world.get("anonymous", "/api/v1/observations", params=params).json()
        seen += [(r["parameter"], r["time"]) for r in body["results"]]
        pages += 1
        cursor = body["meta"]["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 96 and len(set(seen)) == 96 and pages == 14
    assert seen == sorted(seen)


def test_limits_are_capped(world):
    assert world.client.get("/api/v1/sites?limit=10001").status_code == 400
    assert world.client.get("/api/v1/observations?site=AIR-SJZ-1&limit=0").status_code == 400
    # without a site the time range is required and short
    assert world.client.get("/api/v1/observations").status_code == 400
    assert world.client.get(f"/api/v1/observations?from={FROM}&to=2026-01-20").status_code == 400


def test_csv_and_parquet(world):
    r = world.client.get("/api/v1/observations", params={"site": "AIR-TS-1", "parameter": "pm25", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0] == "site,parameter,interval,time,value,flag,source" and len(lines) == 49
    assert lines[1].startswith("AIR-TS-1,pm25,hour,2026-01-11T00:00:00+08:00,40.0")
    r = world.client.get("/api/v1/observations", params={"site": "AIR-TS-1", "parameter": "pm25",
                                                         "format": "parquet", "limit": 10})
    t = pq.read_table(io.BytesIO(r.content))
    assert t.num_rows == 10 and r.headers["x-next-cursor"] and 'rel="next"' in r.headers["link"]


def test_etag_and_cache_control(world):
    r = world.client.get("/api/v1/latest?kind=air_station")
    assert r.status_code == 200 and r.headers["etag"] and r.headers["cache-control"] == "public, max-age=60"
    again = world.client.get("/api/v1/latest?kind=air_station", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content
    signed = world.get("officer_ts", "/api/v1/latest?kind=air_station")
    assert signed.headers["cache-control"].startswith("private")  # what a signed-in caller sees is theirs
    assert "Authorization" in signed.headers["vary"]
    assert world.client.get("/api/v1/aqi/hourly").headers["cache-control"] == "public, max-age=60"


def test_security_headers(world):
    r = world.client.get("/api/v1/sites")
    for h, v in (("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
                 ("referrer-policy", "no-referrer")):
        assert r.headers[h] == v
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert world.get("admin", "/api/v1/users").headers["cache-control"] == "private, no-cache"
    assert world.client.get("/api/v1/nothing").headers["x-content-type-options"] == "nosniff"


def test_rate_limit_per_ip_and_per_key(store):
    w = build_world(store, config=ApiConfig(rate_anon_per_min=60, rate_auth_per_min=30, rate_login_per_min=100))
    w.app.state.limiter._buckets.clear()  # full buckets after the sign-ins of the fixture
    statuses = [w.client.get("/api/v1/parameters").status_code for _ in range(15)]
    assert statuses[:10] == [200] * 10 and 429 in statuses
    r = w.client.get("/api/v1/parameters")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"].startswith("application/problem+json")
    assert w.client.get("/healthz").status_code == 200  # health checks are not limited


def test_login_attempts_are_limited_per_address(store):
    w = build_world(store, config=ApiConfig(rate_anon_per_min=10_000, rate_auth_per_min=10_000,
                                            rate_login_per_min=10))
    codes = [w.login("nobody", "Whatever-123").status_code for _ in range(15)]
    assert 429 in codes


def test_request_size_limit(store):
    w = build_world(store, config=ApiConfig(rate_anon_per_min=10_000, rate_auth_per_min=10_000,
                                            rate_login_per_min=10_000, max_body=2000))
    r = w.client.post("/api/v1/auth/refresh", content=b"x" * 5000, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")

    def chunks():
        for _ in range(10):
            yield b"x" * 500

    r = w.client.post("/api/v1/auth/refresh", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    # both refusals are audited (issue 10 item 11): who tried, where, with the status
    big = w.client.post("/api/v1/datasets", content=b"x" * 5000,
                        headers={**w.headers("analyst"), "Content-Type": "application/json"})
    assert big.status_code == 413
    rows = [r for r in w.get("admin", "/api/v1/audit?limit=50").json()["results"] if r["status"] == 413]
    assert [(r["path"], r["actor"]) for r in rows] == [("/api/v1/datasets", "analyst"),
                                                      ("/api/v1/auth/refresh", None), ("/api/v1/auth/refresh", None)]
    assert rows[0]["detail"]["limit"] == 2000 and rows[0]["method"] == "POST"


def test_cors_by_configuration(store):
    w = build_world(store, config=ApiConfig(cors_origins=["https://portal.example.cn"],
                                            rate_anon_per_min=10_000, rate_auth_per_min=10_000))
    pre = w.client.options("/api/v1/sites", headers={"Origin": "https://portal.example.cn",
                                                     "Access-Control-Request-Method": "GET"})
    assert pre.headers["access-control-allow-origin"] == "https://portal.example.cn"
    other = w.client.get("/api/v1/sites", headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in other.headers


def test_token_bucket_refills():
    t = [0.0]
    lim = RateLimiter(clock=lambda: t[0])
    assert all(lim.hit("k", 60, burst=3) == 0 for _ in range(3))
    assert lim.hit("k", 60, burst=3) == 1.0  # one token a second
    t[0] += 1.0
    assert lim.hit("k", 60, burst=3) == 0


def test_sites_filters(world):
    near = world.client.get("/api/v1/sites", params={"near": "114.6,38.1", "radius": 50}).json()["results"]
    assert near and all("distance_km" in s for s in near)
    assert [s["distance_km"] for s in near] == sorted(s["distance_km"] for s in near)
    assert world.client.get("/api/v1/sites", params={"bbox": "0,0,1,1"}).json()["results"] == []
    kinds = {s["kind"] for s in world.get("admin", "/api/v1/sites", params={"kind": "gas_outlet"}).json()["results"]}
    assert kinds == {"gas_outlet"}
    assert world.client.get("/api/v1/sites", params={"kind": "volcano"}).status_code == 400
    ts = {s["code"] for s in world.get("admin", "/api/v1/sites", params={"region": "130200"}).json()["results"]}
    assert ts == {"AIR-TS-1", "AIR-TS-CLOSED", "OUT-TS-E2", "OUT-TS-E2-KEY", "MIC-TS-1", "WAT-TS-1"}


def test_aggregates_and_series(world):
    rows = world.client.get("/api/v1/aggregates", params={"site": "AIR-SJZ-1", "parameter": "pm25",
                                                          "window": "day"}).json()["results"]
    assert [r["window"] for r in rows] == ["2026-01-11T00:00:00+08:00", "2026-01-12T00:00:00+08:00"]
    assert all(r["count"] == 24 for r in rows)
    s = world.client.get("/api/v1/series", params={"site": "AIR-SJZ-1"}).json()["results"]
    assert {x["parameter"] for x in s} == {"pm25", "pm10", "so2", "no2", "co", "o3"}


def test_aggregates_of_every_series_are_bounded(world):
    rng = {"from": "2026-01-11T00:00:00", "to": "2026-01-12T00:00:00"}
    for window in ("month", "year"):
        r = world.client.get("/api/v1/aggregates", params={**rng, "window": window})
        detail = r.json()["detail"]
        assert r.status_code == 400 and f"window={window!r}" in detail and "hour or day" in detail
    r = world.client.get("/api/v1/aggregates", params={**rng, "window": "hour", "limit": 5})
    assert r.status_code == 200 and len(r.json()["results"]) == 5
    whole = world.client.get("/api/v1/aggregates", params={**rng, "window": "hour"}).json()["results"]
    assert r.json()["results"] == whole[:5]  # the first rows of the whole rollup
    r = world.client.get("/api/v1/aggregates", params={"site": "AIR-SJZ-1", "window": "month"})
    assert r.status_code == 200 and r.json()["results"]  # one site: any window


def test_public_micro_cache_serves_anonymous_only(store):
    w = build_world(store, config=ApiConfig(rate_anon_per_min=10_000, rate_auth_per_min=10_000,
                                            public_cache_seconds=60))
    w.app.state.response_cache.version.current = lambda: "quiet"  # no commit from elsewhere (PostgreSQL: cluster)
    w.client.get("/api/v1/aqi/hourly")  # a path's first cacheable answer registers it
    first = w.client.get("/api/v1/aqi/hourly")
    again = w.client.get("/api/v1/aqi/hourly")
    assert again.headers.get("x-cache") == "hit" and again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    signed = w.get("officer_ts", "/api/v1/aqi/hourly")
    assert "x-cache" not in signed.headers and "AIR-TS-CLOSED" in signed.text  # never the anonymous answer
    assert "AIR-TS-CLOSED" not in again.text
    other = w.client.get("/api/v1/aqi/hourly?by=city")
    assert "x-cache" not in other.headers  # keyed by the query
