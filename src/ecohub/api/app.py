"""The FastAPI application: a first status page and JSON status/latest endpoints.

The full API v1 (auth, roles, catalogue) and the web UI are built on this app by later work; this module
keeps one factory, ``create_app(store)``, so every process (``ecohub demo``, ``ecohub serve``) serves the
same thing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select

from ecohub import __version__
from ecohub.domain.timeutil import BEIJING
from ecohub.store.db import Store
from ecohub.store.queries import SeriesFilter, latest_values
from ecohub.store.schema import region, site
from ecohub.store.writer import store_status

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
POLLUTANTS = ("pm25", "pm10", "so2", "no2", "co", "o3")


def create_app(store: Store, *, title: str = "ecohub") -> FastAPI:
    app = FastAPI(title=title, version=__version__,
                  description="ecohub — environmental monitoring data platform (环境监测数据平台)")
    app.state.store = store
    app.state.started_at = datetime.now(UTC)

    @app.get("/healthz", tags=["status"])
    def healthz() -> dict:
        return {"status": "ok", "database": store.ping()}

    @app.get("/api/v1/status", tags=["status"])
    def status() -> dict:
        counts = store_status(store)
        return {"version": __version__, "backend": store.dialect, "started_at": app.state.started_at.isoformat(),
                "counts": counts}

    @app.get("/api/v1/latest", tags=["data"])
    def latest(site: list[str] = Query(default=[]), parameter: list[str] = Query(default=[]),
               kind: list[str] = Query(default=[]), interval: str | None = None) -> list[dict]:
        rows = latest_values(store, SeriesFilter(sites=site, parameters=parameter, kinds=kind, interval=interval))
        for r in rows:
            r["time"] = r["time"].astimezone(BEIJING).isoformat()
        return rows

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request):
        rows = latest_values(store, SeriesFilter(parameters=POLLUTANTS, kinds=("air_station",), interval="hour"))
        stations: dict[str, dict] = {}
        for r in rows:
            s = stations.setdefault(r["site"], {"code": r["site"], "name": r["site_name"], "region": r["region_code"],
                                                "time": r["time"], "values": {}})
            s["values"][r["parameter"]] = r["value"]
            s["time"] = max(s["time"], r["time"])
        with store.engine.connect() as conn:
            names = dict(conn.execute(select(region.c.code, region.c.name).where(
                region.c.code.in_({s["region"] for s in stations.values()} or {""}))).all())
            kinds = dict(conn.execute(select(site.c.kind, func.count()).group_by(site.c.kind)).all())
        for s in stations.values():
            s["region_name"] = names.get(s["region"], s["region"])
            s["time_local"] = s["time"].astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
        return TEMPLATES.TemplateResponse(request, "status.html", {
            "version": __version__, "backend": store.dialect, "counts": store_status(store), "kinds": kinds,
            "stations": sorted(stations.values(), key=lambda s: (s["region"], s["code"])),
            "pollutants": POLLUTANTS, "now": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        })

    return app
