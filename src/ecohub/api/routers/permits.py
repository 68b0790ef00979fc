"""The permit register and emissions accounting (:mod:`ecohub.supervision.permits`): ``/api/v1/permits`` and
``/api/v1/emissions``. Officers (their region) and admins write; an enterprise reads its own permits and
emissions; anyone reads the disclosure view of a permit. The services apply the scope and write the audit row
with each change; this router maps HTTP to them."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ecohub.api.deps import OriginDep, StoreDep, role
from ecohub.api.http import json_response
from ecohub.api.identity import Principal
from ecohub.api.problems import ApiProblem, bad_request, forbidden, not_found
from ecohub.domain.errors import InputError, NotFound
from ecohub.supervision.permits import disclosure as D
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


class PeriodEmission(BaseModel):
    period: str
    actual_t: float


class PollutantEmission(BaseModel):
    pollutant: str
    periods: list[PeriodEmission] | None = None
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


@router.get("/public/permits", summary="Public list of permits (anyone): number, enterprise, category, validity")
def permits_public(request: Request, store: StoreDep, q: str | None = Query(None, max_length=100),
                   region: str | None = Query(None, pattern=r"^\d{2,6}$"), limit: int = Query(200, ge=1, le=1000)):
    return json_response(request, _call(D.public_list, store, q=q, region=region, limit=limit))


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
              year: Annotated[int, Query(ge=1990, le=2100)], as_of: datetime | None = None,
              by: Annotated[Literal["month", "day"] | None, Query(description="also the tonnes per month or day")]
              = None):
    return json_response(request, _call(E.enterprise_emissions, store, p.scope, enterprise, year, as_of=as_of,
                                        by=by))



# --- self-monitoring and execution reports ---------------------------------------------------------------------
class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern="^(month|quarter|year)$")
    period: str = Field(max_length=8, description="2026-03 | 2026-Q1 | 2026")
    content: dict[str, Any] = Field(default_factory=dict, description="what the enterprise declares")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(pattern="^(accept|return)$")
    note: str | None = Field(None, max_length=4000, description="reasons (required to return)")


class ManualReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str = Field(max_length=64)
    parameter: str = Field(max_length=32)
    sampled_on: date
    value: float | None = None
    lab: str | None = Field(None, max_length=200)


def _report_call(fn, *args, **kw):
    from ecohub.supervision.permits import reports as RP

    try:
        return fn(*args, **kw)
    except RP.IllegalReportStep as e:
        raise ApiProblem(409, str(e)) from None
    except NotFound as e:
        raise not_found(str(e) or "report") from None
    except PermissionError as e:
        raise forbidden(str(e)) from None
    except InputError as e:
        raise bad_request(e) from None


@router.get("/permits/{number}/reports", summary="Execution reports of a permit")
def reports_of(request: Request, store: StoreDep, p: Reader, number: Number, state: str | None = None):
    from ecohub.supervision.permits import reports as RP

    return json_response(request, _report_call(RP.list_reports, store, p.scope, number=number, state=state))


@router.get("/permits/{number}/reports/due", summary="Execution reports still to submit (ended periods), with deadlines")
def reports_due(request: Request, store: StoreDep, p: Reader, number: Number):
    from ecohub.supervision.permits import schedule as SC

    return json_response(request, _report_call(SC.due_reports, store, p.scope, number))


@router.get("/permit-reports", summary="Execution reports the caller may see (officer: to review)")
def reports_all(request: Request, store: StoreDep, p: Reader,
                state: Annotated[str | None, Query(pattern="^(submitted|accepted|returned)$")] = None):
    from ecohub.supervision.permits import reports as RP

    return json_response(request, _report_call(RP.list_reports, store, p.scope, state=state))


@router.post("/permits/{number}/reports", status_code=201, summary="Submit an execution report (the enterprise)")
def report_submit(request: Request, store: StoreDep, p: Annotated[Principal, Depends(role("admin", "enterprise",
                                                                                           write=True))],
                  origin: OriginDep, number: Number, body: ReportIn):
    from ecohub.supervision.permits import reports as RP

    out = _report_call(RP.submit, store, p.scope, origin, number, body.kind, body.period, body.content)
    request.state.audited = True
    return json_response(request, out, status_code=201)


@router.post("/permit-reports/{report_id}/review", summary="Accept or return (with reasons) a report (officer)")
def report_review(request: Request, store: StoreDep, p: Writer, origin: OriginDep,
                  report_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ReviewIn):
    from ecohub.supervision.permits import reports as RP

    out = _report_call(RP.review, store, p.scope, origin, report_id, body.action, body.note)
    request.state.audited = True
    return json_response(request, out)


@router.get("/permits/{number}/completeness", summary="Self-monitoring completeness against the plan, findings")
def completeness(request: Request, store: StoreDep, p: Reader, number: Number,
                 kind: Annotated[str, Query(pattern="^(month|quarter|year)$")],
                 period: Annotated[str, Query(max_length=8)]):
    from ecohub.supervision.permits import reports as RP

    def go():
        a, b = RP.period_bounds(kind, period)
        d = REG.permit_detail(store, p.scope, number)
        return RP.plan_completeness(store, d["id"], a, b)

    return json_response(request, _report_call(go))


@router.post("/permits/{number}/monitoring-reports", status_code=201,
             summary="File a manual monitoring result against the plan (the enterprise)")
def manual_report(request: Request, store: StoreDep, p: Annotated[Principal, Depends(role("admin", "enterprise",
                                                                                           write=True))],
                  origin: OriginDep, number: Number, body: ManualReportIn):
    from ecohub.supervision.permits import reports as RP

    out = _report_call(RP.file_manual_report, store, p.scope, origin, number, site_code=body.site,
                       parameter_name=body.parameter, sampled_on=body.sampled_on, value=body.value, lab=body.lab)
    request.state.audited = True
    return json_response(request, out, status_code=201)
