"""HTTP routes for alerts: ``GET /api/v1/alerts`` (list) and ``GET /api/v1/alerts/stream`` (server-sent
events). The API application mounts :func:`alerts_router`; permissions are the API's business (it may wrap
these routes).

The live feed replays ``alert_event`` rows in id order: each SSE message has ``id:`` = the event id,
``event:`` = the event kind (opened, acknowledged, cleared, closed, escalated …) and ``data:`` = JSON of the
event and its alert. A client that reconnects with ``Last-Event-ID`` continues after that event; a new
client starts with what happens next (or from ``?since=ID``). A comment line every ``keepalive`` seconds keeps
proxies from closing the connection.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from ecohub.alerts.lifecycle import STATUSES, _public, get_alert, list_alerts
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.db import Store
from ecohub.store.schema_alerts import alert, alert_event


def _events_after(store: Store, after: int, limit: int = 200) -> list[dict]:
    from ecohub.store.schema import parameter, site

    q = (select(alert_event.c.id, alert_event.c.kind, alert_event.c.at, alert_event.c.actor, alert_event.c.note,
                alert.c.id.label("alert_id"), alert.c.rule, alert.c.severity, alert.c.status, alert.c.message,
                alert.c.level, alert.c.value, site.c.code.label("site"), parameter.c.name.label("parameter"))
         .select_from(alert_event.join(alert, alert.c.id == alert_event.c.alert_id)
                      .outerjoin(site, site.c.id == alert.c.site_id)
                      .outerjoin(parameter, parameter.c.id == alert.c.parameter_id))
         .where(alert_event.c.id > after).order_by(alert_event.c.id).limit(limit))
    with store.engine.connect() as conn:
        return [_public(r) for r in conn.execute(q).mappings()]


def last_event_id(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.coalesce(func.max(alert_event.c.id), 0))))


async def event_stream(store: Store, after: int | None = None, *, poll: float = 1.0, keepalive: float = 15.0,
                       max_events: int | None = None, request: Request | None = None) -> AsyncIterator[str]:
    """Server-sent events of alert changes after event id ``after`` (None: from now on)."""
    cursor = await asyncio.to_thread(last_event_id, store) if after is None else after
    sent = 0
    idle = 0.0
    yield "retry: 5000\n\n"
    while True:
        if request is not None and await request.is_disconnected():
            return
        rows = await asyncio.to_thread(_events_after, store, cursor)
        for r in rows:
            cursor = r["id"]
            yield f"id: {r['id']}\nevent: {r['kind']}\ndata: {json.dumps(r, ensure_ascii=False, default=str)}\n\n"
            sent += 1
            if max_events is not None and sent >= max_events:
                return
        if rows:
            idle = 0.0
            continue
        await asyncio.sleep(poll)
        idle += poll
        if idle >= keepalive:
            idle = 0.0
            yield ": keep-alive\n\n"


def alerts_router(store: Store, *, poll: float = 1.0) -> APIRouter:
    r = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

    @r.get("")
    def list_(status: str | None = Query(None, description="open | acknowledged | closed"),
              site: str | None = None, rule: str | None = None, region: str | None = None,
              limit: int = Query(100, ge=1, le=1000), after_id: int | None = None) -> dict:
        if status is not None and status not in STATUSES:
            raise HTTPException(422, f"status: {status!r} is not one of {', '.join(STATUSES)}")
        try:
            rows = list_alerts(store, status, site_code=site, rule=rule, region_prefix=region, limit=limit,
                               after_id=after_id)
        except InputError as e:
            raise HTTPException(422, str(e)) from None
        return {"results": rows, "count": len(rows)}

    @r.get("/stream")
    async def stream(request: Request, since: int | None = None) -> StreamingResponse:
        last = request.headers.get("last-event-id")
        after = int(last) if last and last.isdigit() else since
        return StreamingResponse(event_stream(store, after, poll=poll, request=request),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @r.get("/{alert_id}")
    def one(alert_id: int) -> dict:
        try:
            return get_alert(store, alert_id)
        except NotFound as e:
            raise HTTPException(404, str(e)) from None

    return r
