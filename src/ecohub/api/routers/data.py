"""Registers and measurements: regions, parameters, sites, series, observations, latest values, aggregates,
enterprises (public fields). Every query goes through the query layer with the caller's scope."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ecohub.api import audit
from ecohub.api.deps import Page, ScopeDep, StoreDep, paging
from ecohub.api.http import (
    MAX_LIMIT,
    check_limit,
    decode_cursor,
    encode_cursor,
    json_response,
    parse_floats,
    parse_time_param,
    principal,
)
from ecohub.api.models import (
    Aggregates,
    Enterprises,
    Latest,
    Observations,
    Parameter,
    Regions,
    SeriesPage,
    SiteDetail,
    Sites,
)
from ecohub.api.problems import ApiProblem, not_found
from ecohub.catalog.export import COLUMNS
from ecohub.domain.cells import neutralise
from ecohub.domain.kinds import Interval, SiteKind
from ecohub.domain.timeutil import BEIJING
from ecohub.store import queries as Q

router = APIRouter(prefix="/api/v1", tags=["data"])
Multi = Annotated[list[str] | None, Query()]
MAX_CODES = 200
NO_SITE_SPAN = timedelta(hours=25)
NO_SITE_WINDOWS = ("hour", "day")  # aggregates over every series: windows of at most a day
Paged = Annotated[Page, Depends(paging(1000, MAX_LIMIT))]


def _store(request: Request):
    return request.app.state.store


def _max_age(request: Request) -> int:
    return request.app.state.config.public_max_age


def kinds_param(kind: list[str] | None) -> list[str]:
    out = []
    for k in kind or []:
        try:
            out.append(SiteKind(k).value)
        except ValueError:
            raise ApiProblem(400, f"kind={k!r}: one of {', '.join(x.value for x in SiteKind)}") from None
    return out


def interval_param(interval: str | None) -> str | None:
    if interval is None or interval == "":
        return None
    try:
        return Interval.parse(interval).value
    except ValueError as e:
        raise ApiProblem(400, str(e)) from None


def codes_param(values: list[str] | None, name: str) -> list[str]:
    vals = [v for v in (values or []) if v != ""]
    if len(vals) > MAX_CODES:
        raise ApiProblem(400, f"{name}: at most {MAX_CODES} values")
    return vals


def region_param(region: str | None) -> str | None:
    if region is None or region == "":
        return None
    if len(region) != 6 or not region.isdigit():
        raise ApiProblem(400, f"region={region!r}: a 6-digit administrative division code")
    return region


def _t(v):
    return v.astimezone(BEIJING).isoformat() if isinstance(v, datetime) else v


def page(results: list, limit: int, key) -> dict:
    nxt = encode_cursor(key(results[limit - 1])) if len(results) > limit else None
    return {"meta": {"next_cursor": nxt, "limit": limit}, "results": results[:limit]}


# --- reference ------------------------------------------------------------------------------------------------
@router.get("/regions", response_model=Regions, summary="Administrative divisions (GB/T 2260)")
def regions(request: Request, store: StoreDep, pg: Paged, level: int | None = Query(None, ge=1, le=3),
            parent: str | None = None, under: str | None = None):
    after = pg.after((str,))
    rows = Q.regions(store, level=level, parent=parent, under=region_param(under), limit=pg.limit + 1,
                     after=after[0] if after else None)
    return json_response(request, page(rows, pg.limit, lambda r: [r["code"]]), public_max_age=3600)


@router.get("/parameters", response_model=list[Parameter], summary="The parameter catalogue")
def parameters(request: Request):
    return json_response(request, Q.parameters(_store(request)), public_max_age=3600)


# --- sites ----------------------------------------------------------------------------------------------------
@router.get("/sites", response_model=Sites, summary="Sites: filter by kind, region, bounding box, distance")
def sites(request: Request, store: StoreDep, scope: ScopeDep, pg: Paged, kind: Multi = None,
          region: str | None = None,
          bbox: Annotated[str | None, Query(description="min lon,min lat,max lon,max lat (WGS-84)")] = None,
          near: Annotated[str | None, Query(description="lon,lat: sites within `radius` km, nearest first")] = None,
          radius: Annotated[float, Query(gt=0, le=1000, description="km, with `near`")] = 10.0):
    limit = pg.limit
    bb = parse_floats(bbox, "bbox", 4)
    nr = parse_floats(near, "near", 2)
    if nr is not None and not (-180 <= nr[0] <= 180 and -90 <= nr[1] <= 90):
        raise ApiProblem(400, f"near={near!r}: lon,lat in degrees")
    after = pg.after((str,))
    rows = Q.sites(store, kinds=kinds_param(kind), region=region_param(region), bbox=bb,
                   near=(nr[0], nr[1], radius) if nr else None, limit=limit + 1,
                   after=after[0] if after else None, scope=scope)
    if nr is not None:
        return json_response(request, {"meta": {"next_cursor": None, "limit": limit}, "results": rows[:limit]},
                             public_max_age=_max_age(request))
    return json_response(request, page(rows, limit, lambda r: [r["code"]]), public_max_age=_max_age(request))


@router.get("/sites/{code}", response_model=SiteDetail, summary="One site and its series")
def site_detail(request: Request, store: StoreDep, scope: ScopeDep, code: str):
    s = Q.site_detail(store, code, scope=scope)
    if s is None:
        raise not_found("site")
    return json_response(request, s, public_max_age=_max_age(request))


@router.get("/series", response_model=SeriesPage, summary="Series (site × parameter × interval)")
def series(request: Request, store: StoreDep, scope: ScopeDep, pg: Paged, site: Multi = None,
           parameter: Multi = None, interval: str | None = None, kind: Multi = None, region: str | None = None):
    limit = pg.limit
    after = pg.after((str, str, str))
    reg = region_param(region)
    flt = Q.SeriesFilter(sites=codes_param(site, "site"), parameters=codes_param(parameter, "parameter"),
                         interval=interval_param(interval), kinds=kinds_param(kind),
                         region_prefix=Q.region_prefix(reg))
    rows = Q.series_list(store, flt, scope=scope, limit=limit + 1, after=after)
    return json_response(request, page(rows, limit, lambda r: [r["site"], r["parameter"], r["interval"]]),
                         public_max_age=_max_age(request))


# --- observations ---------------------------------------------------------------------------------------------
FORMATS = ("json", "csv", "parquet")


@router.get("/observations", response_model=Observations, summary="Observations over a time range",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}},
                                         "application/vnd.apache.parquet": {"schema": {"type": "string",
                                                                                         "format": "binary"}}}}})
async def observations_route(
        request: Request, site: Multi = None, parameter: Multi = None, interval: str | None = None,
        from_: Annotated[str | None, Query(alias="from", description="inclusive; ISO-8601, Beijing without offset")] = None,
        to: Annotated[str | None, Query(description="exclusive")] = None,
        limit: int = 1000, cursor: str | None = None,
        format: Annotated[str, Query(description="json, csv or parquet")] = "json",  # noqa: A002
        corrected: bool = False,
        as_of: Annotated[str | None, Query(description="the data as they were at this time")] = None):
    """Ordered by site, parameter, interval, time. Without ``site`` the range (from, to) is required and at
    most 25 hours. Pages of at most 10,000 rows; ``meta.next_cursor`` (JSON) or the ``Link: rel=next`` and
    ``X-Next-Cursor`` headers (CSV, Parquet) give the next page. CSV and Parquet downloads are recorded in the
    audit log as exports."""
    check_limit(limit)
    if format not in FORMATS:
        raise ApiProblem(400, f"format={format!r}: one of {', '.join(FORMATS)}")
    sites_ = codes_param(site, "site")
    start, end = parse_time_param(from_, "from"), parse_time_param(to, "to")
    asof = parse_time_param(as_of, "as_of")
    if not sites_ and (start is None or end is None or end - start > NO_SITE_SPAN):
        raise ApiProblem(400, "give site=CODE, or from and to at most 25 hours apart")
    if start is not None and end is not None and end <= start:
        raise ApiProblem(400, "to must be after from")
    after = decode_cursor(cursor, (str, str, str, datetime, int))
    flt = Q.SeriesFilter(sites=sites_, parameters=codes_param(parameter, "parameter"),
                         interval=interval_param(interval))
    p = principal(request)

    def fetch():
        return list(Q.observations(request.app.state.store, flt, start, end, limit=limit + 1, corrected=corrected,
                                   as_of=asof, scope=p.scope, after=after))

    rows = await run_in_threadpool(fetch)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1][k] for k in Q.OBS_KEY]) if more else None
    for r in rows:
        r.pop("source_id", None)
        if not corrected:
            r.pop("raw_value", None)
            r.pop("corrected", None)
    if format == "json":
        return json_response(request, {"meta": {"next_cursor": nxt, "limit": limit}, "results": rows})
    headers = {"Cache-Control": "private, no-store"}
    if nxt:
        headers["X-Next-Cursor"] = nxt
        headers["Link"] = f'<{request.url.include_query_params(cursor=nxt)}>; rel="next"'
    await run_in_threadpool(audit.record_now, request.app.state.store, "export", actor=p.actor,
                            role=p.role if p.authenticated else None, target="observations", method="GET",
                            path=str(request.url.path), status=200, ip=request.state.ip,
                            detail={"format": format, "rows": len(rows), "sites": sites_, "parameters":
                                    list(flt.parameters), "from": _t(start), "to": _t(end)})
    if format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([neutralise(_t(r[c])) if r[c] is not None else "" for c in COLUMNS])
        headers["Content-Disposition"] = 'attachment; filename="observations.csv"'
        return Response(buf.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "site": pa.array([r["site"] for r in rows], pa.string()),
        "parameter": pa.array([r["parameter"] for r in rows], pa.string()),
        "interval": pa.array([r["interval"] for r in rows], pa.string()),
        "time": pa.array([r["time"] for r in rows], pa.timestamp("s", tz="UTC")),
        "value": pa.array([r["value"] for r in rows], pa.float64()),
        "flag": pa.array([r["flag"] for r in rows], pa.string()),
        "source": pa.array([r["source"] for r in rows], pa.string()),
    })
    sink = io.BytesIO()
    pq.write_table(table, sink)
    headers["Content-Disposition"] = 'attachment; filename="observations.parquet"'
    return Response(sink.getvalue(), media_type="application/vnd.apache.parquet", headers=headers)


@router.get("/latest", response_model=list[Latest], summary="Newest value of every series (served from `latest`)")
def latest(request: Request, store: StoreDep, scope: ScopeDep, site: Multi = None, parameter: Multi = None,
           kind: Multi = None, interval: str | None = None, region: str | None = None, limit: int = MAX_LIMIT):
    check_limit(limit)
    reg = region_param(region)
    flt = Q.SeriesFilter(sites=codes_param(site, "site"), parameters=codes_param(parameter, "parameter"),
                         kinds=kinds_param(kind), interval=interval_param(interval),
                         region_prefix=Q.region_prefix(reg))
    rows = Q.latest_values(store, flt, scope=scope, limit=limit)
    return json_response(request, rows, public_max_age=_max_age(request), cache=True)


@router.get("/aggregates", response_model=Aggregates, summary="Count, mean, min, max per Beijing hour/day/month/year")
def aggregates(request: Request, store: StoreDep, scope: ScopeDep, window: str = "day", site: Multi = None,
               parameter: Multi = None,
               interval: str | None = None,
               from_: Annotated[str | None, Query(alias="from")] = None, to: str | None = None,
               limit: int = 1000):
    """A plain arithmetic rollup of stored values (regulatory statistics: the AQI and ranking endpoints).
    Without ``site`` the range is required and at most 31 days, and the window is ``hour`` or ``day`` (a
    month of every series reads every observation of the province). At most ``limit`` rows, in the order
    site, parameter, interval, window (``meta.next_cursor`` is always null: narrow the query to see more)."""
    check_limit(limit)
    if window not in Q.WINDOWS:
        raise ApiProblem(400, f"window={window!r}: one of {', '.join(Q.WINDOWS)}")
    sites_ = codes_param(site, "site")
    start, end = parse_time_param(from_, "from"), parse_time_param(to, "to")
    if not sites_ and (start is None or end is None or end - start > timedelta(days=31)):
        raise ApiProblem(400, "give site=CODE, or from and to at most 31 days apart")
    if not sites_ and window not in NO_SITE_WINDOWS:
        raise ApiProblem(400, f"window={window!r}: without site=CODE at most {' or '.join(NO_SITE_WINDOWS)}")
    flt = Q.SeriesFilter(sites=sites_, parameters=codes_param(parameter, "parameter"),
                         interval=interval_param(interval))
    rows = Q.aggregate(store, flt, window, start, end, scope=scope, limit=limit)
    return json_response(request, {"meta": {"next_cursor": None, "limit": limit}, "results": rows},
                         public_max_age=_max_age(request))


@router.get("/enterprises", response_model=Enterprises, summary="Enterprises (public fields)")
def enterprises(request: Request, store: StoreDep, scope: ScopeDep, pg: Paged, region: str | None = None):
    after = pg.after((str,))
    rows = Q.enterprises(store, region=region_param(region), limit=pg.limit + 1,
                         after=after[0] if after else None, scope=scope)
    return json_response(request, page(rows, pg.limit, lambda r: [r["uscc"]]), public_max_age=_max_age(request))
