"""Environmental emergencies (突发环境事件): report, response level, timeline of tasks, notifications, closure.

**Status** (declared once, :data:`TRANSITIONS`): reported → responding → closed; reported → closed (false alarm).
Closing needs a summary. Every change is a timeline entry (``incident_task`` kind ``note``) with who and when,
and the API's audit log records the request.

**Response level** (响应分级) follows the grading of the national emergency plan (国家突发环境事件应急预案,
国办函〔2014〕119号, Appendix 1) on its quantitative criteria — deaths, poisonings or serious injuries, people
evacuated, direct economic loss: I 特别重大 (≥ 30 deaths, ≥ 100 poisoned, ≥ 50 000 evacuated, ≥ 1 亿元),
II 重大 (≥ 10, ≥ 50, ≥ 10 000, ≥ 2 000 万元), III 较大 (≥ 3, ≥ 10, ≥ 5 000, ≥ 500 万元), else IV 一般; the highest
criterion met wins. The qualitative criteria (drinking-water source interruption, cross-border impact …) are
judged by the officer, who may set a higher level with its basis. Thresholds: UNCONFIRMED against the text.

**Notifications** go through the existing alert channels: reporting (and raising the level) raises an alert
(rule ``incident``; severity critical for I/II, major for III, warning for IV), whose subscriptions and outbox
deliver the messages.

**Dispersion**: :func:`run_dispersion` runs the screening plume/puff at the incident with the registered
receptors nearby, stores inputs and result on the incident (and a timeline entry), so the map and page can
show the isopleths and affected receptors.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update

from ecohub.alerts.lifecycle import Condition, raise_condition
from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.timeutil import BEIJING, parse_time
from ecohub.emergency import boundaries
from ecohub.emergency import scenario as SC
from ecohub.emergency.localgeo import haversine_m
from ecohub.emergency.registers import receptors_near
from ecohub.store.db import Store
from ecohub.store.queries import Scope, SeriesFilter, latest_values, region_prefix
from ecohub.store.schema import enterprise, region, site
from ecohub.store.schema_emergency import INCIDENT_LEVELS, incident, incident_task
from ecohub.store.tx import write_tx

TRANSITIONS = {"reported": ("responding", "closed"), "responding": ("closed",), "closed": ()}
TASK_KINDS = ("monitoring", "sampling", "action", "notification", "dispersion", "note")
LEVEL_ZH = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
SEVERITY = {"I": "critical", "II": "critical", "III": "major", "IV": "warning"}
#: level → (deaths, poisoned/seriously injured, evacuated, direct loss in 万元), minimum for that level
CRITERIA = {"I": (30, 100, 50_000, 10_000), "II": (10, 50, 10_000, 2_000), "III": (3, 10, 5_000, 500)}
STAFF = ("system", "admin", "analyst", "officer")
NEARBY_KINDS = ("air_station", "water_section", "micro_station")


def response_level(deaths: int = 0, poisoned: int = 0, evacuated: int = 0, loss_wan_yuan: float = 0.0
                   ) -> tuple[str, str]:
    """(level, basis) from the quantitative criteria of the national plan's grading."""
    vals = {"deaths": deaths, "poisoned": poisoned, "evacuated": evacuated, "loss_wan_yuan": loss_wan_yuan}
    for k, v in vals.items():
        if not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise InputError(k, v, "a number ≥ 0")
    names = ("deaths", "poisoned", "evacuated", "loss_wan_yuan")
    for lvl in ("I", "II", "III"):
        hit = [f"{n} {vals[n]:g} ≥ {t:g}" for n, t in zip(names, CRITERIA[lvl], strict=True) if vals[n] >= t]
        if hit:
            return lvl, f"{LEVEL_ZH[lvl]}（{lvl}级）: " + "; ".join(hit)
    return "IV", "一般（IV级）: below the 较大 thresholds"


def _scope_q(scope: Scope, q):
    if scope.full:
        return q
    if scope.role == "officer":
        return q.where(incident.c.region_code.startswith(region_prefix(scope.region_code) or "-", autoescape=True))
    raise PermissionError("incidents are for staff")


def _code(conn, when: datetime) -> str:
    day = when.astimezone(BEIJING).strftime("%Y%m%d")
    n = conn.scalar(select(func.count()).select_from(incident).where(incident.c.code.like(f"INC-{day}-%")))
    return f"INC-{day}-{int(n) + 1:03d}"


def _num(name: str, v, lo: float = 0.0) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(name, v, "a number") from None
    if not math.isfinite(f) or f < lo:
        raise InputError(name, v, f"a finite number ≥ {lo:g}")
    return f


def report(store: Store, scope: Scope, *, title: str, lon, lat, occurred_at: str, substance: str | None = None,
           amount_kg=None, source_desc: str | None = None, enterprise_uscc: str | None = None,
           deaths: int = 0, poisoned: int = 0, evacuated: int = 0, loss_wan_yuan: float = 0.0,
           level: str | None = None, level_basis: str | None = None, by: str | None = None,
           now: datetime | None = None) -> dict:
    """Report an incident; its level comes from the criteria (or is set higher with a basis); an alert
    notifies through the existing channels."""
    if scope.role not in ("system", "admin", "officer"):
        raise PermissionError("reporting incidents is for officers and admins")
    if not (title or "").strip():
        raise InputError("title", title, "required")
    lon = _num("lon", lon, -180)
    lat = _num("lat", lat, -90)
    if lon > 180 or lat > 90:
        raise InputError("lon/lat", (lon, lat), "WGS-84 degrees")
    when = parse_time(str(occurred_at), "occurred_at")
    amount = None if amount_kg in (None, "") else _num("amount_kg", amount_kg)
    computed, basis = response_level(deaths, poisoned, evacuated, loss_wan_yuan)
    if level is not None:
        if level not in INCIDENT_LEVELS:
            raise InputError("level", level, "I, II, III or IV")
        if INCIDENT_LEVELS.index(level) > INCIDENT_LEVELS.index(computed):
            raise InputError("level", level, f"lower than the criteria give ({computed}: {basis})")
        if level != computed and not (level_basis or "").strip():
            raise InputError("level_basis", level_basis, "a basis is required to set a higher level than the criteria")
        basis = level_basis if level != computed else basis
    else:
        level = computed
    now = now or datetime.now(UTC)
    with write_tx(store) as conn:
        eid = None
        reg = None
        if enterprise_uscc:
            row = conn.execute(select(enterprise.c.id, enterprise.c.region_code)
                               .where(enterprise.c.uscc == enterprise_uscc.strip().upper())).first()
            if row is None:
                raise InputError("enterprise_uscc", enterprise_uscc, "not a registered enterprise")
            eid, reg = row
        county = boundaries.county_of(SC.shapely_point(lon, lat))
        if county and conn.scalar(select(region.c.code).where(region.c.code == county)):
            reg = county
        if reg is None:
            raise InputError("lon/lat", (lon, lat), "outside the shipped county boundaries; name the enterprise")
        if scope.role == "officer" and not reg.startswith(region_prefix(scope.region_code) or "-"):
            raise PermissionError("the incident lies outside your region")
        code = _code(conn, when)
        iid = conn.execute(insert(incident).values(
            code=code, title=title.strip()[:200], occurred_at=when, lon=lon, lat=lat, region_code=reg,
            substance=substance, amount_kg=amount, source_desc=source_desc, enterprise_id=eid, level=level,
            level_basis=basis, status="reported", reported_by=by, reported_at=now, updated_at=now)).inserted_primary_key[0]
        _note(conn, iid, f"reported: {LEVEL_ZH[level]}（{level}级）— {basis}", by, now)
        _notify(conn, code, title, level, lon, lat, reg, now)
    return get(store, scope, int(iid))


def _note(conn, iid: int, text: str, by: str | None, now: datetime) -> None:
    conn.execute(insert(incident_task).values(incident_id=iid, kind="note", title=text[:300], created_at=now,
                                              created_by=by, done_at=now))


def _notify(conn, code: str, title: str, level: str, lon: float, lat: float, reg: str, now: datetime) -> int:
    c = Condition(rule="incident", cause_key=f"incident:{code}", severity=SEVERITY[level],
                  message=f"突发环境事件 {code}（{LEVEL_ZH[level]}，{level}级）：{title} / environmental incident {code}, "
                          f"level {level}: {title}", region=reg,
                  details={"incident": code, "level": level, "lon": lon, "lat": lat, "region_code": reg})
    return raise_condition(conn, c, int(now.timestamp())).alert_id


def get(store: Store, scope: Scope, incident_id: int) -> dict:
    with store.engine.connect() as conn:
        row = conn.execute(_scope_q(scope, select(incident).where(incident.c.id == incident_id))).mappings().first()
        if row is None:
            raise NotFound("incident")
        tasks = [dict(t) for t in conn.execute(select(incident_task).where(incident_task.c.incident_id == incident_id)
                                               .order_by(incident_task.c.id)).mappings()]
    out = _iso(dict(row))
    out["level_zh"] = LEVEL_ZH.get(out["level"] or "", None)
    out["tasks"] = [_iso(t) for t in tasks]
    return out


def _iso(d: dict) -> dict:
    """Times in Beijing time with their offset (as the rest of the API shows them)."""
    return {k: (v.astimezone(BEIJING).isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}


def list_incidents(store: Store, scope: Scope, status: str | None = None) -> list[dict]:
    q = select(incident.c.id, incident.c.code, incident.c.title, incident.c.occurred_at, incident.c.lon,
               incident.c.lat, incident.c.level, incident.c.status, incident.c.substance, incident.c.region_code)
    if status:
        q = q.where(incident.c.status == status)
    with store.engine.connect() as conn:
        return [_iso(dict(r)) for r in conn.execute(_scope_q(scope, q).order_by(incident.c.id.desc())).mappings()]


def set_status(store: Store, scope: Scope, incident_id: int, to: str, *, summary: str | None = None,
               by: str | None = None, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    if scope.role not in ("system", "admin", "officer"):
        raise PermissionError("officers and admins handle incidents")
    with write_tx(store) as conn:
        row = conn.execute(_scope_q(scope, select(incident.c.id, incident.c.status)
                                    .where(incident.c.id == incident_id))).first()
        if row is None:
            raise NotFound("incident")
        if to not in TRANSITIONS[row.status]:
            raise InputError("status", to, f"not allowed from {row.status} (allowed: "
                             f"{', '.join(TRANSITIONS[row.status]) or 'none'})")
        if to == "closed" and not (summary or "").strip():
            raise InputError("summary", summary, "closing an incident needs a summary")
        values = {"status": to, "updated_at": now}
        if to == "closed":
            values.update(closed_at=now, closed_by=by, summary=summary.strip())
        conn.execute(update(incident).where(incident.c.id == incident_id).values(**values))
        _note(conn, incident_id, f"{row.status} → {to}" + (f": {summary.strip()}" if summary else ""), by, now)
    return get(store, scope, incident_id)


def add_task(store: Store, scope: Scope, incident_id: int, *, kind: str, title: str, owner: str | None = None,
             due_at: str | None = None, lon=None, lat=None, result=None, by: str | None = None,
             now: datetime | None = None) -> dict:
    """A timeline entry: a monitoring point, a sampling result, an action or a notification, with owner and
    deadline."""
    if kind not in TASK_KINDS:
        raise InputError("kind", kind, f"one of {', '.join(TASK_KINDS)}")
    if not (title or "").strip():
        raise InputError("title", title, "required")
    due = parse_time(due_at, "due_at") if due_at else None
    lo = None if lon in (None, "") else _num("lon", lon, -180)
    la = None if lat in (None, "") else _num("lat", lat, -90)
    now = now or datetime.now(UTC)
    with write_tx(store) as conn:
        row = conn.execute(_scope_q(scope, select(incident.c.status).where(incident.c.id == incident_id))).first()
        if row is None:
            raise NotFound("incident")
        if row.status == "closed":
            raise InputError("incident", incident_id, "is closed")
        tid = conn.execute(insert(incident_task).values(
            incident_id=incident_id, kind=kind, title=title.strip()[:300], owner=owner, due_at=due,
            lon=lo, lat=la, result=result, created_at=now, created_by=by)).inserted_primary_key[0]
    return {"id": int(tid), "incident_id": incident_id, "kind": kind}


def complete_task(store: Store, scope: Scope, incident_id: int, task_id: int, result=None,
                  now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    with write_tx(store) as conn:
        if conn.execute(_scope_q(scope, select(incident.c.id).where(incident.c.id == incident_id))).first() is None:
            raise NotFound("incident")
        n = conn.execute(update(incident_task).where(incident_task.c.id == task_id,
                                                     incident_task.c.incident_id == incident_id)
                         .values(done_at=now, result=result)).rowcount
        if not n:
            raise NotFound("task")


def run_dispersion(store: Store, scope: Scope, incident_id: int, params: dict, by: str | None = None) -> dict:
    """Screening dispersion at the incident (its location), with the registered receptors nearby; the inputs and
    the result are stored on the incident and a timeline entry lists the affected receptors."""
    inc = get(store, scope, incident_id)
    p = dict(params)
    p.update(lon=inc["lon"], lat=inc["lat"])
    kind = "puff" if p.get("mass_kg") is not None and p.get("rate_gs") is None else "plume"
    near = receptors_near(store, scope, inc["lon"], inc["lat"], float(p.get("x_max_m", 50_000.0)))
    allowed = set(SC.Scenario.__dataclass_fields__) - {"receptors", "kind"}
    unknown = set(p) - allowed
    if unknown:
        raise InputError(sorted(unknown)[0], None, "not a scenario field")
    result = SC.run(SC.Scenario(kind=kind, receptors=[SC.Receptor(**r) for r in near], **p))
    now = datetime.now(UTC)
    with write_tx(store) as conn:
        conn.execute(update(incident).where(incident.c.id == incident_id).values(
            dispersion={"inputs": result["inputs"], "result": result}, updated_at=now))
        names = ", ".join(f"{r['name']}（{r['arrival_min']} min, {r['concentration_mg_m3']} mg/m³）"
                          for r in result["receptors"][:10]) or "none"
        conn.execute(insert(incident_task).values(
            incident_id=incident_id, kind="dispersion", title=f"screening dispersion: {len(result['receptors'])} "
                                                              f"receptors affected — {names}"[:300],
            result={"max_concentration_mg_m3": result["max_concentration_mg_m3"],
                    "isopleths": result["isopleths"], "receptors": [r["id"] for r in result["receptors"]]},
            created_at=now, created_by=by, done_at=now))
    return result


def nearby_monitoring(store: Store, scope: Scope, incident_id: int, radius_m: float = 20_000.0) -> list[dict]:
    """Live data (latest values) of the stations and sections within ``radius_m`` of the incident."""
    inc = get(store, scope, incident_id)
    dlat = radius_m / 111_000.0
    dlon = dlat / max(math.cos(math.radians(inc["lat"])), 0.01)
    with store.engine.connect() as conn:
        rows = conn.execute(select(site.c.code, site.c.lon, site.c.lat).where(
            site.c.kind.in_(NEARBY_KINDS), site.c.lat.between(inc["lat"] - dlat, inc["lat"] + dlat),
            site.c.lon.between(inc["lon"] - dlon, inc["lon"] + dlon))).all()
    dist = {c: float(haversine_m(inc["lon"], inc["lat"], x, y)) for c, x, y in rows}
    codes = [c for c, d in dist.items() if d <= radius_m]
    if not codes:
        return []
    vals = latest_values(store, SeriesFilter(sites=codes), scope=scope)
    for v in vals:
        v["distance_m"] = round(dist[v["site"]], 1)
        v["time"] = v["time"].isoformat() if isinstance(v.get("time"), datetime) else v.get("time")
    return sorted(vals, key=lambda v: (v["distance_m"], v["site"], v["parameter"]))


def features(store: Store, scope: Scope) -> dict:
    """Open incidents (not closed) with their last plume isopleths and affected receptors, for the one map."""
    q = select(incident.c.id, incident.c.code, incident.c.title, incident.c.lon, incident.c.lat, incident.c.level,
               incident.c.status, incident.c.dispersion).where(incident.c.status != "closed")
    feats = []
    with store.engine.connect() as conn:
        for r in conn.execute(_scope_q(scope, q)).mappings():
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                          "properties": {"kind": "incident", "id": r["id"], "code": r["code"], "title": r["title"],
                                         "level": r["level"], "status": r["status"]}})
            disp = r["dispersion"] or {}
            for f in (disp.get("result") or {}).get("geojson", {}).get("features", []):
                if f["properties"].get("kind") in ("isopleth", "receptor"):
                    feats.append({**f, "properties": {**f["properties"], "incident": r["code"]}})
    return {"type": "FeatureCollection", "features": feats}
