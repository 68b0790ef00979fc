"""Logging of the long-running processes: text (default) or JSON lines (``--log-format json`` on the command
line, or ``ECOHUB_LOG_FORMAT=json`` read by :mod:`ecohub.config`).

A JSON line is one object: ``ts`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``msg``, and when the
record was emitted while serving one: ``request_id`` (the API: the caller's ``X-Request-ID`` or a generated one,
echoed in the answer) and ``connection_id`` (the HJ 212 gateway: one per TCP connection); ``exc`` with the
traceback of an exception. The ids are context variables, so they follow a request or a connection's task and
the threads it hands work to (Starlette's thread pool copies the context)."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

__all__ = ["FORMATS", "JsonFormatter", "connection_id", "log_format", "request_id", "set_format", "setup"]

FORMATS = ("text", "json")
request_id: ContextVar[str | None] = ContextVar("ecohub_request_id", default=None)
connection_id: ContextVar[str | None] = ContextVar("ecohub_connection_id", default=None)
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(ids)s"
_override: str | None = None  # the command line's --log-format, over the configuration


def set_format(fmt: str | None) -> None:
    """The command line's choice (``--log-format``); ``None`` leaves it to the configuration."""
    global _override
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: use one of {', '.join(FORMATS)}")
    _override = fmt


def log_format() -> str:
    if _override is not None:
        return _override
    from ecohub.config import settings

    return settings().log_format


class _Ids(logging.Filter):
    """Attach the request and connection ids of the emitting context to the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.connection_id = connection_id.get()
        ids = [f"{k}={v}" for k, v in (("request", record.request_id), ("conn", record.connection_id)) if v]
        record.ids = f" [{' '.join(ids)}]" if ids else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        rid = getattr(record, "request_id", None)
        if rid:
            out["request_id"] = rid
        cid = getattr(record, "connection_id", None)
        if cid:
            out["connection_id"] = cid
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup(level: str | int = "info", fmt: str | None = None, stream: IO[str] | None = None) -> logging.Handler:
    """Install one handler on the root logger (replacing the one a previous call installed) in ``fmt`` (default:
    :func:`log_format`); returns it."""
    fmt = fmt or log_format()
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: use one of {', '.join(FORMATS)}")
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_ecohub", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._ecohub = True  # type: ignore[attr-defined]
    handler.addFilter(_Ids())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT))
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else getattr(logging, str(level).upper(), logging.INFO))
    return handler
