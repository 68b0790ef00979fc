"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served from vendored assets.

FastAPI's defaults load both from a CDN and start them with an inline script: blank pages on the bureau's offline
networks, and incompatible with a CSP without ``'unsafe-inline'`` scripts. Here the bundles come from the npm
registry at build time (``tools/vendor_assets.py`` → ``ecohub/api/static/vendor/``, versions in
``VERSIONS.json``), are served under ``/docs/assets/`` (in memory, gzip, ETag), and are started by our own
``docs-init.js``. The pages carry the same Content-Security-Policy as the web pages (:data:`PAGE_CSP`).
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import mimetypes
import threading
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

STATIC = Path(__file__).with_name("static")
#: the CSP of every page (the web pages' policy without a tile server: ``ecohub.web.pages``)
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")
_lock = threading.Lock()
_cache: dict[str, tuple[bytes, bytes, str, str]] = {}


@lru_cache(maxsize=1)
def served_files() -> frozenset[str]:
    """The files ``/docs/assets/`` serves: the vendored bundles named in VERSIONS.json, and docs-init.js."""
    names = {"docs-init.js"}
    versions = STATIC / "vendor" / "VERSIONS.json"
    if versions.is_file():
        names |= {f"vendor/{k}" for k in json.loads(versions.read_text())}
    return frozenset(names)


def _asset(name: str) -> tuple[bytes, bytes, str, str] | None:
    if name not in served_files():
        return None
    with _lock:
        hit = _cache.get(name)
    if hit is not None:
        return hit
    path = STATIC / name
    if not path.is_file():
        return None
    raw = path.read_bytes()
    mime = mimetypes.guess_type(path.name)[0] or "text/plain"
    if mime.startswith("text/") or mime.endswith("javascript"):
        mime += "; charset=utf-8"
    entry = (raw, gzip.compress(raw, 6), mime, '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"')
    with _lock:
        _cache[name] = entry
    return entry


def _page(title: str, kind: str, openapi_url: str) -> HTMLResponse:
    if kind == "swagger":
        head = '<link rel="stylesheet" href="/docs/assets/vendor/swagger-ui/swagger-ui.css">'
        body = ('<div id="swagger-ui"></div>'
                '<script src="/docs/assets/vendor/swagger-ui/swagger-ui-bundle.js"></script>')
    else:
        head = "<style>body{margin:0}</style>"
        body = '<div id="redoc"></div><script src="/docs/assets/vendor/redoc/redoc.standalone.js"></script>'
    config = json.dumps({"kind": kind, "url": openapi_url}).replace("<", "\\u003c")
    doc = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<title>{html.escape(title)}</title>{head}</head><body>{body}"
           f'<script id="docs-config" type="application/json">{config}</script>'
           f'<script src="/docs/assets/docs-init.js"></script></body></html>')
    return HTMLResponse(doc, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"})


def docs_router(title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/docs")
    def swagger() -> HTMLResponse:
        return _page(f"{title} — API (Swagger UI)", "swagger", openapi_url)

    @r.get("/redoc")
    def redoc() -> HTMLResponse:
        return _page(f"{title} — API (ReDoc)", "redoc", openapi_url)

    @r.get("/docs/assets/{name:path}")
    def asset(request: Request, name: str) -> Response:
        a = _asset(name)
        if a is None:
            return Response("not found (run 'make assets' to vendor the API docs' bundles)", status_code=404,
                            media_type="text/plain")
        raw, gz, mime, etag = a
        headers = {"ETag": etag, "Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding",
                   "X-Content-Type-Options": "nosniff"}
        if etag in (request.headers.get("if-none-match") or ""):
            return Response(status_code=304, headers=headers)
        if "gzip" in (request.headers.get("accept-encoding") or ""):
            headers["Content-Encoding"] = "gzip"
            return Response(gz, media_type=mime, headers=headers)
        return Response(raw, media_type=mime, headers=headers)

    return r


__all__ = ["docs_router", "PAGE_CSP", "served_files"]
