"""Assessment: AQI now and daily per site and per city, city ranking (HJ 663 comprehensive index), water quality
per section (GB 3838). Computed by ``ecohub.analytics`` from stored observations, within the caller's scope."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from ecohub.analytics import aqi_service, rankings, water_service
from ecohub.api.deps import DayRange, ScopeDep, StoreDep, day_range
from ecohub.api.http import json_response
from ecohub.api.models import AqiDaily, AqiHourly, CityRank, WaterQuality
from ecohub.api.routers.data import Multi, codes_param, region_param

router = APIRouter(prefix="/api/v1", tags=["assessment"])


def aqi_days(date_: Annotated[str | None, Query(alias="date", description="one Beijing day (YYYY-MM-DD); "
                                                "default yesterday")] = None,
             from_: Annotated[str | None, Query(alias="from", description="first day")] = None,
             to: Annotated[str | None, Query(description="last day (inclusive)")] = None) -> DayRange:
    """Dependency: one day, or from/to (default yesterday), at most 92 days."""
    return day_range(date_, from_, to, 1, aqi_service.check_days)


def ranking_days(from_: Annotated[str | None, Query(alias="from", description="first day; default: 30 days "
                                                    "before `to`")] = None,
                 to: Annotated[str | None, Query(description="last day (inclusive); default yesterday")] = None
                 ) -> DayRange:
    """Dependency: from/to (default the 30 days to yesterday), at most 92 days."""
    return day_range(None, from_, to, 30, aqi_service.check_days)


def _max_age(request: Request) -> int:
    return request.app.state.config.public_max_age


@router.get("/aqi/hourly", response_model=list[AqiHourly], summary="AQI now (each station's or city's newest hour)")
async def aqi_hourly(request: Request, store: StoreDep, scope: ScopeDep, site: Multi = None,
                     region: str | None = None, by: Literal["site", "city"] = "site"):
    """HJ 633 real-time AQI from the newest hourly concentrations (edition in force at that hour). City values
    from the mean of the city's stations, as CNEMC publishes them."""
    rows = await run_in_threadpool(aqi_service.hourly_now, store, scope=scope,
                                   sites=codes_param(site, "site"), region_code=region_param(region), by=by)
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age, cache=True)


@router.get("/aqi/daily", response_model=list[AqiDaily], summary="Daily AQI per station or city")
async def aqi_daily(request: Request, store: StoreDep, scope: ScopeDep, days: Annotated[DayRange, Depends(aqi_days)],
                    site: Multi = None, region: str | None = None, by: Literal["site", "city"] = "site"):
    """Natural days in Beijing time; 24-h means need ≥ 20 hours (GB 3095), O3 the daily max 8-h. At most
    92 days at once."""
    rows = await run_in_threadpool(aqi_service.daily, store, days.first, days.last, scope=scope,
                                   sites=codes_param(site, "site"), region_code=region_param(region), by=by)
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age, cache=True)


@router.get("/rankings/cities", response_model=list[CityRank], summary="City ranking by the comprehensive index")
async def city_rankings(request: Request, store: StoreDep, scope: ScopeDep,
                        days: Annotated[DayRange, Depends(ranking_days)], region: str | None = None):
    """HJ 663 / 城市环境空气质量排名技术规定: period statistics per city, I_sum, rank (1 = best). ≤ 92 days."""
    rows = await run_in_threadpool(rankings.city_ranking, store, days.first, days.last, scope=scope,
                                   region_code=region_param(region))
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age, cache=True)


@router.get("/water/quality", response_model=list[WaterQuality], summary="Latest GB 3838 class per section")
async def water_quality(request: Request, store: StoreDep, scope: ScopeDep, site: Multi = None,
                        region: str | None = None):
    rows = await run_in_threadpool(water_service.latest_classes, store, scope=scope,
                                   codes=codes_param(site, "site"), region_code=region_param(region))
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age, cache=True)
