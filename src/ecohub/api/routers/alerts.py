"""Alerts (``ecohub.alerts.service``) within the caller's scope: list and one alert for whoever may see the
alert's site (an alert without a site: admins and analysts only); acknowledge and close for admins and
officers — an officer only in its own region — each in one transaction with its audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from ecohub.alerts import service as A
from ecohub.api.deps import OriginDep, Page, ScopeDep, StoreDep, paging, role
from ecohub.api.http import MAX_ID, encode_cursor, json_response
from ecohub.api.identity import Principal
from ecohub.api.models import Alert, AlertDetail, Alerts
from ecohub.api.problems import ApiProblem, forbidden, not_found
from ecohub.api.routers.data import region_param
from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.timeutil import BEIJING

router = APIRouter(prefix="/api/v1", tags=["alerts"])
COLS = ("id", "rule", "severity", "status", "active", "level", "value", "message", "period_time", "opened_at",
        "last_seen_at", "cleared_at", "acknowledged_at", "closed_at", "escalation_level")
DETAIL_COLS = COLS + ("acknowledged_by", "closed_by", "close_reason")
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
Actor = Annotated[Principal, Depends(role(*[r for r in A.ACT_ROLES if r != "system"], write=True))]


def _out(r: dict, cols=COLS) -> dict:
    keep = set(cols) | {"site", "parameter"}
    return {k: (v.astimezone(BEIJING).isoformat() if isinstance(v, datetime) else v) for k, v in r.items()
            if k in keep}


@router.get("/alerts", response_model=Alerts, summary="Alerts (newest first) the caller may see")
def alerts(request: Request, store: StoreDep, scope: ScopeDep, page: Annotated[Page, Depends(paging(100, 1000))],
           status: Literal["open", "acknowledged", "closed"] | None = None,
           severity: Literal["info", "warning", "major", "critical"] | None = None, site: str | None = None,
           rule: str | None = None, region: str | None = None):
    before = page.after((int,))
    rows = A.query_alerts(store, scope, status=status, severity=severity, site_code=site, rule=rule,
                          region=region_param(region), limit=page.limit, before_id=before[0] if before else None,
                          columns=COLS)
    nxt = encode_cursor([rows[-1]["id"]]) if len(rows) == page.limit else None
    return json_response(request, {"meta": {"next_cursor": nxt, "limit": page.limit},
                                   "results": [_out(r) for r in rows]},
                         public_max_age=request.app.state.config.public_max_age)


@router.get("/alerts/{alert_id}", response_model=Alert, summary="One alert (404 when not visible)")
def one_alert(request: Request, store: StoreDep, scope: ScopeDep, alert_id: AlertId):
    rows = A.query_alerts(store, scope, alert_id=alert_id, limit=1, columns=COLS)
    if not rows:
        raise not_found("alert")
    return json_response(request, _out(rows[0]))


class AcknowledgeIn(BaseModel):
    note: str | None = Field(None, max_length=2000, description="kept in the alert's history")


class CloseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="why the alert is closed (required)")


def _act(request: Request, fn, *args, **kw) -> dict:
    try:
        a = fn(*args, **kw)
    except NotFound:
        raise not_found("alert") from None
    except PermissionError as e:
        raise forbidden(str(e)) from None
    except InputError as e:
        if e.field == "id":  # an illegal transition (the alert is closed)
            raise ApiProblem(409, str(e)) from None
        raise
    request.state.audited = True  # the service wrote the audit row with the change
    return a


CONFLICT = {409: {"description": "the alert is closed: the transition is refused (reason in detail)"}}


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertDetail, responses=CONFLICT,
             summary="Acknowledge an alert (admin; officer in its region) — audited")
def acknowledge(request: Request, store: StoreDep, origin: OriginDep, p: Actor, alert_id: AlertId,
                      body: AcknowledgeIn | None = None):
    """open → acknowledged, by the caller. Acknowledging an acknowledged alert changes nothing; a closed
    alert answers 409. 404 when the caller may not see the alert, 403 when it may see but not act on it."""
    _act(request, A.acknowledge, store, alert_id, p.name or p.actor, body.note if body else None,
               scope=p.scope, origin=origin)
    rows = A.query_alerts(store, p.scope, alert_id=alert_id, limit=1, columns=DETAIL_COLS)
    return json_response(request, _out(rows[0], DETAIL_COLS))


@router.post("/alerts/{alert_id}/close", response_model=AlertDetail, responses=CONFLICT,
             summary="Close an alert with a reason (admin; officer in its region) — audited")
def close(request: Request, store: StoreDep, origin: OriginDep, p: Actor, alert_id: AlertId, body: CloseIn):
    """→ closed, by the caller, with a reason. A closed alert answers 409; the next occurrence of its cause
    opens a new alert."""
    _act(request, A.close, store, alert_id, p.name or p.actor, body.reason, scope=p.scope, origin=origin)
    rows = A.query_alerts(store, p.scope, alert_id=alert_id, limit=1, columns=DETAIL_COLS)
    return json_response(request, _out(rows[0], DETAIL_COLS))
