"""The query layer: observations over a time range, latest values, windowed aggregates.

All SQL is built with SQLAlchemy Core (bound parameters only). Windows are Beijing-time calendar periods
(a day runs 00:00–24:00 UTC+8), labelled by their start as ISO-8601 text with ``+08:00``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, literal_column, select
from sqlalchemy.sql import ColumnElement, Select

from ecohub.store.db import Store
from ecohub.store.schema import correction, latest, observation, parameter, series, site, source

WINDOWS = ("hour", "day", "month", "year")
_SQLITE_FMT = {"hour": "%Y-%m-%dT%H:00:00+08:00", "day": "%Y-%m-%dT00:00:00+08:00",
               "month": "%Y-%m-01T00:00:00+08:00", "year": "%Y-01-01T00:00:00+08:00"}


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


def observations(store: Store, flt: SeriesFilter, start: datetime | None = None, end: datetime | None = None,
                 limit: int | None = None, batch: int = 10_000, *, corrected: bool = False,
                 as_of: datetime | None = None) -> Iterator[dict]:
    """Observations ordered by site, parameter, time. ``start`` inclusive, ``end`` exclusive.

    Raw values as stored by default. ``corrected=True`` gives the newest correction's value and flag where
    there is one (with ``raw_value`` and ``corrected`` columns). ``as_of`` shows the data as they were at that
    moment: observations received and corrections made after it are left out.
    """
    value, flag = observation.c.value, observation.c.flag
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
               observation.c.time, value.label("value"), flag.label("flag"), source.c.name.label("source"), *extra)
        .select_from(frm)
        .order_by(site.c.code, parameter.c.name, series.c.interval, observation.c.time, observation.c.source_id)
    )
    q = flt.apply(q)
    if as_of is not None:
        q = q.where(observation.c.received_at <= as_of)
    if start is not None:
        q = q.where(observation.c.time >= start)
    if end is not None:
        q = q.where(observation.c.time < end)
    if limit is not None:
        q = q.limit(limit)
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(q)
        for row in result.mappings():
            yield dict(row)


def latest_values(store: Store, flt: SeriesFilter = SeriesFilter()) -> list[dict]:
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
    q = flt.apply(q)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def window_label(store: Store, window: str) -> ColumnElement:
    if window not in WINDOWS:
        raise ValueError(f"window: {window!r} is not one of {', '.join(WINDOWS)}")
    if store.is_postgres:
        trunc = func.date_trunc(window, func.timezone("Asia/Shanghai", observation.c.time))
        return func.to_char(trunc, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"'"))
    return func.strftime(_SQLITE_FMT[window], observation.c.time + 28800, "unixepoch")


def aggregate(store: Store, flt: SeriesFilter, window: str, start: datetime | None = None,
              end: datetime | None = None) -> list[dict]:
    """Count, mean, min and max per series and Beijing-time window (hour, day, month, year).

    This is a plain arithmetic rollup of stored values; regulatory statistics (GB 3095 validity rules,
    HJ 663 percentiles) are computed by ``ecohub.standards`` on top of it.
    """
    label = window_label(store, window).label("window")
    q = (
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
    q = flt.apply(q)
    conds = []
    if start is not None:
        conds.append(observation.c.time >= start)
    if end is not None:
        conds.append(observation.c.time < end)
    if conds:
        q = q.where(and_(*conds))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
