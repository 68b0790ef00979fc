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


class ReleaseIn(BaseModel):
    """The release and the weather of a scenario (shared by a free scenario and an incident's).
    ``rate_gs`` for a continuous release (plume), ``mass_kg`` for an instantaneous one (puff). ``height_m`` is
    the physical release height; plume rise only with all three exit parameters."""
    model_config = ConfigDict(extra="forbid")
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
    x_max_m: float = 50_000.0


class DispersionIn(ReleaseIn):
    """A release scenario at a place, with receptors of its own and/or the registered ones."""
    lon: float
    lat: float
    ground_reflection: bool = True
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


# --- incidents ----------------------------------------------------------------------------------------------------
class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    lon: float
    lat: float
    occurred_at: str
    substance: str | None = Field(None, max_length=200)
    amount_kg: float | None = None
    source_desc: str | None = Field(None, max_length=2000)
    enterprise_uscc: str | None = Field(None, max_length=18)
    deaths: int = Field(0, ge=0)
    poisoned: int = Field(0, ge=0)
    evacuated: int = Field(0, ge=0)
    loss_wan_yuan: float = Field(0.0, ge=0)
    level: Literal["I", "II", "III", "IV"] | None = None
    level_basis: str | None = Field(None, max_length=2000)


class IncidentStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["responding", "closed"]
    summary: str | None = Field(None, max_length=5000)


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["monitoring", "sampling", "action", "notification", "note"]
    title: str = Field(min_length=1, max_length=300)
    owner: str | None = Field(None, max_length=100)
    due_at: str | None = None
    lon: float | None = None
    lat: float | None = None
    result: dict[str, Any] | None = None


class IncidentDispersionIn(ReleaseIn):
    """The release at an incident's place (taken from the incident)."""


IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _inc(fn, *args, **kw):
    from ecohub.domain.errors import NotFound

    try:
        return _guard(fn, *args, **kw)
    except NotFound as e:
        raise not_found(str(e) or "incident") from None


@router.get("/incidents", summary="Environmental incidents (staff; officers: their region)")
def incidents(request: Request, status: Literal["reported", "responding", "closed"] | None = None,
              format: Annotated[Literal["json", "geojson"], Query()] = "json"):
    from ecohub.emergency import incident as I

    scope = _scope(request)
    if format == "geojson":
        return json_response(request, _inc(I.features, request.app.state.store, scope))
    return json_response(request, _inc(I.list_incidents, request.app.state.store, scope, status))


@router.post("/incidents", status_code=201, summary="Report an incident (officer, admin); notifies through alerts")
def incident_report(request: Request, body: IncidentIn):
    from ecohub.emergency import incident as I

    p = require_role(request, "admin", "officer", write=True)
    out = _inc(I.report, request.app.state.store, p.scope, by=p.name, **body.model_dump())
    audit_as(request, "incident.report", out["code"], {"level": out["level"]})
    return json_response(request, out, status_code=201)


@router.get("/incidents/{incident_id}", summary="One incident with its timeline and nearby live monitoring data")
def incident_one(request: Request, incident_id: IncidentId):
    from ecohub.emergency import incident as I

    scope = _scope(request)
    out = _inc(I.get, request.app.state.store, scope, incident_id)
    out["nearby_monitoring"] = _inc(I.nearby_monitoring, request.app.state.store, scope, incident_id)
    return json_response(request, out)


@router.post("/incidents/{incident_id}/status", summary="Respond to or close (with a summary) an incident")
def incident_status(request: Request, incident_id: IncidentId, body: IncidentStatusIn):
    from ecohub.emergency import incident as I

    p = require_role(request, "admin", "officer", write=True)
    out = _inc(I.set_status, request.app.state.store, p.scope, incident_id, body.status, summary=body.summary,
               by=p.name)
    audit_as(request, f"incident.{body.status}", out["code"])
    return json_response(request, out)


@router.post("/incidents/{incident_id}/tasks", status_code=201, summary="Add a timeline task (owner, deadline)")
def incident_task_add(request: Request, incident_id: IncidentId, body: TaskIn):
    from ecohub.emergency import incident as I

    p = require_role(request, "admin", "officer", write=True)
    out = _inc(I.add_task, request.app.state.store, p.scope, incident_id, by=p.name, **body.model_dump())
    audit_as(request, "incident.task", str(incident_id), {"kind": body.kind})
    return json_response(request, out, status_code=201)


@router.post("/incidents/{incident_id}/dispersion", response_model=DispersionOut,
             summary="Screening dispersion at the incident with the registered receptors; stored on the incident")
def incident_dispersion(request: Request, incident_id: IncidentId, body: IncidentDispersionIn):
    from ecohub.emergency import incident as I

    p = require_role(request, "admin", "officer", write=True)
    out = _inc(I.run_dispersion, request.app.state.store, p.scope, incident_id, body.model_dump(), by=p.name)
    audit_as(request, "incident.dispersion", str(incident_id), {"receptors": len(out["receptors"])})
    return json_response(request, out)
