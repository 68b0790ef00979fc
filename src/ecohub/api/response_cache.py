"""Server-side response cache of the hot read endpoints, valid while the data are unchanged.

An answer is kept under the key *(path, query, caller's scope)* together with the :class:`~ecohub.store.version.
DataVersion` read **before** it was computed, and is served again — the same bytes, ETag and headers, no query,
no serialisation, no response-model validation — only while the data version is still that one: any commit
to the database (an observation written by the gateway or the worker, a site's attributes changed, a user
disabled …) makes every entry stale at once. Entries are also dropped after ``ttl`` seconds
(``ECOHUB_PUBLIC_CACHE_SECONDS``), which bounds how long an answer that depends on the clock (a default period
ending "yesterday") can outlive a change of date without any write.

* **Key.** The path, the query items sorted by name (the values of one name keep their order), and the
  caller's scope as the query layer sees it — role, region, enterprise — plus whether the caller is signed
  in (the ``Cache-Control`` differs). Two callers share an answer only when the query layer would give both
  the same rows; an officer of 石家庄 never gets the answer of an officer of 唐山, of an enterprise, or of an
  anonymous caller.
* **What is cached.** Only 200 JSON answers of routes that pass ``cache=True`` to
  :func:`ecohub.api.http.json_response` — routes whose answer depends on nothing but path, query, scope and
  the data. The first answer of a path registers it; requests to other paths never pay a version check.
* **Hits** are answered here, inside :class:`~ecohub.api.security.EcohubMiddleware` (which has already
  authenticated the caller, applied the rate limits and adds the security headers), with ``X-Cache: hit``;
  ``If-None-Match`` → 304 as for a computed answer.
* **One computation per key and version.** After a commit every key misses once. Requests that miss while
  another request of the same key and data version is being computed wait for it (at most ``wait_seconds``)
  and are then answered from the cache, instead of all computing the same answer at once: under continuous
  ingest the concurrent misses after each commit made the p99 of ``latest`` (``bench/bench_reads.py``,
  ingest 10 commits/s).
* **Bounds.** ``max_entries`` answers and ``max_bytes`` of bodies, least recently stored dropped first.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from ecohub.store.version import DataVersion

STATE_KEY = "response_cache"  # request.state[...] = (key, version) of a cacheable request


def scope_key(principal) -> tuple:
    s = principal.scope
    return (s.role, s.region_code, s.enterprise_id, bool(principal.authenticated))


def request_key(path: str, query_string: bytes, principal, gzip: bool = False) -> tuple:
    """``gzip``: the caller accepts a gzip body and the path answers by encoding (kept apart)."""
    items = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    items.sort(key=lambda kv: kv[0])  # stable: the values of one name keep their order
    return (path, tuple(items), scope_key(principal), gzip)


def accepts_gzip(headers) -> bool:
    return any(k == b"accept-encoding" and b"gzip" in v for k, v in headers)


class ResponseCache:
    def __init__(self, version: DataVersion, ttl: float, *, max_entries: int = 512,
                 max_bytes: int = 64 * 1024 * 1024, clock=time.monotonic):
        self.version, self.ttl, self.clock = version, ttl, clock
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.enabled = ttl > 0 and version.usable
        self.paths: set[str] = set()
        self.by_encoding: set[str] = set()  # paths whose answer is gzip-compressed for callers who accept it
        self._d: OrderedDict[tuple, tuple[str, float, bytes, list[tuple[bytes, bytes]], str, Any]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        self.waited = 0  # misses answered by another request's computation (ResponseCacheMiddleware)

    def get(self, key: tuple, version: str) -> tuple[bytes, list[tuple[bytes, bytes]], str, Any] | None:
        with self._lock:
            e = self._d.get(key)
            if e is None or e[0] != version or e[1] < self.clock():
                self.misses += 1
                return None
            self.hits += 1
            return e[2], e[3], e[4], e[5]

    def put(self, key: tuple, version: str | None, body: bytes, headers: dict[str, str], etag: str,
            route: Any = None, *, by_encoding: bool = False) -> None:
        """Keep an answer computed after ``version`` was read (``None``: a path seen for the first time; it
        is registered, nothing kept). ``route``: the matched route, given back with a hit (metrics label).
        ``by_encoding``: the body is gzip-compressed or not by the caller's ``Accept-Encoding`` (the key then
        tells them apart; ``headers`` carry the ``Content-Encoding``)."""
        if not self.enabled:
            return
        with self._lock:
            if by_encoding and key[0] not in self.by_encoding:
                self.by_encoding.add(key[0])
                self.paths.add(key[0])
                return  # this key was made before the path was known to vary: keep from the next request on
            self.paths.add(key[0])
            if version is None or len(body) > self.max_bytes // 8:
                return
            hdrs = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            old = self._d.pop(key, None)
            if old is not None:
                self._bytes -= len(old[2])
            self._d[key] = (version, self.clock() + self.ttl, body, hdrs, etag, route)
            self._bytes += len(body)
            while self._d and (len(self._d) > self.max_entries or self._bytes > self.max_bytes):
                _, dropped = self._d.popitem(last=False)
                self._bytes -= len(dropped[2])

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self._bytes = 0


class ResponseCacheMiddleware:
    """Serves cached answers (see the module doc); must run inside ``EcohubMiddleware`` (it reads the caller
    that middleware put in the request state)."""

    def __init__(self, app: ASGIApp, *, cache: ResponseCache,
                 observe: Callable[[str, Any, int, float], None] | None = None, wait_seconds: float = 10.0):
        self.app, self.cache, self.observe = app, cache, observe  # observe(method, route, status, seconds)
        self.wait_seconds = wait_seconds
        # (event loop, key, version) -> set when the request computing that answer has finished
        self._inflight: dict[tuple, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        c = self.cache
        if scope["type"] != "http" or scope.get("method") != "GET" or not c.enabled:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        state = scope.setdefault("state", {})
        principal = state.get("principal")
        if principal is None:
            await self.app(scope, receive, send)
            return
        key = request_key(path, scope.get("query_string", b""), principal,
                          path in c.by_encoding and accepts_gzip(scope.get("headers", [])))
        if path not in c.paths:
            state[STATE_KEY] = (key, None)  # the route registers the path when it answers cache=True
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        version = c.version.current() if c.version.cheap else await run_in_threadpool(c.version.current)
        state[STATE_KEY] = (key, version)
        hit = c.get(key, version) if version is not None else None
        if hit is None and version is not None:
            hit = await self._compute_once(scope, receive, send, key, version)
            if hit is None:
                return  # this request computed (and answered) it
        if hit is None:
            await self.app(scope, receive, send)
            return
        body, headers, etag, route = hit
        inm = next((v for k, v in scope.get("headers", []) if k == b"if-none-match"), None)
        if inm is not None and etag in [t.strip() for t in inm.decode("latin-1").split(",")]:
            status = 304
            await send({"type": "http.response.start", "status": 304,
                        "headers": [h for h in headers if h[0] != b"content-encoding"]})
            await send({"type": "http.response.body", "body": b""})
        else:
            status = 200
            await send({"type": "http.response.start", "status": 200, "headers": [
                *headers, (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                (b"x-cache", b"hit")]})
            await send({"type": "http.response.body", "body": body})
        if self.observe is not None:
            self.observe("GET", route, status, time.perf_counter() - t0)

    async def _compute_once(self, scope: Scope, receive: Receive, send: Send, key: tuple, version: str):
        """Compute the answer of ``key`` at ``version`` here (return None: answered), or, when another request
        is computing it, wait for that one and return its cached answer (or None after computing it here
        when it did not leave one: an error, an uncacheable answer, a timeout)."""
        slot = (asyncio.get_running_loop(), key, version)  # an Event belongs to one event loop
        ev = self._inflight.get(slot)
        if ev is not None:
            try:
                await asyncio.wait_for(ev.wait(), self.wait_seconds)
            except TimeoutError:
                pass
            hit = self.cache.get(key, version)
            if hit is not None:
                self.cache.waited += 1
                return hit
        else:
            ev = self._inflight[slot] = asyncio.Event()
        try:
            await self.app(scope, receive, send)
        finally:
            if self._inflight.get(slot) is ev:
                del self._inflight[slot]
                ev.set()
        return None
