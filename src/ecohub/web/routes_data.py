"""JSON the pages need that the API v1 does not answer yet, under ``/api/v1/web/…`` — every route with the
caller's scope (the API middleware's principal), nothing served that the role may not see:

| route | who | what |
|---|---|---|
| ``GET /api/v1/web/map/features`` | anyone (scoped) | every visible site with its state (:func:`services.map_features`) |
| ``GET /api/v1/web/portal/aqi`` | anyone (scoped) | AQI now of every visible station, columnar (portal) |
| ``GET /api/v1/web/map/replay`` | anyone (scoped) | AQI of each visible station over the last 24 h |
| ``GET /api/v1/web/stations/{code}/hours`` | anyone (scoped) | one station's last hours of AQI |
| ``GET /api/v1/web/sites/{code}/permit`` | anyone (scoped) | permit limits of a visible outlet |
| ``GET /api/v1/web/sources`` | anyone (scoped) | outlets' newest values against their limits |
| ``GET /api/v1/web/cockpit`` | admin, analyst, officer | the cockpit's figures |
| ``GET /api/v1/web/alerts/stream`` | anyone (scoped) | server-sent events of alert changes |
| ``GET /api/v1/web/layers/{name}`` | admin, analyst, officer | red-line / risk-source GeoJSON from the data folder |
| ``GET /api/v1/web/boundaries/{name}.geojson`` | anyone | shipped boundaries, coordinates rounded |
| ``POST /api/v1/web/subscriptions`` … | anyone | public subscriptions (定制推送) through ``ecohub.alerts.notify`` |
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import re
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ecohub.alerts import service as A
from ecohub.api import response_cache
from ecohub.api.http import dumps, json_response, principal, require_role
from ecohub.api.problems import ApiProblem, not_found
from ecohub.domain.errors import InputError
from ecohub.domain.timeutil import BEIJING
from ecohub.store import queries as Q
from ecohub.store.db import Store
from ecohub.store.queries import Scope
from ecohub.web import services as S

STAFF = ("admin", "analyst", "officer")
LAYER_FILES = {"redline": "redline.geojson", "risk": "risk_sources.geojson"}
BOUNDARY_FILES = {"provinces": "china_provinces.geojson", "maritime": "china_maritime.geojson"}


# --- boundaries ---------------------------------------------------------------------------------------------
def served_province() -> str:
    """The province whose city/county boundaries are shipped (``<code>_cities.geojson``); 河北省 today."""
    from ecohub.config import settings

    env = settings().province
    if env:
        return env
    folder = resources.files("ecohub.data").joinpath("boundaries")
    codes = sorted(p.name[:6] for p in folder.iterdir() if p.name.endswith("_cities.geojson"))
    return codes[0] if codes else "130000"


def _round_coords(obj, nd: int):
    if isinstance(obj, list):
        if obj and isinstance(obj[0], int | float):
            return [round(float(v), nd) for v in obj]
        return [_round_coords(v, nd) for v in obj]
    return obj


def _bbox(geom) -> tuple[float, float, float, float]:
    xs, ys = [], []

    def walk(c):
        if c and isinstance(c[0], int | float):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for v in c:
                walk(v)

    walk(geom["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


@lru_cache(maxsize=16)
def boundary_bytes(name: str) -> tuple[bytes, bytes, str] | None:
    """(json, gzip, etag) of a boundary layer: ``province`` (the served province's outline), ``provinces``
    (provinces around it, for context), ``cities``, ``counties`` (of the served province), ``maritime``.
    Coordinates rounded to 4 decimals (~10 m; 3 for the context provinces)."""
    prov = served_province()
    folder = resources.files("ecohub.data").joinpath("boundaries")
    if name in ("cities", "counties"):
        fname, nd = f"{prov}_{name}.geojson", 4
    elif name in ("province", "provinces"):
        fname, nd = "china_provinces.geojson", 4 if name == "province" else 3
    elif name in BOUNDARY_FILES:
        fname, nd = BOUNDARY_FILES[name], 3
    else:
        return None
    try:
        with folder.joinpath(fname).open(encoding="utf-8") as f:
            fc = json.load(f)
    except FileNotFoundError:
        return None
    feats = fc["features"]
    if name == "province":
        feats = [f for f in feats if str(f["properties"].get("code")) == prov]
    elif name == "provinces":
        own = [f for f in feats if str(f["properties"].get("code")) == prov]
        if own:
            x0, y0, x1, y1 = _bbox(own[0]["geometry"])
            x0, y0, x1, y1 = x0 - 1.5, y0 - 1.5, x1 + 1.5, y1 + 1.5
            keep = []
            for f in feats:
                a, b, c, d = _bbox(f["geometry"])
                if a <= x1 and c >= x0 and b <= y1 and d >= y0 and str(f["properties"].get("code")) != prov:
                    keep.append(f)
            feats = keep
    out = {"type": "FeatureCollection", "datum": fc.get("datum", "WGS-84"),
           "features": [{"type": "Feature", "properties": {k: f["properties"].get(k) for k in ("code", "name")},
                         "geometry": {"type": f["geometry"]["type"],
                                      "coordinates": _round_coords(f["geometry"]["coordinates"], nd)}}
                        for f in feats]}
    raw = json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()
    return raw, gzip.compress(raw, 6), '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


def gz_json(request: Request, payload, *, public_max_age: int | None = None, cache: bool = False) -> Response:
    """JSON like ``api.http.json_response`` (strong ETag, 304, public caching for anonymous callers only) and
    gzip-compressed when the client accepts it — the map payloads are large (5,000 sites ≈ 0.5 MB raw).
    ``cache``: keep the answer in the response cache (:mod:`ecohub.api.response_cache`; gzip and plain apart)."""
    body = dumps(payload)
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    cache_control = (f"public, max-age={public_max_age}" if public_max_age and not principal(request).authenticated
                     else "private, no-cache")
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding, Authorization, X-API-Key"}
    if etag in [t.strip() for t in (request.headers.get("if-none-match") or "").split(",")]:
        return Response(status_code=304, headers=headers)
    if len(body) > 1400 and "gzip" in (request.headers.get("accept-encoding") or ""):
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body, 5)
    if cache:
        keyed = getattr(request.state, response_cache.STATE_KEY, None)
        rc = getattr(request.app.state, "response_cache", None)
        if keyed is not None and rc is not None:
            rc.put(keyed[0], keyed[1], body, headers, etag, request.scope.get("route"), by_encoding=True)
    return Response(body, media_type="application/json", headers=headers)


def _gzip_or_plain(request: Request, raw: bytes, gz: bytes, etag: str, media: str, max_age: int) -> Response:
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", "Vary": "Accept-Encoding"}
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in (request.headers.get("accept-encoding") or ""):
        headers["Content-Encoding"] = "gzip"
        return Response(gz, media_type=media, headers=headers)
    return Response(raw, media_type=media, headers=headers)


# --- scoped alert events (live feed) -------------------------------------------------------------------------
def _bj_row(r: dict) -> dict:
    return {k: (v.astimezone(BEIJING).isoformat() if isinstance(v, datetime) else v) for k, v in r.items()}


async def event_stream(store: Store, scope: Scope, after: int | None, request: Request, *, poll: float = 1.0,
                       keepalive: float = 15.0, max_seconds: float = 3600.0):
    cursor = await run_in_threadpool(A.last_event_id, store) if after is None else after
    yield f"retry: 3000\nid: {cursor}\nevent: hello\ndata: {json.dumps({'after': cursor})}\n\n"
    idle = waited = 0.0
    while waited < max_seconds:
        if await request.is_disconnected():
            return
        rows = [_bj_row(r) for r in await run_in_threadpool(A.events_after, store, scope, cursor)]
        for r in rows:
            cursor = r["id"]
            yield f"id: {r['id']}\nevent: {r['kind']}\ndata: {json.dumps(r, ensure_ascii=False, default=str)}\n\n"
        if rows:
            idle = 0.0
            continue
        await asyncio.sleep(poll)
        idle += poll
        waited += poll
        if idle >= keepalive:
            idle = 0.0
            yield ": keep-alive\n\n"


class SubscriptionIn(BaseModel):
    email: str
    site: str | None = None
    city: str | None = None
    min_level: int = 3


class TokenIn(BaseModel):
    token: str


def data_router(store: Store, data_dir: Path) -> APIRouter:
    r = APIRouter(prefix="/api/v1/web", tags=["web"])

    def scope_of(request: Request) -> Scope:
        return principal(request).scope

    def max_age(request: Request) -> int:
        return request.app.state.config.public_max_age

    @r.get("/map/features", summary="Every site the caller may see, with its state (one map)")
    async def features(request: Request):
        data = await run_in_threadpool(S.map_features_cached, store, scope_of(request))
        return gz_json(request, data, public_max_age=max_age(request))

    @r.get("/portal/aqi", summary="AQI now of every visible air station, compact (portal map and list)")
    async def portal_aqi(request: Request):
        data = await run_in_threadpool(S.portal_aqi, store, scope_of(request))
        return gz_json(request, data, public_max_age=max_age(request), cache=True)

    @r.get("/map/replay", summary="AQI of every visible air station, each of the last hours")
    async def replay(request: Request, hours: int = Query(24, ge=1, le=72)):
        data = await run_in_threadpool(S.replay, store, scope_of(request), hours)
        return gz_json(request, data, public_max_age=max_age(request), cache=True)

    @r.get("/stations/{code}/hours", summary="One air station's last hours: AQI and concentrations")
    async def station_hours(request: Request, code: str, hours: int = Query(24, ge=1, le=72)):
        data = await run_in_threadpool(S.station_hours, store, scope_of(request), code, hours)
        if data is None:
            raise not_found("station")
        return json_response(request, data, public_max_age=max_age(request))

    @r.get("/sites/{code}/permit", summary="Permit limits of an outlet the caller may see")
    async def permit(request: Request, code: str):
        sc = scope_of(request)
        if not await run_in_threadpool(lambda: Q.sites(store, codes=[code], scope=sc)):
            raise not_found("site")
        data = await run_in_threadpool(S.permits_for, store, sc, [code])
        return json_response(request, {"site": code, "limits": data.get(code, [])}, public_max_age=max_age(request))

    @r.get("/sources", summary="Outlets' newest values against their permit limits (disclosed for the public)")
    async def sources(request: Request):
        data = await run_in_threadpool(S.disclosed_sources, store, scope_of(request))
        return json_response(request, data, public_max_age=max_age(request))

    @r.get("/cockpit", summary="The cockpit's key figures (staff)")
    async def cockpit(request: Request):
        p = require_role(request, *STAFF)
        data = await run_in_threadpool(S.cockpit, store, p.scope)
        return json_response(request, data)

    @r.get("/alerts/stream", summary="Server-sent events of alert changes the caller may see")
    async def stream(request: Request, since: int | None = Query(None, ge=0)):
        last = request.headers.get("last-event-id")
        after = int(last) if last and last.isdigit() else since
        return StreamingResponse(event_stream(store, scope_of(request), after, request),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"})

    def _registered_layer(name: str, scope: Scope) -> dict | None:
        from ecohub.emergency import redline, risk

        fc = redline.feature_collection(store, scope) if name == "redline" else risk.features(store, scope)
        if not fc["features"]:
            return None
        fc["available"] = True
        return fc

    @r.get("/layers/{name}", summary="Red lines / risk sources from the registers (else the data folder) (staff)")
    async def layer(request: Request, name: str):
        p = require_role(request, *STAFF)
        if name not in LAYER_FILES:
            raise not_found("layer")
        registered = await run_in_threadpool(_registered_layer, name, p.scope)
        if registered is not None:  # the registers of ecohub.emergency, when they hold anything
            return json_response(request, registered)
        path = Path(data_dir) / "layers" / LAYER_FILES[name]
        if not path.is_file():
            return json_response(request, {"type": "FeatureCollection", "features": [], "available": False,
                                           "source": f"<data dir>/layers/{LAYER_FILES[name]} (absent)"})
        try:
            fc = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as e:
            raise ApiProblem(500, f"layers/{LAYER_FILES[name]}: not readable GeoJSON ({e})") from None
        fc["available"] = True
        return json_response(request, fc)

    @r.get("/boundaries/{name}.geojson", summary="Shipped boundaries (WGS-84), coordinates rounded")
    async def boundaries(request: Request, name: str):
        b = await run_in_threadpool(boundary_bytes, name)
        if b is None:
            raise not_found("boundary layer")
        raw, gz, etag = b
        return _gzip_or_plain(request, raw, gz, etag, "application/geo+json", 86400)

    # --- public subscriptions (定制推送) ---------------------------------------------------------------------
    def notify():
        try:
            from ecohub.alerts import notify as N

            return N
        except ImportError:  # pragma: no cover
            raise ApiProblem(503, "subscriptions are not available: the alerts package is not installed") from None

    @r.post("/subscriptions", status_code=201, summary="Subscribe to a city's or station's AQI level (public)")
    async def subscribe(request: Request, body: SubscriptionIn):
        N = notify()
        limiter = request.app.state.limiter
        wait = limiter.hit(f"subscribe:{request.state.ip}", 6, burst=5)
        if wait > 0:
            raise ApiProblem(429, "too many subscriptions from this address", headers={"Retry-After": str(int(wait) + 1)})
        if not 1 <= body.min_level <= 6:
            raise InputError("min_level", body.min_level, "an AQI level 1-6")
        if bool(body.site) == bool(body.city):
            raise InputError("site/city", body.site or body.city, "give a station or a city (one of them)")
        sc = scope_of(request)
        name = None
        if body.site:
            rows = await run_in_threadpool(lambda: Q.sites(store, codes=[body.site], kinds=["air_station"], scope=sc))
            if not rows:
                raise InputError("site", body.site, "no such air station")
            name = rows[0]["name"]
        else:
            if not re.fullmatch(r"\d{4}00", body.city or "") or body.city.endswith("0000"):
                raise InputError("city", body.city, "a city code (6 digits ending in 00)")
            regs = await run_in_threadpool(lambda: Q.regions(store, under=body.city, level=2))
            if not regs:
                raise InputError("city", body.city, "no such city")
            name = regs[0]["name"]
        sub = await run_in_threadpool(lambda: N.add_subscription(
            store, channel="email", target=body.email, audience="public", rules=["aqi"],
            region_prefix=body.city[:4] if body.city else None, site_code=body.site, min_level=float(body.min_level),
            name=name))
        sent = await run_in_threadpool(_send_confirmation, request, N, sub, name)
        return json_response(request, {"id": sub["id"], "confirmed": False, "name": name,
                                       "confirmation_sent": sent}, status_code=201)

    @r.post("/subscriptions/confirm", summary="Confirm a public subscription with its token")
    async def confirm(request: Request, body: TokenIn):
        N = notify()
        ok = await run_in_threadpool(N.confirm_subscription, store, body.token)
        if not ok:
            raise not_found("subscription")
        return json_response(request, {"confirmed": True})

    @r.post("/subscriptions/unsubscribe", summary="End a public subscription with its token")
    async def unsubscribe(request: Request, body: TokenIn):
        N = notify()
        ok = await run_in_threadpool(N.unsubscribe, store, body.token)
        if not ok:
            raise not_found("subscription")
        return json_response(request, {"active": False})

    return r


def _send_confirmation(request: Request, N, sub: dict, name: str | None) -> bool:
    """E-mail the confirmation and unsubscribe links through the alerts package's SMTP settings. False when no
    mail server is configured (ECOHUB_SMTP_HOST) or sending failed — the subscription then stays unconfirmed
    and nothing is ever sent to that address: we never pretend a delivery."""
    import smtplib
    from email.message import EmailMessage

    smtp = N.SmtpSettings.from_env()
    if not smtp.host:
        return False
    base = str(request.base_url).rstrip("/")
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = sub["target"]
    msg["Subject"] = f"[ecohub] 请确认定制推送 / confirm your subscription: {name or ''}"
    msg.set_content(
        f"确认订阅 / confirm: {base}/subscribe/confirm?token={sub['token']}\n"
        f"退订 / unsubscribe: {base}/subscribe/unsubscribe?token={sub['token']}\n")
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as s:
            if smtp.starttls:
                s.starttls()
            if smtp.user:
                s.login(smtp.user, smtp.password or "")
            s.send_message(msg)
    except (OSError, smtplib.SMTPException):
        return False
    return True
