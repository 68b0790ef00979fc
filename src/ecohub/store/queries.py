"""The query layer: sites, series, observations over a time range, latest values, windowed aggregates —
every one of them limited to what the caller may see.

**Scope.** Every query function takes ``scope`` (a :class:`Scope`: role, region, enterprise) and turns it into
a SQL condition on ``site`` itself, so no router can forget it. When ``scope`` is not given the function uses
:func:`current_scope`: the API sets it for every request (anonymous → :data:`PUBLIC` until a token or key
proves more), and it is :data:`SYSTEM` (everything) only outside requests — the command line, the worker,
tests.

| role | sees (sites and their series, observations, latest values, aggregates) |
|---|---|
| ``system`` | everything (local processes: CLI, worker) |
| ``admin``, ``analyst`` | everything in the province |
| ``officer`` | sites in its region (city ``130100`` → every code ``1301xx``; county → itself) + open data |
| ``enterprise`` | its own enterprise's sites + open data |
| ``partner``, ``public`` | open data (partners get more only through granted datasets of the catalogue) |

**Open data** (:func:`open_site_condition`): ambient monitoring — air stations, surface-water sections, noise,
soil and radiation points — is open unless the site's ``attrs.open`` is ``false``. Outlets (``gas_outlet``,
``water_outlet``) are open when ``attrs.open`` is ``true``, or when the enterprise is a key polluting unit
(``attrs.key_unit: true``, whose automatic-monitoring data must be disclosed — 《企业事业单位环境信息公开办法》
art. 8–9, 《重点排污单位名录管理规定》) and ``attrs.open`` is not ``false``. An outlet about which the platform
knows neither is *not* open (fail closed). Micro-stations (IoT, not certified) are open only with
``attrs.open: true``. Only JSON ``true``/``false`` count.

All SQL is built with SQLAlchemy Core (bound parameters only). Windows are Beijing-time calendar periods
(a day runs 00:00–24:00 UTC+8), labelled by their start as ISO-8601 text with ``+08:00``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal_column, or_, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.expression import ColumnElement as _CE
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean

from ecohub.store.db import Store
from ecohub.store.schema import (
    correction,
    enterprise,
    latest,
    observation,
    parameter,
    region,
    series,
    site,
    source,
)

WINDOWS = ("hour", "day", "month", "year")
_SQLITE_FMT = {"hour": "%Y-%m-%dT%H:00:00+08:00", "day": "%Y-%m-%dT00:00:00+08:00",
               "month": "%Y-%m-01T00:00:00+08:00", "year": "%Y-01-01T00:00:00+08:00"}

AMBIENT_KINDS = ("air_station", "water_section", "noise_point", "soil_point", "radiation_point")
OUTLET_KINDS = ("gas_outlet", "water_outlet")
FULL_ROLES = ("system", "admin", "analyst")


# --- scope --------------------------------------------------------------------------------------------------
def region_prefix(code: str | None) -> str | None:
    """The code prefix of a division and everything below it: province ``130000`` → ``13``, city ``130100``
    → ``1301``, county ``130102`` → ``130102``."""
    if not code:
        return None
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


@dataclass(frozen=True)
class Scope:
    """What a caller may see. Built by the API from the signed-in user (or API key); see the module doc."""

    role: str
    region_code: str | None = None  # officer
    enterprise_id: int | None = None  # enterprise
    user_id: int | None = None
    name: str | None = None

    @property
    def full(self) -> bool:
        return self.role in FULL_ROLES

    def site_condition(self) -> ColumnElement | None:
        """SQL condition on ``site`` (None: no restriction)."""
        if self.full:
            return None
        opened = open_site_condition()
        if self.role == "officer" and self.region_code:
            return or_(site.c.region_code.startswith(region_prefix(self.region_code), autoescape=True), opened)
        if self.role == "enterprise" and self.enterprise_id is not None:
            return or_(site.c.enterprise_id == self.enterprise_id, opened)
        return opened

    def apply(self, q: Select) -> Select:
        cond = self.site_condition()
        return q if cond is None else q.where(cond)


SYSTEM = Scope("system", name="system")
PUBLIC = Scope("public")

_current: ContextVar[Scope] = ContextVar("ecohub_scope", default=SYSTEM)


def current_scope() -> Scope:
    """The scope of the code running now: the API request's caller, or SYSTEM outside requests."""
    return _current.get()


def set_current_scope(scope: Scope) -> Token:
    return _current.set(scope)


def reset_current_scope(token: Token) -> None:
    _current.reset(token)


def _scope(scope: Scope | None) -> Scope:
    return scope if scope is not None else _current.get()


class _JsonFlag(_CE):
    """``attrs.<key>`` is the JSON boolean ``value`` (never NULL): portable across SQLite and PostgreSQL.

    Cacheable: ``key`` and ``value`` are part of the cache key (``_traverse_internals``), so SQLAlchemy compiles
    each scope condition once instead of on every query (≈1 ms a query for the open-data rule)."""

    inherit_cache = True
    _traverse_internals = [("col", InternalTraversal.dp_clauseelement), ("key", InternalTraversal.dp_string),
                           ("value", InternalTraversal.dp_boolean)]
    type = Boolean()

    def __init__(self, col, key: str, value: bool):
        self.col, self.key, self.value = col, key, value


@compiles(_JsonFlag, "sqlite")
def _json_flag_sqlite(el, compiler, **kw):
    path = compiler.process(bindparam(None, f"$.{el.key}", unique=True), **kw)
    return f"(json_extract({compiler.process(el.col, **kw)}, {path}) IS {1 if el.value else 0})"


@compiles(_JsonFlag)
def _json_flag_default(el, compiler, **kw):  # PostgreSQL (json ->> key gives 'true' / 'false')
    key = compiler.process(bindparam(None, el.key, unique=True), **kw)
    val = compiler.process(bindparam(None, "true" if el.value else "false", unique=True), **kw)
    return f"(coalesce(({compiler.process(el.col, **kw)} ->> {key}) = {val}, false))"


def open_site_condition() -> ColumnElement:
    """SQL condition on ``site``: the site's data are open to the public (see the module doc)."""
    is_true = lambda k: _JsonFlag(site.c.attrs, k, True)  # noqa: E731
    is_false = lambda k: _JsonFlag(site.c.attrs, k, False)  # noqa: E731
    return or_(
        and_(site.c.kind.in_(AMBIENT_KINDS), ~is_false("open")),
        and_(site.c.kind.in_(OUTLET_KINDS), or_(is_true("open"), and_(is_true("key_unit"), ~is_false("open")))),
        and_(site.c.kind.notin_(AMBIENT_KINDS + OUTLET_KINDS), is_true("open")),
    )


def is_open_site(kind: str, attrs: dict | None) -> bool:
    """The same rule in Python (for one site already loaded)."""
    a = attrs or {}
    if kind in AMBIENT_KINDS:
        return a.get("open") is not False
    if kind in OUTLET_KINDS:
        return a.get("open") is True or (a.get("key_unit") is True and a.get("open") is not False)
    return a.get("open") is True


# --- filters ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeriesFilter:
    sites: Sequence[str] = ()
    parameters: Sequence[str] = ()
    interval: str | None = None
    kinds: Sequence[str] = ()
    region_prefix: str | None = None  # e.g. "1301" = 石家庄市 and its counties

    def apply(self, q: Select) -> Select:
        if self.sites:
            q = q.where(site.c.code.in_(list(self.sites)))
        if self.parameters:
            q = q.where(parameter.c.name.in_(list(self.parameters)))
        if self.interval:
            q = q.where(series.c.interval == self.interval)
        if self.kinds:
            q = q.where(site.c.kind.in_(list(self.kinds)))
        if self.region_prefix:
            q = q.where(site.c.region_code.startswith(self.region_prefix, autoescape=True))
        return q


def _joined(*cols) -> Select:
    return select(*cols).select_from(
        series.join(site, site.c.id == series.c.site_id).join(parameter, parameter.c.id == series.c.parameter_id))


def _after(cols: Sequence, values: Sequence) -> ColumnElement:
    """Keyset condition ``(cols) > (values)`` with typed bound parameters (row-value comparison)."""
    return tuple_(*cols) > tuple_(*[bindparam(None, v, type_=c.type, unique=True) for c, v in zip(cols, values,
                                                                                                    strict=True)])


def _by_series(store: Store) -> list[ColumnElement]:
    """SQLite: a time range over every series is read series by series through the (series_id, time) key —
    ``series_id IN (all series)`` makes its planner loop over the series; without it a range over all series
    scans the whole observation table (150-250 ms on a month of the demo province, 3-15 ms with it). The
    PostgreSQL planner chooses well by itself."""
    return [] if store.is_postgres else [observation.c.series_id.in_(select(series.c.id))]


# --- observations -------------------------------------------------------------------------------------------
OBS_KEY = ("site", "parameter", "interval", "time", "source_id")


def observations(store: Store, flt: SeriesFilter, start: datetime | None = None, end: datetime | None = None,
                 limit: int | None = None, batch: int = 10_000, *, corrected: bool = False,
                 as_of: datetime | None = None, scope: Scope | None = None,
                 after: Sequence | None = None, received_after: datetime | None = None,
                 offset: int = 0) -> Iterator[dict]:
    """Observations ordered by site, parameter, interval, time, source. ``start`` inclusive, ``end`` exclusive.

    Raw values as stored by default. ``corrected=True`` gives the newest correction's value and flag where
    there is one (with ``raw_value`` and ``corrected`` columns). ``as_of`` shows the data as they were at that
    moment: observations received and corrections made after it are left out. ``after``: the
    :data:`OBS_KEY` of the last row already seen (keyset paging); rows carry ``source_id`` for that.
    ``received_after`` (with ``as_of``): only what was received in that window — a delta (partner push);
    ``offset``: skip that many rows of the order (pages of a fixed, append-only window).
    """
    value: ColumnElement[Any] = observation.c.value
    flag: ColumnElement[Any] = observation.c.flag
    frm = (observation.join(series, series.c.id == observation.c.series_id)
           .join(site, site.c.id == series.c.site_id)
           .join(parameter, parameter.c.id == series.c.parameter_id)
           .join(source, source.c.id == observation.c.source_id))
    extra = []
    if corrected:
        c2 = correction.alias("c2")
        newest = select(func.max(c2.c.id)).where(
            c2.c.series_id == observation.c.series_id, c2.c.time == observation.c.time,
            c2.c.source_id == observation.c.source_id)
        if as_of is not None:
            newest = newest.where(c2.c.created_at <= as_of)
        frm = frm.outerjoin(correction, correction.c.id == newest.scalar_subquery())
        value = case((correction.c.id.is_not(None), correction.c.value), else_=observation.c.value)
        flag = case((correction.c.id.is_not(None), correction.c.flag), else_=observation.c.flag)
        extra = [observation.c.value.label("raw_value"), correction.c.id.is_not(None).label("corrected")]
    q = (
        select(site.c.code.label("site"), parameter.c.name.label("parameter"), series.c.interval,
               observation.c.time, value.label("value"), flag.label("flag"), source.c.name.label("source"),
               observation.c.source_id, *extra)
        .select_from(frm)
        .order_by(site.c.code, parameter.c.name, series.c.interval, observation.c.time, observation.c.source_id)
    )
    q = _scope(scope).apply(flt.apply(q))
    if as_of is not None:
        q = q.where(observation.c.received_at <= as_of)
    if received_after is not None:
        q = q.where(observation.c.received_at > received_after)
    if start is not None:
        q = q.where(observation.c.time >= start, *_by_series(store))
    if end is not None:
        q = q.where(observation.c.time < end)
    if after is not None:
        q = q.where(_after([site.c.code, parameter.c.name, series.c.interval, observation.c.time,
                            observation.c.source_id], after))
    if offset:
        q = q.offset(offset)
    if limit is not None:
        q = q.limit(limit)
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(q)
        keys = list(result.keys())
        for row in result:
            yield dict(zip(keys, row, strict=True))


def latest_values(store: Store, flt: SeriesFilter = SeriesFilter(), *, scope: Scope | None = None,
                  limit: int | None = None) -> list[dict]:
    """The newest observation of every series matching the filter, in one query (served from ``latest``)."""
    q = (
        select(site.c.code.label("site"), site.c.name.label("site_name"), site.c.kind, site.c.region_code,
               site.c.lon, site.c.lat, parameter.c.name.label("parameter"), parameter.c.unit, series.c.interval,
               latest.c.time, latest.c.value, latest.c.flag)
        .select_from(
            latest.join(series, series.c.id == latest.c.series_id)
            .join(site, site.c.id == series.c.site_id)
            .join(parameter, parameter.c.id == series.c.parameter_id))
        .order_by(site.c.code, parameter.c.name, series.c.interval)
    )
    q = _scope(scope).apply(flt.apply(q))
    if limit is not None:
        q = q.limit(limit)
    with store.engine.connect() as conn:
        return _dicts(conn.execute(q))


def _dicts(result) -> list[dict]:
    keys = [str(k) for k in result.keys()]  # plain str: C serialisers refuse str subclasses as keys
    return [dict(zip(keys, row, strict=True)) for row in result.all()]  # one fetchall, not a fetchone per row


def window_label(store: Store, window: str) -> ColumnElement:
    if window not in WINDOWS:
        raise ValueError(f"window: {window!r} is not one of {', '.join(WINDOWS)}")
    if store.is_postgres:
        trunc = func.date_trunc(window, func.timezone("Asia/Shanghai", observation.c.time))
        return func.to_char(trunc, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"'"))
    return func.strftime(_SQLITE_FMT[window], observation.c.time + 28800, "unixepoch")


_WINDOW_SECONDS = {"hour": 3600, "day": 86400, "month": 31 * 86400, "year": 366 * 86400}
MAX_CHUNK = 500


def aggregate(store: Store, flt: SeriesFilter, window: str, start: datetime | None = None,
              end: datetime | None = None, *, scope: Scope | None = None, limit: int | None = None) -> list[dict]:
    """Count, mean, min and max per series and Beijing-time window (hour, day, month, year), ordered by site,
    parameter, interval, window.

    This is a plain arithmetic rollup of stored values; regulatory statistics (GB 3095 validity rules,
    HJ 663 percentiles) are computed by ``ecohub.standards`` on top of it.

    With ``limit`` the series are rolled up a few at a time in that order — as many as the windows of the
    range suggest will fill the limit, then more — instead of rolling up every series and keeping the first
    rows: an hourly rollup of a day over the whole province reads 1/10 of the observations it used to.

    ``window="day"`` reads the whole settled days from the worker's daily rollup (:mod:`ecohub.store.series_daily`)
    and rolls up only the partial days at the edges and the days with newer arrivals — the same rows.
    """
    label = window_label(store, window).label("window")
    rollup = (
        select(site.c.code.label("site"), parameter.c.name.label("parameter"), series.c.interval, label,
               func.count(observation.c.value).label("count"), func.avg(observation.c.value).label("mean"),
               func.min(observation.c.value).label("min"), func.max(observation.c.value).label("max"))
        .select_from(
            observation.join(series, series.c.id == observation.c.series_id)
            .join(site, site.c.id == series.c.site_id)
            .join(parameter, parameter.c.id == series.c.parameter_id))
        .group_by(site.c.code, parameter.c.name, series.c.interval, label)
        .order_by(site.c.code, parameter.c.name, series.c.interval, label)
    )
    conds = []
    if start is not None:
        conds.append(observation.c.time >= start)
    if end is not None:
        conds.append(observation.c.time < end)
    by_time = rollup.where(and_(*conds)) if conds else rollup  # for chunks of series ids (filtered and scoped)
    q = _scope(scope).apply(flt.apply(by_time))
    with store.engine.connect() as conn:
        daily = None
        if window == "day":  # the worker's daily rollup (late import: series_daily builds on this module)
            from ecohub.store import series_daily

            daily = series_daily.reader(conn, start, end)
        if limit is None and daily is None:
            if start is not None:
                q = q.where(*_by_series(store))
            return [dict(r) for r in conn.execute(q).mappings()]
        # the series in the answer's order (site, parameter, interval is unique per series): chunks of them
        # give consecutive runs of the answer
        found = conn.execute(_scope(scope).apply(flt.apply(
            _joined(series.c.id, site.c.code, parameter.c.name, series.c.interval)))
            .order_by(site.c.code, parameter.c.name, series.c.interval)).all()
        per = None
        if start is not None and end is not None:
            per = max(1, math.ceil((end - start).total_seconds() / _WINDOW_SECONDS[window]) + 1)
        n = MAX_CHUNK if limit is None else math.ceil(limit / per) if per else 8
        out: list[dict] = []
        i = 0
        while i < len(found) and (limit is None or len(out) < limit):
            chunk = found[i:i + min(n, MAX_CHUNK)]
            i += len(chunk)
            rest = None if limit is None else limit - len(out)
            if daily is not None:  # whole settled days from the table, the rest rolled up
                rows = daily.rows(conn, rollup, chunk, rest)
            else:
                rows = _dicts(conn.execute(by_time.where(observation.c.series_id.in_([c[0] for c in chunk]))
                                           .limit(rest)))
            out += rows
            if rest is not None:  # the next chunk: as many series as the rows per series so far say fill it
                n = 2 * n if not rows else math.ceil((rest - len(rows)) * len(chunk) / len(rows)) + 1
        return out


# --- sites, series, registers -------------------------------------------------------------------------------
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _site_cols():
    return (site.c.code, site.c.kind, site.c.name, site.c.lon, site.c.lat, site.c.region_code,
            region.c.name.label("region_name"), enterprise.c.uscc.label("enterprise"), site.c.attrs,
            site.c.water_body)


def _site_from():
    return (site.outerjoin(region, region.c.code == site.c.region_code)
            .outerjoin(enterprise, enterprise.c.id == site.c.enterprise_id))


def sites(store: Store, *, kinds: Sequence[str] = (), region: str | None = None,
          bbox: tuple[float, float, float, float] | None = None,
          near: tuple[float, float, float] | None = None, codes: Sequence[str] = (),
          limit: int | None = None, after: str | None = None, scope: Scope | None = None) -> list[dict]:
    """Sites the scope may see, by code (keyset ``after`` = last code seen). ``region``: a division code
    (its subtree); ``bbox``: (min lon, min lat, max lon, max lat); ``near``: (lon, lat, radius km) — rows then
    carry ``distance_km`` and are ordered by it (no keyset paging: ``limit`` caps them)."""
    sc = _scope(scope)
    q = select(*_site_cols()).select_from(_site_from()).order_by(site.c.code)
    q = sc.apply(q)
    if kinds:
        q = q.where(site.c.kind.in_(list(kinds)))
    if codes:
        q = q.where(site.c.code.in_(list(codes)))
    if region:
        q = q.where(site.c.region_code.startswith(region_prefix(region), autoescape=True))
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        q = q.where(site.c.lon.between(x0, x1), site.c.lat.between(y0, y1))
    if near is not None:
        lon, lat, radius = near
        dlat = radius / 111.0
        dlon = radius / max(1e-6, 111.320 * math.cos(math.radians(min(89.9, abs(lat)))))
        q = q.where(site.c.lat.between(lat - dlat, lat + dlat), site.c.lon.between(lon - dlon, lon + dlon))
    elif after is not None:
        q = q.where(site.c.code > after)
    if limit is not None and near is None:
        q = q.limit(limit)
    with store.engine.connect() as conn:
        rows = [_public_site(dict(r), sc) for r in conn.execute(q).mappings()]
    if near is not None:
        lon, lat, radius = near
        for r in rows:
            r["distance_km"] = round(haversine_km(lon, lat, r["lon"], r["lat"]), 3)
        rows = sorted((r for r in rows if r["distance_km"] <= radius), key=lambda r: (r["distance_km"], r["code"]))
        if limit is not None:
            rows = rows[:limit]
    return rows


def _public_site(r: dict, sc: Scope) -> dict:
    attrs = r.pop("attrs") or {}
    r["open"] = is_open_site(r["kind"], attrs)
    r["attrs"] = attrs if sc.full or not r["open"] or sc.role in ("officer", "enterprise") else {
        k: v for k, v in attrs.items() if k in PUBLIC_ATTRS}
    return r


PUBLIC_ATTRS = ("city", "network", "basin", "waterbody", "official_class", "position_approximate", "key_unit",
                "open", "demo")


def site_detail(store: Store, code: str, *, scope: Scope | None = None) -> dict | None:
    """One site with its series (parameter, interval, unit, latest time), or None when the scope may not
    see it (the caller answers 404: existence is not disclosed)."""
    rows = sites(store, codes=[code], scope=scope)
    if not rows:
        return None
    s = rows[0]
    q = (select(parameter.c.name.label("parameter"), series.c.interval, parameter.c.unit,
                latest.c.time.label("latest_time"), latest.c.value.label("latest_value"))
         .select_from(series.join(site, site.c.id == series.c.site_id)
                      .join(parameter, parameter.c.id == series.c.parameter_id)
                      .outerjoin(latest, latest.c.series_id == series.c.id))
         .where(site.c.code == code).order_by(parameter.c.name, series.c.interval))
    with store.engine.connect() as conn:
        s["series"] = [dict(r) for r in conn.execute(q).mappings()]
    return s


def series_list(store: Store, flt: SeriesFilter = SeriesFilter(), *, scope: Scope | None = None,
                limit: int | None = None, after: Sequence | None = None) -> list[dict]:
    """Series (site × parameter × interval) the scope may see, with their latest time; keyset by
    (site, parameter, interval)."""
    q = (select(site.c.code.label("site"), site.c.kind, site.c.region_code, parameter.c.name.label("parameter"),
                parameter.c.unit, series.c.interval, latest.c.time.label("latest_time"))
         .select_from(series.join(site, site.c.id == series.c.site_id)
                      .join(parameter, parameter.c.id == series.c.parameter_id)
                      .outerjoin(latest, latest.c.series_id == series.c.id))
         .order_by(site.c.code, parameter.c.name, series.c.interval))
    q = _scope(scope).apply(flt.apply(q))
    if after is not None:
        q = q.where(_after([site.c.code, parameter.c.name, series.c.interval], after))
    if limit is not None:
        q = q.limit(limit)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def regions(store: Store, *, level: int | None = None, parent: str | None = None, under: str | None = None,
            limit: int | None = None, after: str | None = None) -> list[dict]:
    """Administrative divisions (public reference data)."""
    q = select(region.c.code, region.c.name, region.c.level, region.c.parent, region.c.lon,
               region.c.lat).order_by(region.c.code)
    if level is not None:
        q = q.where(region.c.level == level)
    if parent is not None:
        q = q.where(region.c.parent == parent)
    if under is not None:
        q = q.where(region.c.code.startswith(region_prefix(under), autoescape=True))
    if after is not None:
        q = q.where(region.c.code > after)
    if limit is not None:
        q = q.limit(limit)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def parameters(store: Store) -> list[dict]:
    q = select(parameter.c.name, parameter.c.name_zh, parameter.c.name_en, parameter.c.unit, parameter.c.domain,
               parameter.c.hj212_2017, parameter.c.hj212_2005, parameter.c.decimals).order_by(parameter.c.id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def enterprises(store: Store, *, region: str | None = None, limit: int | None = None,
                after: str | None = None, scope: Scope | None = None) -> list[dict]:
    """Enterprises, public fields only (unified social credit code, name, region — business-registration data,
    public by law) plus how many of their sites the scope may see."""
    sc = _scope(scope)
    n_sites = select(func.count()).select_from(site).where(site.c.enterprise_id == enterprise.c.id)
    cond = sc.site_condition()
    if cond is not None:
        n_sites = n_sites.where(cond)
    q = (select(enterprise.c.uscc, enterprise.c.name, enterprise.c.region_code,
                n_sites.scalar_subquery().label("sites"))
         .order_by(enterprise.c.uscc))
    if region:
        q = q.where(enterprise.c.region_code.startswith(region_prefix(region), autoescape=True))
    if after is not None:
        q = q.where(enterprise.c.uscc > after)
    if limit is not None:
        q = q.limit(limit)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def enterprise_id(store: Store, uscc: str) -> int | None:
    with store.engine.connect() as conn:
        return conn.scalar(select(enterprise.c.id).where(enterprise.c.uscc == uscc))


def visible_site_ids(conn, scope: Scope, site_ids: Sequence[int]) -> set[int]:
    """Which of these site ids the scope may see (for tables that reference sites, e.g. alerts)."""
    if not site_ids:
        return set()
    q = select(site.c.id).where(site.c.id.in_(list(site_ids)))
    return set(conn.scalars(scope.apply(q)))


# --- freshness (maps, cockpit, caches) ----------------------------------------------------------------------
def newest_received_by_site(store: Store, scope: Scope, kinds: Sequence[str]) -> dict[str, datetime]:
    """Per visible site of these kinds: when its newest value arrived (from ``latest``)."""
    q = (select(site.c.code, func.max(latest.c.received_at))
         .select_from(latest.join(series, series.c.id == latest.c.series_id).join(site, site.c.id == series.c.site_id))
         .where(site.c.kind.in_(list(kinds))).group_by(site.c.code))
    with store.engine.connect() as conn:
        return dict(conn.execute(_scope(scope).apply(q)).all())


def newest_time(store: Store, scope: Scope, *, kind: str, interval: str, codes: Sequence[str] = ()) -> datetime | None:
    """The newest data time of the visible series of this site kind and interval (``codes``: these sites)."""
    q = (select(func.max(latest.c.time))
         .select_from(latest.join(series, series.c.id == latest.c.series_id).join(site, site.c.id == series.c.site_id))
         .where(site.c.kind == kind, series.c.interval == interval))
    if codes:
        q = q.where(site.c.code.in_(list(codes)))
    with store.engine.connect() as conn:
        return conn.scalar(_scope(scope).apply(q))


def data_version(store: Store) -> datetime | None:
    """When the newest value arrived (any series): a cheap validator for caches of derived figures."""
    with store.engine.connect() as conn:
        return conn.scalar(select(func.max(latest.c.received_at)))


def devices_last_seen(store: Store, scope: Scope) -> list[dict]:
    """Every HJ 212 device of a visible site: MN, site code, when its site's newest value arrived (None: never)."""
    from ecohub.store.schema import device

    last = (select(series.c.site_id.label("site_id"), func.max(latest.c.received_at).label("last"))
            .select_from(latest.join(series, series.c.id == latest.c.series_id)).group_by(series.c.site_id)
            .subquery())
    q = (select(device.c.mn, site.c.code.label("site"), last.c.last)
         .select_from(device.join(site, site.c.id == device.c.site_id).outerjoin(last, last.c.site_id == site.c.id)))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(_scope(scope).apply(q)).mappings()]


def enterprise_names(store: Store) -> dict[int, str]:
    """Enterprise id → registered name (public business-registration data)."""
    with store.engine.connect() as conn:
        return dict(conn.execute(select(enterprise.c.id, enterprise.c.name)).all())


def site_kind_counts(store: Store, scope: Scope | None = None) -> dict[str, int]:
    """How many visible sites of each kind."""
    with store.engine.connect() as conn:
        return dict(conn.execute(_scope(scope).apply(select(site.c.kind, func.count()).group_by(site.c.kind))).all())


def region_names(store: Store, codes) -> dict[str, str]:
    """Division code → name for these codes (public reference data)."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    with store.engine.connect() as conn:
        return dict(conn.execute(select(region.c.code, region.c.name).where(region.c.code.in_(codes))).all())


__all__ = ["SeriesFilter", "Scope", "SYSTEM", "PUBLIC", "observations", "latest_values", "aggregate", "sites",
           "site_detail", "series_list", "regions", "parameters", "enterprises", "current_scope",
           "set_current_scope", "reset_current_scope", "open_site_condition", "is_open_site", "region_prefix",
           "window_label", "WINDOWS", "newest_received_by_site", "newest_time", "data_version", "devices_last_seen",
           "enterprise_names", "site_kind_counts", "region_names"]
