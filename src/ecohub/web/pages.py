"""Server-rendered pages (Jinja2) with small scripts that read the API from the browser.

The pages carry no data of their own — only the texts of the chosen language and the page's parameters — so
what a visitor sees is decided by the API with the visitor's own credentials (a Bearer token kept in the
tab's ``sessionStorage`` after signing in at ``/login``). Staff pages (``/map``, ``/cockpit``,
``/staff/complaints``) ask for a sign-in and show only what the role may see.

Every page answers with a strict Content-Security-Policy: scripts only from this server (no inline script,
no ``eval``), connections only to this server, images from this server and the configured tile server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from ecohub import __version__
from ecohub.config import settings
from ecohub.store import queries as Q
from ecohub.store.db import Store
from ecohub.store.queries import SYSTEM
from ecohub.supervision import complaints
from ecohub.web import i18n
from ecohub.web.staticfiles import asset_version

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def script_json(obj) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>``, no HTML specials)."""
    return (json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def tile_config() -> dict:
    """``ECOHUB_TILE_URL`` (e.g. ``https://tiles.example.org/{z}/{x}/{y}.png``; none by default: the map draws
    the shipped boundaries only), ``ECOHUB_TILE_ATTRIBUTION``, ``ECOHUB_TILE_MAXZOOM``. Tiles must be in
    WGS-84/Web Mercator; a GCJ-02 basemap would shift our WGS-84 points by ~500 m (LESSONS lesson 10)."""
    s = settings()
    url = s.tile_url.strip()
    if url and not url.startswith(("https://", "http://", "/")):
        url = ""
    return {"url": url or None, "attribution": s.tile_attribution, "max_zoom": s.tile_maxzoom}


def _csp(tiles: dict) -> str:
    img = "'self' data: blob:"
    if tiles["url"] and tiles["url"].startswith("http"):
        parts = urlsplit(tiles["url"].replace("{s}", "a"))
        host = parts.netloc
        if "{s}" in tiles["url"]:
            host = "*." + host.split(".", 1)[1] if "." in host else host
        img += f" {parts.scheme}://{host}"
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'")


def pages_router(*, demo_note: bool = True, store: Store | None = None) -> APIRouter:
    """The pages. With ``store``, a station, section or complaint page of an unknown code answers 404 (the page
    request carries no sign-in, so "known" means: a site of that kind exists; what the caller may see of it is
    decided by the API the page then calls)."""
    r = APIRouter(include_in_schema=False)

    def known_site(code: str, kind: str) -> bool:
        return store is None or bool(Q.sites(store, codes=[code], kinds=[kind], scope=SYSTEM))

    def known_complaint(code: str) -> bool:
        return store is None or complaints.track(store, code) is not None

    def render(request: Request, template: str, page: str, *, title_key: str, status_code: int = 200,
               **params) -> HTMLResponse:
        lang = i18n.pick_lang(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))
        t = i18n.translator(lang)
        tiles = tile_config()
        cfg = {"page": page, "lang": lang, "tiles": tiles, "params": params, "version": __version__,
               "asset_v": asset_version()}
        other = "en" if lang == "zh" else "zh"
        q = dict(request.query_params)
        q["lang"] = other
        switch_url = request.url.path + "?" + urlencode(q)
        resp = TEMPLATES.TemplateResponse(request, template, {
            "t": t, "lang": lang, "page": page, "title": t(title_key), "switch_url": switch_url,
            "asset_v": asset_version(), "config_json": script_json(cfg),
            "messages_json": script_json(i18n.catalogue(lang)), "params": params,
            "demo_note": demo_note, "version": __version__,
        }, status_code=status_code)
        resp.headers["Content-Security-Policy"] = _csp(tiles)
        resp.headers["Cache-Control"] = "no-cache"
        resp.headers["Content-Language"] = "zh-CN" if lang == "zh" else "en"
        if request.query_params.get("lang") in i18n.LANGS:
            resp.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
        return resp

    def bad_code(request: Request):
        return render(request, "message.html", "message", title_key="not_found", status_code=404, message="not_found")

    @r.get("/", response_class=HTMLResponse)
    def portal(request: Request):
        return render(request, "portal.html", "portal", title_key="portal_title")

    @r.get("/water", response_class=HTMLResponse)
    def water(request: Request):
        return render(request, "water.html", "water", title_key="water_title")

    @r.get("/stations/{code}", response_class=HTMLResponse)
    def station(request: Request, code: str):
        if not CODE_RE.match(code) or not known_site(code, "air_station"):
            return bad_code(request)
        return render(request, "station.html", "station", title_key="station", code=code)

    @r.get("/sections/{code}", response_class=HTMLResponse)
    def section(request: Request, code: str):
        if not CODE_RE.match(code) or not known_site(code, "water_section"):
            return bad_code(request)
        return render(request, "section.html", "section", title_key="section", code=code)

    @r.get("/sources", response_class=HTMLResponse)
    def sources(request: Request):
        return render(request, "sources.html", "sources", title_key="sources_title")

    @r.get("/complaints", response_class=HTMLResponse)
    def complaint_lookup(request: Request, code: str | None = None):
        if code:
            c = re.sub(r"[\s\-]", "", code).upper()
            if re.fullmatch(r"[A-Z0-9]{1,32}", c):
                return RedirectResponse(f"/complaints/{c}", status_code=303)
        return render(request, "complaint_track.html", "complaint_track", title_key="track_title", code=None)

    @r.get("/complaints/new", response_class=HTMLResponse)
    def complaint_new(request: Request):
        return render(request, "complaint_new.html", "complaint_new", title_key="complaint_title")

    @r.get("/complaints/{tracking_code}", response_class=HTMLResponse)
    def complaint_track(request: Request, tracking_code: str):
        c = re.sub(r"[\s\-]", "", tracking_code).upper()
        if not re.fullmatch(r"[A-Z0-9]{1,32}", c) or not known_complaint(c):
            return bad_code(request)
        return render(request, "complaint_track.html", "complaint_track", title_key="track_title", code=c)

    @r.get("/subscribe", response_class=HTMLResponse)
    def subscribe(request: Request):
        return render(request, "subscribe.html", "subscribe", title_key="subscribe_title", action=None)

    @r.get("/subscribe/confirm", response_class=HTMLResponse)
    def subscribe_confirm(request: Request, token: str = ""):
        return render(request, "subscribe.html", "subscribe", title_key="subscribe_title", action="confirm",
                      token=token[:100])

    @r.get("/subscribe/unsubscribe", response_class=HTMLResponse)
    def subscribe_unsubscribe(request: Request, token: str = ""):
        return render(request, "subscribe.html", "subscribe", title_key="subscribe_title", action="unsubscribe",
                      token=token[:100])

    @r.get("/data", response_class=HTMLResponse)
    def open_data(request: Request):
        return render(request, "open_data.html", "open_data", title_key="data_title")

    @r.get("/login", response_class=HTMLResponse)
    def login(request: Request, next: str = "/map"):  # noqa: A002
        nxt = next if re.fullmatch(r"/(?![/\\])[^\\\s]*", next) else "/map"  # local paths only (no //host, /\\host)
        return render(request, "login.html", "login", title_key="login_title", next=nxt)

    @r.get("/map", response_class=HTMLResponse)
    def one_map(request: Request):
        return render(request, "map.html", "map", title_key="map_title")

    @r.get("/cockpit", response_class=HTMLResponse)
    def cockpit(request: Request):
        return render(request, "cockpit.html", "cockpit", title_key="cockpit_title")

    @r.get("/incidents", response_class=HTMLResponse)
    def incidents(request: Request):
        return render(request, "incidents.html", "incidents", title_key="inc_title")

    @r.get("/permits", response_class=HTMLResponse)
    def permits_page(request: Request):
        return render(request, "permits.html", "permits", title_key="pm_title")

    @r.get("/workbench", response_class=HTMLResponse)
    def workbench_page(request: Request):
        return render(request, "workbench.html", "workbench", title_key="wb_title")

    @r.get("/disclosure", response_class=HTMLResponse)
    def disclosure_page(request: Request):
        return render(request, "disclosure.html", "disclosure", title_key="pub_title")

    @r.get("/disclosure/permits", response_class=HTMLResponse)
    def permits_disclosure_page(request: Request, number: str = "", q: str = ""):
        num = number.strip().upper() if re.fullmatch(r"[0-9A-Za-z]{1,30}", number.strip()) else ""
        return render(request, "permits_public.html", "permits_public", title_key="pd_title", number=num,
                      q=q[:100])

    @r.get("/cases/{number}", response_class=HTMLResponse)
    def case_page(request: Request, number: str):
        if not re.fullmatch(r"[0-9A-Za-z-]{1,40}", number):
            return bad_code(request)
        return render(request, "case.html", "case", title_key="cp_title", number=number)

    @r.get("/credit/{uscc}", response_class=HTMLResponse)
    def credit_page(request: Request, uscc: str):
        if not re.fullmatch(r"[0-9A-Z]{18}", uscc):
            return bad_code(request)
        return render(request, "credit.html", "credit", title_key="cr_title", uscc=uscc)

    @r.get("/disclosure/draws/{draw_id}", response_class=HTMLResponse)
    def draw_page(request: Request, draw_id: int):
        return render(request, "draw_public.html", "draw_public", title_key="dp_title", draw_id=draw_id)

    @r.get("/waste", response_class=HTMLResponse)
    def waste_page(request: Request):
        return render(request, "waste.html", "waste", title_key="wst_title")

    @r.get("/staff/complaints", response_class=HTMLResponse)
    def staff_complaints(request: Request):
        return render(request, "staff_complaints.html", "staff_complaints", title_key="complaint_title")

    @r.get("/reports", response_class=HTMLResponse)
    def reports(request: Request):
        return render(request, "reports.html", "reports", title_key="reports_title")

    @r.get("/surfaces", response_class=HTMLResponse)
    def surfaces_page(request: Request):
        return render(request, "surfaces.html", "surfaces", title_key="surf_title")

    @r.get("/assessments", response_class=HTMLResponse)
    def assessments(request: Request):
        return render(request, "assessments.html", "assessments", title_key="assess_title")

    return r
