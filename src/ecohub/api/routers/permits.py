"""The permit register and emissions accounting (:mod:`ecohub.supervision.permits`): ``/api/v1/permits`` and
``/api/v1/emissions``. Officers (their region) and admins write; an enterprise reads its own permits and
emissions; anyone reads the disclosure view of a permit. The services apply the scope and write the audit row
with each change; this router maps HTTP to them."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ecohub.api.deps import OriginDep, StoreDep, role
from ecohub.api.http import json_response
from ecohub.api.identity import Principal
from ecohub.api.problems import ApiProblem, bad_request, forbidden, not_found
from ecohub.domain.errors import InputError, NotFound
from ecohub.supervision.permits import emissions as E
from ecohub.supervision.permits import register as REG

router = APIRouter(prefix="/api/v1", tags=["permits"])
READERS = ("admin", "analyst", "officer", "enterprise")
Writer = Annotated[Principal, Depends(role("admin", "officer", write=True))]
Reader = Annotated[Principal, Depends(role(*READERS))]
Number = Annotated[str, Path(min_length=1, max_length=30, description="the 22-character permit number")]
MAX_UPLOAD = 20 * 1024 * 1024


class PermitRegisterIn(BaseModel):
    """Rows of the register tables, the columns of the import file (docs/permits.md)."""
    model_config = ConfigDict(extra="forbid")
    permits: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    outlets: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    limits: list[dict[str, Any]] = Field(default_factory=list, max_length=50_000)
    tonnage: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    plans: list[dict[str, Any]] = Field(default_factory=list, max_length=50_000)


class RegisterResult(BaseModel):
    saved: int
    rejected: int
    permits_saved: list[str]
    permits_rejected: list[str]
    errors: list[dict[str, Any]]


class PollutantEmission(BaseModel):
    pollutant: str
    actual_t: float
    permitted_t: float | None
    share: float | None
    projected_t: float | None
    projected_share: float | None


class Emissions(BaseModel):
    enterprise: str
    year: int
    permits: list[str]
    as_of: str
    elapsed_share: float
    method: str
    pollutants: list[PollutantEmission]
    outlets: list[dict[str, Any]]


def _call(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except NotFound as e:
        raise not_found(str(e) or "permit") from None
    except PermissionError as e:
        raise forbidden(str(e)) from None
    except InputError as e:
        raise bad_request(e) from None


def _result(request: Request, res: REG.RegisterImport) -> Any:
    request.state.audited = True  # the service wrote one audit row per saved permit
    return json_response(request, res.as_dict(), status_code=200 if not res.rejected else 422)


@router.get("/permits", summary="Permits the caller may see (officer: region; enterprise: its own)")
def permits(request: Request, store: StoreDep, p: Reader, enterprise: str | None = Query(None, max_length=18)):
    return json_response(request, _call(REG.list_permits, store, p.scope, enterprise_uscc=enterprise))


@router.get("/permits/{number}", summary="One permit: outlets, limits, tonnage, plan, every version")
def permit_one(request: Request, store: StoreDep, p: Reader, number: Number):
    return json_response(request, _call(REG.permit_detail, store, p.scope, number))


@router.get("/public/permits/{number}", summary="Disclosure view of a permit (anyone; site details masked)")
def permit_public(request: Request, store: StoreDep, number: Number):
    return json_response(request, _call(REG.public_view, store, number))


@router.post("/permits", response_model=RegisterResult, summary="Create or change permits (officer, admin)",
             description="Rows as in the import file; a permit is saved whole or not at all; 422 with the rows, "
                         "fields and reasons when any permit was rejected.")
def permits_write(request: Request, store: StoreDep, p: Writer, origin: OriginDep, body: PermitRegisterIn):
    tables = _call(REG.rows_from_json, body.model_dump())
    return _result(request, _call(REG.save_tables, store, tables, origin, p.scope, source="api"))


@router.post("/permits/import", response_model=RegisterResult, summary="Import a register workbook (.xlsx)")
async def permits_import(request: Request, store: StoreDep, p: Writer, origin: OriginDep,
                         file: Annotated[UploadFile, File(description="workbook, one sheet per table")]):
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ApiProblem(413, f"the file is larger than {MAX_UPLOAD // 1024 // 1024} MB")
    name = FsPath(file.filename or "register.xlsx").name
    if not name.lower().endswith((".xlsx", ".xlsm")):
        raise bad_request("upload an Excel workbook (.xlsx); CSV folders are for the command line")

    def run():
        with tempfile.TemporaryDirectory() as d:
            path = FsPath(d) / name
            path.write_bytes(data)
            return _call(REG.import_register, store, path, origin, p.scope)

    return _result(request, await run_in_threadpool(run))


@router.get("/emissions", response_model=Emissions, summary="Actual emissions vs permitted tonnage")
def emissions(request: Request, store: StoreDep, p: Reader, enterprise: Annotated[str, Query(max_length=18)],
              year: Annotated[int, Query(ge=1990, le=2100)], as_of: datetime | None = None):
    return json_response(request, _call(E.enterprise_emissions, store, p.scope, enterprise, year, as_of=as_of))

