"""Hardening and the per-request machinery, as one pure ASGI middleware (no ``BaseHTTPMiddleware``):

1. request size limit (``Content-Length`` and streamed bodies) → 413;
2. rate limit per client IP (token bucket, in-process) → 429 with ``Retry-After``;
3. the caller (:class:`~ecohub.api.identity.Principal`) from the Bearer token or API key → 401 when a
   credential is presented but not valid; the caller's :class:`~ecohub.store.queries.Scope` is set as the
   *current scope* of the query layer for this request (anonymous → PUBLIC), so no route can forget it;
4. rate limit per key / per user → 429;
5. security headers on every response (``nosniff``, frame denial, referrer policy, a strict CSP on the API,
   HSTS over HTTPS, ``Cache-Control: no-store`` unless the route chose a cache policy);
6. the audit record of every write (POST/PUT/PATCH/DELETE), written before the response leaves, unless the
   route recorded a more specific entry itself (``request.state.audited``).

Configuration (:class:`ecohub.config.Settings`, from the environment): ``ECOHUB_CORS_ORIGINS`` (comma-separated; none by default),
``ECOHUB_RATE_LIMIT_ANON`` / ``ECOHUB_RATE_LIMIT_AUTH`` / ``ECOHUB_RATE_LIMIT_LOGIN`` (requests per minute per
IP / per key or user / sign-in attempts per IP; defaults 600 / 1200 / 20), ``ECOHUB_MAX_BODY`` (bytes, default
1 MiB; HTTP push ingest gets 6 MiB), ``ECOHUB_PUBLIC_CACHE_SECONDS`` (default 60; 0 off: the response cache of the hot
reads — latest, AQI, rankings, water — serves an answer again while the data are unchanged, at most this many
seconds; :mod:`ecohub.api.response_cache`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecohub.api import audit
from ecohub.api.identity import ANONYMOUS, AuthConfig, AuthError, Principal, resolve_principal
from ecohub.api.problems import PROBLEM, TITLES
from ecohub.store import apikeys
from ecohub.store.db import Store
from ecohub.store.queries import reset_current_scope, set_current_scope

log = logging.getLogger("ecohub.api")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class ApiConfig:
    cors_origins: list[str] = field(default_factory=list)
    rate_anon_per_min: int = 600
    rate_auth_per_min: int = 1200
    rate_login_per_min: int = 20
    max_body: int = 1024 * 1024
    max_body_ingest: int = 6 * 1024 * 1024
    public_max_age: int = 60  # seconds of Cache-Control for anonymous GETs of the hot public endpoints
    public_cache_seconds: float = 60.0  # response cache of the hot reads: at most this old, and only while the
    # data version is unchanged (0: off; ecohub.api.response_cache)
    max_export_rows: int = 1_000_000

    @classmethod
    def from_settings(cls, s=None) -> ApiConfig:
        """From the settings (:class:`ecohub.config.Settings`; the environment now when none is given)."""
        from ecohub.config import settings

        s = s or settings()
        return cls(cors_origins=s.cors_origin_list, rate_anon_per_min=s.rate_limit_anon,
                   rate_auth_per_min=s.rate_limit_auth, rate_login_per_min=s.rate_limit_login,
                   max_body=s.max_body, public_cache_seconds=s.public_cache_seconds)

    from_env = from_settings


class RateLimiter:
    """Token buckets in this process: ``per_minute`` tokens a minute, bursts up to ``burst`` (default: a
    sixth of a minute's worth, at least 10). Thread-safe; forgets idle buckets."""

    def __init__(self, clock=time.monotonic):
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def hit(self, key: str, per_minute: int, burst: int | None = None, cost: float = 1.0) -> float:
        """0 if allowed, else the seconds to wait before the next request would be."""
        if per_minute <= 0:
            return 0.0
        rate = per_minute / 60.0
        cap = float(burst if burst is not None else max(10, per_minute // 6))
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (cap, now))
            tokens = min(cap, tokens + (now - last) * rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (cost - tokens) / rate
            if len(self._buckets) > 100_000:
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 300}
        return wait


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _send_problem(send: Send, status: int, detail: str, path: str, headers: dict[str, str] | None = None):
    body = json.dumps({"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
                       "detail": detail, "instance": path}, ensure_ascii=False).encode()
    hdrs = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    hdrs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    hdrs += _security_headers(path, https=False, has_cache=False)
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": body})


_DOC_PATHS = ("/docs", "/redoc", "/openapi.json")


def _security_headers(path: str, *, https: bool, has_cache: bool) -> list[tuple[bytes, bytes]]:
    h = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
         (b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin"),
         (b"permissions-policy", b"geolocation=(), camera=(), microphone=()")]
    if path.startswith("/api/"):
        h.append((b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"))
        if not has_cache:
            h.append((b"cache-control", b"no-store"))
    if https:
        h.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return h


class EcohubMiddleware:
    def __init__(self, app: ASGIApp, *, store: Store, auth: AuthConfig, config: ApiConfig,
                 limiter: RateLimiter):
        self.app, self.store, self.auth, self.config, self.limiter = app, store, auth, config, limiter

    def _max_body(self, path: str) -> int:
        return self.config.max_body_ingest if path.startswith("/api/v1/ingest/") else self.config.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        ip = client_ip(scope)
        headers = _headers(scope)
        state = scope.setdefault("state", {})
        state["ip"] = ip

        # 1. size
        limit = self._max_body(path)
        cl = headers.get("content-length")
        if cl is not None:
            try:
                too_big = int(cl) > limit
            except ValueError:
                await _send_problem(send, 400, "Content-Length is not a number", path)
                return
            if too_big:
                await _send_problem(send, 413, f"request body over {limit} bytes", path)
                if method in UNSAFE:  # a refused write is audited like any other (who tried, if we can tell)
                    who = ANONYMOUS
                    if "authorization" in headers or "x-api-key" in headers:
                        try:
                            who = await run_in_threadpool(self._resolve, headers)
                        except Exception:  # noqa: BLE001 - an invalid credential: recorded as anonymous
                            who = ANONYMOUS
                    await self._audit_write(who, method, path, 413, ip, {"audit": {"detail": {
                        "reason": "content-length over the limit", "content_length": cl[:20], "limit": limit}}})
                return

        # 2. per IP
        if path != "/healthz":
            wait = self.limiter.hit(f"ip:{ip}", self.config.rate_anon_per_min)
            if wait > 0:
                await _send_problem(send, 429, "too many requests from this address", path,
                                    {"Retry-After": str(math.ceil(wait))})
                return

        # 3. who
        principal: Principal = ANONYMOUS
        if "authorization" in headers or "x-api-key" in headers:
            try:
                principal = await run_in_threadpool(self._resolve, headers)
            except AuthError as e:
                if method in UNSAFE:
                    await self._audit_write(ANONYMOUS, method, path, 401, ip, {"audit": {"detail": {
                        "reason": str(e)}}})
                await _send_problem(send, 401, str(e), path, {"WWW-Authenticate": 'Bearer realm="ecohub"'})
                return
        state["principal"] = principal

        # 4. per key / user (on top of the per-IP bucket)
        rk = principal.rate_key
        if rk is not None:
            wait = self.limiter.hit(rk, self.config.rate_auth_per_min)
            if wait > 0:
                await _send_problem(send, 429, "too many requests for this key / user", path,
                                    {"Retry-After": str(math.ceil(wait))})
                return

        received = 0
        rejected = False
        started = False
        https = scope.get("scheme") == "https"

        async def limited_receive() -> Message:
            nonlocal received, rejected, started
            if rejected:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    # answer 413 now; the application sees the client gone and its answer is dropped
                    rejected = True
                    if not started:
                        started = True
                        await _send_problem(send, 413, f"request body over {limit} bytes", path)
                        if method in UNSAFE:
                            await self._audit_write(principal, method, path, 413, ip, state)
                    return {"type": "http.disconnect"}
            return msg

        async def wrapped_send(msg: Message) -> None:
            nonlocal started
            if rejected:
                return
            if msg["type"] == "http.response.start":
                started = True
                hdrs = list(msg.get("headers", []))
                has_cache = any(k.lower() == b"cache-control" for k, _ in hdrs)
                hdrs += _security_headers(path, https=https, has_cache=has_cache)
                msg = {**msg, "headers": hdrs}
                if method in UNSAFE and not state.get("audited"):
                    await self._audit_write(principal, method, path, msg["status"], ip, state)
            await send(msg)

        token = set_current_scope(principal.scope)
        try:
            await self.app(scope, limited_receive, wrapped_send)
        except Exception:
            if rejected:
                return
            raise
        finally:
            reset_current_scope(token)

    def _resolve(self, headers: dict[str, str]) -> Principal:
        # a read (no write lock per request); a key's last_used_at is refreshed apart, at most once a minute
        with self.store.engine.connect() as conn:
            p = resolve_principal(conn, self.auth, headers, touch=False)
        if p.kind == "key" and p.key_prefix:
            try:
                apikeys.touch_key(self.store, p.key_prefix)
            except OperationalError as e:  # bookkeeping only: never refuse the request for it
                log.warning("could not refresh last_used_at of key %s: %s", p.key_prefix, e.orig)
        return p

    async def _audit_write(self, p: Principal, method: str, path: str, status: int, ip: str, state: dict) -> None:
        if status == 429:
            return  # a flood is not worth one row each; the limiter is what answered
        extra = state.get("audit") or {}
        try:
            await run_in_threadpool(audit.record_now, self.store, extra.get("action", "write"), actor=p.actor,
                                    role=p.role if p.authenticated else None, target=extra.get("target"),
                                    method=method, path=path, status=status, ip=ip, detail=extra.get("detail"))
        except Exception:  # noqa: BLE001 - the write happened; losing its audit row must be loud, not fatal
            log.exception("could not write the audit record of %s %s", method, path)
