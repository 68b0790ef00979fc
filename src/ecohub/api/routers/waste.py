"""Hazardous-waste manifests (:mod:`ecohub.supervision.waste`): ``/api/v1/waste/…``. An enterprise creates and
dispatches its own manifests and receives those addressed to it; an officer approves cross-province transfers
and sees what generators or receivers of his region do. The state machine refuses illegal steps (409 with the
state and the allowed actions); each step is audited by the service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from ecohub.api.deps import OriginDep, StoreDep, role
from ecohub.api.http import json_response
from ecohub.api.identity import Principal
from ecohub.api.problems import ApiProblem, bad_request, forbidden, not_found
from ecohub.domain.errors import InputError, NotFound
from ecohub.supervision.waste import codes as C
from ecohub.supervision.waste import flows as F
from ecohub.supervision.waste import manifest as M

router = APIRouter(prefix="/api/v1/waste", tags=["waste"])
Reader = Annotated[Principal, Depends(role("admin", "analyst", "officer", "enterprise"))]
Actor = Annotated[Principal, Depends(role("admin", "officer", "enterprise", write=True))]
Number = Annotated[str, Path(min_length=1, max_length=32)]


class ManifestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    generator: str = Field(max_length=18, description="generator's USCC (an enterprise: its own)")
    receiver: str = Field(max_length=18)
    code: str = Field(max_length=20, description="waste code NNN-NNN-NN of the national list")
    tonnes: float = Field(gt=0)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transporter: str | None = Field(None, max_length=200)
    vehicle: str | None = Field(None, max_length=32)
    at: datetime | None = None
    deadline_days: float | None = Field(None, gt=0, le=60)
    tonnes: float | None = Field(None, gt=0)
    approval_ref: str | None = Field(None, max_length=64)
    reason: str | None = Field(None, max_length=500)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="allow")
    number: str
    state: str
    code: str
    quantity_t: float
    version: int
    cross_region: bool


def _call(request: Request, fn, *args, **kw):
    try:
        out = fn(*args, **kw)
    except NotFound as e:
        raise not_found(str(e) or "manifest") from None
    except PermissionError as e:
        raise forbidden(str(e)) from None
    except M.IllegalTransition as e:
        raise ApiProblem(409, str(e)) from None
    except InputError as e:
        raise bad_request(e) from None
    request.state.audited = True  # reads set it harmlessly; writes: the service wrote the audit row
    return out


@router.get("/codes", summary="Waste codes shipped (a sourced subset of the national list)")
def codes(request: Request, store: StoreDep, category: str | None = None):
    return json_response(request, C.list_codes(store, category))


@router.get("/manifests", response_model=list[Manifest], summary="Manifests the caller may see")
def manifests(request: Request, store: StoreDep, p: Reader,
              state: Literal["open", "created", "approved", "dispatched", "received", "closed", "cancelled"] | None
              = None):
    return json_response(request, _call(request, M.list_manifests, store, p.scope, state=state))


@router.post("/manifests", response_model=Manifest, status_code=201, summary="Create a manifest (generator)")
def manifest_create(request: Request, store: StoreDep, p: Actor, origin: OriginDep, body: ManifestIn):
    out = _call(request, M.create, store, p.scope, origin, **body.model_dump())
    return json_response(request, out, status_code=201)


@router.post("/manifests/{number}/{action}", response_model=Manifest,
             summary="approve | dispatch | receive | close | cancel (409 when the state does not allow it)")
def manifest_step(request: Request, store: StoreDep, p: Actor, origin: OriginDep, number: Number,
                  action: Literal["approve", "dispatch", "receive", "close", "cancel"], body: StepIn):
    fields: dict[str, Any] = {k: v for k, v in body.model_dump().items() if v is not None}
    return json_response(request, _call(request, M.transition, store, p.scope, origin, number, action, **fields))


@router.get("/flows", summary="Waste flows generator → receiver (with transporters) of the manifests the caller may "
                           "see, and the enterprises' positions — for the map")
def flows(request: Request, store: StoreDep, p: Reader,
          state: Literal["open", "created", "approved", "dispatched", "received", "closed", "cancelled"] | None = None):
    return json_response(request, _call(request, F.manifest_flows, store, p.scope, state=state))


@router.get("/manifests/{number}/events", summary="Every step of a manifest with who and when")
def manifest_history(request: Request, store: StoreDep, p: Reader, number: Number):
    return json_response(request, _call(request, M.manifest_events, store, p.scope, number))
