"""HTTP push: API-key authentication, per-record errors and quarantine, body limits, malformed bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from ecohub.api.app import create_app
from ecohub.ingest.http_push import MAX_ERRORS, MAX_RECORDS, PATH, ingest_router
from ecohub.store import registry as R
from ecohub.store.apikeys import create_key, revoke_key
from ecohub.store.schema import ingest_log, observation, parameter, quarantine, series, source


@pytest.fixture
def sites(store):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
        R.upsert_site(c, R.SiteInput("1030A", "air_station", "高新区", 114.6, 38.05, "130100"))
        R.add_enterprise(c, "91350100M000100Y43", "示例电厂", "130100")
        R.upsert_site(c, R.SiteInput("GAS1", "gas_outlet", "1#排口", 114.7, 38.1, "130100", "91350100M000100Y43"))
    return store


@pytest.fixture
def key(sites):
    with sites.engine.begin() as c:
        return create_key(c, "partner", ["ingest"], owner="test")


@pytest.fixture
def client(sites):
    app = FastAPI()
    app.include_router(ingest_router(sites))
    with TestClient(app) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


GOOD = [
    {"site": "1029A", "parameter": "pm25", "time": "2024-05-01T13:00:00+08:00", "value": 35, "flag": "N"},
    {"site": "1029A", "parameter": "a34002", "time": "2024-05-01 13:00", "value": 60.5},
    {"site": "1030A", "parameter": "so2", "time": "2024-05-01T05:00:00Z", "value": 8},
    {"site": "1030A", "parameter": "no2", "time": "2024-05-01T13:00:00+08:00", "value": None, "flag": "D"},
]


def stored(store) -> list[tuple]:
    with store.engine.connect() as c:
        return c.execute(select(observation.c.time, observation.c.value, observation.c.flag, source.c.name,
                                series.c.interval, parameter.c.name)
                         .join(source, source.c.id == observation.c.source_id)
                         .join(series, series.c.id == observation.c.series_id)
                         .join(parameter, parameter.c.id == series.c.parameter_id)
                         .order_by(observation.c.time, parameter.c.name)).all()


def quarantined(store) -> list:
    with store.engine.connect() as c:
        return c.execute(select(quarantine).order_by(quarantine.c.line)).mappings().all()


def test_good_batch_then_duplicates_then_conflict(client, sites, key):
    r = client.post(PATH, json=GOOD, headers=auth(key))
    assert r.status_code == 200, r.text
    assert r.json() == {"imported": 4, "duplicates": 0, "conflicts": 0, "rejected": 0, "errors": []}
    rows = stored(sites)
    assert len(rows) == 4
    assert {r.name for r in rows} == {"http"} and {r.interval for r in rows} == {"rt"}
    # naive time = Beijing: 13:00 Beijing is 05:00 UTC, the same instant as "05:00Z"
    assert {r.time.replace(tzinfo=UTC) if r.time.tzinfo is None else r.time for r in rows} == {
        datetime(2024, 5, 1, 5, tzinfo=UTC)}
    assert [r.value for r in rows if r[5] == "no2"] == [None]
    again = client.post(PATH, json={"observations": GOOD}, headers={"X-API-Key": key}).json()
    assert again == {"imported": 0, "duplicates": 4, "conflicts": 0, "rejected": 0, "errors": []}
    changed = [dict(GOOD[0], value=36)]
    assert client.post(PATH, json=changed, headers=auth(key)).json()["conflicts"] == 1
    assert len(stored(sites)) == 4
    with sites.engine.connect() as c:
        logs = c.execute(select(ingest_log).where(ingest_log.c.channel == "http")).mappings().all()
    assert len(logs) == 3 and logs[0]["imported"] == 4 and logs[0]["origin"].startswith("apikey:")


def test_interval_from_query_and_record(client, sites, key):
    batch = [{"site": "1029A", "parameter": "pm25", "time": "2024-05-01T13:00:00+08:00", "value": 1},
             {"site": "1029A", "parameter": "pm25", "time": "2024-05-01", "value": 2, "interval": "day"}]
    r = client.post(PATH + "?interval=hour", json=batch, headers=auth(key))
    assert r.json()["imported"] == 2
    assert sorted(x.interval for x in stored(sites)) == ["day", "hour"]
    bad = client.post(PATH + "?interval=weekly", json=batch, headers=auth(key))
    assert bad.status_code == 400 and "weekly" in bad.json()["detail"]


def test_gas_outlet_gets_flue_gas_parameter(client, sites, key):
    r = client.post(PATH, json=[{"site": "GAS1", "parameter": "a21026", "time": "2024-05-01 10:00", "value": 35.2}],
                    headers=auth(key))
    assert r.json()["imported"] == 1
    assert [x[5] for x in stored(sites)] == ["so2_gas"]


BAD = [
    {"site": "NOPE", "parameter": "pm25", "time": "2024-05-01T13:00:00+08:00", "value": 1},      # 0 site
    {"site": "1029A", "parameter": "xyz", "time": "2024-05-01T13:00:00+08:00", "value": 1},      # 1 parameter
    {"site": "1029A", "parameter": "pm25", "time": "yesterday", "value": 1},                      # 2 time
    {"site": "1029A", "parameter": "pm25", "time": "2099-01-01T00:00:00+08:00", "value": 1},     # 3 future
    {"site": "1029A", "parameter": "pm25", "time": "2024-05-01T14:00:00+08:00", "value": "12"},  # 4 string value
    {"site": "1029A", "parameter": "pm25", "time": "2024-05-01T15:00:00+08:00", "value": None},  # 5 null, no flag
    {"site": "1029A", "parameter": "pm25", "time": "2024-05-01T16:00:00+08:00", "value": True},  # 6 bool
    {"site": "1029A", "parameter": "pm25", "time": "2024-05-01T17:00:00+08:00", "value": 1, "flag": "TOOLONG"},
    "not a record",                                                                               # 8 record
    {"site": "1029A", "parameter": "pm25", "time": "2024-05-01T18:00:00+08:00"},                 # 9 no value
    {"site": "1029A", "parameter": "pm25", "time": "2024-05-01T19:00:00+08:00", "value": 1, "interval": "weekly"},
    {"parameter": "pm25", "time": "2024-05-01T20:00:00+08:00", "value": 1},                      # 11 no site
    {"site": "1029A", "parameter": "pm25", "time": 1714539600, "value": 1},                      # 12 epoch time
]
BAD_FIELDS = ["site", "parameter", "time", "time", "value", "value", "value", "flag", "record", "value",
              "interval", "site", "time"]


def test_bad_records_rejected_one_by_one(client, sites, key):
    batch = BAD + GOOD
    r = client.post(PATH, json=batch, headers=auth(key))
    assert r.status_code == 200
    body = r.json()
    assert (body["imported"], body["rejected"]) == (4, len(BAD))
    errors = body["errors"]
    assert [e["index"] for e in errors] == list(range(len(BAD)))
    assert [e["field"] for e in errors] == BAD_FIELDS
    assert errors[0]["value"] == "NOPE" and "unknown site" in errors[0]["reason"]
    assert errors[1]["value"] == "xyz" and errors[2]["value"] == "yesterday"
    assert "future" in errors[3]["reason"] and errors[4]["value"] == "12"
    assert errors[6]["value"] is True and errors[7]["value"] == "TOOLONG"
    q = quarantined(sites)
    assert [row["line"] for row in q] == list(range(len(BAD)))
    assert {row["channel"] for row in q} == {"http"}
    assert {row["origin"] for row in q} == {"apikey:" + key.split("_")[1]}
    assert json.loads(q[0]["raw"]) == BAD[0]
    assert "NOPE" in q[0]["reason"] and q[0]["field"] == "site"


def test_non_finite_numbers_are_refused(client, sites, key):
    # Python's json accepts NaN/Infinity literals; they are not numbers we store, and the answer stays strict JSON
    body = ('[{"site":"1029A","parameter":"pm25","time":"2024-05-01 13:00","value":NaN},'
            '{"site":"1029A","parameter":"pm25","time":"2024-05-01 14:00","value":1e999},'
            '{"site":"1029A","parameter":"pm25","time":"2024-05-01 15:00","value":-Infinity}]')
    r = client.post(PATH, content=body, headers={**auth(key), "Content-Type": "application/json"})
    assert r.status_code == 200
    assert r.json()["rejected"] == 3
    assert all("finite" in e["reason"] for e in r.json()["errors"])
    assert [e["value"] for e in r.json()["errors"]] == ["nan", "inf", "-inf"]


def test_nul_characters_are_refused_not_fatal(client, sites, key):
    batch = [{"site": "10\u000029A", "parameter": "pm25", "time": "2024-05-01 13:00", "value": 1},
             {"site": "1029A", "parameter": "pm\u000025", "time": "2024-05-01 13:00", "value": 1},
             {"site": "1029A", "parameter": "pm25", "time": "2024-05-01 13:00\u0000", "value": 1},
             {"site": "1029A", "parameter": "pm25", "time": "2024-05-01 13:00", "value": 1, "flag": "N\u0000"}]
    r = client.post(PATH, json=batch, headers=auth(key))
    # (Python's ISO parser ignores a trailing NUL after a time: that record is stored, without the NUL)
    assert r.status_code == 200 and r.json()["rejected"] == 3
    assert [row["line"] for row in quarantined(sites)] == [0, 1, 3]


def test_lone_surrogates_are_refused_not_fatal(client, sites, key):
    bad = "\ud800"
    batch = [{"site": bad, "parameter": "pm25", "time": "2024-05-01 13:00", "value": 1},
             {"site": "1029A", "parameter": bad, "time": "2024-05-01 13:00", "value": 1},
             {"site": "1029A", "parameter": "pm25", "time": bad, "value": 1},
             {"site": "1029A", "parameter": "pm25", "time": "2024-05-01 13:00", "value": bad},
             {"site": "1029A", "parameter": "pm25", "time": "2024-05-01 13:00", "value": 1, "flag": bad}]
    body = json.dumps(batch, ensure_ascii=True)  # the JSON text is plain ASCII: "\ud800" escapes
    r = client.post(PATH, content=body, headers={**auth(key), "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["rejected"] == 5
    assert [e["field"] for e in r.json()["errors"]] == ["site", "parameter", "time", "value", "flag"]
    assert [row["line"] for row in quarantined(sites)] == [0, 1, 2, 3, 4]


def test_errors_list_is_capped_but_all_are_quarantined(client, sites, key):
    batch = [{"site": "NOPE", "parameter": "pm25", "time": "2024-05-01 13:00", "value": i} for i in range(150)]
    body = client.post(PATH, json=batch, headers=auth(key)).json()
    assert body["rejected"] == 150 and len(body["errors"]) == MAX_ERRORS
    assert len(quarantined(sites)) == 150


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert set(body) == {"type", "title", "status", "detail"} and body["status"] == status
    return body


def test_unauthenticated_and_bad_keys(client, sites, key):
    assert "API key" in problem(client.post(PATH, json=GOOD), 401)["detail"]
    r = client.post(PATH, json=GOOD)
    assert r.headers["www-authenticate"].startswith("Bearer")
    problem(client.post(PATH, json=GOOD, headers=auth("ek_nothere_secret")), 401)
    problem(client.post(PATH, json=GOOD, headers=auth(key + "x")), 401)
    problem(client.post(PATH, json=GOOD, headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)
    with sites.engine.begin() as c:
        read_only = create_key(c, "reader", ["read"])
        expired = create_key(c, "old", ["ingest"], expires_at=datetime.now(UTC) - timedelta(minutes=1))
        revoked = create_key(c, "gone", ["ingest"])
        assert revoke_key(c, revoked.split("_")[1])
    for k in (read_only, expired, revoked):
        problem(client.post(PATH, json=GOOD, headers=auth(k)), 401)
    assert stored(sites) == []
    assert client.post(PATH, json=GOOD, headers=auth(key)).status_code == 200


def test_revoking_a_key_stops_it(client, sites, key):
    assert client.post(PATH, json=GOOD[:1], headers=auth(key)).status_code == 200
    with sites.engine.begin() as c:
        revoke_key(c, key.split("_")[1])
    problem(client.post(PATH, json=GOOD[1:], headers=auth(key)), 401)
    assert len(stored(sites)) == 1


def test_oversized_bodies(sites, key):
    app = FastAPI()
    app.include_router(ingest_router(sites, max_body=1000))
    with TestClient(app) as small:
        big = json.dumps(GOOD * 10)
        assert len(big) > 1000
        assert "1000" in problem(small.post(PATH, content=big, headers=auth(key)), 413)["detail"]

        def chunks():  # no Content-Length: the limit is enforced while reading
            for _ in range(10):
                yield b" " * 200

        problem(small.post(PATH, content=chunks(), headers=auth(key)), 413)


def test_default_limits(client, sites, key):
    five_mib = b"[" + b" " * (5 * 1024 * 1024) + b"]"
    problem(client.post(PATH, content=five_mib, headers=auth(key)), 413)
    too_many = "[" + ",".join(["{}"] * (MAX_RECORDS + 1)) + "]"
    assert f"{MAX_RECORDS + 1} records" in problem(client.post(PATH, content=too_many, headers=auth(key)),
                                                    413)["detail"]
    assert stored(sites) == [] and quarantined(sites) == []


@pytest.mark.parametrize("body,needle", [
    (b"{not json", "not valid JSON"),
    (b"", "empty"),
    (b"\xff\xfe[]", "not UTF-8"),
    (b'{"site": "1029A"}', "observations"),
    (b'{"observations": {"a": 1}}', "observations"),
    (b"42", "JSON array"),
    (b'"text"', "JSON array"),
    (b"[" * 100_000 + b"]" * 100_000, "JSON"),
])
def test_malformed_bodies(client, sites, key, body, needle):
    assert needle in problem(client.post(PATH, content=body, headers=auth(key)), 400)["detail"]
    assert quarantined(sites) == []


def test_empty_batch(client, key):
    assert client.post(PATH, json=[], headers=auth(key)).json()["imported"] == 0


def test_mounted_on_the_application(sites, key):
    app = create_app(sites)
    app.include_router(ingest_router(sites))
    with TestClient(app) as c:
        r = c.post(PATH + "?interval=hour", json=GOOD[:2], headers=auth(key))
        assert r.status_code == 200 and r.json()["imported"] == 2
        latest = c.get("/api/v1/latest", params={"site": "1029A"}).json()
        assert {x["parameter"] for x in latest} == {"pm25", "pm10"}
        assert PATH in c.get("/openapi.json").json()["paths"]
