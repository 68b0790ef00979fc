"""Inspection tasks of the officer workbench: the objects of a random draw (双随机) not yet inspected.

A draw (:mod:`ecohub.supervision.inspect.service`) names, for a period ``YYYY-MM``, the enterprises to inspect and
two inspectors for each. Each such object is a task until an inspection record is filed against its draw item
(:func:`ecohub.supervision.inspect.records.record` with ``draw_item_id``). The task is due on the last day of the
draw's period — the period is the window the draw plan gives its inspections (our rule: the national
双随机一公开 texts set the share of objects per year, not a per-object deadline; a province that sets one configures
the period accordingly). A task past its due day is overdue; a closed draw has no open tasks (closing the period
is the bureau's decision that it is done). ``mine``: the caller (by user name) is one of the object's two
inspectors — an inspector's ``code`` in the directory is his user name where he signs in.

Scope in the query: admins and analysts see every task, officers those of enterprises in their region (city →
its counties); other roles none (PermissionError).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime

from sqlalchemy import select

from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import enterprise, region
from ecohub.store.schema_enforcement import insp_draw, insp_draw_item, inspection, inspector

OPEN_DRAWS = ("drawn", "published")
BEIJING_OFFSET_H = 8


def period_due(period: str) -> date:
    """The last day of a period ``YYYY-MM``."""
    y, m = int(period[:4]), int(period[5:7])
    return date(y, m, calendar.monthrange(y, m)[1])


def _today(now: datetime | None) -> date:
    from ecohub.domain.timeutil import BEIJING

    return (now or datetime.now(UTC)).astimezone(BEIJING).date()


def inspection_tasks(store: Store, scope: Scope, *, overdue_only: bool = False, mine_only: bool = False,
                     now: datetime | None = None) -> list[dict]:
    """Open random-inspection tasks the caller may see, the most urgent first: draw, period, enterprise, category,
    the two inspectors, due day, overdue, mine."""
    if scope.role not in ("system", "admin", "analyst", "officer") or (scope.role == "officer"
                                                                        and not scope.region_code):
        raise PermissionError("inspection tasks are for staff (admin, analyst, officer of a region)")
    today = _today(now)
    q = (select(insp_draw_item.c.id, insp_draw_item.c.position, insp_draw_item.c.category,
                insp_draw_item.c.inspector_ids, insp_draw.c.id.label("draw_id"), insp_draw.c.period,
                insp_draw.c.status.label("draw_status"), enterprise.c.uscc, enterprise.c.name.label("enterprise_name"),
                enterprise.c.region_code, region.c.name.label("region_name"))
         .select_from(insp_draw_item.join(insp_draw, insp_draw.c.id == insp_draw_item.c.draw_id)
                      .join(enterprise, enterprise.c.id == insp_draw_item.c.enterprise_id)
                      .join(region, region.c.code == enterprise.c.region_code)
                      .outerjoin(inspection, inspection.c.draw_item_id == insp_draw_item.c.id))
         .where(insp_draw.c.status.in_(OPEN_DRAWS), inspection.c.id.is_(None))
         .order_by(insp_draw.c.period, insp_draw_item.c.draw_id, insp_draw_item.c.position))
    if scope.role == "officer":
        q = q.where(enterprise.c.region_code.startswith(region_prefix(scope.region_code), autoescape=True))
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
        directory = {r.id: (r.code, r.name) for r in conn.execute(select(inspector.c.id, inspector.c.code,
                                                                         inspector.c.name))}
    out = []
    for r in rows:
        due = period_due(r["period"])
        crew = [directory.get(i, (str(i), str(i))) for i in r["inspector_ids"]]
        mine = bool(scope.name) and any(code == scope.name for code, _ in crew)
        late = today > due
        if (overdue_only and not late) or (mine_only and not mine):
            continue
        out.append({"draw_item_id": r["id"], "draw_id": r["draw_id"], "period": r["period"],
                    "draw_status": r["draw_status"], "enterprise_uscc": r["uscc"],
                    "enterprise_name": r["enterprise_name"], "region_code": r["region_code"],
                    "region_name": r["region_name"], "category": r["category"],
                    "inspectors": [{"code": c, "name": n} for c, n in crew], "due": due.isoformat(),
                    "overdue": late, "days_left": (due - today).days, "mine": mine})
    out.sort(key=lambda t: (not t["mine"], t["due"], t["draw_id"]))
    return out
