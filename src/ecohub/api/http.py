"""Small HTTP helpers shared by the routers: the caller, role checks, opaque cursors, JSON with ETags,
parameter parsing that answers 400 naming the parameter."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from fastapi import Request, Response
from pydantic import TypeAdapter, ValidationError

try:  # C serialiser (3-10x the standard library on the list endpoints); the standard library otherwise
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None

from ecohub.api import response_cache
from ecohub.api.identity import ANONYMOUS, Principal
from ecohub.api.problems import ApiProblem, forbidden, unauthorized
from ecohub.domain.timeutil import BEIJING, parse_time

log = logging.getLogger("ecohub.api")
MAX_LIMIT = 10_000
MAX_ID = 2**31 - 1


def principal(request: Request) -> Principal:
    return getattr(request.state, "principal", None) or ANONYMOUS


def require_user(request: Request) -> Principal:
    p = principal(request)
    if not p.authenticated:
        raise unauthorized()
    return p


def require_role(request: Request, *roles: str, write: bool = False) -> Principal:
    """The caller, if signed in with one of ``roles`` (and, for ``write``, allowed to write: keys need the
    ``admin`` scope); 401 / 403 otherwise."""
    p = require_user(request)
    if p.role not in roles:
        raise forbidden(f"this needs the role {' or '.join(roles)}")
    if write and not p.can_write:
        raise forbidden("this API key may only read (it needs the admin scope to write)")
    return p


def audit_as(request: Request, action: str, target: str | None = None, detail: dict | None = None) -> None:
    """Name the audit entry the middleware writes for this (write) request."""
    request.state.audit = {"action": action, "target": target, "detail": detail}


# --- cursors --------------------------------------------------------------------------------------------------
def encode_cursor(key: list | tuple) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, types: tuple[type, ...]) -> list | None:
    """The key in a cursor, checked against ``types`` (datetime from ISO text); 400 if it is not ours."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        vals = json.loads(raw)
        if not isinstance(vals, list) or len(vals) != len(types):
            raise ValueError
        out = []
        for v, t in zip(vals, types, strict=True):
            if t is datetime:
                d = datetime.fromisoformat(v)
                if d.tzinfo is None:
                    raise ValueError
                out.append(d.astimezone(UTC))
            elif t is int:
                if not isinstance(v, int) or isinstance(v, bool) or not -(2**31) < v < 2**31:
                    raise ValueError
                out.append(v)
            else:
                if not isinstance(v, str):
                    raise ValueError
                out.append(v)
        return out
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError, json.JSONDecodeError):
        raise ApiProblem(400, "cursor: not a cursor returned by this API") from None


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> int:
    if limit < 1 or limit > maximum:
        raise ApiProblem(400, f"limit={limit}: must be between 1 and {maximum}")
    return limit


# --- parsing --------------------------------------------------------------------------------------------------
def parse_time_param(value: str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_time(value, name)
    except (ValueError, OverflowError) as e:
        raise ApiProblem(400, str(e) if str(e).startswith(name) else f"{name}={value!r}: not an ISO-8601 time") \
            from None


def parse_date_param(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiProblem(400, f"{name}={value!r}: not a date (YYYY-MM-DD)") from None


def parse_floats(value: str | None, name: str, n: int) -> tuple[float, ...] | None:
    if value is None or value == "":
        return None
    parts = value.split(",")
    try:
        nums = tuple(float(p) for p in parts)
    except ValueError:
        nums = ()
    if len(nums) != n or not all(math.isfinite(x) for x in nums):
        raise ApiProblem(400, f"{name}={value!r}: give {n} comma-separated numbers")
    return nums


# --- JSON -----------------------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _beijing_iso(o: datetime) -> str:
    return o.astimezone(BEIJING).isoformat()  # rows of one answer share few distinct times


def _default(o: Any):
    if isinstance(o, datetime):
        return _beijing_iso(o)
    if isinstance(o, date):
        return o.isoformat()
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def clean(o: Any) -> Any:
    """NaN/inf → None, numpy → Python, recursively (JSON has no NaN)."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [clean(v) for v in o]
    if hasattr(o, "item") and not isinstance(o, str | bytes):
        return clean(o.item())
    return o


def dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON, times in Beijing time (``_default``); orjson when installed (same text for the
    values the API sends: str, int, finite float, None, lists, dicts; non-finite floats, which the services
    turn into None, become null instead of an error)."""
    if orjson is not None:
        try:
            return orjson.dumps(payload, default=_default, option=_ORJSON_OPTS)
        except orjson.JSONEncodeError:  # e.g. an integer past 64 bits echoed from the caller: the standard library
            pass
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_default,
                      allow_nan=False).encode()


_ORJSON_OPTS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS) if orjson is not None else 0


def _headers(etag: str, cache: str, headers: dict[str, str] | None) -> dict[str, str]:
    h = {"ETag": etag, "Cache-Control": cache, "Vary": "Authorization, X-API-Key"}
    if headers:
        h.update(headers)
    return h


def _respond(request: Request, body: bytes, etag: str, cache: str, status_code: int,
             headers: dict[str, str] | None) -> Response:
    h = _headers(etag, cache, headers)
    inm = request.headers.get("if-none-match")
    if inm and request.method in ("GET", "HEAD") and etag in [t.strip() for t in inm.split(",")]:
        return Response(status_code=304, headers=h)
    return Response(body, status_code=status_code, media_type="application/json", headers=h)


_ADAPTERS: dict[object, TypeAdapter] = {}


def check_response(request: Request, body: bytes) -> None:
    """Validate a JSON body against the response model the route declares (none: nothing to check). The
    adapters are built once per model; validation runs on the JSON text in pydantic-core."""
    route = request.scope.get("route")
    model = getattr(route, "response_model", None)
    if model is None:
        return
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS.setdefault(model, TypeAdapter(model))
    try:
        adapter.validate_json(body)
    except ValidationError as e:
        log.error("response of %s does not match its model %s: %s", request.url.path, model, e)
        raise ApiProblem(500, "internal error (logged)") from None


def json_response(request: Request, payload: Any, *, public_max_age: int | None = None,
                  status_code: int = 200, headers: dict[str, str] | None = None, cache: bool = False) -> Response:
    """JSON with a strong ETag; ``If-None-Match`` → 304. Anonymous GETs of public endpoints get
    ``Cache-Control: public, max-age=N``; everything else ``private, no-cache`` (revalidate with the ETag).
    ``cache``: keep the answer in the response cache (:mod:`ecohub.api.response_cache`), keyed by path, query
    and the caller's scope and valid while the data version is unchanged — only for routes whose answer
    depends on nothing else.

    A 2xx answer is validated against the route's declared ``response_model`` (:func:`check_response`) before
    it leaves, as FastAPI would validate a returned model: a service that drifts from the documented shape
    answers 500 (logged) instead of sending what the OpenAPI document does not promise."""
    body = dumps(payload)
    if 200 <= status_code < 300:
        check_response(request, body)
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    p = principal(request)
    if public_max_age and not p.authenticated:
        cache_control = f"public, max-age={public_max_age}"
    else:
        cache_control = "private, no-cache"
    response = _respond(request, body, etag, cache_control, status_code, headers)
    if cache and status_code == 200:
        keyed = getattr(request.state, response_cache.STATE_KEY, None)
        rc = getattr(request.app.state, "response_cache", None)
        if keyed is not None and rc is not None:
            rc.put(keyed[0], keyed[1], body, _headers(etag, cache_control, headers), etag, request.scope.get("route"))
    return response
