"""The response cache (ecohub.api.response_cache): answers are reused per (path, query, caller's scope) and only
while the data version is unchanged — never across scopes, never after a commit. Both backends."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from conftest import SITES, T0, VISIBLE, build_world
from ecohub.api.security import ApiConfig
from ecohub.store.schema import parameter, series, site
from ecohub.store.version import DataVersion
from ecohub.store.writer import ObservationWriter

CACHED = ["/api/v1/latest", "/api/v1/latest?interval=hour&parameter=pm25", "/api/v1/aqi/hourly",
          "/api/v1/aqi/hourly?by=city", "/api/v1/aqi/daily?date=2026-01-11", "/api/v1/water/quality",
          "/api/v1/rankings/cities?from=2026-01-11&to=2026-01-12"]
CALLERS = sorted(VISIBLE)


@pytest.fixture
def cworld(store):
    return build_world(store, config=ApiConfig(rate_anon_per_min=10**6, rate_auth_per_min=10**6,
                                               rate_login_per_min=10**6, public_cache_seconds=60))


def _hit(world, who: str, url: str, **kw):
    """GET until the answer comes from the cache (a path's first answer registers it, the next is kept; on
    PostgreSQL a commit anywhere in the cluster — another test's database — also makes an entry stale)."""
    for _ in range(10):
        r = world.get(who, url, **kw)
        if r.headers.get("x-cache") == "hit":
            return r
    raise AssertionError(f"{url} as {who}: never served from the cache")


def _visible_codes(body: str) -> set[str]:
    return {code for code in SITES if re.search(re.escape(code) + r"(?![-\w])", body)}


def test_cache_never_serves_one_scope_the_answer_of_another(cworld, monkeypatch):
    # a database nobody writes to (on PostgreSQL the real version also moves with other databases' commits,
    # which would leave few hits to check); the versions themselves are tested below
    monkeypatch.setattr(cworld.app.state.response_cache.version, "current", lambda: "quiet")
    first: dict[tuple[str, str], bytes] = {}
    hits = 0
    for rnd in range(3):  # every caller after every other: each pass finds the others' answers in the cache
        for who in (CALLERS if rnd % 2 == 0 else CALLERS[::-1]):
            for url in CACHED:
                r = cworld.get(who, url)
                assert r.status_code == 200, (who, url, r.text[:300])
                leaked = _visible_codes(r.text) - VISIBLE[who]
                assert not leaked, f"{who} saw {sorted(leaked)} through {url} (x-cache {r.headers.get('x-cache')})"
                if rnd == 0:
                    first[who, url] = r.content
                else:
                    assert r.content == first[who, url], (who, url)
                    hits += r.headers.get("x-cache") == "hit"
    # every later answer came from the cache, but the first caller's of each path (whose first answer only
    # registered the path)
    assert hits == 2 * len(CALLERS) * len(CACHED) - len({u.split("?")[0] for u in CACHED})
    # different scopes really have different answers (else the test above proves nothing)
    assert first["anonymous", "/api/v1/latest"] != first["officer_ts", "/api/v1/latest"]
    assert first["officer_sjz", "/api/v1/latest"] != first["officer_ts", "/api/v1/latest"]
    assert first["ent1", "/api/v1/latest"] != first["ent2", "/api/v1/latest"]


def test_a_signed_in_hit_is_not_public(cworld):
    r = _hit(cworld, "admin", "/api/v1/latest")
    assert r.headers["cache-control"] == "private, no-cache"
    a = cworld.get("anonymous", "/api/v1/latest")
    assert "x-cache" not in a.headers  # anonymous has its own entry
    a = cworld.get("anonymous", "/api/v1/latest")
    assert a.headers.get("x-cache") == "hit" and a.headers["cache-control"].startswith("public")
    assert a.headers["x-content-type-options"] == "nosniff"  # the security headers are added to hits too
    r304 = cworld.get("anonymous", "/api/v1/latest", headers={"If-None-Match": a.headers["etag"]})
    assert r304.status_code == 304 and r304.content == b""


def test_a_new_observation_is_in_the_next_answer(cworld):
    url = "/api/v1/latest?site=AIR-SJZ-1&parameter=pm25"
    again = _hit(cworld, "anonymous", url)
    (row,) = again.json()
    with cworld.store.engine.connect() as c:
        sid = c.scalar(select(series.c.id).join(site, site.c.id == series.c.site_id)
                       .join(parameter, parameter.c.id == series.c.parameter_id)
                       .where(site.c.code == "AIR-SJZ-1", parameter.c.name == "pm25"))
    w = ObservationWriter(cworld.store, "import", "test")
    w.add(sid, T0 + 3600 * 100, 123.0)
    w.flush()
    after = cworld.get("anonymous", url)
    assert "x-cache" not in after.headers
    (new,) = after.json()
    assert new["value"] == 123.0 and new["time"] > row["time"]
    assert cworld.get("anonymous", url).headers.get("x-cache") == "hit"  # kept again under the new version


def test_closing_a_site_hides_it_at_once(cworld):
    """A registry change (not an observation) also invalidates: a cached answer never shows a site that
    has just been closed to the public."""
    assert "AIR-TS-1" in _hit(cworld, "anonymous", "/api/v1/latest").text
    with cworld.store.engine.begin() as c:
        c.execute(update(site).where(site.c.code == "AIR-TS-1").values(attrs={"open": False}))
    r = cworld.get("anonymous", "/api/v1/latest")
    assert "x-cache" not in r.headers and "AIR-TS-1" not in _visible_codes(r.text)


def test_query_order_is_normalised_but_values_are_not_merged(cworld):
    a = _hit(cworld, "admin", "/api/v1/latest?parameter=pm25&site=AIR-SJZ-1")
    b = cworld.get("admin", "/api/v1/latest?site=AIR-SJZ-1&parameter=pm25")
    assert b.headers.get("x-cache") == "hit" and a.content == b.content
    c = cworld.get("admin", "/api/v1/latest?site=AIR-SJZ-1&parameter=pm10")
    assert "x-cache" not in c.headers and c.json()[0]["parameter"] == "pm10"


def test_cache_off(world):  # public_cache_seconds=0
    for _ in range(3):
        assert "x-cache" not in world.get("anonymous", "/api/v1/latest").headers


def test_errors_are_not_kept(cworld):
    _hit(cworld, "anonymous", "/api/v1/latest")
    for _ in range(2):
        r = cworld.get("anonymous", "/api/v1/latest?region=12")
        assert r.status_code == 400 and "x-cache" not in r.headers


def test_data_version_moves_with_every_commit(cworld):
    store = cworld.store
    v = DataVersion(store)
    try:
        a = v.current()
        assert a is not None and v.current() == a  # reading does not move it
        with store.engine.begin() as c:
            c.execute(update(site).where(site.c.code == "AIR-SJZ-1").values(name="改名"))
        b = v.current()
        assert b != a
        raw = store.engine.raw_connection()  # a driver-level commit, as the writers' fast paths do
        try:
            cur = raw.driver_connection.cursor()
            cur.execute("UPDATE site SET name = 'x' WHERE code = 'AIR-SJZ-1'")
            raw.driver_connection.commit()
        finally:
            raw.close()
        assert v.current() != b
    finally:
        v.close()


def test_hits_are_counted_under_their_route(cworld, monkeypatch):
    monkeypatch.setattr(cworld.app.state.response_cache.version, "current", lambda: "quiet")  # as above
    _hit(cworld, "anonymous", "/api/v1/latest")
    label = 'ecohub_api_requests_total{method="GET",route="/api/v1/latest",status="200"}'

    def count() -> float:
        text = cworld.client.get("/metrics").text
        return float(next(ln.split()[-1] for ln in text.splitlines() if ln.startswith(label)))

    n = count()
    assert cworld.get("anonymous", "/api/v1/latest").headers.get("x-cache") == "hit"
    assert count() == n + 1


def test_data_version_after_a_lost_connection(cworld):
    v = DataVersion(cworld.store)
    try:
        assert v.current() is not None
        v._conn.close()  # its connection is gone (database restarted, network)
        assert v.current() is None  # no version: nothing is reused
        assert v.current() is not None  # reconnected on the next call
    finally:
        v.close()


def _concurrent_gets(app, url: str, n: int) -> list:
    """``n`` GETs of ``url`` at once on one event loop, as uvicorn serves them."""
    import asyncio

    import httpx

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
            return await asyncio.gather(*(c.get(url) for _ in range(n)))

    return asyncio.run(go())


def _slow_counted_latest(monkeypatch, delay: float = 0.2) -> list:
    """``latest_values`` that takes ``delay`` seconds and counts its calls (the computations of the answer)."""
    import time

    from ecohub.store import queries as Q

    calls, real = [], Q.latest_values

    def slow(*a, **kw):
        calls.append(1)
        time.sleep(delay)
        return real(*a, **kw)

    monkeypatch.setattr(Q, "latest_values", slow)
    return calls


def test_concurrent_misses_compute_once(cworld, monkeypatch):
    cache = cworld.app.state.response_cache
    version = ["v1"]
    monkeypatch.setattr(cache.version, "current", lambda: version[0])  # commits are simulated below
    url = "/api/v1/latest?parameter=pm25"
    _hit(cworld, "anonymous", url)  # the path is registered and kept at v1
    calls = _slow_counted_latest(monkeypatch)
    version[0] = "v2"  # a commit: every entry is stale
    waited = cache.waited
    answers = _concurrent_gets(cworld.app, url, 6)
    assert [r.status_code for r in answers] == [200] * 6
    assert len(calls) == 1, f"{len(calls)} computations of one key at one version"
    assert cache.waited == waited + 5
    assert len({r.content for r in answers}) == 1
    assert sum(r.headers.get("x-cache") == "hit" for r in answers) == 5
    version[0] = "v3"  # the next commit: computed once again
    _concurrent_gets(cworld.app, url, 4)
    assert len(calls) == 2


def test_waiters_compute_themselves_when_nothing_was_kept(cworld, monkeypatch):
    cache = cworld.app.state.response_cache
    monkeypatch.setattr(cache.version, "current", lambda: "quiet")
    url = "/api/v1/latest?parameter=pm25"
    _hit(cworld, "anonymous", url)
    calls = _slow_counted_latest(monkeypatch, 0.1)
    monkeypatch.setattr(cache, "put", lambda *a, **kw: None)  # e.g. an answer too big to keep
    cache.clear()
    answers = _concurrent_gets(cworld.app, url, 3)
    assert [r.status_code for r in answers] == [200] * 3 and len({r.content for r in answers}) == 1
    assert len(calls) == 3  # none of them waited for nothing
    assert all("x-cache" not in r.headers for r in answers)
