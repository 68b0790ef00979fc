"""The web front end: public portal (``/``), station and section pages, pollution-source disclosure,
complaints (12369-style), subscriptions, open data, the staff one map (``/map``) and cockpit (``/cockpit``),
zh-CN first with English (``?lang=en``).

Mount with :func:`mount_web` (or include :func:`web_router` yourself, ahead of any other ``/`` route). The
router also serves ``/static/…`` (gzip, immutable caching) — no separate ``StaticFiles`` mount is needed.
See ``docs/web.md``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from ecohub.store.db import Store


def web_router(store: Store, *, data_dir: Path | None = None) -> APIRouter:
    """Pages, static files, complaint routes (``/api/v1/complaints``) and page-support JSON
    (``/api/v1/web/…``). ``data_dir``: where complaint photos and optional map layers live (default: the
    configured data folder, ``ECOHUB_DATA_DIR``)."""
    from ecohub.web.pages import pages_router
    from ecohub.web.routes_complaints import complaints_router
    from ecohub.web.routes_data import data_router
    from ecohub.web.staticfiles import static_router

    if data_dir is None:
        from ecohub.config import Settings

        data_dir = Settings.from_env().data_dir
    r = APIRouter()
    r.include_router(static_router())
    r.include_router(data_router(store, Path(data_dir)))
    r.include_router(complaints_router(store, Path(data_dir)))
    r.include_router(pages_router(store=store))
    return r


def mount_web(app: FastAPI, store: Store, *, data_dir: Path | None = None) -> FastAPI:
    """Add the web router to ``app`` so that its routes come first (they win over any ``/`` defined
    earlier, e.g. a status page). Idempotent."""
    if getattr(app.state, "web_mounted", False):
        return app
    router = web_router(store, data_dir=data_dir)
    before = len(app.router.routes)
    app.include_router(router)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added
    app.openapi_schema = None
    app.state.web_mounted = True
    return app


__all__ = ["web_router", "mount_web"]
