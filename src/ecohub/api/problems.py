"""Errors as RFC 9457 problem details (``application/problem+json``), everywhere, never a stack trace.

``ApiProblem`` is raised by our code; handlers turn Starlette's 404/405, FastAPI's validation errors and any
unexpected exception into the same shape. :func:`document_problems` adds the problem responses to every
operation of the OpenAPI document, so that clients (and schemathesis) know every status they may get.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ecohub.domain.errors import InputError
from ecohub.store.tx import is_locked_error

PROBLEM = "application/problem+json"
log = logging.getLogger("ecohub.api")

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          406: "Not Acceptable", 409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type",
          422: "Unprocessable Content", 423: "Locked", 429: "Too Many Requests", 500: "Internal Server Error",
          503: "Service Unavailable"}


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class ApiProblem(Exception):  # noqa: N818 - it is an answer, not an internal error
    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None,
                 errors: list[dict] | None = None, title: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers, self.errors = status, detail, headers, errors
        self.title = title or TITLES.get(status, "Error")


def problem_response(status: int, detail: str | None, *, instance: str | None = None,
                     headers: dict[str, str] | None = None, errors: list[dict] | None = None,
                     title: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title or TITLES.get(status, "Error"), "status": status,
                            "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def unauthorized(detail: str = "sign in (Bearer token) or give an API key") -> ApiProblem:
    return ApiProblem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="ecohub"'})


def forbidden(detail: str = "your role does not allow this") -> ApiProblem:
    return ApiProblem(403, detail)


def not_found(what: str) -> ApiProblem:
    return ApiProblem(404, f"{what} not found")


def bad_request(e: Exception | str) -> ApiProblem:
    return ApiProblem(400, str(e))


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem):
        return problem_response(exc.status, exc.detail, instance=request.url.path, headers=exc.headers,
                                errors=exc.errors, title=exc.title)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError):
        return problem_response(400, str(exc), instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail in (None, "Not Found"):
            detail = f"no such resource: {request.url.path}"
        if exc.status_code == 405:
            detail = f"method {request.method} is not allowed on {request.url.path}"
        return problem_response(exc.status_code, detail, instance=request.url.path,
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ())]
            errors.append({"field": ".".join(loc[1:]) or ".".join(loc), "in": loc[0] if loc else None,
                           "reason": str(e.get("msg", ""))})
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        return problem_response(422, detail or "invalid request", instance=request.url.path, errors=errors)

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError):
        log.error("database error on %s %s: %s", request.method, request.url.path, exc.orig)
        if is_locked_error(exc):  # write_tx waited and retried; the embedded database is still busy
            return problem_response(503, "the database is busy; try again in a moment", instance=request.url.path,
                                    headers={"Retry-After": "2"})
        return problem_response(503, "the database is unavailable; try again later", instance=request.url.path,
                                headers={"Retry-After": "30"})

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError):
        # a value the database cannot hold (NUL in text, a number out of range, text too long)
        return problem_response(400, "a value in the request cannot be stored or compared (too long, out of range "
                                "or with a NUL character)", instance=request.url.path)

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError):
        log.exception("database error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal error (logged)", instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal error (logged)", instance=request.url.path)


_DOCUMENTED = {
    400: "bad parameter (named in detail)",
    401: "not signed in, or the token / key is invalid, expired or revoked",
    403: "signed in, but the role does not allow this",
    404: "not found, or not visible to the caller",
    413: "request body too large",
    422: "request does not match the schema",
    429: "rate limit exceeded (Retry-After says when to try again)",
    500: "internal error (logged; no details are disclosed)",
    503: "database unavailable",
}


def document_problems(schema: dict) -> dict:
    """Add the problem responses to every operation of an OpenAPI document (in place) and return it."""
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    ref = {"$ref": "#/components/schemas/Problem"}
    for methods in schema.get("paths", {}).values():
        for op in methods.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            for status, text in _DOCUMENTED.items():
                key = str(status)
                existing = responses.get(key)
                if existing is None or status == 422:
                    responses[key] = {"description": text, "content": {PROBLEM: {"schema": ref}}}
            for key, r in responses.items():
                if key.isdigit() and int(key) >= 400:
                    r["content"] = {PROBLEM: {"schema": ref}}
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)
    return schema
