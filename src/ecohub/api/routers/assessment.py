"""Assessment: AQI now and daily per site and per city, city ranking (HJ 663 comprehensive index), water quality
per section (GB 3838). Computed by ``ecohub.analytics`` from stored observations, within the caller's scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ecohub.analytics import aqi_service, rankings, water_service
from ecohub.api.http import cached_public, json_response, parse_date_param, principal
from ecohub.api.models import AqiDaily, AqiHourly, CityRank, WaterQuality
from ecohub.api.problems import ApiProblem
from ecohub.api.routers.data import Multi, codes_param, region_param
from ecohub.domain.timeutil import BEIJING

router = APIRouter(prefix="/api/v1", tags=["assessment"])


def _yesterday() -> date:
    return datetime.now(BEIJING).date() - timedelta(days=1)


def _days(request: Request, date_: str | None, from_: str | None, to: str | None, default_days: int) -> tuple[date, date]:
    d = parse_date_param(date_, "date")
    d0, d1 = parse_date_param(from_, "from"), parse_date_param(to, "to")
    if d is not None:
        if d0 or d1:
            raise ApiProblem(400, "give date, or from and to — not both")
        return d, d
    end = d1 or _yesterday()
    start = d0 or end - timedelta(days=default_days - 1)
    try:
        aqi_service.check_days(start, end)
    except ValueError as e:
        raise ApiProblem(400, str(e)) from None
    return start, end


@router.get("/aqi/hourly", response_model=list[AqiHourly], summary="AQI now (each station's or city's newest hour)")
async def aqi_hourly(request: Request, site: Multi = None, region: str | None = None,
                     by: Literal["site", "city"] = "site"):
    """HJ 633 real-time AQI from the newest hourly concentrations (edition in force at that hour). City values
    from the mean of the city's stations, as CNEMC publishes them."""
    hit = cached_public(request, request.app.state.config.public_max_age)
    if hit is not None:
        return hit
    p = principal(request)
    rows = await run_in_threadpool(aqi_service.hourly_now, request.app.state.store, scope=p.scope,
                                   sites=codes_param(site, "site"), region_code=region_param(region), by=by)
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age, cache=True)


@router.get("/aqi/daily", response_model=list[AqiDaily], summary="Daily AQI per station or city")
async def aqi_daily(request: Request, site: Multi = None, region: str | None = None,
                    by: Literal["site", "city"] = "site",
                    date_: Annotated[str | None, Query(alias="date", description="one Beijing day (YYYY-MM-DD); "
                                                       "default yesterday")] = None,
                    from_: Annotated[str | None, Query(alias="from", description="first day")] = None,
                    to: Annotated[str | None, Query(description="last day (inclusive)")] = None):
    """Natural days in Beijing time; 24-h means need ≥ 20 hours (GB 3095), O3 the daily max 8-h. At most
    92 days at once."""
    d0, d1 = _days(request, date_, from_, to, 1)
    hit = cached_public(request, request.app.state.config.public_max_age)
    if hit is not None:
        return hit
    p = principal(request)
    rows = await run_in_threadpool(aqi_service.daily, request.app.state.store, d0, d1, scope=p.scope,
                                   sites=codes_param(site, "site"), region_code=region_param(region), by=by)
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age, cache=True)


@router.get("/rankings/cities", response_model=list[CityRank], summary="City ranking by the comprehensive index")
async def city_rankings(request: Request, region: str | None = None,
                        from_: Annotated[str | None, Query(alias="from", description="first day; default: 30 days "
                                                           "before `to`")] = None,
                        to: Annotated[str | None, Query(description="last day (inclusive); default yesterday")] = None):
    """HJ 663 / 城市环境空气质量排名技术规定: period statistics per city, I_sum, rank (1 = best). ≤ 92 days."""
    d0, d1 = _days(request, None, from_, to, 30)
    hit = cached_public(request, request.app.state.config.public_max_age)
    if hit is not None:
        return hit
    p = principal(request)
    rows = await run_in_threadpool(rankings.city_ranking, request.app.state.store, d0, d1, scope=p.scope,
                                   region_code=region_param(region))
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age, cache=True)


@router.get("/water/quality", response_model=list[WaterQuality], summary="Latest GB 3838 class per section")
async def water_quality(request: Request, site: Multi = None, region: str | None = None):
    hit = cached_public(request, request.app.state.config.public_max_age)
    if hit is not None:
        return hit
    p = principal(request)
    rows = await run_in_threadpool(water_service.latest_classes, request.app.state.store, scope=p.scope,
                                   codes=codes_param(site, "site"), region_code=region_param(region))
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age, cache=True)
