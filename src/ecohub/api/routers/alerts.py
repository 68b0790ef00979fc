"""``GET /api/v1/alerts``: the alerts of the alerts package (table ``alert``), within the caller's scope: an
alert about a site is visible to whoever may see that site; an alert without a site (region- or
platform-wide) only to admins and analysts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import and_, select

from ecohub.alerts.lifecycle import filter_alerts
from ecohub.api.http import MAX_ID, check_limit, decode_cursor, encode_cursor, json_response, principal
from ecohub.api.models import Alert, Alerts
from ecohub.api.problems import not_found
from ecohub.api.routers.data import region_param
from ecohub.domain.timeutil import BEIJING
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import parameter, site
from ecohub.store.schema_alerts import alert

router = APIRouter(prefix="/api/v1", tags=["alerts"])
COLS = ("id", "rule", "severity", "status", "active", "level", "value", "message", "period_time", "opened_at",
        "last_seen_at", "cleared_at", "acknowledged_at", "closed_at", "escalation_level")


def _select(scope: Scope):
    q = (select(*[alert.c[c] for c in COLS], site.c.code.label("site"), parameter.c.name.label("parameter"))
         .select_from(alert.outerjoin(site, site.c.id == alert.c.site_id)
                      .outerjoin(parameter, parameter.c.id == alert.c.parameter_id)))
    cond = scope.site_condition()
    if cond is not None:
        q = q.where(and_(alert.c.site_id.is_not(None), cond))
    return q


def _out(r) -> dict:
    return {k: (v.astimezone(BEIJING).isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()}


def list_alerts(store: Store, scope: Scope, *, status=None, severity=None, site_code=None, rule=None, region=None,
                limit=100, before_id=None) -> list[dict]:
    q = filter_alerts(_select(scope).order_by(alert.c.id.desc()).limit(limit), status=status, severity=severity,
                      site_code=site_code, rule=rule, region_prefix=region_prefix(region) if region else None)
    if before_id is not None:
        q = q.where(alert.c.id < before_id)
    with store.engine.connect() as conn:
        return [_out(r) for r in conn.execute(q).mappings()]


@router.get("/alerts", response_model=Alerts, summary="Alerts (newest first) the caller may see")
def alerts(request: Request, status: Literal["open", "acknowledged", "closed"] | None = None,
           severity: Literal["info", "warning", "major", "critical"] | None = None, site: str | None = None,
           rule: str | None = None, region: str | None = None, limit: int = Query(100), cursor: str | None = None):
    check_limit(limit, 1000)
    before = decode_cursor(cursor, (int,))
    rows = list_alerts(request.app.state.store, principal(request).scope, status=status, severity=severity,
                       site_code=site, rule=rule, region=region_param(region), limit=limit,
                       before_id=before[0] if before else None)
    nxt = encode_cursor([rows[-1]["id"]]) if len(rows) == limit else None
    return json_response(request, {"meta": {"next_cursor": nxt, "limit": limit}, "results": rows},
                         public_max_age=request.app.state.config.public_max_age)


@router.get("/alerts/{alert_id}", response_model=Alert, summary="One alert (404 when not visible)")
def one_alert(request: Request, alert_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
    q = _select(principal(request).scope).where(alert.c.id == alert_id)
    with request.app.state.store.engine.connect() as conn:
        r = conn.execute(q).mappings().first()
    if r is None:
        raise not_found("alert")
    return json_response(request, _out(r))
