"""Enterprise environmental credit (:mod:`ecohub.supervision.credit`): ``/api/v1/credit`` (ratings with facts:
staff by region, an enterprise its own), ``/api/v1/public/credit`` (levels) and ``/api/v1/public/blacklist``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ecohub.api.deps import OriginDep, StoreDep, role
from ecohub.api.http import json_response
from ecohub.api.identity import Principal
from ecohub.api.routers._supervision_calls import call
from ecohub.supervision.credit import service as S

router = APIRouter(prefix="/api/v1", tags=["credit"])
Reader = Annotated[Principal, Depends(role("admin", "analyst", "officer", "enterprise"))]
Writer = Annotated[Principal, Depends(role("admin", "officer", write=True))]
Year = Annotated[int, Query(ge=2000, le=2100)]
Entry = Annotated[int, Path(ge=1, le=2**31 - 1, description="blacklist entry id")]


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100)
    enterprise: str | None = Field(None, max_length=18)
    method: str = Field("ecohub-credit-v1", max_length=60, description="ecohub-credit-v1 | mee-2013-150")


class RepairIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statement: str = Field(min_length=1, max_length=4000)


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    note: str | None = Field(None, max_length=4000)


@router.post("/credit/ratings", status_code=201, summary="Rate (a new version; never overwritten)")
def rate(request: Request, store: StoreDep, p: Writer, origin: OriginDep, body: RateIn):
    return json_response(request, call(S.rate, store, p.scope, origin, body.year, uscc=body.enterprise,
                                       method_name=body.method),
                         status_code=201)


@router.get("/credit/enterprises/{uscc}", summary="Every rating version of an enterprise with facts and points")
def history(request: Request, store: StoreDep, p: Reader, uscc: Annotated[str, Path(max_length=18)]):
    return json_response(request, call(S.history, store, p.scope, uscc))


@router.post("/credit/blacklist/{entry}/repair", summary="Apply for credit repair (the enterprise or staff)")
def repair(request: Request, store: StoreDep, p: Reader, origin: OriginDep, entry: Entry,
           body: RepairIn):
    return json_response(request, call(S.apply_repair, store, p.scope, origin, entry, body.statement,
                                       what="blacklist entry"))


@router.post("/credit/blacklist/{entry}/decision", summary="Approve or refuse a repair application")
def decide(request: Request, store: StoreDep, p: Writer, origin: OriginDep, entry: Entry,
           body: DecideIn):
    return json_response(request, call(S.decide_repair, store, p.scope, origin, entry, body.approve, note=body.note,
                                       what="blacklist entry"))


@router.get("/public/credit", summary="Credit levels of a year (anyone)")
def public_levels(request: Request, store: StoreDep, year: Year):
    return json_response(request, S.public_levels(store, year), public_max_age=300)


@router.get("/public/blacklist", summary="The blacklist (严重失信; anyone)")
def public_blacklist(request: Request, store: StoreDep):
    return json_response(request, S.blacklist(store), public_max_age=300)
