"""Sign-in (OAuth2 password flow), token refresh and sign-out, the caller, users, API keys, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from ecohub.api import audit
from ecohub.api.http import (
    audit_as,
    check_limit,
    decode_cursor,
    encode_cursor,
    json_response,
    parse_time_param,
    principal,
    require_role,
    require_user,
)
from ecohub.api.identity import (
    AuthError,
    LoginFailed,
    apply_password_check,
    check_password,
    create_user,
    list_users,
    refresh_session,
    revoke_session,
    set_password,
    start_session,
    update_user,
    user_by_name,
)
from ecohub.api.models import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    AuditPage,
    Me,
    PasswordIn,
    RefreshIn,
    Token,
    UserIn,
    UserOut,
    UserPatch,
)
from ecohub.api.problems import ApiProblem, forbidden, not_found, unauthorized
from ecohub.store import apikeys
from ecohub.store.tx import write_tx

router = APIRouter(prefix="/api/v1", tags=["identity"])


def _ctx(request: Request):
    s = request.app.state
    return s.store, s.auth, s.config, s.limiter


def _user_out(u: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in u.items()
            if k in UserOut.model_fields}


@router.post("/auth/token", response_model=Token, summary="Sign in (OAuth2 password flow)")
def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    """Form fields ``username`` and ``password``. Returns a 15-minute access token and a 7-day refresh token.
    Five failures in a row lock the account for 15 minutes (401 in every case: the answer does not say
    whether the user exists or is locked). Sign-in attempts are also limited per address (429)."""
    store, auth, config, limiter = _ctx(request)
    ip = request.state.ip
    wait = limiter.hit(f"login:{ip}", config.rate_login_per_min, burst=10)
    if wait > 0:
        raise ApiProblem(429, "too many sign-in attempts from this address", headers={"Retry-After": str(int(wait) + 1)})
    request.state.audited = True
    failed = None
    # the password is verified (argon2, slow) on a read; the attempt is counted under the write lock
    with store.engine.connect() as conn:
        check = check_password(conn, form.username, form.password)
    with write_tx(store) as conn:
        try:
            user = apply_password_check(conn, auth, check, form.password)
            tokens = start_session(conn, auth, user, ip)
            audit.record(conn, "login", actor=user["name"], role=user["role"], method="POST", path=request.url.path,
                         status=200, ip=ip)
        except LoginFailed as e:
            failed = e
            audit.record(conn, "login_failed", actor=(form.username or "")[:100], method="POST",
                         path=request.url.path, status=401, ip=ip, detail={"reason": e.reason})
    if failed is not None:
        raise unauthorized("wrong user name or password, or the account is locked or disabled")
    return json_response(request, tokens)


@router.post("/auth/refresh", response_model=Token, summary="Exchange a refresh token for a new pair")
def refresh(request: Request, body: RefreshIn):
    """Refresh tokens rotate: each works once. Using a spent one again revokes the whole session."""
    store, auth, _, _ = _ctx(request)
    request.state.audited = True
    err = None
    with write_tx(store) as conn:
        try:
            user, tokens = refresh_session(conn, auth, body.refresh_token)
            audit.record(conn, "token_refresh", actor=user["name"], role=user["role"], method="POST",
                         path=request.url.path, status=200, ip=request.state.ip)
        except AuthError as e:
            err = e
            audit.record(conn, "token_refresh_failed", method="POST", path=request.url.path, status=401,
                         ip=request.state.ip, detail={"reason": str(e)})
    if err is not None:
        raise unauthorized(str(err))
    return json_response(request, tokens)


@router.post("/auth/logout", status_code=204, summary="Sign out (revokes the session and all its tokens)")
def logout(request: Request):
    p = require_user(request)
    if p.session_id is None:
        raise ApiProblem(400, "API keys do not sign in; revoke the key instead")
    store = request.app.state.store
    with write_tx(store) as conn:
        revoke_session(conn, p.session_id, "signed out")
    audit_as(request, "logout")
    return Response(status_code=204)


@router.get("/me", response_model=Me, summary="Who am I (role and scope)")
def me(request: Request):
    p = principal(request)
    return json_response(request, {"kind": p.kind, "name": p.name, "role": p.scope.role, "region_code": p.region_code,
                                   "enterprise_id": p.enterprise_id, "department": p.department,
                                   "key_prefix": p.key_prefix})


@router.post("/me/password", status_code=204, summary="Change my password (signs out every session)")
def change_password(request: Request, body: PasswordIn):
    p = require_role(request, "admin", "analyst", "officer", "enterprise", "partner", "public", write=True)
    if p.kind != "user":
        raise forbidden("sign in with a password to change it")
    store, auth, _, _ = _ctx(request)
    audit_as(request, "password", target=f"user:{p.name}")
    wrong = False
    with store.engine.connect() as conn:
        check = check_password(conn, p.name, body.current_password)
    with write_tx(store) as conn:
        try:
            apply_password_check(conn, auth, check, body.current_password)
        except LoginFailed:
            wrong = True  # the failure counts towards the lock-out (committed)
        if not wrong:
            set_password(conn, p.user_id, p.name, body.new_password)
    if wrong:
        raise ApiProblem(403, "the current password is wrong")
    return Response(status_code=204)


# --- users (admin) --------------------------------------------------------------------------------------------
@router.get("/users", response_model=list[UserOut], summary="Users (admin)")
def users(request: Request):
    require_role(request, "admin")
    with request.app.state.store.engine.connect() as conn:
        return json_response(request, [_user_out(u) for u in list_users(conn)])


@router.post("/users", response_model=UserOut, status_code=201, summary="Create a user (admin)")
def add_user(request: Request, body: UserIn):
    p = require_role(request, "admin", write=True)
    audit_as(request, "permission", target=f"user:{body.name}", detail={
        "change": "create", "role": body.role, "region": body.region, "enterprise": body.enterprise,
        "department": body.department, "by": p.actor})
    store = request.app.state.store
    with write_tx(store) as conn:
        create_user(conn, body.name, body.password, body.role, region_code=body.region,
                    enterprise_uscc=body.enterprise, department=body.department, display_name=body.display_name)
    with store.engine.connect() as conn:
        u = next(u for u in list_users(conn) if u["name"] == body.name.strip())
    return json_response(request, _user_out(u), status_code=201)


@router.patch("/users/{name}", response_model=UserOut, summary="Change a user's role, region, enterprise, "
              "department; disable; unlock (admin)")
def patch_user(request: Request, name: str, body: UserPatch):
    p = require_role(request, "admin", write=True)
    store = request.app.state.store
    with write_tx(store) as conn:
        if user_by_name(conn, name) is None:
            raise not_found("user")
        changes = update_user(conn, name, role=body.role, region_code=body.region, enterprise_uscc=body.enterprise,
                              department=body.department, disabled=body.disabled, unlock=body.unlock)
    audit_as(request, "permission", target=f"user:{name}", detail={
        "change": "update", "by": p.actor,
        "fields": {k: [_s(a), _s(b)] for k, (a, b) in changes.items()}})
    with store.engine.connect() as conn:
        u = next(u for u in list_users(conn) if u["name"] == name)
    return json_response(request, _user_out(u))


def _s(v):
    return v.isoformat() if isinstance(v, datetime) else v


# --- API keys -------------------------------------------------------------------------------------------------
@router.get("/apikeys", response_model=list[ApiKeyOut], summary="My API keys (admins: ?all=true for all)")
def list_apikeys(request: Request, all: bool = False):  # noqa: A002 - the query parameter's name
    p = require_user(request)
    if all and p.role != "admin":
        raise forbidden("only admins list every key")
    with request.app.state.store.engine.connect() as conn:
        rows = apikeys.list_keys(conn, None if all else (p.user_id if p.user_id is not None else -1))
    return json_response(request, [{k: _s(v) for k, v in r.items()} for r in rows])


@router.post("/apikeys", response_model=ApiKeyCreated, status_code=201, summary="Create an API key")
def create_apikey(request: Request, body: ApiKeyIn):
    """A key reads with its user's rights (scope ``read``); ``admin`` lets it write through this API (admins
    only); ``ingest`` lets it push observations. The key is shown once."""
    p = require_role(request, "admin", "analyst", "officer", "enterprise", "partner", "public", write=True)
    store = request.app.state.store
    if p.kind != "user" and p.role != "admin":
        raise forbidden("sign in to create keys")
    scopes = list(dict.fromkeys(body.scopes))
    if "admin" in scopes and p.role != "admin":
        raise forbidden("only admins create keys with the admin scope")
    if "ingest" in scopes and p.role not in ("admin", "enterprise", "partner"):
        raise forbidden("ingest keys are for admins, enterprises and partners")
    target_id, target_name = p.user_id, p.name
    with write_tx(store) as conn:
        if body.user and body.user != p.name:
            if p.role != "admin":
                raise forbidden("only admins create keys for others")
            u = user_by_name(conn, body.user)
            if u is None:
                raise not_found("user")
            target_id, target_name = u["id"], u["name"]
        expires = datetime.now(UTC) + timedelta(days=body.days) if body.days else None
        key = apikeys.create_key(conn, body.name, scopes, owner=target_name, expires_at=expires, user_id=target_id)
    prefix = key.split("_")[1]
    audit_as(request, "permission", target=f"apikey:{prefix}", detail={
        "change": "create", "user": target_name, "scopes": scopes, "expires_at": _s(expires), "by": p.actor})
    return json_response(request, {"key": key, "prefix": prefix, "name": body.name, "scopes": scopes,
                                   "expires_at": _s(expires)}, status_code=201)


@router.delete("/apikeys/{prefix}", status_code=204, summary="Revoke an API key")
def delete_apikey(request: Request, prefix: str):
    p = require_role(request, "admin", "analyst", "officer", "enterprise", "partner", "public", write=True)
    store = request.app.state.store
    with write_tx(store) as conn:
        ok = apikeys.revoke_key(conn, prefix, None if p.role == "admin" else (p.user_id or -1))
    if not ok:
        raise not_found("active API key")
    audit_as(request, "permission", target=f"apikey:{prefix}", detail={"change": "revoke", "by": p.actor})
    return Response(status_code=204)


# --- audit (admin) --------------------------------------------------------------------------------------------
@router.get("/audit", response_model=AuditPage, summary="The audit log (admin), newest first")
def audit_log(request: Request, actor: str | None = None, action: Annotated[list[str] | None, Query()] = None,
              target: str | None = None, from_: Annotated[str | None, Query(alias="from")] = None,
              to: str | None = None, limit: int = 100, cursor: str | None = None):
    require_role(request, "admin")
    check_limit(limit, 1000)
    before = decode_cursor(cursor, (int,))
    rows = audit.query(request.app.state.store, actor=actor, action=action or (), target=target,
                       start=parse_time_param(from_, "from"), end=parse_time_param(to, "to"), limit=limit,
                       before_id=before[0] if before else None)
    nxt = encode_cursor([rows[-1]["id"]]) if len(rows) == limit else None
    return json_response(request, {"meta": {"next_cursor": nxt, "limit": limit}, "results": rows})

