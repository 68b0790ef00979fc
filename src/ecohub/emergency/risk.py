"""The risk-source register (一源一档): one record per enterprise with its risk substances, HJ 941 grade,
emergency-plan filing (备案) with validity, supplies and contacts.

Import (CSV or Excel, one row per substance; columns below) by admins/officers is stored ``approved``; an
enterprise maintains its own record through the API, which puts it in ``submitted`` for an officer to approve
or reject (with a reason). The workflow is declared once (:data:`TRANSITIONS`); every change is audited by the
API's audit log. Contacts are personal data: only staff and the enterprise itself see them.

Columns: ``uscc`` (required; the enterprise must be registered), ``substance``, ``cas``, ``quantity_t``,
``critical_t`` (optional override), ``m_score``, ``e_air``, ``e_water``, ``lon``, ``lat`` (default: the
enterprise's first outlet), ``plan_record_no``, ``plan_filed_on``, ``plan_valid_until`` (YYYY-MM-DD),
``supplies`` (free text, ``;``-separated), ``contact_name``, ``contact_phone``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.timeutil import BEIJING
from ecohub.emergency import hj941
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import enterprise, site
from ecohub.store.schema_emergency import risk_source, risk_substance
from ecohub.store.tx import write_tx

TRANSITIONS = {"draft": ("submitted",), "submitted": ("approved", "rejected"), "approved": ("submitted",),
               "rejected": ("submitted",)}
EXPIRY_WARNING_DAYS = 30
STAFF = ("system", "admin", "analyst", "officer")


def read_rows(path: Path | str | None = None, *, data: bytes | None = None, filename: str | None = None) -> list[dict]:
    name = filename or str(path)
    raw = data if data is not None else Path(path).read_bytes()
    if name.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except Exception as e:  # noqa: BLE001 - openpyxl raises many types for a bad file
            raise InputError("file", name, f"not a readable Excel workbook: {e}") from None
        rows = list(wb.active.iter_rows(values_only=True))
        if not rows:
            return []
        head = [str(h or "").strip() for h in rows[0]]
        return [{h: ("" if v is None else str(v)) for h, v in zip(head, r, strict=False)} for r in rows[1:]]
    if name.lower().endswith(".csv"):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("file", name, "CSV must be UTF-8") from None
        return list(csv.DictReader(text.splitlines()))
    raise InputError("file", name, "a .csv or .xlsx file")


def _f(row: dict, key: str, line: int, *, required: bool = False) -> float | None:
    v = (row.get(key) or "").strip()
    if not v:
        if required:
            raise InputError(f"line {line}: {key}", v, "required")
        return None
    try:
        x = float(v)
    except ValueError:
        raise InputError(f"line {line}: {key}", v, "not a number") from None
    if not math.isfinite(x):
        raise InputError(f"line {line}: {key}", v, "not a finite number")
    return x


def _d(row: dict, key: str, line: int) -> str | None:
    v = (row.get(key) or "").strip()[:10]
    if not v:
        return None
    try:
        return date.fromisoformat(v).isoformat()
    except ValueError:
        raise InputError(f"line {line}: {key}", v, "a date YYYY-MM-DD") from None


def import_register(store: Store, path: Path | str | None = None, *, data: bytes | None = None,
                    filename: str | None = None, by: str | None = None, scope: Scope | None = None) -> dict:
    """Import the register; rows of an enterprise with any bad row are rejected together (with every reason)."""
    if scope is not None and scope.role not in ("system", "admin", "officer"):
        raise PermissionError("importing the risk-source register is for admins and officers")
    rows = read_rows(path, data=data, filename=filename)
    by_uscc: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    rejected = []
    for i, r in enumerate(rows, start=2):
        u = (r.get("uscc") or "").strip().upper()
        if not u:
            rejected.append({"line": i, "reason": "uscc: required"})
            continue
        by_uscc[u].append((i, r))
    with store.engine.connect() as conn:
        ents = {u: (eid, reg) for u, eid, reg in conn.execute(select(enterprise.c.uscc, enterprise.c.id,
                                                                     enterprise.c.region_code))}
        first_site = {}
        for eid, lon, lat in conn.execute(select(site.c.enterprise_id, site.c.lon, site.c.lat)
                                          .where(site.c.enterprise_id.is_not(None)).order_by(site.c.id)):
            first_site.setdefault(eid, (lon, lat))
    records = []
    for u, items in by_uscc.items():
        try:
            if u not in ents:
                raise NotFound(f"enterprise {u} is not registered (ecohub enterprise add)")
            eid, reg = ents[u]
            if scope is not None and scope.role == "officer" and not reg.startswith(region_prefix(scope.region_code)
                                                                                  or "-"):
                raise PermissionError(f"enterprise {u} is outside your region")
            lines = []
            head = items[0][1]
            for line, r in items:
                if (r.get("substance") or "").strip() or (r.get("cas") or "").strip():
                    lines.append(hj941.SubstanceLine(name=(r.get("substance") or "").strip(),
                                                     cas=(r.get("cas") or "").strip() or None,
                                                     quantity_t=_f(r, "quantity_t", line, required=True),
                                                     critical_t=_f(r, "critical_t", line)))
            m = _f(head, "m_score", items[0][0])
            e_air = (head.get("e_air") or "").strip().upper() or None
            e_water = (head.get("e_water") or "").strip().upper() or None
            g = hj941.grade(lines, m if m is not None else 0.0, e_air, e_water) if (e_air or e_water) else None
            lon, lat = _f(head, "lon", items[0][0]), _f(head, "lat", items[0][0])
            if lon is None or lat is None:
                if eid not in first_site:
                    raise InputError(f"line {items[0][0]}: lon/lat", None, "needed (the enterprise has no outlet)")
                lon, lat = first_site[eid]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InputError(f"line {items[0][0]}: lon/lat", (lon, lat), "WGS-84 degrees")
            contacts = [{"name": (head.get("contact_name") or "").strip(), "phone": (head.get("contact_phone") or "")
                         .strip()}] if (head.get("contact_name") or "").strip() else []
            supplies = [s.strip() for s in (head.get("supplies") or "").split(";") if s.strip()]
            records.append({"eid": eid, "reg": reg, "name": (head.get("name") or "").strip() or u, "lon": lon,
                            "lat": lat, "m": m, "e_air": e_air, "e_water": e_water, "grade": g, "lines": lines,
                            "plan_record_no": (head.get("plan_record_no") or "").strip() or None,
                            "plan_filed_on": _d(head, "plan_filed_on", items[0][0]),
                            "plan_valid_until": _d(head, "plan_valid_until", items[0][0]),
                            "contacts": contacts, "supplies": supplies})
        except (InputError, NotFound, PermissionError) as e:
            rejected.append({"uscc": u, "lines": [ln for ln, _ in items], "reason": str(e)})
    now = datetime.now(UTC)
    saved = 0
    with write_tx(store) as conn:
        for rec in records:
            _save(conn, rec, now, by, "approved")
            saved += 1
    return {"imported": saved, "rejected": rejected}


def _save(conn, rec: dict, now: datetime, by: str | None, status: str) -> int:
    g = rec["grade"]
    values = dict(name=rec["name"][:200], lon=rec["lon"], lat=rec["lat"], region_code=rec["reg"],
                  process_m=None if rec["m"] is None else int(round(rec["m"])), e_level=rec["e_air"] or rec["e_water"],
                  q_ratio=None if g is None else g["q"], grade=None if g is None else g["grade"],
                  grade_code=None if g is None else g["code"][:40], grade_detail=g,
                  plan_record_no=rec["plan_record_no"], plan_filed_on=rec["plan_filed_on"],
                  plan_valid_until=rec["plan_valid_until"], supplies=rec["supplies"], contacts=rec["contacts"],
                  status=status, updated_at=now, updated_by=by)
    rid = conn.scalar(select(risk_source.c.id).where(risk_source.c.enterprise_id == rec["eid"]))
    if rid is None:
        rid = conn.execute(insert(risk_source).values(enterprise_id=rec["eid"], **values)).inserted_primary_key[0]
    else:
        conn.execute(update(risk_source).where(risk_source.c.id == rid).values(**values))
        conn.execute(delete(risk_substance).where(risk_substance.c.risk_source_id == rid))
    crit = {(s["name"], s["cas"]): s for s in (g or {}).get("substances", [])}
    for ln in rec["lines"]:
        s = crit.get((ln.name, ln.cas), {})
        conn.execute(insert(risk_substance).values(risk_source_id=rid, name=ln.name or ln.cas, cas=ln.cas,
                                                   quantity_t=ln.quantity_t, critical_t=s.get("critical_t"),
                                                   ratio=s.get("ratio")))
    return int(rid)


def _visible(scope: Scope, q):
    if scope.full:
        return q
    if scope.role == "officer":
        return q.where(risk_source.c.region_code.startswith(region_prefix(scope.region_code) or "-", autoescape=True))
    if scope.role == "enterprise" and scope.enterprise_id is not None:
        return q.where(risk_source.c.enterprise_id == scope.enterprise_id)
    raise PermissionError("the risk-source register is for staff and for each enterprise's own record")


def plan_state(valid_until: str | None, today: date | None = None) -> str:
    """missing | expired | expiring (within 30 days) | valid."""
    if not valid_until:
        return "missing"
    today = today or datetime.now(UTC).date()
    d = date.fromisoformat(valid_until)
    return "expired" if d < today else "expiring" if (d - today).days <= EXPIRY_WARNING_DAYS else "valid"


def list_sources(store: Store, scope: Scope) -> list[dict]:
    q = _visible(scope, select(risk_source, enterprise.c.uscc).select_from(
        risk_source.join(enterprise, enterprise.c.id == risk_source.c.enterprise_id))).order_by(risk_source.c.id)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
        subs = defaultdict(list)
        ids = [r["id"] for r in rows]
        if ids:
            for s in conn.execute(select(risk_substance).where(risk_substance.c.risk_source_id.in_(ids))).mappings():
                subs[s["risk_source_id"]].append({k: s[k] for k in ("name", "cas", "quantity_t", "critical_t",
                                                                    "ratio")})
    out = []
    for r in rows:
        r["substances"] = subs[r["id"]]
        r["plan_state"] = plan_state(r["plan_valid_until"])
        r["updated_at"] = r["updated_at"].astimezone(BEIJING).isoformat() if r["updated_at"] else None
        if scope.role not in STAFF and not (scope.role == "enterprise" and scope.enterprise_id == r["enterprise_id"]):
            r["contacts"] = None
        out.append(r)
    return out


def features(store: Store, scope: Scope) -> dict:
    """Risk sources as GeoJSON points for the one map, coloured by grade on the page."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
         "properties": {"kind": "risk_source", "id": r["id"], "name": r["name"], "uscc": r["uscc"],
                        "grade": r["grade"], "grade_code": r["grade_code"], "q": r["q_ratio"],
                        "plan_state": r["plan_state"], "status": r["status"]}} for r in list_sources(store, scope)]}


def transition(store: Store, scope: Scope, risk_source_id: int, to: str, note: str | None = None,
               by: str | None = None) -> dict:
    """Move a record through the workflow: the enterprise submits its own; an officer of the region (or an
    admin) approves or rejects (a reason is required to reject)."""
    with write_tx(store) as conn:
        row = conn.execute(_visible(scope, select(risk_source).where(risk_source.c.id == risk_source_id))).first()
        if row is None:
            raise NotFound("risk source")
        if to not in TRANSITIONS.get(row.status, ()):
            raise InputError("status", to, f"not allowed from {row.status} (allowed: "
                             f"{', '.join(TRANSITIONS.get(row.status, ())) or 'none'})")
        if to == "submitted" and scope.role not in ("enterprise", "admin", "system"):
            raise PermissionError("the enterprise (or an admin) submits its record")
        if to in ("approved", "rejected") and scope.role not in ("officer", "admin", "system"):
            raise PermissionError("officers and admins review records")
        if to == "rejected" and not (note or "").strip():
            raise InputError("note", note, "a reason is required to reject")
        conn.execute(update(risk_source).where(risk_source.c.id == risk_source_id).values(
            status=to, review_note=note, updated_at=datetime.now(UTC), updated_by=by))
    return {"id": risk_source_id, "status": to, "from": row.status}


def grade_enterprise(store: Store, uscc: str) -> dict:
    """The stored grade of an enterprise's record (``ecohub risk grade``)."""
    with store.engine.connect() as conn:
        r = conn.execute(select(risk_source.c.grade_detail, risk_source.c.plan_valid_until, risk_source.c.status)
                         .select_from(risk_source.join(enterprise, enterprise.c.id == risk_source.c.enterprise_id))
                         .where(enterprise.c.uscc == uscc.strip().upper())).first()
    if r is None:
        raise NotFound(f"no risk-source record for enterprise {uscc}")
    detail = r.grade_detail if isinstance(r.grade_detail, dict) else json.loads(r.grade_detail or "null")
    return {"uscc": uscc.strip().upper(), "status": r.status, "plan_state": plan_state(r.plan_valid_until),
            **(detail or {"grade": None})}
