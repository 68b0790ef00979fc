"""Request ids: every request gets one — the caller's ``X-Request-ID`` when it is a sane token (1-128 letters,
digits, ``.``, ``_``, ``-``, ``:``), else a generated one — set for the request's log lines
(:data:`ecohub.logs.request_id`), echoed in the answer's ``X-Request-ID`` and logged once per request on
``ecohub.api.access`` (method, path, status, milliseconds). Pure ASGI (no extra task per request)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from ecohub.logs import request_id

__all__ = ["HEADER", "RequestIdMiddleware"]

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
access = logging.getLogger("ecohub.api.access")


class RequestIdMiddleware:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-request-id"), "")
        rid = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        t0 = time.perf_counter()
        status = [500]

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access.info("%s %s %d %.1f ms", scope.get("method"), scope.get("path"), status[0],
                        (time.perf_counter() - t0) * 1000)
            request_id.reset(token)
