"""Issue 10 item 10 through the API (the web's downloads): CSV cells that would run as a formula are written as
text; numbers, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io

from conftest import T0
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter


def test_observations_csv_download_neutralises(world):
    with world.store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("=SUM(1)", "air_station", "x", 114.5, 38.0, "130100"))
        sid = R.SeriesResolver().get(c, R.site_index(c)["=SUM(1)"][0], R.parameter_index(c)["temp"], "hour")
    w = ObservationWriter(world.store, "import", "t")
    w.add(sid, T0, -4.5)
    w.flush()
    r = world.get("admin", "/api/v1/observations", params={"site": "=SUM(1)", "format": "csv"})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["site"], x["value"]) for x in rows] == [("'=SUM(1)", "-4.5")]


def test_catalogue_csv_export_neutralises(world):
    h = world.headers("admin")
    ds = world.client.post("/api/v1/datasets", headers=h, json={
        "code": "cells", "title": "公式", "description": "formula cells", "owner_department": "监测处",
        "update_frequency": "daily", "sharing_level": "conditional", "open_level": "closed",
        "fields": [{"name": "note", "type": "string"}, {"name": "delta", "type": "number"}],
        "source": {"type": "records"}}).json()
    r = world.client.post(f"/api/v1/datasets/{ds['id']}/records", headers=h,
                          json={"records": [{"note": "@cmd|' /C calc'!A0", "delta": -2.5}, {"note": "ok", "delta": 1}]})
    assert r.status_code < 300, r.text
    r = world.client.get(f"/api/v1/datasets/{ds['id']}/export?format=csv", headers=h)
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(x["note"], x["delta"]) for x in rows] == [("'@cmd|' /C calc'!A0", "-2.5"), ("ok", "1")]
