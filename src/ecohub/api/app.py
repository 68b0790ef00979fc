"""The FastAPI application: API v1 (OpenAPI at ``/docs``), the status page at ``/``, ``/healthz``.

``create_app(store)`` is the one factory every process uses (``ecohub demo``, ``ecohub serve``). It wires:
problem+json errors everywhere (:mod:`ecohub.api.problems`), the request middleware (size and rate limits,
the caller from a token or key → the query layer's scope, security headers, the audit of every write;
:mod:`ecohub.api.security`), CORS by configuration, and the routers of each area: identity and audit,
data, assessment, catalogue, alerts, and HTTP push ingest. See ``docs/api.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ecohub import __version__
from ecohub.api import problems
from ecohub.api.identity import AuthConfig, load_secret
from ecohub.api.response_cache import ResponseCache, ResponseCacheMiddleware
from ecohub.api.security import ApiConfig, EcohubMiddleware, RateLimiter
from ecohub.config import Settings
from ecohub.config import settings as env_settings
from ecohub.domain.timeutil import BEIJING
from ecohub.store.db import Store
from ecohub.store.queries import SYSTEM, SeriesFilter, latest_values, region_names, site_kind_counts
from ecohub.store.version import DataVersion
from ecohub.store.writer import store_status

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
POLLUTANTS = ("pm25", "pm10", "so2", "no2", "co", "o3")

DESCRIPTION = """ecohub — environmental monitoring data platform (环境监测数据平台).

**Sign in**: `POST /api/v1/auth/token` (OAuth2 password form) → Bearer access token (15 min) and refresh
token (7 days, `POST /api/v1/auth/refresh`). Machines: `X-API-Key: ek_…` (or `Authorization: Bearer ek_…`).
Anonymous callers see open data only.

**Scope**: admin and analyst see the province; an officer its city or county (and open data); an enterprise
its own sites (and open data); partners and the public open data, partners also the datasets granted to them.
What a caller may not see is answered 401 (not signed in), 403 or 404 — never the data.

**Errors** are `application/problem+json` (RFC 9457). **Paging**: `limit` (capped) and an opaque `cursor`
(`meta.next_cursor`). **Caching**: public GETs carry an `ETag` (send `If-None-Match` for 304) and, for
anonymous callers, `Cache-Control: public, max-age=60`. Times are ISO-8601; without an offset they are
Beijing time; answers are in Beijing time (`+08:00`).
"""


def create_app(store: Store, *, title: str = "ecohub", secret_key: str | None = None,
               config: ApiConfig | None = None, auth: AuthConfig | None = None,
               data_dir: Path | None = None, settings: Settings | None = None) -> FastAPI:
    """``settings``: the process's :class:`~ecohub.config.Settings` (default: the environment now), kept in
    ``app.state.settings``; ``config``, ``auth``, ``secret_key`` and ``data_dir`` override parts of it."""
    # /docs and /redoc from vendored assets (ecohub.api.docs), not FastAPI's CDN pages
    app = FastAPI(title=title, version=__version__, description=DESCRIPTION, docs_url=None, redoc_url=None)
    app.state.settings = settings = settings or env_settings()
    app.state.store = store
    app.state.started_at = datetime.now(UTC)
    app.state.config = config or ApiConfig.from_settings(settings)
    app.state.auth = auth or AuthConfig(secret=secret_key or load_secret(data_dir or settings.data_dir))
    app.state.limiter = RateLimiter()
    # answers of the hot reads kept per (path, query, scope) while the data version is unchanged
    app.state.response_cache = ResponseCache(DataVersion(store), app.state.config.public_cache_seconds)
    problems.install(app)
    from ecohub.api.docs import docs_router

    app.include_router(docs_router(title))

    from ecohub.api.routers import assessment, catalog, data
    from ecohub.api.routers import auth as auth_routes

    app.include_router(auth_routes.router)
    app.include_router(data.router)
    app.include_router(assessment.router)
    app.include_router(catalog.router)
    from ecohub.api.routers import alerts  # the alerts package's table, within the caller's scope
    from ecohub.ingest.http_push import ingest_router  # HTTP push (API key with scope ingest)

    app.include_router(alerts.router)
    from ecohub.api.routers import emergency  # dispersion, red lines, risk sources, incidents

    app.include_router(emergency.router)
    publisher = None
    if settings.bus_url:  # a bus configured: HTTP push publishes to it (202 once the stream holds the batch)
        from ecohub.bus.records import RecordPublisher
        from ecohub.bus.streams import BusConfig

        publisher = RecordPublisher(store, BusConfig(url=settings.bus_url), "http")
    app.include_router(ingest_router(store, publisher=publisher))
    from ecohub.api.routers import exchange  # partner exchange (signed batches), exchange log, forwarding

    app.include_router(exchange.router)
    from ecohub.api.routers import keys  # the platform's SM2 public keys

    app.include_router(keys.router)
    from ecohub.api.routers import reports  # reports, assessments (noise, soil, radiation), trends, surfaces

    app.include_router(reports.router)
    from ecohub.api.routers import permits, waste  # permit register, emissions; hazardous-waste manifests

    app.include_router(permits.router)
    app.include_router(waste.router)
    from ecohub.api.routers import forecasts  # forecasts, verification (ecohub.forecast)

    app.include_router(forecasts.router)
    from ecohub.api.routers import cases, credit, inspections  # enforcement cases, random draws, credit

    app.include_router(cases.router)
    app.include_router(inspections.router)
    app.include_router(credit.router)
    from ecohub.api.routers import complaint_loop  # the 12369 loop: stages, transfer, merge, links, results

    app.include_router(complaint_loop.router)

    from ecohub.api.metrics import install_metrics  # /metrics (Prometheus), /readyz (database, bus)
    from ecohub.exchange.forward import forwarding_summary

    install_metrics(app, store)

    @app.get("/healthz", tags=["status"])
    def healthz() -> dict:
        return {"status": "ok", "database": store.ping()}

    @app.get("/api/v1/status", tags=["status"])
    def status() -> dict:
        estimated: list[str] = []  # big PostgreSQL tables: the planner's row estimate, not a full count
        counts = store_status(store, estimate=True, estimated=estimated)
        return {"version": __version__, "backend": store.dialect, "started_at": app.state.started_at.isoformat(),
                "counts": counts, "counts_estimated": estimated, "forwarding": forwarding_summary(store)}

    @app.get("/status", response_class=HTMLResponse, include_in_schema=False)
    def status_page(request: Request):
        """Operator's status page: counts and the latest hourly values (the portal is at ``/`` with the web)."""
        # latest_values applies the request's scope (anonymous: open data)
        rows = latest_values(store, SeriesFilter(parameters=POLLUTANTS, kinds=("air_station",), interval="hour"))
        stations: dict[str, dict] = {}
        for r in rows:
            s = stations.setdefault(r["site"], {"code": r["site"], "name": r["site_name"], "region": r["region_code"],
                                                "time": r["time"], "values": {}})
            s["values"][r["parameter"]] = r["value"]
            s["time"] = max(s["time"], r["time"])
        names = region_names(store, {s["region"] for s in stations.values()})
        kinds = site_kind_counts(store, SYSTEM)  # how many of each kind: counts, not data
        for s in stations.values():
            s["region_name"] = names.get(s["region"], s["region"])
            s["time_local"] = s["time"].astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
        # HJ 212 devices within the caller's scope (none for the public), deviations from the standard first
        from ecohub.ingest.hj212.status import device_status

        devices = device_status(store)
        for d in devices:
            d["last_seen_local"] = d["last_seen"].astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") \
                if d["last_seen"] else "—"
        return TEMPLATES.TemplateResponse(request, "status.html", {
            "devices": devices, "forwarding": forwarding_summary(store),
            "version": __version__, "backend": store.dialect, "counts": store_status(store), "kinds": kinds,
            "stations": sorted(stations.values(), key=lambda s: (s["region"], s["code"])),
            "pollutants": POLLUTANTS, "now": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        })

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            comps = schema.setdefault("components", {})
            comps.setdefault("securitySchemes", {}).update({
                "oauth2": {"type": "oauth2", "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}}},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            })
            schema["security"] = [{}, {"oauth2": []}, {"apiKey": []}]
            app.openapi_schema = problems.document_problems(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    # the response cache answers hits before the metrics middleware (a BaseHTTPMiddleware, ≈ half the cost of a
    # hit) and counts them itself under their route; inside EcohubMiddleware (added last, outermost: the
    # caller, rate limits, security headers)
    app.add_middleware(ResponseCacheMiddleware, cache=app.state.response_cache,
                       observe=getattr(app.state, "observe_request", None))
    app.add_middleware(EcohubMiddleware, store=store, auth=app.state.auth, config=app.state.config,
                       limiter=app.state.limiter)
    if app.state.config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=app.state.config.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "If-None-Match"],
                           expose_headers=["ETag", "Link", "X-Next-Cursor", "Retry-After", "X-Export-Id", "X-Request-ID"],
                           max_age=600)
    from ecohub.api.request_ids import RequestIdMiddleware  # outermost: every answer carries X-Request-ID

    app.add_middleware(RequestIdMiddleware)
    return app
