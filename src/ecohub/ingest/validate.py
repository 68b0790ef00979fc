"""The checks every ingest channel applies to one observation, and the JSON record format of MQTT and HTTP.

One definition for all channels (files, MQTT, HTTP push): a parameter is a canonical name or an HJ 212 code
(the flue-gas variant is chosen for gas outlets); a time is ISO-8601, without offset = Beijing time, and not
more than one day in the future; a value is a finite number, or missing only when a data flag says why; a
flag is 1-4 letters or digits. Every refusal is an :class:`InputError` naming the field and the value.

:class:`RecordValidator` does the checks and turns a row into a series key ``(site id, parameter id,
interval)``; :class:`SeriesBuffer` collects rows whose series do not exist yet, creates those series in
bulk and hands the rows to the one :class:`~ecohub.store.writer.ObservationWriter`.

JSON record (MQTT and HTTP; see ``docs/ingest-channels.md``)::

    {"site": "1029A", "parameter": "pm25", "time": "2024-05-01T13:00:00+08:00", "value": 35.0,
     "flag": "N", "interval": "hour"}

A batch is a JSON array of records or ``{"observations": [...]}``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ecohub.domain.errors import InputError
from ecohub.domain.kinds import Interval, SiteKind
from ecohub.domain.parameters import Parameter, UnknownParameter, for_site_kind
from ecohub.domain.parameters import resolve as resolve_parameter
from ecohub.domain.timeutil import TimeParser
from ecohub.store.db import Store
from ecohub.store.registry import SeriesResolver, parameter_index, site_index
from ecohub.store.schema import site
from ecohub.store.writer import ObservationWriter, WriteCounts

FUTURE_SLACK = timedelta(days=1)
KIND_FOR_DOMAIN = {"air": SiteKind.air_station, "meteo": SiteKind.air_station, "water": SiteKind.water_section,
                   "gas": SiteKind.gas_outlet, "noise": SiteKind.noise_point, "radiation": SiteKind.radiation_point}
JSON_FIELDS = ("site", "parameter", "time", "value", "flag", "interval")
_INTERVALS = ", ".join(i.value for i in Interval)
_NEGATIVE_TTL = 30.0  # seconds an unknown site code is remembered as unknown (then looked up again)

SeriesKey = tuple[int, int, str]  # (site id, parameter id, interval)
UnknownSite = Callable[[str, Parameter], tuple[int, str]]




def parse_interval(text: object, field: str = "interval") -> str:
    if not isinstance(text, str):
        raise InputError(field, text, f"must be a string, one of {_INTERVALS}")
    try:
        return Interval.parse(text).value
    except ValueError:
        raise InputError(field, text, f"must be one of {_INTERVALS}") from None


class RecordValidator:
    """Check the fields of one observation and find its series key.

    ``interval`` is the default interval of the series. Sites are looked up in an index loaded once; a code
    missing from it is looked up again in the database (so a long-running subscriber sees sites registered
    after it started) and, if still unknown, handed to ``on_unknown_site(code, parameter)``, which returns
    ``(site id, kind)`` of a site it created or raises :class:`InputError`. Without it, unknown sites are refused.

    Safe to share between threads (the caches are plain dictionaries; a race only repeats a lookup).
    """

    def __init__(self, store: Store, interval: Interval | str = Interval.rt, *,
                 on_unknown_site: UnknownSite | None = None):
        self.store = store
        self.interval = Interval.parse(str(interval)).value
        self.on_unknown_site = on_unknown_site
        self.times = TimeParser()
        with store.engine.connect() as conn:
            self.sites: dict[str, tuple[int, str]] = site_index(conn)
            self.params: dict[str, int] = parameter_index(conn)
        self._key_cache: dict[tuple[str, str, str], SeriesKey] = {}
        self._param_cache: dict[str, Parameter] = {}
        self._unknown: dict[str, float] = {}
        self._latest_allowed = time.time() + FUTURE_SLACK.total_seconds()
        self._lock = threading.Lock()

    # --- fields ------------------------------------------------------------------------------------------
    def parameter(self, text: str) -> Parameter:
        p = self._param_cache.get(text)
        if p is None:
            try:
                p = resolve_parameter(text)
            except UnknownParameter:
                raise InputError("parameter", text, "unknown parameter (canonical name such as pm25, so2, codmn, "
                                 "or an HJ 212 code such as a34004)") from None
            self._param_cache[text] = p
        return p

    def key(self, site_code: str, param_text: str, interval: str | None = None) -> SeriesKey:
        """(site id, parameter id, interval) of an observation, checked; the series itself is resolved in bulk
        by :class:`SeriesBuffer`."""
        iv = interval or self.interval
        ck = (site_code, param_text, iv)
        hit = self._key_cache.get(ck)
        if hit is not None:
            return hit
        p = self.parameter(param_text)
        entry = self.site(site_code, p)
        site_id, kind = entry
        p = for_site_kind(p, kind)  # the one kind-dependent resolution (domain.parameters)
        pid = self.params.get(p.name)
        if pid is None:
            raise InputError("parameter", param_text, "parameter is not in this database's catalogue "
                             "(run 'ecohub db upgrade')")
        k = self._key_cache[ck] = (site_id, pid, iv)
        return k

    def site(self, code: str, p: Parameter) -> tuple[int, str]:
        entry = self.sites.get(code)
        if entry is not None:
            return entry
        if not code:
            raise InputError("site", code, "empty site code")
        entry = self._lookup_site(code)
        if entry is None:
            if self.on_unknown_site is not None:
                entry = self.on_unknown_site(code, p)
            else:
                raise InputError("site", code, "unknown site (register it first: 'ecohub site add' or "
                                 "'ecohub site import')")
        self.sites[code] = entry
        return entry

    def _lookup_site(self, code: str) -> tuple[int, str] | None:
        now = time.monotonic()
        seen = self._unknown.get(code)
        if seen is not None and now - seen < _NEGATIVE_TTL:
            return None
        if len(code) > 64 or safe_text(code) != code:  # NUL or a lone surrogate: no such site (nor storable)
            return None
        with self.store.engine.connect() as conn:
            r = conn.execute(select(site.c.id, site.c.kind).where(site.c.code == code)).first()
        if r is None:
            with self._lock:
                if len(self._unknown) > 10_000:
                    self._unknown.clear()
                self._unknown[code] = now
            return None
        self._unknown.pop(code, None)
        return int(r.id), r.kind

    def epoch(self, text: str, field: str = "time") -> int:
        """UTC epoch seconds of an ISO-8601 time (no offset = Beijing); refused beyond one day ahead."""
        t = self.times.epoch(text, field)
        if t > self._latest_allowed:  # the bound only grows: refresh it, then check again
            self._latest_allowed = time.time() + FUTURE_SLACK.total_seconds()
            if t > self._latest_allowed:
                raise InputError(field, text, "is more than one day in the future")
        return t

    @staticmethod
    def value(text: str, flag: str | None, field_name: str = "value") -> float | None:
        """A value given as text (files): a finite number, or empty when a flag says why."""
        s = text.strip()
        if not s:
            if flag:
                return None
            raise InputError(field_name, text, "empty value (give a number, or a flag for a missing value)")
        try:
            v = float(s)
        except ValueError:
            raise InputError(field_name, text, "not a number") from None
        if math.isnan(v) or math.isinf(v):
            raise InputError(field_name, text, "not a finite number")
        return v

    @staticmethod
    def number(obj: Any, flag: str | None, field_name: str = "value") -> float | None:
        """A value given as JSON: a finite number, or null when a flag says why."""
        if obj is None:
            if flag:
                return None
            raise InputError(field_name, None, "null value (give a number, or a flag for a missing value)")
        if isinstance(obj, bool) or not isinstance(obj, int | float):
            raise InputError(field_name, obj, "must be a JSON number (or null with a flag)")
        try:
            v = float(obj)
        except OverflowError:
            raise InputError(field_name, obj, "not a finite number") from None
        if math.isnan(v) or math.isinf(v):
            raise InputError(field_name, obj, "not a finite number")
        return v

    @staticmethod
    def flag(text: str | None) -> str | None:
        if text is None:
            return None
        if not isinstance(text, str):
            raise InputError("flag", text, "a data flag is a string of 1-4 letters or digits (HJ 212: N, F, M, "
                             "S, D, C, T, B)")
        s = text.strip()
        if not s:
            return None
        if len(s) > 4 or not s.isalnum():
            raise InputError("flag", text, "a data flag is 1-4 letters or digits (HJ 212: N, F, M, S, D, C, T, B)")
        return s

    # --- JSON records ------------------------------------------------------------------------------------
    def json_record(self, rec: Any, *, site: str | None = None,
                    interval: str | None = None) -> tuple[SeriesKey, int, float | None, str | None]:
        """Check one JSON record; return ``(series key, epoch, value, flag)``.

        ``site`` is the site the transport names (an MQTT topic): the record may then omit ``site``, and
        must agree with it when it names one. ``interval`` is the channel's default interval.
        """
        if not isinstance(rec, dict):
            raise InputError("record", _short(rec), "must be a JSON object with site, parameter, time, value "
                             "[, flag, interval]")
        code = rec.get("site")
        if code is None:
            if site is None:
                raise InputError("site", None, "missing (the site code, e.g. \"1029A\")")
            code = site
        elif not isinstance(code, str):
            raise InputError("site", code, "must be a string (the site code)")
        elif site is not None and code.strip() != site:
            raise InputError("site", code, f"does not match the site of the topic ({site!r})")
        iv = rec.get("interval")
        iv = parse_interval(iv) if iv is not None else interval
        param = rec.get("parameter")
        if not isinstance(param, str):
            raise InputError("parameter", param, "missing or not a string (canonical name such as pm25, or an "
                             "HJ 212 code such as a34004)" if param is None else
                             "must be a string (canonical name such as pm25, or an HJ 212 code such as a34004)")
        t = rec.get("time")
        if not isinstance(t, str):
            raise InputError("time", t, "missing (an ISO-8601 time such as 2024-05-01T13:00:00+08:00)"
                             if t is None else "must be an ISO-8601 string (e.g. 2024-05-01T13:00:00+08:00)")
        flag = self.flag(rec.get("flag"))
        key = self.key(code.strip(), param.strip(), iv)
        epoch = self.epoch(t)
        if "value" not in rec:
            raise InputError("value", None, "missing (a number, or null with a flag)")
        v = self.number(rec["value"], flag)
        return key, epoch, v, flag


def records_of(payload: Any) -> list:
    """The records of a JSON batch: an array, or an object with an ``observations`` array.

    Raises :class:`InputError` (field ``body``) when the shape is wrong.
    """
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        if "observations" in payload:
            obs = payload["observations"]
            if isinstance(obs, list):
                return obs
            raise InputError("observations", _short(obs), "must be a JSON array of records")
        raise InputError("body", _short(payload), "a JSON object must have an \"observations\" array "
                         "(or send a JSON array of records)")
    raise InputError("body", _short(payload), "must be a JSON array of records or {\"observations\": [...]}")


def raw_json(rec: Any) -> str:
    """The text kept in the quarantine for a rejected JSON record (always storable: no NUL, valid UTF-8)."""
    try:
        s = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return safe_text(repr(rec))
    if safe_text(s) != s:  # a lone surrogate ("\ud800" in the JSON): keep it escaped
        s = json.dumps(rec, ensure_ascii=True, separators=(",", ":"))
    return s


def safe_text(s: str) -> str:
    """``s`` as text any database and JSON answer can hold: NUL and lone surrogates written as escapes."""
    if "\x00" in s:
        s = s.replace("\x00", "\\x00")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return s


def json_safe(v: Any) -> Any:
    """A refused value as it can be shown in a JSON response (strict JSON has no NaN; long things are cut)."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v if abs(v) < 2 ** 53 else _short(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, str):
        v = safe_text(v)
        return v if len(v) <= 200 else v[:197] + "..."
    return _short(v)


def _short(v: Any, limit: int = 200) -> str:
    s = raw_json(v)
    return s if len(s) <= limit else s[:limit - 3] + "..."


class SeriesBuffer:
    """Rows on their way to the writer: series that exist go straight through; rows of new series wait here
    until :meth:`drain` creates those series in one transaction (``resolve_many``)."""

    def __init__(self, store: Store, writer: ObservationWriter, resolver: SeriesResolver | None = None):
        self.store = store
        self.writer = writer
        self.series = resolver if resolver is not None else SeriesResolver()
        self._pending: list[tuple[SeriesKey, int, float | None, str | None]] = []

    def add(self, key: SeriesKey, t: int, v: float | None, flag: str | None) -> None:
        sid = self.series.cached(key)
        if sid is not None and not self._pending:
            self.writer.add(sid, t, v, flag)
            return
        self._pending.append((key, t, v, flag))
        if len(self._pending) >= self.writer.batch_size:
            self.drain()

    def drain(self) -> None:
        """Create the series the pending rows need (one transaction), then hand the rows to the writer."""
        if not self._pending:
            return
        with self.store.engine.begin() as conn:
            self.series.resolve_many(conn, {k for k, _, _, _ in self._pending})
        pending, self._pending = self._pending, []
        for key, t, v, flag in pending:
            self.writer.add(self.series.cached(key), t, v, flag)

    def flush(self) -> WriteCounts:
        """Drain and write everything; durable on return."""
        self.drain()
        return self.writer.flush()
