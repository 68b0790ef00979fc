"""The data resource catalogue: datasets, access requests and grants, masked and watermarked exports."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ecohub.api import audit
from ecohub.api.deps import platform_keys
from ecohub.api.http import (
    MAX_ID,
    audit_as,
    json_response,
    parse_time_param,
    principal,
    require_role,
    require_user,
)
from ecohub.api.identity import Principal
from ecohub.api.models import (
    AccessRequestIn,
    AccessRequestOut,
    Count,
    DatasetIn,
    DatasetOut,
    DecisionIn,
    RecordsIn,
    RevokeIn,
)
from ecohub.api.problems import ApiProblem, forbidden, not_found
from ecohub.catalog import service as C
from ecohub.store.tx import write_tx

router = APIRouter(prefix="/api/v1", tags=["catalogue"])


def requester(p: Principal) -> C.Requester:
    role = p.scope.role if p.authenticated else "public"
    return C.Requester(role=role, user_id=p.user_id, name=p.name or (p.actor if p.kind == "key" else None),
                       department=p.department)


def _out(d: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}


def _visible(request: Request, dataset_id: int) -> tuple[dict, C.Requester]:
    who = requester(principal(request))
    with request.app.state.store.engine.connect() as conn:
        ds = C.get_dataset(conn, dataset_id)
        if ds is None or not C.can_see(ds, who):
            raise not_found("dataset")
        ds["access"] = C.access_of(conn, ds, who)
    return ds, who


@router.get("/datasets", response_model=list[DatasetOut], summary="The catalogue (what the caller may see)")
def datasets(request: Request):
    who = requester(principal(request))
    with request.app.state.store.engine.connect() as conn:
        rows = C.list_datasets(conn, who)
    return json_response(request, [_out(r) for r in rows])


@router.post("/datasets", response_model=DatasetOut, status_code=201, summary="Register a dataset (admin)")
def create_dataset(request: Request, body: DatasetIn):
    require_role(request, "admin", write=True)
    audit_as(request, "write", target=f"dataset:{body.code}", detail={"change": "create",
                                                                     "sharing_level": body.sharing_level,
                                                                     "open_level": body.open_level})
    with write_tx(request.app.state.store) as conn:
        did = C.create_dataset(conn, code=body.code, title=body.title, description=body.description,
                               owner_department=body.owner_department,
                               fields=[f.model_dump(exclude_none=True) for f in body.fields or []] or None,
                               update_frequency=body.update_frequency, sharing_level=body.sharing_level,
                               open_level=body.open_level, source=body.source)
    ds, _ = _visible(request, did)
    return json_response(request, _out(ds), status_code=201)


@router.get("/datasets/{dataset_id}", response_model=DatasetOut, summary="One dataset's description")
def dataset(request: Request, dataset_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
    ds, _ = _visible(request, dataset_id)
    return json_response(request, _out(ds))


@router.post("/datasets/{dataset_id}/records", response_model=Count, summary="Add records (admin or owner department)")
def add_records(request: Request, dataset_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: RecordsIn):
    p = require_role(request, "admin", "analyst", "officer", write=True)
    ds, who = _visible(request, dataset_id)
    if ds["access"] != "full" or (p.role != "admin" and who.department != ds["owner_department"]):
        raise forbidden("only the owner department or an admin adds records")
    audit_as(request, "write", target=f"dataset:{ds['code']}", detail={"records": len(body.records)})
    with write_tx(request.app.state.store) as conn:
        n = C.add_records(conn, ds, body.records, body.region_code)
    return json_response(request, {"count": n}, status_code=200)


@router.get("/datasets/{dataset_id}/export", summary="Export a dataset (masked, watermarked per recipient, audited)",
            responses={200: {"description": "the file", "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}}}})
async def export(request: Request, dataset_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                 format: Annotated[str, Query(description="csv, json or parquet")] = "csv",  # noqa: A002
                 from_: Annotated[str | None, Query(alias="from")] = None, to: str | None = None):
    """Observation datasets need ``from`` and ``to`` (at most 400 days). The file's values carry a watermark
    that names this recipient (``ecohub watermark identify FILE``); personal fields are masked."""
    p = principal(request)
    ds, who = await run_in_threadpool(_visible, request, dataset_id)
    store = request.app.state.store

    def allowed():
        with store.engine.connect() as conn:
            return C.may_export(conn, ds, who)

    if not await run_in_threadpool(allowed):
        if not p.authenticated:
            raise ApiProblem(401, "sign in: this dataset is not open", headers={"WWW-Authenticate": "Bearer"})
        raise forbidden("no access to this dataset's data: request access (POST …/requests)")
    if format not in C.FORMATS:
        raise ApiProblem(400, f"format={format!r}: one of {', '.join(C.FORMATS)}")
    start, end = parse_time_param(from_, "from"), parse_time_param(to, "to")
    ex = await run_in_threadpool(C.export_dataset, store, ds, who, format, start=start, end=end,
                                 ip=request.state.ip, max_rows=request.app.state.config.max_export_rows)
    await run_in_threadpool(audit.record_now, store, "export", actor=p.actor,
                            role=p.role if p.authenticated else None, target=f"dataset:{ds['code']}", method="GET",
                            path=request.url.path, status=200, ip=request.state.ip,
                            detail={"export_id": ex.export_id, "format": format, "rows": ex.rows,
                                    "masked_fields": ex.masked, "watermarked": True, "access": ds["access"],
                                    "from": from_, "to": to})
    headers = {"Content-Disposition": f'attachment; filename="{ex.filename}"', "Cache-Control": "private, no-store",
               "X-Export-Id": str(ex.export_id)}
    signer = await run_in_threadpool(platform_keys(request).signer)
    if signer is not None:  # detached SM2 signature of the body (ecohub verify-signature FILE SIG --key …)
        from ecohub.crypto import sm2

        sig = await run_in_threadpool(sm2.sign, signer[1], ex.body)
        headers |= {"X-Signature-Alg": "SM2-with-SM3", "X-Signature-Key-Id": signer[0],
                    "X-Signature": base64.b64encode(sig).decode()}
    return Response(ex.body, media_type=ex.media_type, headers=headers)


@router.post("/datasets/{dataset_id}/requests", response_model=AccessRequestOut, status_code=201,
             summary="Request access to a dataset (partners, with a purpose)")
def request_access(request: Request, dataset_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: AccessRequestIn):
    p = require_user(request)
    if not p.can_write:
        raise forbidden("this API key may only read")
    ds, who = _visible(request, dataset_id)
    with write_tx(request.app.state.store) as conn:
        r = C.request_access(conn, ds, who, body.purpose)
    audit_as(request, "permission", target=f"dataset:{ds['code']}", detail={"change": "request",
                                                                           "request_id": r["id"]})
    return json_response(request, _out(r), status_code=201)


@router.get("/access-requests", response_model=list[AccessRequestOut],
            summary="Access requests: mine, and those to my department's datasets")
def access_requests(request: Request, status: str | None = Query(None, pattern="^(pending|approved|refused|revoked)$")):
    p = require_user(request)
    with request.app.state.store.engine.connect() as conn:
        rows = C.list_requests(conn, requester(p), status)
    return json_response(request, [_out(r) for r in rows])


@router.post("/access-requests/{request_id}/decision", response_model=AccessRequestOut,
             summary="Approve (with an expiry) or refuse (with a reason) — owner department or admin")
def decide(request: Request, request_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: DecisionIn):
    p = require_role(request, "admin", "analyst", "officer", write=True)
    try:
        with write_tx(request.app.state.store) as conn:
            r = C.decide(conn, request_id, requester(p), body.approve, body.reason, body.days)
    except LookupError:
        raise not_found("access request") from None
    except PermissionError as e:
        raise forbidden(str(e)) from None
    audit_as(request, "permission", target=f"dataset:{r['dataset']}", detail={
        "change": "approve" if body.approve else "refuse", "request_id": request_id, "user": r["user"],
        "reason": body.reason, "expires_at": r["expires_at"].isoformat() if r["expires_at"] else None})
    return json_response(request, _out(r))


@router.post("/access-requests/{request_id}/revoke", response_model=AccessRequestOut,
             summary="Revoke a grant — owner department or admin")
def revoke(request: Request, request_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: RevokeIn | None = None):
    p = require_role(request, "admin", "analyst", "officer", write=True)
    reason = body.reason if body is not None else None
    try:
        with write_tx(request.app.state.store) as conn:
            r = C.revoke_grant(conn, request_id, requester(p), reason or "revoked")
    except LookupError:
        raise not_found("access request") from None
    except PermissionError as e:
        raise forbidden(str(e)) from None
    audit_as(request, "permission", target=f"dataset:{r['dataset']}", detail={
        "change": "revoke", "request_id": request_id, "user": r["user"], "reason": reason})
    return json_response(request, _out(r))
