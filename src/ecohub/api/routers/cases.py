"""Enforcement cases (:mod:`ecohub.supervision.cases`): ``/api/v1/cases`` (staff by region, an enterprise its own
cases) and ``/api/v1/public/penalties`` (published penalty decisions, anyone). The services apply scope, the
procedure and the audit; this router maps HTTP to them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ecohub.api.deps import OriginDep, StoreDep, role
from ecohub.api.http import json_response
from ecohub.api.identity import Principal
from ecohub.api.routers._supervision_calls import call
from ecohub.supervision.cases import documents as D
from ecohub.supervision.cases import service as S

router = APIRouter(prefix="/api/v1", tags=["cases"])
Reader = Annotated[Principal, Depends(role("admin", "analyst", "officer", "enterprise"))]
Writer = Annotated[Principal, Depends(role("admin", "officer", write=True))]
Ref = Annotated[str, Path(min_length=1, max_length=40, description="case number or id")]


class CaseOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enterprise: str = Field(max_length=18, description="USCC")
    violation: str = Field(max_length=40, description="code of the legal-basis table")
    title: str | None = Field(None, max_length=200)
    source_kind: str = "other"
    source_ref: str | None = Field(None, max_length=64)
    discovered_on: str | None = None
    filed_on: str | None = None
    pending: bool = False
    owner: str | None = Field(None, max_length=100)
    supervisor: str | None = Field(None, max_length=100)


class CaseStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str | None = Field(None, description="target state (default: next on the main line)")
    on: str | None = Field(None, description="legal date of the step (YYYY-MM-DD)")
    note: str | None = Field(None, max_length=4000)
    waived: bool = False


class CaseClose(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=4000)
    on: str | None = None


class PenaltyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    amount_yuan: float | None = None
    base_yuan: float | None = None
    served_on: str | None = None
    recheck_on: str | None = None
    note: str | None = Field(None, max_length=4000)


class CaseOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    number: str
    state: str
    state_name: str
    state_due: str | None
    decision_due: str | None
    timeline: list[dict[str, Any]]
    penalties: list[dict[str, Any]]
    allowed: list[str]


class PublicPenalty(BaseModel):
    number: str
    region_code: str
    enterprise_uscc: str
    enterprise_name: str
    violation: str
    violates: str
    penalty_basis: str
    decided_on: str | None
    penalties: list[dict[str, Any]]


@router.get("/cases", summary="Cases the caller may see; overdue=true: steps past their deadline")
def cases(request: Request, store: StoreDep, p: Reader, overdue: bool = False,
          state: Annotated[str | None, Query(max_length=16)] = None):
    return json_response(request, call(S.list_cases, store, p.scope, overdue=overdue, state=state))


@router.get("/cases/{ref}", response_model=CaseOut, summary="A case with its timeline, penalties, documents")
def case_one(request: Request, store: StoreDep, p: Reader, ref: Ref):
    return json_response(request, call(S.get_case, store, p.scope, ref, what="case"))


@router.post("/cases", response_model=CaseOut, status_code=201, summary="Open a case (clue, then filing)")
def case_open(request: Request, store: StoreDep, p: Writer, origin: OriginDep, body: CaseOpen):
    c = call(S.open_case, store, p.scope, origin, uscc=body.enterprise, violation=body.violation, title=body.title,
             source_kind=body.source_kind, source_ref=body.source_ref, discovered_on=body.discovered_on,
             filed_on=body.filed_on, pending=body.pending, owner=body.owner or p.actor, supervisor=body.supervisor)
    return json_response(request, c, status_code=201)


@router.post("/cases/{ref}/advance", response_model=CaseOut, summary="One step of the procedure (refused with "
             "the reason when the procedure does not allow it)")
def case_advance(request: Request, store: StoreDep, p: Writer, origin: OriginDep, ref: Ref, body: CaseStep):
    return json_response(request, call(S.advance, store, p.scope, origin, ref, body.to, on=body.on, note=body.note,
                                       waived=body.waived, what="case"))


@router.post("/cases/{ref}/close", response_model=CaseOut, summary="结案 / 不予立案 / 撤销 (with a reason)")
def case_close(request: Request, store: StoreDep, p: Writer, origin: OriginDep, ref: Ref, body: CaseClose):
    return json_response(request, call(S.close, store, p.scope, origin, ref, reason=body.reason, on=body.on,
                                       what="case"))


@router.post("/cases/{ref}/penalties", response_model=CaseOut, summary="Propose a penalty (before the decision)")
def case_penalty(request: Request, store: StoreDep, p: Writer, origin: OriginDep, ref: Ref, body: PenaltyIn):
    return json_response(request, call(S.add_penalty, store, p.scope, origin, ref, kind=body.kind,
                                       amount_yuan=body.amount_yuan, base_yuan=body.base_yuan,
                                       served_on=body.served_on, recheck_on=body.recheck_on, note=body.note,
                                       what="case"))


@router.get("/public/penalties", response_model=list[PublicPenalty],
            summary="Published penalty decisions (行政处罚信息公开; anyone)")
def public_penalties(request: Request, store: StoreDep,
                     region: Annotated[str | None, Query(min_length=6, max_length=6)] = None):
    return json_response(request, S.public_penalties(store, region_code=region), public_max_age=300)


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="correction_order | penalty_decision")


@router.post("/cases/{ref}/documents", status_code=201, summary="Generate a case document (DOCX from a template)")
def case_document(request: Request, store: StoreDep, p: Writer, origin: OriginDep, ref: Ref, body: DocumentIn):
    return json_response(request, call(D.generate, store, p.scope, origin, ref, body.kind, what="case"),
                         status_code=201)


@router.get("/cases/{ref}/documents/{document_id}", summary="Download a case document (DOCX)",
            response_class=Response)
def case_document_file(store: StoreDep, p: Reader, ref: Ref, document_id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    name, data = call(D.content, store, p.scope, ref, document_id, what="document")
    return Response(data, media_type=D.DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"'})
