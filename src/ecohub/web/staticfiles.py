"""Static files of the web pages (``/static/…``), compressed and cacheable.

Files are read once and kept in memory with a gzip copy for text types (ECharts is 1.1 MB raw, ~370 kB
gzipped). Pages link them with ``?v=<asset version>`` (a hash of every static file), so they are served with
``Cache-Control: immutable`` for a year; a request without the current version gets a one-hour cache and
revalidates with its ETag. Paths are resolved inside the static folder only.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

STATIC = Path(__file__).with_name("static")
COMPRESS = {".js", ".css", ".json", ".svg", ".geojson", ".txt", ".map", ""}
_lock = threading.Lock()
_files: dict[str, tuple[bytes, bytes | None, str, str]] = {}


@lru_cache(maxsize=1)
def asset_version() -> str:
    h = hashlib.blake2b(digest_size=6)
    for p in sorted(STATIC.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(STATIC)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _load(rel: str) -> tuple[bytes, bytes | None, str, str] | None:
    with _lock:
        hit = _files.get(rel)
    if hit is not None:
        return hit
    root = STATIC.resolve()
    p = (root / rel).resolve()
    if not p.is_relative_to(root) or not p.is_file():
        return None
    raw = p.read_bytes()
    gz = gzip.compress(raw, 6) if p.suffix in COMPRESS and len(raw) > 512 else None
    mime = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
    if mime.startswith("text/") or mime in ("application/javascript", "application/json"):
        mime += "; charset=utf-8"
    etag = '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'
    entry = (raw, gz, mime, etag)
    with _lock:
        _files[rel] = entry
    return entry


def static_router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/static/{path:path}")
    @r.head("/static/{path:path}")
    def static(request: Request, path: str):
        f = _load(path)
        if f is None:
            return Response("not found", status_code=404, media_type="text/plain")
        raw, gz, mime, etag = f
        immutable = request.query_params.get("v") == asset_version()
        headers = {"ETag": etag, "Vary": "Accept-Encoding", "X-Content-Type-Options": "nosniff",
                   "Cache-Control": "public, max-age=31536000, immutable" if immutable else "public, max-age=3600"}
        if etag in (request.headers.get("if-none-match") or ""):
            return Response(status_code=304, headers=headers)
        body = raw
        if gz is not None and "gzip" in (request.headers.get("accept-encoding") or ""):
            headers["Content-Encoding"] = "gzip"
            body = gz
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=mime)
        return Response(body, media_type=mime, headers=headers)

    return r
