"""Generate, keep, list and fetch report issues. Every generation is a new row (previous issues are kept,
never overwritten) holding the file and its JSON sidecar; each generation is audited.

Who sees what: admin, analyst and system see every report; an officer the reports of its division and below;
other roles none (a report mixes restricted data). Figures are computed within the generating caller's scope.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from ecohub.reports import document, figures, render
from ecohub.store import audit
from ecohub.store.db import Store
from ecohub.store.queries import SYSTEM, Scope, region_prefix
from ecohub.store.schema_reports import report_issue
from ecohub.store.tx import write_tx

FORMATS = ("docx", "pdf")
MEDIA_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               "pdf": "application/pdf"}
LIST_COLUMNS = (report_issue.c.id, report_issue.c.kind, report_issue.c.region_code, report_issue.c.period,
                report_issue.c.format, report_issue.c.filename, report_issue.c.size, report_issue.c.sha256,
                report_issue.c.template, report_issue.c.created_at, report_issue.c.created_by)


class Forbidden(PermissionError):
    pass


@dataclass
class Rendered:
    content: bytes
    figures: dict
    filename: str
    template: str


def render_report(store: Store, kind: str, region: str, period: str, fmt: str, *, template: str | Path | None = None,
                  scope: Scope | None = None) -> Rendered:
    """Compute the figures and render the document (nothing stored). ``ValueError`` for bad arguments."""
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not docx or pdf")
    name, text = document.load_template(template)
    fig = figures.compute(store, kind, region, period, scope=scope)
    fig["meta"]["template"] = name
    blocks = document.blocks(fig, text)
    content = render.render_docx(blocks, fig) if fmt == "docx" else render.render_pdf(blocks, fig)
    fname = f"ecohub_{kind}_{region}_{fig['meta']['period']}.{fmt}"
    return Rendered(content, fig, fname, name)


def _can_see(scope: Scope, region: str) -> bool:
    if scope.full:
        return True
    if scope.role == "officer" and scope.region_code:
        return region.startswith(region_prefix(scope.region_code) or "\0")
    return False


def generate(store: Store, kind: str, region: str, period: str, fmt: str, *, template: str | Path | None = None,
             scope: Scope = SYSTEM, actor: str | None = None) -> dict:
    """Render and keep a new issue; returns its listing row (with ``figures``)."""
    if not _can_see(scope, region):
        raise Forbidden(f"region: your scope does not cover {region}")
    r = render_report(store, kind, region, period, fmt, template=template, scope=scope)
    row = {"kind": kind, "region_code": region, "period": r.figures["meta"]["period"], "format": fmt,
           "filename": r.filename, "content": r.content, "size": len(r.content),
           "sha256": hashlib.sha256(r.content).hexdigest(), "figures": r.figures, "template": r.template,
           "created_at": datetime.now(UTC), "created_by": actor}
    with write_tx(store) as conn:
        rid = conn.execute(insert(report_issue).values(**row).returning(report_issue.c.id)).scalar_one()
        audit.record(conn, "write", actor=actor, role=scope.role, target=f"report_issue:{rid}",
                     detail={"kind": kind, "region": region, "period": row["period"], "format": fmt})
    out = {k: v for k, v in row.items() if k != "content"}
    return {"id": rid, **out}


def list_reports(store: Store, *, scope: Scope = SYSTEM, region: str | None = None, kind: str | None = None,
                 limit: int = 100) -> list[dict]:
    if not (scope.full or scope.role == "officer"):
        raise Forbidden("reports are for signed-in staff (admin, analyst, officer)")
    q = select(*LIST_COLUMNS).order_by(report_issue.c.created_at.desc(), report_issue.c.id.desc()).limit(limit)
    if region:
        q = q.where(report_issue.c.region_code == region)
    if kind:
        q = q.where(report_issue.c.kind == kind)
    if not scope.full:
        q = q.where(report_issue.c.region_code.startswith(region_prefix(scope.region_code) or "\0", autoescape=True))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def get_report(store: Store, report_id: int, *, scope: Scope = SYSTEM, with_content: bool = True) -> dict | None:
    """One issue (content and figures) the scope may see, or None."""
    cols = [*LIST_COLUMNS, report_issue.c.figures] + ([report_issue.c.content] if with_content else [])
    with store.engine.connect() as conn:
        r = conn.execute(select(*cols).where(report_issue.c.id == report_id)).mappings().first()
    if r is None or not _can_see(scope, r["region_code"]):
        return None
    return dict(r)
