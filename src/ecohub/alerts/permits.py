"""Permit limits (``ecohub permit import``) and water-section targets (``ecohub section target``).

Permit CSV: ``site,parameter,limit,unit,period[,converted_o2]`` — period ``hour`` or ``day``; ``converted_o2``
the reference O2 (%) when the limit applies to the converted concentration. Every row is checked like every
entry point: a bad row is rejected with its line, field and value (and kept in the quarantine), good rows are
stored (a row for an existing site × parameter × period replaces its limit).
"""

from __future__ import annotations

import csv
import io as _io
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, update

from ecohub.domain.errors import InputError
from ecohub.domain.parameters import Parameter, UnknownParameter, resolve_for_site
from ecohub.domain.units import IncompatibleUnits, conversion_factor
from ecohub.store.db import Store
from ecohub.store.quarantine import QuarantineSink
from ecohub.store.queries import Scope
from ecohub.store.schema import parameter, site
from ecohub.store.schema_alerts import permit_limit, section_target
from ecohub.store.schema_permits import permit_outlet
from ecohub.store.tx import write_tx

PERMIT_COLUMNS = ("site", "parameter", "limit", "unit", "period")
ROMAN_IN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5,
            "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5}


@dataclass
class PermitImport:
    imported: int = 0
    updated: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"imported": self.imported, "updated": self.updated, "rejected": self.rejected}


@dataclass(frozen=True)
class LimitSpec:
    """A checked permit limit: the catalogue parameter at the outlet, the value in the parameter's stored unit,
    that unit, the period (hour/day) and the reference O2 (%) when the limit is on the converted concentration."""

    parameter: Parameter
    value: float
    unit: str
    period: str
    converted_o2: float | None


def parse_limit(site_kind: str, parameter_text: str, limit_text: str, unit_text: str, period_text: str,
                o2_text: str = "") -> LimitSpec:
    """THE check of one permit limit, shared by ``ecohub permit import`` and the permit register import.

    The parameter (name or HJ 212 code) is resolved by the outlet's kind through
    :func:`ecohub.domain.parameters.resolve_for_site` (``a21026`` on a gas outlet is flue-gas SO2 in mg/m³),
    and a limit given in any unit convertible to the stored one is converted (:func:`ecohub.domain.units.
    conversion_factor`: 0.035 g/m³ → 35 mg/m³, 35000 µg/m³ → 35 mg/m³). Raises :class:`InputError` naming the
    field, the value and the reason."""
    try:  # by the outlet's kind: a21026 on a gas outlet is flue-gas SO2 (mg/m³), as on ingest
        par = resolve_for_site(parameter_text, site_kind)
    except UnknownParameter:
        raise InputError("parameter", parameter_text, "unknown parameter name or HJ 212 code") from None
    try:
        lim = float(limit_text)
    except (TypeError, ValueError):
        raise InputError("limit", limit_text, "must be a number") from None
    if not math.isfinite(lim) or lim <= 0:
        raise InputError("limit", limit_text, "must be a positive number")
    unit = (unit_text or "").strip() or par.unit
    if len(unit) > 16:
        raise InputError("unit", unit, "at most 16 characters")
    if unit and par.unit:
        try:  # a compatible unit is converted (e.g. 0.035 g/m³ → 35 mg/m³), not refused
            lim = lim * conversion_factor(unit, par.unit)
        except IncompatibleUnits:
            raise InputError("unit", unit, f"{par.name} is stored in {par.unit}; {unit} cannot be "
                             f"converted to it") from None
    period = (period_text or "").strip().lower()
    period = {"hourly": "hour", "h": "hour", "daily": "day", "d": "day", "小时": "hour", "日": "day"}.get(period, period)
    if period not in ("hour", "day"):
        raise InputError("period", period_text, "must be hour or day")
    o2txt = (o2_text or "").strip()
    o2 = None
    if o2txt:
        try:
            o2 = float(o2txt)
        except ValueError:
            raise InputError("converted_o2", o2txt, "must be the reference O2 in % (e.g. 9)") from None
        if not 0 <= o2 < 21:
            raise InputError("converted_o2", o2txt, "reference O2 must be in [0, 21) %")
    return LimitSpec(par, lim, par.unit or unit, period, o2)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError("file", str(path), "neither UTF-8 nor GB18030 text")


def import_permits(store: Store, path: str | Path) -> PermitImport:
    p = Path(path)
    try:
        content = _read_text(p)
    except OSError as e:
        raise InputError("file", str(p), f"cannot be read: {e.strerror or e}") from None
    rows = list(csv.reader(_io.StringIO(content)))
    if not rows:
        raise InputError("file", str(p), "is empty")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in PERMIT_COLUMNS if c not in header]
    if missing:
        raise InputError("header", ",".join(rows[0]), "needs columns site,parameter,limit,unit,period[,converted_o2]; "
                         f"missing {', '.join(missing)}")
    col = {c: header.index(c) for c in header}
    res = PermitImport()
    sink = QuarantineSink(store, "file", str(p))
    now = datetime.now(UTC)
    with write_tx(store) as conn:
        registered = dict(conn.execute(select(permit_outlet.c.site_id, permit_outlet.c.permit_id)).all())
        sites = {r.code: (r.id, r.kind) for r in conn.execute(select(site.c.code, site.c.id, site.c.kind))}
        params = {r.name: r.id for r in conn.execute(select(parameter.c.name, parameter.c.id))}
        for line, cells in enumerate(rows[1:], start=2):
            if not any(c.strip() for c in cells):
                continue
            try:
                def cell(name: str, cells=cells) -> str:
                    i = col.get(name)
                    return cells[i].strip() if i is not None and i < len(cells) else ""

                code = cell("site")
                if code not in sites:
                    raise InputError("site", code, "unknown site code")
                if sites[code][1] not in ("gas_outlet", "water_outlet"):
                    raise InputError("site", code, f"is a {sites[code][1]}, not an outlet (gas_outlet, water_outlet)")
                spec = parse_limit(sites[code][1], cell("parameter"), cell("limit"), cell("unit"), cell("period"),
                                   cell("converted_o2"))
                par, lim, unit, period, o2 = spec.parameter, spec.value, spec.unit, spec.period, spec.converted_o2
                if par.name not in params:
                    raise InputError("parameter", cell("parameter"), "not in the database's catalogue (ecohub db init)")
                values = {"limit_value": lim, "unit": unit, "converted_o2": o2, "origin": str(p)[:500],
                          "updated_at": now}
                sid, pid = sites[code][0], params[par.name]
                existing = conn.scalar(select(permit_limit.c.id).where(
                    permit_limit.c.site_id == sid, permit_limit.c.parameter_id == pid, permit_limit.c.period == period))
                if existing is None:
                    conn.execute(insert(permit_limit).values(site_id=sid, parameter_id=pid, period=period,
                                                             permit_id=registered.get(sid), **values))
                    res.imported += 1
                else:
                    conn.execute(update(permit_limit).where(permit_limit.c.id == existing).values(**values))
                    res.updated += 1
            except InputError as e:
                res.rejected += 1
                res.errors.append({"line": line, "field": e.field, "value": e.value, "reason": e.reason})
                sink.add(str(e), line=line, field=e.field, raw=",".join(cells))
    sink.flush()
    return res


def set_section_target(store: Store, site_code: str, water_class: str | int, by: str | None = None) -> int:
    """Set a water section's target class (I…V); returns the class as an integer."""
    c = ROMAN_IN.get(str(water_class).strip().upper())
    if c is None:
        raise InputError("class", water_class, "must be I, II, III, IV or V")
    with write_tx(store) as conn:
        row = conn.execute(select(site.c.id, site.c.kind).where(site.c.code == site_code)).first()
        if row is None:
            raise InputError("site", site_code, "unknown site code")
        if row.kind != "water_section":
            raise InputError("site", site_code, f"is a {row.kind}, not a water_section")
        now = datetime.now(UTC)
        if conn.execute(update(section_target).where(section_target.c.site_id == row.id).values(
                target_class=c, updated_at=now, updated_by=by)).rowcount == 0:
            conn.execute(insert(section_target).values(site_id=row.id, target_class=c, updated_at=now, updated_by=by))
    return c


def permit_limits(store: Store, scope: Scope, codes: list[str] | None = None) -> dict[str, list[dict]]:
    """Permit limits per outlet the scope may see: parameter (with its names), period (hour/day), limit, unit,
    reference O2 — for the disclosure page, the one map's cards and the API."""
    from collections import defaultdict

    q = (select(site.c.code, parameter.c.name.label("parameter"), parameter.c.name_zh, parameter.c.name_en,
                permit_limit.c.period, permit_limit.c.limit_value, permit_limit.c.unit, permit_limit.c.converted_o2)
         .select_from(permit_limit.join(site, site.c.id == permit_limit.c.site_id)
                      .join(parameter, parameter.c.id == permit_limit.c.parameter_id))
         .order_by(site.c.code, parameter.c.name, permit_limit.c.period))
    if codes:
        q = q.where(site.c.code.in_(codes))
    out: dict[str, list[dict]] = defaultdict(list)
    with store.engine.connect() as conn:
        for r in conn.execute(scope.apply(q)).mappings():
            out[r["code"]].append({k: r[k] for k in ("parameter", "name_zh", "name_en", "period", "limit_value",
                                                     "unit", "converted_o2")})
    return dict(out)
