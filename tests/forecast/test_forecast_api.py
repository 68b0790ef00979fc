"""GET /api/v1/forecasts (latest, history), /forecasts/verification, /forecasts/observed — on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from ecohub.api.app import create_app
from ecohub.api.identity import AuthConfig
from ecohub.forecast import service
from ecohub.forecast.history import read_daily_file
from ecohub.forecast.model import ModelSettings

FIX = Path(__file__).parent.parent / "fixtures" / "forecast"
FAST = ModelSettings(rounds=30, pollutant_rounds=15)


@pytest.fixture
def api(store, tmp_path):
    h = read_daily_file(FIX / "tianjin_daily_2014-01-01_2022-05-31.csv").since(np.datetime64("2019-01-01"))
    for day, hour in (("2021-03-01", 8), ("2021-03-02", 8), ("2021-03-02", 9)):
        t = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
        service.issue(store, "120100", h.until(np.datetime64(day)), now=t, settings=FAST, name="天津市")
    service.issue(store, "130100", h.until(np.datetime64("2020-06-01")).since(np.datetime64("2020-05-20")),
                  now=datetime(2020, 6, 1, 8, tzinfo=UTC), name="石家庄市")
    service.verify(store, now=datetime(2021, 3, 8, tzinfo=UTC), histories={"120100": h})
    app = create_app(store, auth=AuthConfig(secret="s" * 48), data_dir=tmp_path)
    return TestClient(app)


def test_latest_history_verification_observed(api):
    r = api.get("/api/v1/forecasts")
    assert r.status_code == 200
    latest = {i["target_code"]: i for i in r.json()}
    assert set(latest) == {"120100", "130100"}
    assert latest["120100"]["issued_at"].startswith("2021-03-02T09:00")
    assert latest["130100"]["method"] == "persistence"
    d = latest["120100"]["days"]
    assert [x["lead"] for x in d] == [1, 2, 3] and d[0]["day"] == "2021-03-03"
    assert d[0]["aqi_low"] <= d[0]["aqi"] <= d[0]["aqi_high"] and d[0]["color"].startswith("#")
    assert latest["120100"]["warning"]["scheme"] == "2018"
    r = api.get("/api/v1/forecasts", params={"city": "120100", "issued": "all"})
    assert [i["issued_at"][:16] for i in r.json()] == ["2021-03-02T09:00", "2021-03-02T08:00", "2021-03-01T08:00"]
    assert api.get("/api/v1/forecasts", params={"issued": "all"}).status_code == 400
    assert api.get("/api/v1/forecasts", params={"city": "12<script>"}).status_code in (400, 422)
    r = api.get("/api/v1/forecasts/verification", params={"city": "120100"})
    assert r.status_code == 200
    lead1 = r.json()["leads"][0]
    assert lead1["days"] == 2 and lead1["persistence"]["days"] == 2  # 03-02 and 03-03 (last issue of 03-02)
    r = api.get("/api/v1/forecasts/observed", params={"city": "120100", "days": 92})
    assert r.status_code == 200 and isinstance(r.json(), list)
    assert api.get("/api/v1/forecasts/observed").status_code == 400  # city or site
    assert api.get("/api/v1/forecasts/observed", params={"site": "NOPE"}).status_code == 404
    assert "/api/v1/forecasts/verification" in api.get("/openapi.json").json()["paths"]
