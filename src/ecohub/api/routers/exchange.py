"""Data exchange with partners: incoming signed batches, the exchange log, reconciliation, forwarding status
(``docs/exchange.md``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ecohub.api.http import require_role
from ecohub.exchange.forward import destination_status
from ecohub.exchange.incoming import Refused, receive
from ecohub.exchange.partners import partner_by_key
from ecohub.exchange.push import compare_logs, exchange_log
from ecohub.exchange.signing import SignatureError, verify_request
from ecohub.ingest.http_push import MAX_BODY, HttpIngest

router = APIRouter(prefix="/api/v1/exchange", tags=["exchange"])
PROBLEM = "application/problem+json"
_SIGNED = {"description": "signed request (X-Ecohub-* headers, docs/exchange.md)"}


def _problem(status: int, detail: str) -> JSONResponse:
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 413: "Payload Too Large"}
    return JSONResponse({"type": "about:blank", "title": titles.get(status, "Error"), "status": status,
                         "detail": detail}, status_code=status, media_type=PROBLEM)


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Refused(413, f"the body is larger than {MAX_BODY} bytes: send smaller batches")
        chunks.append(chunk)
    return b"".join(chunks)


def _ingest(request: Request) -> HttpIngest:
    work = getattr(request.app.state, "exchange_ingest", None)
    if work is None:
        work = request.app.state.exchange_ingest = HttpIngest(request.app.state.store)
    return work


@router.post("/incoming/{dataset}", summary="A partner pushes a signed batch of observations to one of its datasets",
             responses={200: {"description": "counts; bad rows listed (field, value, reason) and quarantined"},
                        400: {"description": "body, batch id or rows hash wrong", "content": {PROBLEM: {}}},
                        401: {"description": "unknown key id or a signature that does not verify",
                              "content": {PROBLEM: {}}},
                        403: {"description": "the partner may not push to this dataset", "content": {PROBLEM: {}}},
                        413: {"description": "too large", "content": {PROBLEM: {}}}})
async def incoming(request: Request, dataset: Annotated[str, Path(min_length=1, max_length=64)]):
    """Signed with the partner's key (HMAC-SHA256 or SM2); a batch id already applied is answered again with
    ``duplicate: true`` and not applied twice; good rows are stored through the one writer, bad ones quarantined."""
    try:
        body = await _body(request)
        out = await run_in_threadpool(receive, request.app.state.store, _ingest(request), dataset,
                                      dict(request.headers), request.method, request.url.path, body)
    except Refused as e:
        return _problem(e.status, e.reason)
    return JSONResponse(out)


@router.post("/reconcile", summary="A partner sends its exchange log; the answer compares it with ours",
             responses={200: {"description": "matched, differing and missing batches"},
                        401: {"description": "unknown key id or a bad signature", "content": {PROBLEM: {}}}})
async def reconcile(request: Request):
    """Body ``{"log": [{"batch_id", "rows", "hash"}, …]}``, signed like a batch (any batch id, e.g.
    ``reconcile``). Compared by batch id with our log of batches exchanged with that partner."""
    import json

    try:
        body = await _body(request)
        key_id = request.headers.get("x-ecohub-key-id", "")
        p = await run_in_threadpool(partner_by_key, request.app.state.store, key_id) if key_id else None
        if p is None:
            raise Refused(401, f"X-Ecohub-Key-Id={key_id!r} is not the key of an enabled partner")
        try:
            verify_request(dict(request.headers), request.method, request.url.path, body, alg=p["alg"],
                           secret=p.get("secret"), public=p.get("partner_public"))
        except SignatureError as e:
            raise Refused(401, f"signature refused: {e}") from None
        try:
            theirs = json.loads(body)["log"]
            assert isinstance(theirs, list) and all(isinstance(b, dict) for b in theirs)
        except (ValueError, KeyError, TypeError, AssertionError):
            raise Refused(400, 'the body must be {"log": [{"batch_id", "rows", "hash"}, ...]}') from None
    except Refused as e:
        return _problem(e.status, e.reason)
    ours = await run_in_threadpool(exchange_log, request.app.state.store, p["name"], None, 100_000)
    return JSONResponse(compare_logs(ours, theirs))


@router.get("/log", summary="The exchange log: batches pushed to and received from partners (admin)")
def log(request: Request, partner: Annotated[str | None, Query(max_length=64)] = None,
        direction: Annotated[str | None, Query(pattern="^(in|out)$")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
    require_role(request, "admin")
    return exchange_log(request.app.state.store, partner, direction, limit)


@router.get("/forwarding", summary="HJ 212 forwarding destinations with address, status and last error (admin)")
def forwarding(request: Request) -> list[dict[str, Any]]:
    require_role(request, "admin")
    return destination_status(request.app.state.store)
