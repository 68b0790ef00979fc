"""The public list of permits (信息公开): what anyone may see of every permit in the register — number, enterprise
name and USCC (both printed on the permit and in the permit number), management category, industry, region,
issuing authority, status and validity. No person, no site codes or coordinates, no internal ids. The permit's
own public page adds its outlets, limits, permitted tonnage and exceedances (:func:`register.public_view`)."""

from __future__ import annotations

from sqlalchemy import or_

from ecohub.store.db import Store
from ecohub.store.queries import region_prefix
from ecohub.store.schema import enterprise
from ecohub.store.schema_permits import permit
from ecohub.supervision.permits.register import _base, _jsonable

PUBLIC_FIELDS = ("number", "enterprise", "enterprise_name", "category", "industry", "region_code", "authority",
                 "status", "issued_on", "valid_from", "valid_to")


def public_list(store: Store, *, q: str | None = None, region: str | None = None, limit: int = 200) -> list[dict]:
    """Permits in the register, by number; ``q`` matches the number or the enterprise name (part of either),
    ``region`` a division code (its prefix)."""
    sel = _base().order_by(permit.c.number).limit(max(1, min(int(limit), 1000)))
    if q and q.strip():
        term = q.strip()
        sel = sel.where(or_(permit.c.number.contains(term.upper(), autoescape=True),
                            enterprise.c.name.contains(term, autoescape=True)))
    if region and region.strip():
        sel = sel.where(enterprise.c.region_code.startswith(region_prefix(region.strip()) or region.strip(),
                                                            autoescape=True))
    with store.engine.connect() as conn:
        return [{k: r[k] for k in PUBLIC_FIELDS} for r in (_jsonable(dict(m)) for m in conn.execute(sel).mappings())]
