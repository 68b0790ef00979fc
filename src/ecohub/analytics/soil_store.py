"""Stored soil samples (table ``soil_sample``): import classified samples at soil points, list them for the map
and summarise them per site and county, within the caller's scope.

A sample row needs ``site`` and ``land_use``; a site that does not exist yet is created as a ``soil_point`` when
the row gives ``lon``, ``lat`` and ``region_code`` (else the row is rejected with the reason). ``time`` (ISO-8601;
no offset = Beijing) is the sampling time (default: now). Classes are computed on import
(:func:`ecohub.analytics.soil_service.classify_samples`) and stored beside the values; a row whose land use is
unknown or whose values are all unreadable is rejected, a row without pH is kept with the pH-dependent items
unclassified and the reason in ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select

from ecohub.analytics import soil_service
from ecohub.domain.errors import InputError
from ecohub.domain.timeutil import BEIJING
from ecohub.store import audit
from ecohub.store import registry as R
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import site
from ecohub.store.schema_reports import soil_sample
from ecohub.store.tx import write_tx


@dataclass
class ImportResult:
    imported: int = 0
    sites_created: int = 0
    rejected: list[str] = field(default_factory=list)


def _time(text: str | None, line: int) -> datetime:
    if not text or not str(text).strip():
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError("time", text, f"line {line}: not an ISO-8601 time") from None
    return (t if t.tzinfo else t.replace(tzinfo=BEIJING)).astimezone(UTC)


def import_samples(store: Store, rows: list[dict], *, actor: str | None = None, first_line: int = 2) -> ImportResult:
    res = soil_service.classify_samples(rows, first_line=first_line)
    out = ImportResult()
    with write_tx(store) as conn:
        ids = {c: i for c, (i, *_rest) in R.site_index(conn).items()}
        for k, r in enumerate(res.rows):
            line = first_line + k
            code = str(r.get("site") or "").strip()
            lu = str(r.get("land_use") or "").strip().lower()
            if not code or soil_service.standard_of(lu) is None:
                out.rejected.append(f"line {line}: {r['error'] or 'site: empty'}")
                continue
            classes = {p: r[f"{p}_class"] for p in res.pollutants if r.get(f"{p}_class")}
            values = {}
            for p in res.pollutants:
                v = soil_service._num(r.get(p))
                if isinstance(v, float):
                    values[p] = v
            if not values:
                out.rejected.append(f"line {line}: no readable pollutant value ({r['error'] or 'all empty'})")
                continue
            try:
                t = _time(r.get("time"), line)
                if code not in ids:
                    try:
                        lon, lat = float(r.get("lon") or ""), float(r.get("lat") or "")
                    except ValueError:
                        raise InputError("site", code, f"line {line}: unknown site; give lon, lat and region_code "
                                                       "to create it as a soil point") from None
                    R.upsert_site(conn, R.SiteInput(code, "soil_point", str(r.get("name") or code), lon, lat,
                                                    str(r.get("region_code") or "")))
                    ids = {c: i for c, (i, *_rest) in R.site_index(conn).items()}
                    out.sites_created += 1
            except InputError as e:
                out.rejected.append(str(e))
                continue
            ph = soil_service._num(r.get("ph"))
            conn.execute(insert(soil_sample).values(
                site_id=ids[code], sampled_at=t, land_use=lu, ph=ph if isinstance(ph, float) else None,
                values=values, classes=classes, worst=r["class"] or None, standard=r["standard"],
                note=r["error"] or None, created_at=datetime.now(UTC), created_by=actor))
            out.imported += 1
        audit.record(conn, "write", actor=actor, target="soil_sample",
                     detail={"imported": out.imported, "sites_created": out.sites_created,
                             "rejected": len(out.rejected)})
    return out


def samples(store: Store, *, scope: Scope, region: str | None = None, limit: int = 5000) -> list[dict]:
    """Stored samples with their site's position (for the map), newest first, within the scope."""
    q = (select(soil_sample.c.id, site.c.code.label("site"), site.c.name, site.c.lon, site.c.lat, site.c.region_code,
                soil_sample.c.sampled_at, soil_sample.c.land_use, soil_sample.c.ph, soil_sample.c["values"],
                soil_sample.c.classes, soil_sample.c.worst, soil_sample.c.standard, soil_sample.c.note)
         .select_from(soil_sample.join(site, site.c.id == soil_sample.c.site_id))
         .order_by(soil_sample.c.sampled_at.desc(), soil_sample.c.id.desc()).limit(limit))
    if region:
        q = q.where(site.c.region_code.startswith(region_prefix(region), autoescape=True))
    q = scope.apply(q)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def summaries(rows: list[dict]) -> dict:
    """Per-site and per-county summaries of stored samples (same shape as ``soil_service.summarize``)."""
    flat = [{"site": r["site"], "region_code": r["region_code"], "class": r["worst"] or "",
             **{f"{p}_class": c for p, c in (r["classes"] or {}).items()}} for r in rows]
    return {"by_site": soil_service.summarize(flat, "site"), "by_county": soil_service.summarize(flat, "region_code")}
