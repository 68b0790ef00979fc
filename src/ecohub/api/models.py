"""Response models of API v1 (they document the OpenAPI schema; hot routes serialise dicts directly in the
same shape). Times are ISO-8601 in Beijing time (``+08:00``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Page(BaseModel):
    next_cursor: str | None = Field(None, description="opaque; pass as ?cursor= for the next page (null: last page)")
    limit: int


class Region(BaseModel):
    code: str
    name: str
    level: int
    parent: str | None
    lon: float | None
    lat: float | None


class Regions(BaseModel):
    meta: Page
    results: list[Region]


class Parameter(BaseModel):
    name: str
    name_zh: str
    name_en: str
    unit: str
    domain: str
    hj212_2017: str | None
    hj212_2005: str | None
    decimals: int


class Site(BaseModel):
    code: str
    kind: str
    name: str
    lon: float
    lat: float
    region_code: str
    region_name: str | None
    enterprise: str | None = Field(None, description="USCC of the owning enterprise (outlets)")
    open: bool = Field(description="the site's data are open to the public")
    attrs: dict[str, Any]
    water_body: str | None = Field(None, description="water sections: river | lake | reservoir")
    distance_km: float | None = None


class Sites(BaseModel):
    meta: Page
    results: list[Site]


class SiteSeries(BaseModel):
    parameter: str
    interval: str
    unit: str
    latest_time: str | None
    latest_value: float | None


class SiteDetail(Site):
    series: list[SiteSeries]


class Series(BaseModel):
    site: str
    kind: str
    region_code: str
    parameter: str
    unit: str
    interval: str
    latest_time: str | None


class SeriesPage(BaseModel):
    meta: Page
    results: list[Series]


class Observation(BaseModel):
    site: str
    parameter: str
    interval: str
    time: str
    value: float | None
    flag: str | None
    source: str
    raw_value: float | None = None
    corrected: bool | None = None


class Observations(BaseModel):
    meta: Page
    results: list[Observation]


class Latest(BaseModel):
    site: str
    site_name: str
    kind: str
    region_code: str
    lon: float
    lat: float
    parameter: str
    unit: str
    interval: str
    time: str
    value: float | None
    flag: str | None


class Aggregate(BaseModel):
    site: str
    parameter: str
    interval: str
    window: str
    count: int
    mean: float | None
    min: float | None
    max: float | None


class Aggregates(BaseModel):
    meta: Page
    results: list[Aggregate]


class AqiFields(BaseModel):
    aqi: int | None
    level: int | None
    level_roman: str | None
    category_zh: str | None
    category_en: str | None
    color: str | None
    primary_pollutant: str | None
    missing: list[str]
    edition: int | None
    iaqi: dict[str, int | None]
    concentrations: dict[str, float | None]


class AqiHourly(AqiFields):
    site: str | None = None
    city: str | None = None
    name: str
    region_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    stations: int | None = None
    time: str


class AqiDaily(AqiFields):
    site: str | None = None
    city: str | None = None
    name: str
    region_code: str | None = None
    stations: int | None = None
    date: str


class CityRank(BaseModel):
    city: str
    name: str
    stations: int
    days: int
    valid_days: int
    index: float | None = Field(description="comprehensive index I_sum (HJ 663)")
    rank: int | None
    primary: str | None
    so2: float | None
    no2: float | None
    pm10: float | None
    pm25: float | None
    co_p95: float | None
    o3_8h_p90: float | None


class WaterQuality(BaseModel):
    site: str
    name: str
    region_code: str
    lon: float
    lat: float
    time: str
    class_: int | None = Field(None, alias="class", description="GB 3838 class 1-6 (6 = 劣V)")
    label: str | None
    category_zh: str | None
    category_en: str | None
    worst_items: list[str]
    exceeds_target: bool | None
    official_class: str | None
    values: dict[str, float | None]


class Enterprise(BaseModel):
    uscc: str
    name: str
    region_code: str
    sites: int = Field(description="sites of it the caller may see")


class Enterprises(BaseModel):
    meta: Page
    results: list[Enterprise]


class Token(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    refresh_expires_in: int


class RefreshIn(BaseModel):
    refresh_token: str


class Me(BaseModel):
    kind: str
    name: str | None
    role: str
    region_code: str | None
    enterprise_id: int | None
    department: str | None
    key_prefix: str | None = None


class UserOut(BaseModel):
    id: int
    name: str
    display_name: str | None
    role: str
    region_code: str | None
    enterprise: str | None
    department: str | None
    failed_logins: int
    locked_until: str | None
    disabled_at: str | None
    created_at: str
    password_changed_at: str


class UserIn(BaseModel):
    name: str = Field(max_length=64)
    password: str = Field(max_length=256)
    role: str
    region: str | None = None
    enterprise: str | None = None
    department: str | None = Field(None, max_length=200)
    display_name: str | None = Field(None, max_length=200)


class UserPatch(BaseModel):
    role: str | None = None
    region: str | None = None
    enterprise: str | None = None
    department: str | None = Field(None, max_length=200)
    disabled: bool | None = None
    unlock: bool = False


class PasswordIn(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class ApiKeyIn(BaseModel):
    name: str = Field(max_length=100)
    scopes: list[str] = ["read"]
    days: int | None = Field(None, ge=1, le=3650)
    user: str | None = Field(None, description="admins only: create the key for this user")


class ApiKeyCreated(BaseModel):
    key: str = Field(description="shown once; only its hash is stored")
    prefix: str
    name: str
    scopes: list[str]
    expires_at: str | None


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    owner: str | None
    user_id: int | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None


class AuditEntry(BaseModel):
    id: int
    at: str
    actor: str | None
    actor_role: str | None
    action: str
    target: str | None
    method: str | None
    path: str | None
    status: int | None
    ip: str | None
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    meta: Page
    results: list[AuditEntry]


class DatasetField(BaseModel):
    name: str
    type: str
    description: str = ""
    mask: str | None = None
    decimals: int | None = None
    watermark: bool | None = None


class DatasetOut(BaseModel):
    id: int
    code: str
    title: str
    description: str
    owner_department: str
    fields: list[DatasetField]
    update_frequency: str
    sharing_level: str
    open_level: str
    source: dict[str, Any]
    created_at: str
    updated_at: str
    access: str = Field(description="the caller's access: full, open, shared, granted, requestable, none")


class DatasetIn(BaseModel):
    code: str = Field(max_length=64)
    title: str = Field(max_length=200)
    description: str = Field(max_length=10_000)
    owner_department: str = Field(max_length=200)
    fields: list[DatasetField] | None = None
    update_frequency: str
    sharing_level: str
    open_level: str
    source: dict[str, Any]


class RecordsIn(BaseModel):
    records: list[dict[str, Any]] = Field(max_length=10_000)
    region_code: str | None = Field(None, pattern="^[0-9]{6}$")


class Count(BaseModel):
    count: int


class AccessRequestIn(BaseModel):
    purpose: str = Field(max_length=2000)


class DecisionIn(BaseModel):
    approve: bool
    reason: str | None = Field(None, max_length=2000)
    days: int | None = Field(None, ge=1, le=365)


class RevokeIn(BaseModel):
    """Revoking a grant takes only a reason (optional; recorded in the audit log)."""

    reason: str | None = Field(None, max_length=2000)


class AccessRequestOut(BaseModel):
    id: int
    dataset_id: int
    dataset: str
    owner_department: str
    user_id: int
    user: str
    purpose: str
    status: str
    requested_at: str
    decided_at: str | None
    decided_by: int | None
    reason: str | None
    expires_at: str | None


class Alert(BaseModel):
    id: int
    rule: str
    site: str | None
    parameter: str | None
    severity: str
    status: str
    active: bool
    level: float | None
    value: float | None
    message: str
    period_time: str | None
    opened_at: str
    last_seen_at: str
    cleared_at: str | None
    acknowledged_at: str | None
    closed_at: str | None
    escalation_level: int


class AlertDetail(Alert):
    acknowledged_by: str | None
    closed_by: str | None
    close_reason: str | None


class Alerts(BaseModel):
    meta: Page
    results: list[Alert]
