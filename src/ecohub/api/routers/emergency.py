"""Environmental emergencies and spatial supervision: ``/api/v1/dispersion`` (screening plume/puff, GeoJSON),
``/api/v1/redlines`` (red lines, checks, change patches, areas). Services live in :mod:`ecohub.emergency`;
this router only maps HTTP to them (roles, scope, uploads, audit)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ecohub.api.http import audit_as, json_response, parse_floats, require_role
from ecohub.api.problems import ApiProblem, bad_request, forbidden, not_found
from ecohub.domain.errors import InputError
from ecohub.emergency import redline as RL
from ecohub.emergency import scenario as SC

router = APIRouter(prefix="/api/v1", tags=["emergency"])
STAFF = ("admin", "analyst", "officer")
MAX_UPLOAD = 50 * 1024 * 1024


class ReceptorIn(BaseModel):
    id: str | None = None
    name: str = ""
    type: str = ""
    lon: float
    lat: float
    population: int | None = None


class DispersionIn(BaseModel):
    """A release scenario. ``rate_gs`` for a continuous release (plume), ``mass_kg`` for an instantaneous one
    (puff). ``height_m`` is the physical release height; plume rise only with all three exit parameters."""
    model_config = ConfigDict(extra="forbid")
    lon: float
    lat: float
    wind_ms: float
    wind_from_deg: float
    thresholds_mg_m3: list[float] = Field(min_length=1, max_length=10)
    rate_gs: float | None = None
    mass_kg: float | None = None
    height_m: float = 0.0
    stability: str = "D"
    cloud: int | None = None
    low_cloud: int | None = None
    time: str | None = None
    exit_velocity_ms: float | None = None
    exit_temp_c: float | None = None
    diameter_m: float | None = None
    ambient_temp_c: float = 20.0
    scheme: Literal["pg", "briggs-rural", "briggs-urban"] = "pg"
    terrain: Literal["rural", "urban"] = "rural"
    mixing_height_m: float | None = None
    ground_reflection: bool = True
    x_max_m: float = 50_000.0
    receptors: list[ReceptorIn] = Field(default_factory=list, max_length=5000)
    use_registered_receptors: bool = Field(True, description="add the registered sensitive receptors")


class DispersionOut(BaseModel):
    screening: str
    kind: str
    unit: str
    stability: dict[str, Any]
    wind_at_release_ms: float
    effective_height_m: float
    plume_rise: dict[str, Any] | None
    max_concentration_mg_m3: float
    max_distance_m: float
    isopleths: list[dict[str, Any]]
    receptors: list[dict[str, Any]]
    notes: list[str]
    inputs: dict[str, Any]
    geojson: dict[str, Any]


def scenario_from(body: DispersionIn, registered: list[dict]) -> SC.Scenario:
    recs = [SC.Receptor(id=r.id or str(i), name=r.name, type=r.type, lon=r.lon, lat=r.lat, population=r.population)
            for i, r in enumerate(body.receptors)]
    recs += [SC.Receptor(**r) for r in registered]
    kind = "puff" if body.mass_kg is not None and body.rate_gs is None else "plume"
    data = body.model_dump(exclude={"receptors", "use_registered_receptors"})
    return SC.Scenario(kind=kind, receptors=recs, **data)


@router.post("/dispersion", response_model=DispersionOut,
             summary="Screening dispersion of an air release (Gaussian plume/puff): maximum, isopleths, receptors")
def dispersion(request: Request, body: DispersionIn):
    p = require_role(request, *STAFF)
    registered = []
    if body.use_registered_receptors:
        from ecohub.emergency.registers import receptors_near

        registered = receptors_near(request.app.state.store, p.scope, body.lon, body.lat, body.x_max_m)
    try:
        if body.rate_gs is not None and body.mass_kg is not None:
            raise InputError("rate_gs/mass_kg", [body.rate_gs, body.mass_kg], "give one of them")
        result = SC.run(scenario_from(body, registered))
    except InputError as e:
        raise bad_request(e) from None
    return json_response(request, result)


def _scope(request: Request, *roles: str):
    return require_role(request, *(roles or STAFF)).scope


def _guard(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except PermissionError as e:
        raise forbidden(str(e)) from None
    except InputError as e:
        raise bad_request(e) from None


@router.get("/redlines", summary="Ecological protection red lines as GeoJSON (staff; officers: their region)")
def redlines(request: Request, bbox: str | None = Query(None, description="lon0,lat0,lon1,lat1")):
    box = parse_floats(bbox, "bbox", 4) if bbox else None
    return json_response(request, _guard(RL.feature_collection, request.app.state.store, _scope(request), box))


@router.get("/redlines/check", summary="Outlets, risk sources, incidents, receptors inside or near a red line")
def redline_check(request: Request, buffer_m: Annotated[float, Query(ge=0, le=100_000)] = 0.0,
                  kind: Annotated[list[Literal["outlet", "risk_source", "incident", "receptor"]] | None, Query()] = None):
    return json_response(request, _guard(RL.check, request.app.state.store, _scope(request), buffer_m,
                                         tuple(kind) if kind else None))


@router.get("/redlines/areas", summary="Red-line area per county (km²)")
def redline_areas(request: Request):
    return json_response(request, _guard(RL.county_areas, request.app.state.store, _scope(request)))


async def _read_upload(file: UploadFile) -> bytes:
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ApiProblem(413, f"file larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    return data


@router.post("/redlines", summary="Import red-line polygons (admin): GeoJSON, Shapefile .zip")
async def redline_import(request: Request, file: Annotated[UploadFile, File()],
                         datum: Annotated[Literal["wgs84", "gcj02"], Query()] = "wgs84"):
    p = require_role(request, "admin", write=True)
    data = await _read_upload(file)
    rep = await run_in_threadpool(_guard, RL.import_redlines, request.app.state.store, data=data,
                                  filename=file.filename or "upload.geojson", datum=datum, by=p.name, scope=p.scope)
    audit_as(request, "redline.import", file.filename, {"imported": rep.imported, "updated": rep.updated,
                                                        "rejected": len(rep.rejected)})
    return json_response(request, rep.as_dict())


@router.post("/redlines/patches", summary="Import change patches; intersections raise redline_change alerts")
async def redline_patches(request: Request, file: Annotated[UploadFile, File()],
                          datum: Annotated[Literal["wgs84", "gcj02"], Query()] = "wgs84"):
    p = require_role(request, "admin", "officer", write=True)
    data = await _read_upload(file)
    rep = await run_in_threadpool(_guard, RL.import_patches, request.app.state.store, data=data,
                                  filename=file.filename or "patches.geojson", datum=datum, by=p.name, scope=p.scope)
    audit_as(request, "redline.patches", file.filename, {"imported": rep.imported, "alerts": len(rep.alerts)})
    return json_response(request, rep.as_dict())


@router.get("/receptors", summary="Sensitive receptors as GeoJSON (staff)")
def receptors(request: Request, bbox: str | None = Query(None, description="lon0,lat0,lon1,lat1")):
    from ecohub.emergency.registers import receptor_features

    box = parse_floats(bbox, "bbox", 4) if bbox else None
    return json_response(request, _guard(receptor_features, request.app.state.store, _scope(request), box))


@router.post("/receptors", summary="Import sensitive receptors (admin, officer): GeoJSON, Shapefile .zip")
async def receptor_import(request: Request, file: Annotated[UploadFile, File()],
                          datum: Annotated[Literal["wgs84", "gcj02"], Query()] = "wgs84"):
    from ecohub.emergency.registers import import_receptors

    p = require_role(request, "admin", "officer", write=True)
    data = await _read_upload(file)
    rep = await run_in_threadpool(_guard, import_receptors, request.app.state.store, data=data,
                                  filename=file.filename or "receptors.geojson", datum=datum, scope=p.scope)
    audit_as(request, "receptor.import", file.filename, {"imported": rep["imported"], "rejected": len(rep["rejected"])})
    return json_response(request, rep)


@router.get("/risk-sources", summary="Risk-source register (staff: their scope; an enterprise: its own record)")
def risk_sources(request: Request, format: Annotated[Literal["json", "geojson"], Query()] = "json"):
    from ecohub.emergency import risk

    scope = require_role(request, *STAFF, "enterprise").scope
    fn = risk.features if format == "geojson" else risk.list_sources
    return json_response(request, _guard(fn, request.app.state.store, scope))


@router.post("/risk-sources", summary="Import the register (admin, officer): CSV or Excel, one row per substance")
async def risk_import(request: Request, file: Annotated[UploadFile, File()]):
    from ecohub.emergency import risk

    p = require_role(request, "admin", "officer", write=True)
    data = await _read_upload(file)
    rep = await run_in_threadpool(_guard, risk.import_register, request.app.state.store, data=data,
                                  filename=file.filename or "risk.csv", by=p.name, scope=p.scope)
    audit_as(request, "risk.import", file.filename, {"imported": rep["imported"], "rejected": len(rep["rejected"])})
    return json_response(request, rep)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["submitted", "approved", "rejected"]
    note: str | None = Field(None, max_length=2000)


@router.post("/risk-sources/{risk_source_id}/status", summary="Submit (enterprise) or review (officer) a record")
def risk_status(request: Request, risk_source_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: StatusIn):
    from ecohub.domain.errors import NotFound
    from ecohub.emergency import risk

    p = require_role(request, "admin", "officer", "enterprise", write=True)
    try:
        out = _guard(risk.transition, request.app.state.store, p.scope, risk_source_id, body.status, body.note, p.name)
    except NotFound:
        raise not_found("risk source") from None
    audit_as(request, f"risk.{body.status}", str(risk_source_id), {"from": out["from"], "note": body.note})
    return json_response(request, out)
