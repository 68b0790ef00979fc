"""Forecasts (``ecohub.forecast.service``): the latest issue per city (or the history of one city's issues),
the running verification report, and forecast beside observation for a city's page. Forecasts of ambient air
quality are open information, like the ambient data they come from: no sign-in needed to read them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ecohub.api.deps import ScopeDep, StoreDep
from ecohub.api.http import json_response, parse_date_param
from ecohub.api.problems import ApiProblem
from ecohub.forecast import service
from ecohub.store.db import Store
from ecohub.store.queries import Scope, site_detail

router = APIRouter(prefix="/api/v1", tags=["forecasts"])
CityQ = Annotated[str | None, Query(pattern=r"^\d{6}$", description="city division code, e.g. 120100")]
SiteQ = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                                    description="air station code (station issues instead of city issues)")]


def _target(store: Store, scope: Scope, city: str | None, site: str | None) -> tuple[str | None, str]:
    """The forecast target; a station the caller may not see answers 404, as one that does not exist."""
    if city and site:
        raise ApiProblem(400, "give city or site, not both")
    if site:
        if site_detail(store, site, scope=scope) is None:
            raise ApiProblem(404, f"site {site} not found")
        return site, "site"
    return city, "city"


class ForecastDay(BaseModel):
    day: str = Field(description="target day (Beijing, YYYY-MM-DD)")
    lead: int = Field(description="days after the issue day (1 = D+1)")
    aqi: float | None
    aqi_low: float | None = Field(description="published range, low end")
    aqi_high: float | None = Field(description="published range, high end")
    level: int | None = Field(description="HJ 633 level 1 … 6 of the AQI")
    level_roman: str | None = None
    category_zh: str | None = None
    category_en: str | None = None
    color: str | None = None
    primary_pollutant: str | None
    so2: float | None
    no2: float | None
    co: float | None = Field(description="mg/m³")
    o3_8h: float | None
    pm10: float | None
    pm25: float | None
    persistence_aqi: float | None = Field(description="baseline: last observed day's AQI")
    climatology_aqi: float | None = Field(description="baseline: median AQI of the same calendar period")
    climatology_level: int | None


class Warning(BaseModel):
    level: int = Field(description="0 none, 1 blue, 2 yellow, 3 orange, 4 red")
    scheme: str
    reason: str | None
    color: str
    name_zh: str
    name_en: str


class ForecastIssue(BaseModel):
    id: int
    target_kind: str
    target_code: str
    region_code: str
    name: str | None
    issued_at: str
    issue_day: str
    model_version: str
    method: Literal["model", "persistence"]
    inputs_from: str | None
    inputs_to: str | None
    input_days: int
    met_used: bool
    warning: Warning
    details: dict | None
    created_by: str | None
    days: list[ForecastDay]


class Scores(BaseModel):
    days: int
    level_accuracy: float | None = None
    within_one_level: float | None = None
    aqi_mae: float | None = None
    pod_polluted: float | None = None
    far_polluted: float | None = None
    csi_polluted: float | None = None


class LeadScores(Scores):
    lead: int
    range_hit_rate: float | None = None
    primary_pollutant_accuracy: float | None = None
    model_days: int | None = None
    persistence: Scores | None = None
    climatology: Scores | None = None


class Verification(BaseModel):
    target: str | None
    since: str | None
    leads: list[LeadScores]


class VsObserved(BaseModel):
    day: str
    aqi: float | None
    aqi_low: float | None
    aqi_high: float | None
    level: int | None
    observed_aqi: float | None
    observed_level: int | None


@router.get("/forecasts", response_model=list[ForecastIssue], summary="Forecast issues (latest, or the history)")
def forecasts(request: Request, store: StoreDep, scope: ScopeDep, city: CityQ = None, site: SiteQ = None,
              issued: Annotated[Literal["latest", "all"], Query(description="latest: the newest issue of each "
                                                                "city; all: every issue of `city`, newest first")]
              = "latest",
              limit: Annotated[int, Query(ge=1, le=1000, description="issues with issued=all")] = 30):
    """D+1 … D+3 daily AQI, range, level and primary pollutant per city, with the baselines stored beside
    them and the heavy-pollution warning the issue implies. Issues are never overwritten."""
    target, kind = _target(store, scope, city, site)
    if issued == "all":
        if not target:
            raise ApiProblem(400, "issued=all needs city or site")
        rows = service.list_issues(store, target, limit=limit, kind=kind)
    else:
        rows = service.latest(store, target=target, kind=kind)
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age)


class ForecastHour(BaseModel):
    time: str = Field(description="start of the hour, ISO-8601 with the Beijing offset")
    lead_hour: int = Field(description="1 … 72: hours of D+1 … D+3 (Beijing days)")
    aqi: float | None = Field(description="HJ 633 hourly AQI of the hourly values")
    level: int | None
    category_zh: str | None = None
    category_en: str | None = None
    color: str | None = None
    primary_pollutant: str | None
    so2: float | None
    no2: float | None
    co: float | None = Field(description="mg/m³")
    o3: float | None = Field(description="1-h O3")
    pm10: float | None
    pm25: float | None


class HourlyIssue(BaseModel):
    id: int
    name: str | None
    issued_at: str
    issue_day: str
    method: str
    model_version: str


class Hourly(BaseModel):
    target: str
    kind: str
    issue: HourlyIssue | None
    hours: list[ForecastHour]


@router.get("/forecasts/hourly", response_model=Hourly, summary="Hourly values of the latest issue (72 h)")
def hourly(request: Request, store: StoreDep, scope: ScopeDep, city: CityQ = None, site: SiteQ = None):
    """The 72 hours of D+1 … D+3 of the newest issue of a city (or station): the daily forecast spread over the
    target's diurnal profile (the day's mean equals the daily forecast; O3's max 8-h equals the daily O3_8h),
    with the hourly AQI. Empty ``hours`` where the target had no hourly history."""
    target, kind = _target(store, scope, city, site)
    if not target:
        raise ApiProblem(400, "give city or site")
    rep = service.latest_hours(store, target, kind=kind)
    return json_response(request, rep, public_max_age=request.app.state.config.public_max_age)


@router.get("/forecasts/verification", response_model=Verification, summary="Running verification report")
def verification(request: Request, store: StoreDep, scope: ScopeDep, city: CityQ = None, site: SiteQ = None,
                 from_: Annotated[str | None, Query(alias="from", description="first target day")] = None):
    """Per lead: exact level, ±1 level, AQI MAE, range hit rate, POD/FAR/CSI of polluted days (AQI > 100) of
    the stored forecasts whose days have been observed, beside persistence and climatology on the same days."""
    since: date | None = parse_date_param(from_, "from")
    target, kind = _target(store, scope, city, site)
    rep = service.verification(store, target=target, since=since, kind=kind)
    return json_response(request, rep, public_max_age=request.app.state.config.public_max_age)


@router.get("/forecasts/observed", response_model=list[VsObserved], summary="Forecast beside observation")
def vs_observed(request: Request, store: StoreDep, scope: ScopeDep, city: CityQ = None, site: SiteQ = None,
                days: Annotated[int, Query(ge=1, le=92)] = 30, lead: Annotated[int, Query(ge=1, le=3)] = 1):
    """The last ``days`` days: the D+``lead`` forecast (AQI, range, level) and the observed daily AQI of a city
    (or of a station's own issues)."""
    target, kind = _target(store, scope, city, site)
    if not target:
        raise ApiProblem(400, "give city or site")
    rows = service.forecast_vs_observed(store, target, days=days, lead=lead, kind=kind)
    return json_response(request, rows, public_max_age=request.app.state.config.public_max_age)
