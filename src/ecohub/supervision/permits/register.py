"""The permit register (排污许可"一证式"): import from a workbook or CSV folder, versions, outlets, limits,
permitted tonnage, self-monitoring plans.

**Import** (:func:`import_register`). Rows are grouped by permit number. A permit is saved with all of its rows
or not at all (one write transaction, ``store.tx.write_tx``): any bad row of a permit rejects that permit, each
bad row answered with its table, line, field and reason (and kept in the quarantine); other permits are saved.

* ``permits``: ``number, enterprise (USCC), category (key|simplified|registration or 重点|简化|登记), industry,
  authority, issued_on, valid_from, valid_to, kind (issue|renewal|change|revocation; default issue), note``.
  Several rows of one number are versions in date order. ``issue`` of a number that exists (in the database or
  twice in the file) is a duplicate; a ``renewal`` must start after the validity it continues (no overlap);
  ``change`` and ``revocation`` happen within the validity. The number is checked by :mod:`.numbers`.
* ``outlets``: ``permit, outlet_code, site, type (main|general|special), lon, lat`` — ``site`` a registered
  gas/water outlet of the permit's enterprise; lon/lat, when given, must agree with the site (±0.001°).
* ``limits``: ``permit, outlet (outlet code or site code), parameter, limit, unit, period, converted_o2,
  standard`` — checked by :func:`ecohub.alerts.permits.parse_limit` (the one resolution by site kind and unit
  conversion every entry point uses). A limit row for an outlet × parameter × period that exists (e.g. from
  ``ecohub permit import``) is *that* row, updated and attached to the permit — never a second row.
* ``tonnage``: ``permit, parameter, tonnes (t/a), unit (t|kg; default t)``.
* ``plans``: ``permit, outlet, parameter, method (automatic|manual), frequency`` (HJ 819 self-monitoring plan).

Every saved permit gets a new ``permit_version`` row (the snapshot after the import) and an audit row.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from ecohub.alerts.permits import parse_limit
from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.parameters import UnknownParameter, resolve_for_site
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.quarantine import QuarantineSink
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import enterprise, parameter, site
from ecohub.store.schema_alerts import permit_limit
from ecohub.store.schema_permits import (
    MONITORING_FREQUENCIES,
    monitoring_plan,
    permit,
    permit_outlet,
    permit_tonnage,
    permit_version,
)
from ecohub.store.tx import write_tx
from ecohub.supervision.permits.files import Row, read_register
from ecohub.supervision.permits.numbers import check_number

CATEGORY_IN = {"key": "key", "重点": "key", "重点管理": "key", "simplified": "simplified", "简化": "simplified",
               "简化管理": "simplified", "registration": "registration", "登记": "registration", "登记管理": "registration"}
OUTLET_TYPE_IN = {"main": "main", "主要": "main", "主要排放口": "main", "general": "general", "一般": "general",
                  "一般排放口": "general", "special": "special", "特殊": "special", "特殊排放口": "special"}
KINDS = ("issue", "renewal", "change", "revocation")
OUTLET_KINDS = ("gas_outlet", "water_outlet")
STAFF = ("system", "admin", "analyst", "officer")
COORD_TOLERANCE = 0.001  # degrees


class RowError(InputError):
    def __init__(self, row: Row, field: str, value: object, reason: str):
        super().__init__(field, value, reason)
        self.row = row


@dataclass
class RegisterImport:
    saved: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"saved": len(self.saved), "rejected": len(self.rejected), "permits_saved": self.saved,
                "permits_rejected": self.rejected, "errors": self.errors}


def _date(row: Row, name: str, required: bool = True) -> date | None:
    v = row.get(name)
    if not v:
        if required:
            raise RowError(row, name, v, "required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(v[:10])
    except ValueError:
        raise RowError(row, name, v, "not a date (YYYY-MM-DD)") from None


@dataclass
class _Version:
    row: Row
    kind: str
    category: str
    industry: str | None
    authority: str | None
    effective_on: date
    valid_from: date
    valid_to: date
    note: str | None


def _versions(rows: list[Row], number: str, uscc: str, current: dict | None) -> list[_Version]:
    """Check the permits rows of one number against each other and the stored permit (duplicates, overlaps)."""
    out: list[_Version] = []
    last = None if current is None else (current["valid_from"], current["valid_to"], current["status"])
    for row in sorted(rows, key=lambda r: (r.get("issued_on"), r.line)):
        kind = (row.get("kind") or "issue").lower()
        if kind not in KINDS:
            raise RowError(row, "kind", row.get("kind"), f"one of {', '.join(KINDS)}")
        cat = CATEGORY_IN.get(row.get("category")) or CATEGORY_IN.get(row.get("category").lower())
        if cat is None:
            raise RowError(row, "category", row.get("category"), "key (重点), simplified (简化) or registration (登记)")
        try:
            check_number(number, uscc, cat)
        except InputError as e:
            raise RowError(row, e.field, e.value, e.reason) from None
        issued = _date(row, "issued_on")
        vf, vt = _date(row, "valid_from", kind != "revocation"), _date(row, "valid_to", kind != "revocation")
        if kind == "issue":
            if last is not None:
                raise RowError(row, "number", number, "duplicate permit number: already issued"
                               + (" (in the register)" if current is not None and not out else " (earlier row)"))
        elif last is None:
            raise RowError(row, "kind", kind, "the permit has not been issued (no issue row, not in the register)")
        elif last[2] == "revoked":
            raise RowError(row, "kind", kind, "the permit is revoked")
        if kind == "revocation":
            vf, vt = last[0], min(last[1], issued)  # type: ignore[index]
        elif kind == "change":
            vf, vt = vf or last[0], vt or last[1]  # type: ignore[index]
        assert vf is not None and vt is not None
        if vt < vf:
            raise RowError(row, "valid_to", row.get("valid_to"), f"before valid_from {vf}")
        if kind == "renewal" and last is not None and vf <= last[1]:
            raise RowError(row, "valid_from", vf.isoformat(), f"overlapping validity: the renewal must start after "
                           f"the current validity ends ({last[0]} … {last[1]})")
        if kind in ("change", "revocation") and last is not None and not last[0] <= issued <= last[1]:
            raise RowError(row, "issued_on", issued.isoformat(), f"a {kind} must fall within the validity "
                           f"{last[0]} … {last[1]}")
        out.append(_Version(row, kind, cat, row.get("industry") or None, row.get("authority") or None, issued, vf,
                            vt, row.get("note") or None))
        last = (vf, vt, "revoked" if kind == "revocation" else "valid")
    return out


def _tonnes(row: Row) -> float:
    v = row.get("tonnes") or row.get("tonnes_per_year")
    try:
        t = float(v)
    except ValueError:
        raise RowError(row, "tonnes", v, "must be a number (t/a)") from None
    if not math.isfinite(t) or t <= 0:
        raise RowError(row, "tonnes", v, "must be a positive number (t/a)")
    unit = (row.get("unit") or "t").lower()
    factor = {"t": 1.0, "t/a": 1.0, "吨": 1.0, "吨/年": 1.0, "kg": 1e-3, "kg/a": 1e-3}.get(unit)
    if factor is None:
        raise RowError(row, "unit", row.get("unit"), "t (t/a) or kg (kg/a)")
    return t * factor


def import_register(store: Store, path: str | Path, origin: Origin | None = None,
                    scope: Scope | None = None) -> RegisterImport:
    """Import a register file; see the module doc. Raises :class:`InputError` when the file cannot be read."""
    return save_tables(store, read_register(path), origin, scope, source=str(path))


def rows_from_json(tables: dict[str, list[dict]]) -> dict[str, list[Row]]:
    """The API's JSON body (``{"permits": [{…}], "outlets": […], …}``) as the rows of a register file (line =
    position + 2, as if a header were line 1)."""
    from ecohub.supervision.permits.files import TABLES

    out: dict[str, list[Row]] = {t: [] for t in TABLES}
    for t, rows in (tables or {}).items():
        if t not in out:
            raise InputError("table", t, "one of " + ", ".join(TABLES))
        out[t] = [Row(t, i, {str(k).lower(): "" if v is None else str(v).strip() for k, v in r.items()})
                  for i, r in enumerate(rows, start=2)]
    return out


def save_tables(store: Store, tables: dict[str, list[Row]], origin: Origin | None = None,
                scope: Scope | None = None, source: str = "api") -> RegisterImport:
    """Save register rows (from a file or the API): each permit whole or not at all. ``scope``: an officer may
    write permits of enterprises in his region only; enterprises and other roles may not write."""
    scope = scope or Scope("system")
    if not scope.full and scope.role != "officer":
        raise PermissionError("the permit register is written by officers and admins")
    origin = origin or Origin.cli(command="permit register import")
    path = source
    res = RegisterImport()
    sink = QuarantineSink(store, "file", str(path))
    by_number: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for t, rows in tables.items():
        for r in rows:
            num = (r.get("number") if t == "permits" else r.get("permit")).upper()
            if not num:
                res.errors.append({"table": t, "line": r.line, "field": "number" if t == "permits" else "permit",
                                   "value": "", "reason": "required"})
                sink.add(f"{t} line {r.line}: permit number required", line=r.line, field="permit", raw=r.raw())
                continue
            by_number[num][t].append(r)
    with store.engine.connect() as conn:
        sites = {s.code: s for s in conn.execute(select(site.c.id, site.c.code, site.c.kind, site.c.lon, site.c.lat,
                                                         site.c.enterprise_id))}
        params = {p.name: p.id for p in conn.execute(select(parameter.c.name, parameter.c.id))}
    for number, rows in by_number.items():
        try:
            with write_tx(store) as conn:
                _save_permit(conn, number, rows, sites, params, origin, str(path), scope)
            res.saved.append(number)
        except RowError as e:
            res.rejected.append(number)
            err = {"permit": number, "table": e.row.table, "line": e.row.line, "field": e.field, "value": e.value,
                   "reason": e.reason}
            res.errors.append(err)
            sink.add(f"{e.row.table} line {e.row.line}: {e} (permit {number} not saved)", line=e.row.line,
                     field=e.field, raw=e.row.raw())
    sink.flush()
    return res


def _outlet_of(conn: Connection, pid: int | None, new: dict[str, int], key: str, sites: dict) -> int | None:
    """Site id of an outlet named by its outlet code (this file or the register) or its site code."""
    if key in new:
        return new[key]
    if pid is not None:
        sid = conn.scalar(select(permit_outlet.c.site_id).where(permit_outlet.c.permit_id == pid,
                                                                permit_outlet.c.outlet_code == key))
        if sid is not None:
            return sid
        s = sites.get(key)
        if s is not None and conn.scalar(select(permit_outlet.c.permit_id).where(
                permit_outlet.c.site_id == s.id)) == pid:
            return s.id
    if key in sites and sites[key].id in new.values():
        return sites[key].id
    return None


def _save_permit(conn: Connection, number: str, rows: dict[str, list[Row]], sites: dict, params: dict,
                 origin: Origin, source: str, scope: Scope) -> None:
    now = datetime.now(UTC)
    cur = conn.execute(select(permit).where(permit.c.number == number)).mappings().first()
    ent = None
    if rows["permits"]:
        r0 = rows["permits"][0]
        uscc = r0.get("enterprise").upper()
        ent = conn.execute(select(enterprise.c.id, enterprise.c.uscc).where(enterprise.c.uscc == uscc)).first()
        if ent is None:
            raise RowError(r0, "enterprise", uscc, "unknown enterprise (USCC not in the register)")
        if cur is not None and cur["enterprise_id"] != ent.id:
            raise RowError(r0, "number", number, "duplicate permit number: registered to another enterprise")
    elif cur is not None:
        ent = conn.execute(select(enterprise.c.id, enterprise.c.uscc).where(
            enterprise.c.id == cur["enterprise_id"])).first()
    else:
        r0 = next(r for t in rows.values() for r in t)
        raise RowError(r0, "permit", number, "unknown permit: not in the register and no row in the permits table")
    assert ent is not None
    if scope.role == "officer":
        region = conn.scalar(select(enterprise.c.region_code).where(enterprise.c.id == ent.id)) or ""
        if not region.startswith(region_prefix(scope.region_code) or "-"):
            r0 = next(r for t in rows.values() for r in t)
            raise RowError(r0, "enterprise", ent.uscc, "outside your region: officers register permits of "
                           "enterprises in their own region")
    versions = _versions(rows["permits"], number, ent.uscc, dict(cur) if cur is not None else None)
    pid = cur["id"] if cur is not None else None
    for v in versions:
        values = {"category": v.category, "industry": v.industry, "authority": v.authority,
                  "status": "revoked" if v.kind == "revocation" else "valid", "valid_from": v.valid_from,
                  "valid_to": v.valid_to, "updated_at": now}
        if pid is None:
            pid = conn.execute(insert(permit).values(number=number, enterprise_id=ent.id, issued_on=v.effective_on,
                                                     created_at=now, **values).returning(permit.c.id)).scalar_one()
        else:
            if v.industry is None:
                values.pop("industry")
            if v.authority is None:
                values.pop("authority")
            conn.execute(update(permit).where(permit.c.id == pid).values(**values))
    assert pid is not None
    new_outlets: dict[str, int] = {}
    for r in rows["outlets"]:
        code = r.get("outlet_code").upper()
        if not code or len(code) > 16:
            raise RowError(r, "outlet_code", r.get("outlet_code"), "required, at most 16 characters (e.g. DA001)")
        s = sites.get(r.get("site"))
        if s is None:
            raise RowError(r, "site", r.get("site"), "unknown outlet: no such site in the register")
        if s.kind not in OUTLET_KINDS:
            raise RowError(r, "site", r.get("site"), f"is a {s.kind}, not an outlet (gas_outlet, water_outlet)")
        if s.enterprise_id != ent.id:
            raise RowError(r, "site", r.get("site"), f"is not an outlet of enterprise {ent.uscc}")
        typ = OUTLET_TYPE_IN.get(r.get("type") or "general") or OUTLET_TYPE_IN.get(r.get("type").lower())
        if typ is None:
            raise RowError(r, "type", r.get("type"), "main (主要排放口), general (一般排放口) or special (特殊排放口)")
        for name, want in (("lon", s.lon), ("lat", s.lat)):
            if r.get(name):
                try:
                    got = float(r.get(name))
                except ValueError:
                    raise RowError(r, name, r.get(name), "must be a number (WGS-84 degrees)") from None
                if not abs(got - want) <= COORD_TOLERANCE:
                    raise RowError(r, name, r.get(name), f"differs from the site's {want} by more than "
                                   f"{COORD_TOLERANCE}°")
        other = conn.execute(select(permit_outlet.c.permit_id, permit_outlet.c.outlet_code).where(
            permit_outlet.c.site_id == s.id)).first()
        if other is not None and other.permit_id != pid:
            raise RowError(r, "site", r.get("site"), "is an outlet of another permit")
        clash = conn.scalar(select(permit_outlet.c.site_id).where(permit_outlet.c.permit_id == pid,
                                                                  permit_outlet.c.outlet_code == code))
        if (clash is not None and clash != s.id) or new_outlets.get(code, s.id) != s.id:
            raise RowError(r, "outlet_code", code, "duplicate outlet code in this permit")
        if other is None:
            conn.execute(insert(permit_outlet).values(permit_id=pid, site_id=s.id, outlet_code=code, outlet_type=typ))
        else:
            conn.execute(update(permit_outlet).where(permit_outlet.c.site_id == s.id).values(outlet_code=code,
                                                                                            outlet_type=typ))
        # the limits imported before the register (``ecohub permit import``) are this permit's: attach them
        conn.execute(update(permit_limit).where(permit_limit.c.site_id == s.id).values(permit_id=pid))
        new_outlets[code] = s.id
    site_kind = {s.id: s.kind for s in sites.values()}
    for r in rows["limits"]:
        sid = _outlet_of(conn, pid, new_outlets, r.get("outlet").upper(), sites) or _outlet_of(
            conn, pid, new_outlets, r.get("outlet"), sites)
        if sid is None:
            raise RowError(r, "outlet", r.get("outlet"), "unknown outlet: not an outlet of this permit")
        try:
            spec = parse_limit(site_kind[sid], r.get("parameter"), r.get("limit"), r.get("unit"), r.get("period"),
                               r.get("converted_o2"))
        except InputError as e:
            raise RowError(r, e.field, e.value, e.reason) from None
        if spec.parameter.name not in params:
            raise RowError(r, "parameter", r.get("parameter"), "not in the database's catalogue (ecohub db init)")
        std = r.get("standard")[:100] or None
        values = {"limit_value": spec.value, "unit": spec.unit, "converted_o2": spec.converted_o2,
                  "origin": source[:500], "updated_at": now, "permit_id": pid, "standard": std}
        key = (permit_limit.c.site_id == sid, permit_limit.c.parameter_id == params[spec.parameter.name],
               permit_limit.c.period == spec.period)
        if conn.execute(update(permit_limit).where(*key).values(**values)).rowcount == 0:
            conn.execute(insert(permit_limit).values(site_id=sid, parameter_id=params[spec.parameter.name],
                                                     period=spec.period, **values))
    kinds = {site_kind[s] for s in _outlet_sites(conn, pid)} or {"gas_outlet"}
    for r in rows["tonnage"]:
        par = _pollutant(r, kinds)
        if par not in params:
            raise RowError(r, "parameter", r.get("parameter"), "not in the database's catalogue")
        t = _tonnes(r)
        key = (permit_tonnage.c.permit_id == pid, permit_tonnage.c.parameter_id == params[par])
        if conn.execute(update(permit_tonnage).where(*key).values(tonnes_per_year=t)).rowcount == 0:
            conn.execute(insert(permit_tonnage).values(permit_id=pid, parameter_id=params[par], tonnes_per_year=t))
    for r in rows["plans"]:
        sid = _outlet_of(conn, pid, new_outlets, r.get("outlet").upper(), sites)
        if sid is None:
            raise RowError(r, "outlet", r.get("outlet"), "unknown outlet: not an outlet of this permit")
        try:
            par = resolve_for_site(r.get("parameter"), site_kind[sid]).name
        except UnknownParameter:
            raise RowError(r, "parameter", r.get("parameter"), "unknown parameter name or HJ 212 code") from None
        method = {"自动": "automatic", "手工": "manual"}.get(r.get("method"), r.get("method").lower())
        if method not in ("automatic", "manual"):
            raise RowError(r, "method", r.get("method"), "automatic (自动) or manual (手工)")
        freq = r.get("frequency").lower()
        if freq not in MONITORING_FREQUENCIES:
            raise RowError(r, "frequency", r.get("frequency"), "one of " + ", ".join(MONITORING_FREQUENCIES))
        key = (monitoring_plan.c.site_id == sid, monitoring_plan.c.parameter_id == params[par])
        if conn.execute(update(monitoring_plan).where(*key).values(permit_id=pid, method=method,
                                                                   frequency=freq)).rowcount == 0:
            conn.execute(insert(monitoring_plan).values(permit_id=pid, site_id=sid, parameter_id=params[par],
                                                        method=method, frequency=freq))
    # versions: each permits row is one; other rows alone are a change of the stored permit
    if not versions:
        p = conn.execute(select(permit).where(permit.c.id == pid)).mappings().one()
        r0 = next(r for t in rows.values() for r in t)
        versions = [_Version(r0, "change", p["category"], None, None, now.date(), p["valid_from"], p["valid_to"],
                             "outlets / limits / tonnage / plans changed")]
    seq = int(conn.scalar(select(func.coalesce(func.max(permit_version.c.seq), 0)).where(
        permit_version.c.permit_id == pid)))
    snap = snapshot(conn, pid)
    for v in versions:
        seq += 1
        conn.execute(insert(permit_version).values(
            permit_id=pid, seq=seq, kind=v.kind, effective_on=v.effective_on, valid_from=v.valid_from,
            valid_to=v.valid_to, note=v.note, snapshot=snap, origin=source[:500], recorded_at=now,
            recorded_by=origin.actor))
    origin.record(conn, "write", f"permit:{number}", {"change": "permit register import", "versions":
                                                      [v.kind for v in versions], "file": Path(source).name})


def _outlet_sites(conn: Connection, pid: int) -> list[int]:
    return list(conn.scalars(select(permit_outlet.c.site_id).where(permit_outlet.c.permit_id == pid)))


def _pollutant(r: Row, kinds: set[str]) -> str:
    """A tonnage pollutant, resolved at the permit's outlet kinds (gas first: SO2 on a gas outlet is so2_gas)."""
    for kind in sorted(kinds):
        try:
            p = resolve_for_site(r.get("parameter"), kind)
        except UnknownParameter:
            raise RowError(r, "parameter", r.get("parameter"), "unknown parameter name or HJ 212 code") from None
        if p.domain == ("gas" if kind == "gas_outlet" else "water"):
            return p.name
    raise RowError(r, "parameter", r.get("parameter"), f"not a pollutant measured at this permit's outlets "
                   f"({', '.join(sorted(kinds))})")


def snapshot(conn: Connection, pid: int) -> dict:
    """The permit's outlets, limits, tonnage and plans as they stand (JSON-ready)."""
    outlets = [dict(r) for r in conn.execute(
        select(permit_outlet.c.outlet_code, permit_outlet.c.outlet_type, site.c.code.label("site"), site.c.kind,
               site.c.name, site.c.lon, site.c.lat)
        .select_from(permit_outlet.join(site, site.c.id == permit_outlet.c.site_id))
        .where(permit_outlet.c.permit_id == pid).order_by(permit_outlet.c.outlet_code)).mappings()]
    limits = [dict(r) for r in conn.execute(
        select(permit_outlet.c.outlet_code.label("outlet"), site.c.code.label("site"),
               parameter.c.name.label("parameter"), permit_limit.c.period, permit_limit.c.limit_value,
               permit_limit.c.unit, permit_limit.c.converted_o2, permit_limit.c.standard)
        .select_from(permit_limit.join(site, site.c.id == permit_limit.c.site_id)
                     .join(parameter, parameter.c.id == permit_limit.c.parameter_id)
                     .outerjoin(permit_outlet, permit_outlet.c.site_id == permit_limit.c.site_id))
        .where(permit_limit.c.permit_id == pid)
        .order_by(site.c.code, parameter.c.name, permit_limit.c.period)).mappings()]
    tonnage = [dict(r) for r in conn.execute(
        select(parameter.c.name.label("parameter"), permit_tonnage.c.tonnes_per_year)
        .select_from(permit_tonnage.join(parameter, parameter.c.id == permit_tonnage.c.parameter_id))
        .where(permit_tonnage.c.permit_id == pid).order_by(parameter.c.name)).mappings()]
    plans = [dict(r) for r in conn.execute(
        select(site.c.code.label("site"), parameter.c.name.label("parameter"), monitoring_plan.c.method,
               monitoring_plan.c.frequency)
        .select_from(monitoring_plan.join(site, site.c.id == monitoring_plan.c.site_id)
                     .join(parameter, parameter.c.id == monitoring_plan.c.parameter_id))
        .where(monitoring_plan.c.permit_id == pid).order_by(site.c.code, parameter.c.name)).mappings()]
    return {"outlets": outlets, "limits": limits, "tonnage": tonnage, "plans": plans}


# --- reading, with the caller's scope -----------------------------------------------------------------------
def scope_condition(scope: Scope):
    """SQL condition on ``permit`` joined with ``enterprise``: officers their region, an enterprise its own; None
    for full scope. Public callers get no condition here — they get :func:`public_view` only."""
    if scope.full:
        return None
    if scope.role == "officer":
        return enterprise.c.region_code.startswith(region_prefix(scope.region_code) or "-", autoescape=True)
    if scope.role == "enterprise" and scope.enterprise_id is not None:
        return permit.c.enterprise_id == scope.enterprise_id
    return permit.c.id == -1


def _base():
    return (select(permit.c.id, permit.c.number, permit.c.category, permit.c.industry, permit.c.authority,
                   permit.c.status, permit.c.issued_on, permit.c.valid_from, permit.c.valid_to,
                   enterprise.c.uscc.label("enterprise"), enterprise.c.name.label("enterprise_name"),
                   enterprise.c.region_code, permit.c.enterprise_id)
            .select_from(permit.join(enterprise, enterprise.c.id == permit.c.enterprise_id)))


def _jsonable(d: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in d.items()}


def list_permits(store: Store, scope: Scope, *, enterprise_uscc: str | None = None, limit: int = 500) -> list[dict]:
    q = _base().order_by(permit.c.number).limit(limit)
    cond = scope_condition(scope)
    if cond is not None:
        q = q.where(cond)
    if enterprise_uscc:
        q = q.where(enterprise.c.uscc == enterprise_uscc.strip().upper())
    with store.engine.connect() as conn:
        return [_jsonable(dict(r)) for r in conn.execute(q).mappings()]


def permit_detail(store: Store, scope: Scope, number: str) -> dict:
    """The permit with its outlets (coordinates, type), limits, tonnage, plans and every version; raises
    :class:`NotFound` when it does not exist or is outside the caller's scope (the same answer for both)."""
    q = _base().where(permit.c.number == (number or "").strip().upper())
    cond = scope_condition(scope)
    if cond is not None:
        q = q.where(cond)
    with store.engine.connect() as conn:
        row = conn.execute(q).mappings().first()
        if row is None:
            raise NotFound(f"permit {number!r}")
        out = _jsonable(dict(row))
        out.update(snapshot(conn, row["id"]))
        out["versions"] = [_jsonable(dict(v)) for v in conn.execute(
            select(permit_version.c.seq, permit_version.c.kind, permit_version.c.effective_on,
                   permit_version.c.valid_from, permit_version.c.valid_to, permit_version.c.note,
                   permit_version.c.recorded_at, permit_version.c.recorded_by)
            .where(permit_version.c.permit_id == row["id"]).order_by(permit_version.c.seq)).mappings()]
    return out


def public_view(store: Store, number: str) -> dict:
    """What the disclosure rules let anyone see of a permit (《排污许可管理条例》 art. 23 publishes the permit's
    basic items; see docs/permits.md): number, enterprise name, category, industry, validity, status, authority,
    outlet codes and types, limits and permitted tonnage, and the last 50 limit exceedances (rule ``permit``:
    outlet code, pollutant, time, value, limit). Masked: site codes, coordinates, internal ids."""
    d = permit_detail(store, Scope("system"), number)
    from ecohub.store.schema_alerts import alert

    with store.engine.connect() as conn:
        exc = [dict(r) for r in conn.execute(
            select(permit_outlet.c.outlet_code.label("outlet"), parameter.c.name.label("parameter"),
                   alert.c.opened_at, alert.c.value, alert.c.level)
            .select_from(alert.join(permit_outlet, permit_outlet.c.site_id == alert.c.site_id)
                         .join(parameter, parameter.c.id == alert.c.parameter_id))
            .where(alert.c.rule == "permit", permit_outlet.c.permit_id == d["id"])
            .order_by(alert.c.opened_at.desc()).limit(50)).mappings()]
    keep = ("number", "enterprise_name", "category", "industry", "authority", "status", "issued_on", "valid_from",
            "valid_to")
    return {**{k: d[k] for k in keep},
            "outlets": [{"outlet_code": o["outlet_code"], "outlet_type": o["outlet_type"], "kind": o["kind"]}
                        for o in d["outlets"]],
            "limits": [{k: v for k, v in x.items() if k != "site"} for x in d["limits"]],
            "tonnage": d["tonnage"],
            "exceedances": [_jsonable(e) for e in exc]}


def permit_id_for(store: Store, scope: Scope, number: str) -> tuple[int, int]:
    """(permit id, enterprise id) of a permit the caller may see; :class:`NotFound` otherwise."""
    d = permit_detail(store, scope, number)
    return d["id"], d["enterprise_id"]
