"""Reports (list, generate, download), assessments (noise, soil, radiation), trends and surfaces — thin wrappers
over ``ecohub.reports`` and ``ecohub.analytics``; scope applied by those services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ecohub.analytics import noise_service, soil_service, surfaces, trends
from ecohub.api.http import MAX_ID, json_response, parse_date_param, principal, require_role
from ecohub.api.problems import ApiProblem, forbidden, not_found
from ecohub.api.routers.data import region_param
from ecohub.domain.timeutil import BEIJING
from ecohub.reports import service
from ecohub.standards import radiation
from ecohub.store.queries import SeriesFilter, observations, sites

router = APIRouter(prefix="/api/v1", tags=["reports"])
STAFF = ("admin", "analyst", "officer")


class ReportIssue(BaseModel):
    id: int
    kind: str
    region_code: str
    period: str
    format: str
    filename: str
    size: int
    sha256: str
    template: str
    created_at: datetime
    created_by: str | None = None
    download: str


class ReportDetail(ReportIssue):
    figures: dict[str, Any]


class ReportRequest(BaseModel):
    kind: Literal["monthly", "annual"]
    region: str = Field(pattern=r"^\d{6}$")
    period: str = Field(pattern=r"^\d{4}(-\d{2})?$")
    format: Literal["docx", "pdf"] = "pdf"


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


def _issue(r: dict) -> dict:
    out = {k: v for k, v in r.items() if k not in ("content",)}
    out["download"] = f"/api/v1/reports/{r['id']}/download"
    return out


@router.get("/reports", response_model=list[ReportIssue], summary="Report issues (newest first)")
def list_reports(request: Request, region: str | None = None, kind: Literal["monthly", "annual"] | None = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100):
    p = require_role(request, *STAFF)
    rows = service.list_reports(request.app.state.store, scope=p.scope, region=region_param(region), kind=kind,
                                limit=limit)
    return json_response(request, [_issue(r) for r in rows])


@router.post("/reports", response_model=ReportIssue, status_code=201, summary="Generate and keep a report issue")
async def create_report(request: Request, body: Annotated[ReportRequest, Body()]):
    """Monthly (period YYYY-MM) or annual (YYYY) report of a region, computed within the caller's scope."""
    p = require_role(request, *STAFF, write=True)
    try:
        row = await run_in_threadpool(service.generate, request.app.state.store, body.kind, body.region, body.period,
                                      body.format, scope=p.scope, actor=p.name)
    except service.Forbidden as e:
        raise forbidden(str(e)) from None
    except ValueError as e:
        raise ApiProblem(400, str(e)) from None
    return json_response(request, _issue(row), status_code=201)


@router.get("/reports/{report_id}", response_model=ReportDetail, summary="One issue with its figures (sidecar)")
def one_report(request: Request, report_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
    p = require_role(request, *STAFF)
    r = service.get_report(request.app.state.store, report_id, scope=p.scope, with_content=False)
    if r is None:
        raise not_found("report")
    return json_response(request, _issue(r))


@router.get("/reports/{report_id}/download", summary="The report file (DOCX or PDF)", response_class=Response,
            responses={200: {"content": {service.MEDIA_TYPES["docx"]: {}, service.MEDIA_TYPES["pdf"]: {}},
                             "description": "the file"}})
def download_report(request: Request, report_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
    p = require_role(request, *STAFF)
    r = service.get_report(request.app.state.store, report_id, scope=p.scope)
    if r is None:
        raise not_found("report")
    return Response(content=bytes(r["content"]), media_type=service.MEDIA_TYPES[r["format"]],
                    headers={"Content-Disposition": f'attachment; filename="{r["filename"]}"',
                             "Cache-Control": "private, no-cache", "ETag": f'"{r["sha256"][:24]}"'})


# --- assessments ---------------------------------------------------------------------------------------------------
def _days(from_: str | None, to: str | None, default_days: int, max_days: int = 366) -> tuple[date, date]:
    d1 = parse_date_param(to, "to") or (datetime.now(BEIJING).date() - timedelta(days=1))
    d0 = parse_date_param(from_, "from") or d1 - timedelta(days=default_days - 1)
    if d0 > d1:
        raise ApiProblem(400, "from: the first day is after the last day")
    if (d1 - d0).days + 1 > max_days:
        raise ApiProblem(400, f"from/to: at most {max_days} days")
    return d0, d1


def _bounds(d0: date, d1: date) -> tuple[datetime, datetime]:
    s = datetime(d0.year, d0.month, d0.day, tzinfo=BEIJING).astimezone(UTC)
    e = datetime(d1.year, d1.month, d1.day, tzinfo=BEIJING).astimezone(UTC) + timedelta(days=1)
    return s, e


def _one_site(request: Request, code: str, kind: str) -> dict:
    st = sites(request.app.state.store, kinds=[kind], codes=[code], scope=principal(request).scope)
    if not st:
        raise not_found(kind.replace("_", " "))
    return st[0]


@router.get("/assessments/noise", response_model=Open, summary="Functional-zone noise of one point (GB 3096, HJ 640)")
def noise_assessment(request: Request, site: Annotated[str, Query(max_length=64)],
                     from_: Annotated[str | None, Query(alias="from")] = None, to: str | None = None,
                     zone: Literal["0", "1", "2", "3", "4a", "4b"] | None = None):
    """Daily Ld/Ln (energy means of the hourly Leq, day 06–22 h, night 22–06 h) against the point's GB 3096 class
    (``attrs.zone`` or ``zone``); periods with too few hours are listed in ``gaps`` and not assessed."""
    s = _one_site(request, site, "noise_point")
    z = zone or str((s["attrs"] or {}).get("zone") or "")
    if not z:
        raise ApiProblem(400, f"zone: the point {site} has no GB 3096 class; pass zone=")
    d0, d1 = _days(from_, to, 7)
    start, end = _bounds(d0, d1)
    times, vals = [], []
    for r in observations(request.app.state.store, SeriesFilter(sites=[site], parameters=["leq"], interval="hour"),
                          start, end, scope=principal(request).scope):
        times.append(r["time"])
        vals.append(r["value"])
    res = noise_service.functional_zone(times, vals, z)
    return json_response(request, {"site": site, "name": s["name"], "from": d0.isoformat(), "to": d1.isoformat(),
                                   **res})


@router.post("/assessments/soil", response_model=Open, summary="Classify soil samples (GB 15618, GB 36600)")
def soil_assessment(request: Request, samples: Annotated[list[dict[str, Any]], Body(max_length=10000)]):
    """Each sample: ``site``, ``land_use`` (paddy other orchard rotation | construction_1 construction_2), ``ph``
    and pollutant values in mg/kg. Returns every sample with ``<pollutant>_class``, ``class``, ``error``, and the
    per-site and per-county summaries."""
    if not samples:
        raise ApiProblem(400, "samples: empty list")
    res = soil_service.classify_samples([{str(k): v for k, v in s.items()} for s in samples], first_line=1)
    return json_response(request, {"samples": res.rows, "pollutants": res.pollutants, "errors": res.errors,
                                   "by_site": soil_service.summarize(res.rows, "site"),
                                   "by_county": soil_service.summarize(res.rows, "region_code")})


@router.get("/assessments/soil/samples", response_model=Open, summary="Stored soil samples (map points) and summaries")
def soil_samples(request: Request, region: str | None = None, limit: Annotated[int, Query(ge=1, le=5000)] = 1000):
    """Samples at soil points with their GB 15618 / GB 36600 classes and the per-site and per-county summaries,
    within the caller's scope; ``features`` is the same as GeoJSON points for the one map."""
    from ecohub.analytics import soil_store

    rows = soil_store.samples(request.app.state.store, scope=principal(request).scope, region=region_param(region),
                              limit=limit)
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
              "properties": {k: r[k] for k in ("site", "name", "sampled_at", "land_use", "worst", "standard")}}
             for r in rows]
    return json_response(request, {"samples": rows, **soil_store.summaries(rows),
                                   "features": {"type": "FeatureCollection", "features": feats}})


@router.get("/assessments/radiation", response_model=Open, summary="Gamma dose rate vs the station's background")
def radiation_assessment(request: Request, site: Annotated[str, Query(max_length=64)],
                         from_: Annotated[str | None, Query(alias="from")] = None, to: str | None = None):
    """Values of the period against the background range mean ± 3σ of the station's previous 365 days."""
    s = _one_site(request, site, "radiation_point")
    d0, d1 = _days(from_, to, 7)
    start, end = _bounds(d0, d1)
    flt = SeriesFilter(sites=[site], parameters=["gamma_dose_rate"])
    hist, cur = [], []
    for r in observations(request.app.state.store, flt, start - timedelta(days=365), end, scope=principal(request).scope):
        if r["value"] is not None:
            (cur if r["time"] >= start else hist).append((r["time"], float(r["value"])))
    try:
        bg = radiation.background_range([v for _, v in hist])
    except ValueError as e:
        raise ApiProblem(422, f"background: {e}") from None
    cls = radiation.classify([v for _, v in cur], bg)
    values = [{"time": t.astimezone(BEIJING).isoformat(), "value": v, "status": str(c)}
              for (t, v), c in zip(cur, cls, strict=True)]
    return json_response(request, {"site": site, "name": s["name"], "background": bg, "values": values,
                                   "anomalies": sum(1 for x in values if x["status"] == "high")})


@router.get("/trends", response_model=Open, summary="Mann–Kendall trend and Sen's slope of a site's parameter")
def trend(request: Request, site: Annotated[str, Query(max_length=64)],
          parameter: Annotated[str, Query(max_length=40)], interval: Literal["month", "day"] = "month",
          from_: Annotated[str | None, Query(alias="from")] = None, to: str | None = None):
    d1 = parse_date_param(to, "to") or (datetime.now(BEIJING).date() - timedelta(days=1))
    d0 = parse_date_param(from_, "from") or (date(d1.year - 4, 1, 1) if interval == "month" else d1 - timedelta(days=364))
    if (d1 - d0).days > 366 * 30:
        raise ApiProblem(400, "from/to: at most 30 years")
    """Monthly: seasonal Kendall on monthly means (GB 3095 validity), slope per year; daily: plain test, slope
    per day. Too few data: ``has_data`` false and a ``note`` (never a guessed trend); 404 for an unseen site."""
    store, scope = request.app.state.store, principal(request).scope
    if not sites(store, codes=[site], scope=scope):
        raise not_found("site")
    try:
        res = {"has_data": True, **trends.site_trend(store, site, parameter, d0, d1, interval=interval, scope=scope)}
    except trends.NoData as e:
        res = {"has_data": False, "site": site, "parameter": parameter, "interval": interval,
               "from": d0.isoformat(), "to": d1.isoformat(), "note": str(e)}
    except ValueError as e:
        raise ApiProblem(400, str(e)) from None
    return json_response(request, res)


@router.get("/trends/correlation", response_model=list[Open],
            summary="Correlation of a pollutant with the meteorology at the same site (hourly pairs)")
def trend_correlation(request: Request, site: Annotated[str, Query(max_length=64)],
                      parameter: Annotated[str, Query(max_length=40)] = "pm25",
                      from_: Annotated[str | None, Query(alias="from")] = None, to: str | None = None):
    """Pearson r and Spearman ρ (with p-values) of hourly ``parameter`` with temp, humidity, wind_speed and
    pressure; pairs are the hours where both exist (``n``); fewer than 10 pairs → nulls."""
    store, scope = request.app.state.store, principal(request).scope
    if not sites(store, codes=[site], scope=scope):
        raise not_found("site")
    d0, d1 = _days(from_, to, 90)
    start, end = _bounds(d0, d1)
    return json_response(request, trends.correlation(store, site, parameter, start, end, scope=scope))


@router.get("/surfaces", response_model=Open, summary="Interpolated surface (GeoJSON bands) with LOO RMSE")
async def surface(request: Request, parameter: Literal["pm25", "pm10", "so2", "no2", "co", "o3"],
                  time: Annotated[str, Query(max_length=32, description="Beijing hour YYYY-MM-DDTHH:MM or day")],
                  method: Literal["idw", "kriging"] = "idw", region: str = "130000",
                  cells: Annotated[int, Query(ge=10, le=400)] = 150):
    try:
        res = await run_in_threadpool(surfaces.surface_from_store, request.app.state.store, parameter, time,
                                      method=method, region=region_param(region) or "130000", cells=cells,
                                      scope=principal(request).scope)
    except surfaces.NoData as e:
        raise ApiProblem(404, str(e)) from None
    except ValueError as e:
        raise ApiProblem(400, str(e)) from None
    return json_response(request, res["geojson"])
