"""A small province for the API tests: two cities, two enterprises, open and non-open sites, users of every
role, on both backends (``store`` fixture)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from ecohub.api.app import create_app
from ecohub.api.identity import AuthConfig, create_user, use_hasher
from ecohub.api.security import ApiConfig
from ecohub.store import registry as R
from ecohub.store.apikeys import create_key
from ecohub.store.schema import parameter, site
from ecohub.store.writer import ObservationWriter

# cheap argon2 parameters for the tests (the production default is argon2-cffi's RFC 9106 low-memory profile)
use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

SECRET = "test-secret-" + "x" * 40
PASSWORD = "Correct-Horse-9"
T0 = int(datetime(2026, 1, 10, 16, tzinfo=UTC).timestamp())  # 2026-01-11 00:00 Beijing
HOURS = 48
E1 = "91130110DEMY000589"  # in 130110 (石家庄 county-level)
E2 = "91130283DEMY00015Q"  # in 130283 (唐山 county-level)

# site code → (kind, region, enterprise, attrs)
SITES = {
    "AIR-SJZ-1": ("air_station", "130100", None, {"city": "石家庄市"}),
    "AIR-TS-1": ("air_station", "130200", None, {"city": "唐山市"}),
    "AIR-TS-CLOSED": ("air_station", "130200", None, {"open": False}),
    "OUT-SJZ-E1": ("gas_outlet", "130110", E1, None),
    "OUT-TS-E2": ("gas_outlet", "130283", E2, {"key_unit": False}),
    "OUT-TS-E2-KEY": ("gas_outlet", "130283", E2, {"key_unit": True}),
    "MIC-TS-1": ("micro_station", "130203", None, None),
    "WAT-TS-1": ("water_section", "130200", None, {"waterbody": "river"}),
}
AIR_PARAMS = ("pm25", "pm10", "so2", "no2", "co", "o3")
OUTLET_PARAMS = ("so2_gas", "nox")

# who may see which site (besides admin and analyst, who see everything)
OPEN = {"AIR-SJZ-1", "AIR-TS-1", "OUT-TS-E2-KEY", "WAT-TS-1"}
VISIBLE = {
    "officer_sjz": OPEN | {"OUT-SJZ-E1"},
    "officer_ts": OPEN | {"AIR-TS-CLOSED", "OUT-TS-E2", "MIC-TS-1"},
    "officer_ts_key": OPEN | {"AIR-TS-CLOSED", "OUT-TS-E2", "MIC-TS-1"},
    "ent1": OPEN | {"OUT-SJZ-E1"},
    "ent2": OPEN | {"OUT-TS-E2"},
    "partner": OPEN,
    "public_user": OPEN,
    "anonymous": OPEN,
    "admin": set(SITES),
    "analyst": set(SITES),
}

USERS = {  # name → (role, region, enterprise, department)
    "admin": ("admin", None, None, "监测处"),
    "analyst": ("analyst", None, None, "监测中心"),
    "officer_sjz": ("officer", "130100", None, "石家庄市生态环境局"),
    "officer_ts": ("officer", "130200", None, "唐山市生态环境局"),
    "ent1": ("enterprise", None, E1, None),
    "ent2": ("enterprise", None, E2, None),
    "partner": ("partner", None, None, "水利厅"),
    "public_user": ("public", None, None, None),
}


@dataclass
class World:
    store: object
    app: object
    client: TestClient
    clock: list = field(default_factory=lambda: [0.0])
    tokens: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)

    def headers(self, who: str) -> dict:
        if who == "anonymous":
            return {}
        if who in self.keys:
            return {"X-API-Key": self.keys[who]}
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, url: str, **kw):
        return self.client.get(url, headers={**self.headers(who), **kw.pop("headers", {})}, **kw)

    def post(self, who: str, url: str, **kw):
        return self.client.post(url, headers={**self.headers(who), **kw.pop("headers", {})}, **kw)

    def login(self, name: str, password: str = PASSWORD):
        return self.client.post("/api/v1/auth/token", data={"username": name, "password": password})


def build_world(store, *, config: ApiConfig | None = None) -> World:
    import time

    with store.engine.begin() as c:
        R.add_enterprise(c, E1, "示例水泥（测试）", "130110")
        R.add_enterprise(c, E2, "示例钢铁（测试）", "130283")
        for code, (kind, reg, ent, attrs) in SITES.items():
            R.upsert_site(c, R.SiteInput(code, kind, code, 114.5 + len(code) / 100, 38.0 + len(code) / 100, reg,
                                         ent, attrs))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {}
        for code, (kind, *_rest) in SITES.items():
            params = AIR_PARAMS if kind in ("air_station", "micro_station") else (
                ("ph", "do", "nh3n", "codmn", "tp") if kind == "water_section" else OUTLET_PARAMS)
            for p in params:
                ids[(code, p)] = res.get(c, idx[code][0], par[p], "hour")
        for name, (role, reg, ent, dept) in USERS.items():
            create_user(c, name, PASSWORD, role, region_code=reg, enterprise_uscc=ent, department=dept)
    w = ObservationWriter(store, "import", "test")
    for h in range(HOURS):
        for (_code, p), sid in ids.items():
            v = {"pm25": 40 + h % 7, "pm10": 70 + h % 5, "so2": 8, "no2": 30, "co": 0.8, "o3": 60 + h % 24,
                 "ph": 7.5, "do": 7.0, "nh3n": 0.3, "codmn": 3.0, "tp": 0.08}.get(p, 20.0 + h % 3)
            w.add(sid, T0 + 3600 * h, float(v))
    w.flush()
    clock = [time.time()]
    auth = AuthConfig(secret=SECRET, clock=lambda: clock[0])
    cfg = config or ApiConfig(rate_anon_per_min=1_000_000, rate_auth_per_min=1_000_000, rate_login_per_min=100_000,
                              public_cache_seconds=0)
    app = create_app(store, auth=auth, config=cfg)
    client = TestClient(app)
    world = World(store, app, client, clock)
    for name in USERS:
        r = world.login(name)
        assert r.status_code == 200, r.text
        world.tokens[name] = r.json()["access_token"]
    with store.engine.begin() as c:
        from ecohub.store.schema_identity import app_user

        uid = c.scalar(select(app_user.c.id).where(app_user.c.name == "officer_ts"))
        world.keys["officer_ts_key"] = create_key(c, "officer key", ["read"], owner="officer_ts", user_id=uid)
    return world


@pytest.fixture
def world(store) -> World:
    return build_world(store)


def add_alert(store, site_code: str, message: str) -> int:
    from ecohub.store.schema_alerts import alert

    now = datetime(2026, 1, 12, tzinfo=UTC)
    with store.engine.begin() as c:
        sid = c.scalar(select(site.c.id).where(site.c.code == site_code))
        pid = c.scalar(select(parameter.c.id).where(parameter.c.name == "so2_gas"))
        return int(c.execute(insert(alert).values(
            rule="permit", cause_key=f"permit:{site_code}", site_id=sid, parameter_id=pid, severity="major",
            status="open", active=True, message=message, opened_at=now, last_seen_at=now, occurrences=1,
            escalation_level=0)).inserted_primary_key[0])
