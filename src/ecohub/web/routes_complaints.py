"""HTTP routes of public complaints (``ecohub.supervision.complaints``):

| route | who | what |
|---|---|---|
| ``POST /api/v1/complaints`` (multipart form) | anyone, rate-limited per address | submit; answers the tracking code |
| ``GET /api/v1/complaints/nearby?lon&lat&category`` | anyone | open complaints within 50 m (no codes, no texts) |
| ``GET /api/v1/complaints/track/{code}`` | anyone with the code | status history, no personal data |
| ``GET /api/v1/complaints`` | admin, analyst, officer (region) | staff list; phone masked unless authorised |
| ``GET /api/v1/complaints/{code}`` | staff | one complaint with history and nearby open ones |
| ``GET /api/v1/complaints/{code}/photo`` | staff | the photo |
| ``POST /api/v1/complaints/{code}/status`` | admin, officer (region) | accept / reject (reason) / handled / close |

Submission limits: ``ECOHUB_COMPLAINTS_PER_HOUR`` per client address (default 10, burst 5). Viewing an
unmasked phone number is recorded in the audit log (personal data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ecohub.api import audit
from ecohub.api.http import audit_as, json_response, require_role, require_user
from ecohub.api.problems import ApiProblem, forbidden, not_found
from ecohub.config import settings
from ecohub.domain.errors import InputError
from ecohub.store.db import Store
from ecohub.supervision import complaint_loop
from ecohub.supervision import complaints as C


def _rate() -> int:
    try:
        return max(1, settings().complaints_per_hour)
    except ValueError:
        return 10


class StatusIn(BaseModel):
    status: str
    note: str | None = None


def _input_problem(e: InputError) -> ApiProblem:
    value = e.value if isinstance(e.value, str | int | float) or e.value is None else repr(e.value)
    if isinstance(value, str) and len(value) > 80:
        value = value[:77] + "..."
    return ApiProblem(400, str(e), errors=[{"field": e.field, "value": value, "reason": e.reason}])


def complaints_router(store: Store, data_dir: Path) -> APIRouter:
    r = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])

    @r.post("", status_code=201, summary="Submit a complaint (public, 12369-style); answers the tracking code")
    async def submit(request: Request,
                     category: Annotated[str, Form()], description: Annotated[str, Form()],
                     lon: Annotated[str, Form()], lat: Annotated[str, Form()],
                     phone: Annotated[str | None, Form()] = None, address: Annotated[str | None, Form()] = None,
                     photo: Annotated[UploadFile | None, File()] = None):
        per_hour = _rate()  # the limiter counts per minute: a submission costs 60 tokens of a per_hour/min bucket
        wait = request.app.state.limiter.hit(f"complaint:{request.state.ip}", per_hour,
                                             burst=min(5, per_hour) * 60, cost=60)
        if wait > 0:
            raise ApiProblem(429, "too many complaints from this address; please try again later",
                             headers={"Retry-After": str(int(wait) + 1)})
        data = None
        if photo is not None and photo.filename:
            data = await photo.read(C.MAX_PHOTO_BYTES + 1)
        inp = C.ComplaintInput(category=category, description=description, lon=lon, lat=lat, phone=phone,
                               address=address, photo=data)
        try:
            out = await run_in_threadpool(C.submit, store, inp, data_dir)
        except InputError as e:
            raise _input_problem(e) from None
        audit_as(request, "complaint_submit", f"complaint:{out['tracking_code'][:4]}…",
                 {"category": out["category"], "region": out["region_code"]})
        return json_response(request, out, status_code=201)

    @r.get("/nearby", summary="Open complaints of a category within 50 m (public: no codes, no texts)")
    async def nearby(request: Request, lon: str, lat: str, category: str | None = None):
        try:
            rows = await run_in_threadpool(C.public_nearby, store, lon, lat, category)
        except InputError as e:
            raise _input_problem(e) from None
        return json_response(request, {"radius_m": C.DUPLICATE_RADIUS_M, "results": rows})

    @r.get("/track/{code}", summary="Follow a complaint by its tracking code (no personal data)")
    async def track(request: Request, code: str):
        t = await run_in_threadpool(C.track, store, code)
        if t is None:
            raise not_found("complaint")
        t["result"] = await run_in_threadpool(complaint_loop.public_result, store, code)  # when published
        return json_response(request, t)

    def staff_scope(request: Request):
        p = require_user(request)
        try:
            C.scope_condition(p.scope)
        except PermissionError as e:
            raise forbidden(str(e)) from None
        return p

    @r.get("", summary="Complaints (staff; officers: their region); phone and address masked unless authorised")
    async def list_(request: Request, status: str | None = None, region: str | None = None,
                    category: str | None = None, limit: int = Query(100, ge=1, le=1000), before: int | None = None,
                    phone: str | None = Query(None, description="only complaints left with this phone (contact "
                                                                "roles; HMAC-SM3 blind index)")):
        p = staff_scope(request)
        try:
            rows = await run_in_threadpool(lambda: C.list_complaints(store, p.scope, status=status, region_code=region,
                                                                     category=category, limit=limit, before_id=before,
                                                                     phone=phone))
        except InputError as e:
            raise _input_problem(e) from None
        except PermissionError as e:
            raise forbidden(str(e)) from None
        if any(x.get("phone") and not x["phone_masked"] for x in rows):
            await run_in_threadpool(audit.record_now, store, "personal_data_view", actor=p.actor, role=p.role,
                                    target="complaints", method="GET", path=request.url.path, status=200,
                                    ip=request.state.ip, detail={"ids": [x["id"] for x in rows if x.get("phone") and not x["phone_masked"]]})
        return json_response(request, {"results": rows, "next_before": rows[-1]["id"] if len(rows) == limit else None})

    @r.get("/{code}", summary="One complaint (staff)")
    async def one(request: Request, code: str):
        p = staff_scope(request)
        c = await run_in_threadpool(C.get_complaint, store, p.scope, code)
        if c is None:
            raise not_found("complaint")
        if c.get("phone") and not c["phone_masked"]:
            await run_in_threadpool(audit.record_now, store, "personal_data_view", actor=p.actor, role=p.role,
                                    target=f"complaint:{c['id']}", method="GET", path=request.url.path, status=200,
                                    ip=request.state.ip, detail={"field": "phone"})
        return json_response(request, c)

    @r.get("/{code}/photo", summary="The complaint's photo (staff)")
    async def photo(request: Request, code: str):
        p = staff_scope(request)
        f = await run_in_threadpool(C.photo_file, store, p.scope, code, data_dir)
        if f is None:
            raise not_found("photo")
        path, mime = f
        return FileResponse(path, media_type=mime, headers={"Cache-Control": "private, no-store"})

    @r.post("/{code}/status", summary="Accept, reject (with a reason), mark handled, close (admin, officer)")
    async def status(request: Request, code: str, body: StatusIn):
        p = require_role(request, "admin", "officer", write=True)
        try:
            out = await run_in_threadpool(lambda: C.change_status(store, p.scope, code, body.status,
                                                                  actor=p.actor or "?", note=body.note))
        except InputError as e:
            raise _input_problem(e) from None
        except LookupError:
            raise not_found("complaint") from None
        except PermissionError as e:
            raise forbidden(str(e)) from None
        audit_as(request, "complaint_status", f"complaint:{out['tracking_code']}", {"status": body.status})
        return json_response(request, out)

    return r
