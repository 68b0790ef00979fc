"""The 12369 complaint loop (:mod:`ecohub.supervision.complaint_loop`) over HTTP: the loop of one complaint
(staff of its region), a step of the loop (admin, officer; 409 with the reason for a step the loop does not
declare), links to the inspection and case, and the published results (anyone: no personal data). Submission,
tracking and the staff list are in ``ecohub.web.routes_complaints``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ecohub.api.deps import OriginDep, StoreDep, role
from ecohub.api.http import json_response
from ecohub.api.identity import Principal
from ecohub.api.problems import not_found
from ecohub.api.routers._supervision_calls import call
from ecohub.supervision import complaint_loop as L

router = APIRouter(prefix="/api/v1", tags=["complaints"])
Reader = Annotated[Principal, Depends(role("admin", "analyst", "officer"))]
Writer = Annotated[Principal, Depends(role("admin", "officer", write=True))]
Code = Annotated[str, Path(min_length=12, max_length=20, description="tracking code (查询码)")]


class LoopStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(max_length=12, description="accepted, rejected, transferred, handling, handled, replied, "
                                               "visited, closed, merged")
    note: str | None = Field(None, max_length=2000)
    region: str | None = Field(None, max_length=6, description="transferred: the county code")
    target: str | None = Field(None, max_length=20, description="merged: the tracking code it duplicates")
    reply: str | None = Field(None, max_length=2000)
    satisfaction: str | None = Field(None, max_length=12, description="visited: satisfied | basic | unsatisfied")
    handler: str | None = Field(None, max_length=100)
    supervisor: str | None = Field(None, max_length=100)


class LoopLink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inspection_id: int | None = None
    case: str | None = Field(None, max_length=40)


@router.get("/complaint-tasks", summary="Open complaints with stage and deadline, most urgent first (staff; "
            "officers: their region); overdue=true: past the deadline")
def complaint_tasks(request: Request, store: StoreDep, p: Reader, overdue: bool = False):
    return json_response(request, call(L.tasks, store, p.scope, overdue=overdue))


@router.get("/complaints/{code}/loop", summary="The loop of a complaint: stage, deadline, handler, links (staff)")
def loop(request: Request, store: StoreDep, p: Reader, code: Code):
    return json_response(request, call(L.handling, store, p.scope, code, what="complaint"))


@router.post("/complaints/{code}/advance", summary="One step of the complaint loop (refused with the reason when "
             "the loop does not declare it)")
def advance(request: Request, store: StoreDep, p: Writer, origin: OriginDep, code: Code, body: LoopStep):
    call(L.advance, store, p.scope, origin, code, body.to, note=body.note, region_code=body.region,
         target=body.target, reply=body.reply, satisfaction=body.satisfaction, handler=body.handler,
         supervisor=body.supervisor, what="complaint")
    return json_response(request, call(L.handling, store, p.scope, code, what="complaint"))


@router.post("/complaints/{code}/links", summary="Link the targeted inspection and/or the case it led to")
def link(request: Request, store: StoreDep, p: Writer, origin: OriginDep, code: Code, body: LoopLink):
    call(L.link, store, p.scope, origin, code, inspection_id=body.inspection_id, case=body.case, what="complaint")
    return json_response(request, call(L.handling, store, p.scope, code, what="complaint"))


@router.get("/public/complaint-results", summary="Published results of complaints (办理结果公开; anyone)")
def results(request: Request, store: StoreDep, region: Annotated[str | None, Query(min_length=6, max_length=6)] = None):
    return json_response(request, L.public_results(store, region_code=region), public_max_age=300)


@router.get("/public/complaint-results/{code}", summary="The published result of one complaint by its code")
def result(request: Request, store: StoreDep, code: Code):
    r = L.public_result(store, code)
    if r is None:
        raise not_found("published result")
    return json_response(request, r)
