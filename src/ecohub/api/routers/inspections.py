"""Random inspections (:mod:`ecohub.supervision.inspect`): ``/api/v1/inspections/draws`` (staff) and
``/api/v1/public/draws`` (published draws: objects without the inspectors; anyone)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from ecohub.api.deps import OriginDep, StoreDep, role
from ecohub.api.http import json_response
from ecohub.api.identity import Principal
from ecohub.api.routers._supervision_calls import call
from ecohub.store.queries import PUBLIC
from ecohub.supervision.inspect import evidence as EV
from ecohub.supervision.inspect import records as REC
from ecohub.supervision.inspect import service as S
from ecohub.supervision.inspect import tasks as T

router = APIRouter(prefix="/api/v1", tags=["inspections"])
Staff = Annotated[Principal, Depends(role("admin", "analyst", "officer"))]
Reader = Annotated[Principal, Depends(role("admin", "analyst", "officer", "enterprise"))]
Writer = Annotated[Principal, Depends(role("admin", "officer", write=True))]
DrawId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class DrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(description="YYYY-MM")
    seed: str = Field(min_length=1, max_length=100)
    scope: str = Field("000000", min_length=6, max_length=6)
    ratios: dict[str, float] | None = None
    local: bool = True


class DrawOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    period: str
    seed: str
    algorithm: str
    status: str
    result_sha256: str
    items: list[dict[str, Any]]


@router.get("/inspections/draws", summary="Draws (staff)")
def draws(request: Request, store: StoreDep, p: Staff):
    return json_response(request, call(S.list_draws, store, p.scope))


@router.post("/inspections/draws", response_model=DrawOut, status_code=201,
             summary="Draw a period (once; a second draw is refused)")
def draw(request: Request, store: StoreDep, p: Writer, origin: OriginDep, body: DrawIn):
    d = call(S.perform, store, p.scope, origin, period=body.period, seed=body.seed, scope_code=body.scope,
             ratios=body.ratios, rules={"local": body.local})
    return json_response(request, d, status_code=201)


@router.get("/inspections/draws/{draw_id}", response_model=DrawOut, summary="A draw with objects and inspectors")
def draw_one(request: Request, store: StoreDep, p: Staff, draw_id: DrawId):
    return json_response(request, call(S.get_draw, store, p.scope, draw_id, what="draw"))


@router.get("/inspections/draws/{draw_id}/verify", summary="Re-run a draw from its record (anyone may verify a "
            "published draw at /public/draws/{id}/verify)")
def draw_verify(request: Request, store: StoreDep, p: Staff, draw_id: DrawId):
    return json_response(request, call(S.verify, store, draw_id, what="draw"))


@router.post("/inspections/draws/{draw_id}/publish", response_model=DrawOut, summary="Publish (公开)")
def draw_publish(request: Request, store: StoreDep, p: Writer, origin: OriginDep, draw_id: DrawId):
    return json_response(request, call(S.publish, store, p.scope, origin, draw_id, what="draw"))


@router.post("/inspections/draws/{draw_id}/close", response_model=DrawOut, summary="Close the period")
def draw_close(request: Request, store: StoreDep, p: Writer, origin: OriginDep, draw_id: DrawId):
    return json_response(request, call(S.close, store, p.scope, origin, draw_id, what="draw"))


@router.get("/public/draws", summary="Published draws (anyone)")
def public_draws(request: Request, store: StoreDep):
    return json_response(request, S.list_draws(store, PUBLIC, public=True), public_max_age=300)


@router.get("/public/draws/{draw_id}", response_model=DrawOut, summary="A published draw: objects, seed, hashes")
def public_draw(request: Request, store: StoreDep, draw_id: DrawId):
    return json_response(request, call(S.get_draw, store, PUBLIC, draw_id, public=True, what="draw"),
                         public_max_age=300)


@router.get("/public/draws/{draw_id}/verify", summary="Anyone re-runs a published draw")
def public_verify(request: Request, store: StoreDep, draw_id: DrawId):
    call(S.get_draw, store, PUBLIC, draw_id, public=True, what="draw")
    return json_response(request, call(S.verify, store, draw_id, what="draw"))


@router.get("/inspections/tasks", summary="Open random-inspection tasks (objects of open draws not yet inspected), "
            "the caller's own first, then by due day (staff; officers: their region)")
def inspection_tasks(request: Request, store: StoreDep, p: Staff, overdue: bool = False, mine: bool = False):
    return json_response(request, call(T.inspection_tasks, store, p.scope, overdue_only=overdue, mine_only=mine))


@router.post("/inspections", status_code=201, summary="Record an inspection with attachments (multipart; a "
             "targeted one names its trigger)")
async def inspection_record(request: Request, store: StoreDep, p: Writer, origin: OriginDep,
                            enterprise: Annotated[str, Form(max_length=18)],
                            inspected_at: Annotated[datetime, Form(description="ISO 8601 with zone")],
                            inspectors: Annotated[str, Form(max_length=500, description="names, comma-separated")],
                            kind: Annotated[str, Form()] = "targeted",
                            trigger_kind: Annotated[str | None, Form()] = None,
                            trigger_ref: Annotated[str | None, Form(max_length=64)] = None,
                            draw_item: Annotated[int | None, Form(ge=1, le=2**31 - 1,
                                                                  description="random: the draw item (a task "
                                                                              "of /inspections/tasks)")] = None,
                            industry: Annotated[str | None, Form(max_length=40)] = None,
                            checklist: Annotated[str | None, Form(max_length=20_000, description="JSON object")] = None,
                            findings: Annotated[str | None, Form(max_length=20_000)] = None,
                            files: Annotated[list[UploadFile] | None, File()] = None):
    import json

    from ecohub.api.problems import bad_request

    try:
        items = json.loads(checklist) if checklist else {}
        if not isinstance(items, dict):
            raise ValueError("not an object")
    except ValueError as e:
        raise bad_request(f"checklist: not a JSON object ({e})") from None
    atts = []
    for f in files or []:
        data = await f.read(REC.MAX_ATTACHMENT_BYTES + 1)
        atts.append(REC.Attachment(f.filename or "file", f.content_type or "", data))
    rec = call(REC.record, store, p.scope, origin, uscc=enterprise, inspected_at=inspected_at,
               inspectors=[x for x in inspectors.split(",")], kind=kind, trigger_kind=trigger_kind,
               trigger_ref=trigger_ref, draw_item_id=draw_item, industry=industry, checklist=items, findings=findings,
               attachments=atts)
    return json_response(request, rec, status_code=201)


@router.get("/inspections/{inspection_id}", summary="An inspection record (staff by region; the enterprise its own)")
def inspection_one(request: Request, store: StoreDep, p: Reader, inspection_id: DrawId):
    return json_response(request, call(REC.get, store, p.scope, inspection_id, what="inspection"))


@router.get("/inspections/{inspection_id}/evidence", summary="The evidence panel: the outlets' data around the "
            "inspection time (exceedance hours, QC flags, suspicious indicators, offline periods, alerts)")
def inspection_evidence(request: Request, store: StoreDep, p: Staff, inspection_id: DrawId):
    return json_response(request, call(EV.panel, store, p.scope, inspection_id, what="inspection"))
