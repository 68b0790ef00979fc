"""Inspection records: random (from a draw) or targeted (triggered by an alert or a complaint — marked as such),
with the checklist of the enterprise's industry (``supervision/data/checklists.json``, configurable), findings,
location, time, inspectors, and attachments.

Attachments (photos, PDFs): at most :data:`MAX_ATTACHMENT_BYTES`; the type is sniffed from the content (JPEG,
PNG, PDF magic numbers) and must match both the declared content type and the file-name extension — a
disguised file (an executable named ``photo.jpg``, a PDF declared as PNG) is refused; stored with its SHA-256.
A record is saved whole with its attachments or not at all (one :func:`write_tx`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import insert, select

from ecohub.domain.errors import InputError, NotFound
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import enterprise
from ecohub.store.schema_enforcement import insp_attachment, insp_draw, insp_draw_item, inspection
from ecohub.store.tx import write_tx

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 20
CHECKLISTS = Path(__file__).resolve().parents[1] / "data" / "checklists.json"
ANSWERS = ("ok", "problem", "n/a")
TYPES = {"image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")), "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
         "application/pdf": (b"%PDF-", (".pdf",))}
TRIGGERS = ("alert", "complaint")


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@cache
def checklists(path: str | None = None) -> dict[str, dict[str, str]]:
    raw = json.loads(Path(path or CHECKLISTS).read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def sniff(data: bytes) -> str | None:
    for mime, (magic, _ext) in TYPES.items():
        if data.startswith(magic):
            return mime
    return None


def check_attachment(a: Attachment, index: int) -> tuple[str, int, str]:
    """(content type, size, sha256) of an acceptable attachment; InputError naming it otherwise."""
    field = f"attachments[{index}]"
    if len(a.data) == 0:
        raise InputError(field, a.filename, "empty file")
    if len(a.data) > MAX_ATTACHMENT_BYTES:
        raise InputError(field, a.filename, f"{len(a.data)} bytes is more than the limit of {MAX_ATTACHMENT_BYTES}")
    real = sniff(a.data)
    if real is None:
        raise InputError(field, a.filename, "content is not a JPEG, PNG or PDF file")
    if (a.content_type or "").split(";")[0].strip().lower() != real:
        raise InputError(field, a.filename, f"declared as {a.content_type!r} but the content is {real}")
    if not a.filename.lower().endswith(TYPES[real][1]):
        raise InputError(field, a.filename, f"the file name does not end in {' or '.join(TYPES[real][1])} of {real}")
    return real, len(a.data), hashlib.sha256(a.data).hexdigest()


def _cond(scope: Scope):
    if scope.role in ("system", "admin", "analyst"):
        return None
    if scope.role == "officer" and scope.region_code:
        return inspection.c.region_code.startswith(region_prefix(scope.region_code), autoescape=True)
    if scope.role == "enterprise" and scope.enterprise_id is not None:
        return inspection.c.enterprise_id == scope.enterprise_id
    raise PermissionError("inspection records are visible to staff and to the enterprise inspected")


def record(store: Store, scope: Scope, origin: Origin, *, uscc: str, inspected_at: datetime, inspectors: list[str],
           kind: str = "targeted", trigger_kind: str | None = None, trigger_ref: str | None = None,
           draw_item_id: int | None = None, industry: str | None = None, checklist: dict[str, str] | None = None,
           findings: str | None = None, lon: float | None = None, lat: float | None = None,
           attachments: list[Attachment] = (), now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    if kind not in ("random", "targeted"):
        raise InputError("kind", kind, "random or targeted")
    if kind == "targeted" and trigger_kind not in TRIGGERS:
        raise InputError("trigger_kind", trigger_kind, "a targeted inspection names its trigger: alert or complaint")
    if kind == "random" and draw_item_id is None:
        raise InputError("draw_item_id", None, "a random inspection refers to its draw")
    if inspected_at.tzinfo is None:
        raise InputError("inspected_at", inspected_at.isoformat(), "needs a time zone")
    if inspected_at > now:
        raise InputError("inspected_at", inspected_at.isoformat(), "is in the future")
    if len([i for i in inspectors if i.strip()]) < 2:
        raise InputError("inspectors", inspectors, "an inspection is done by at least two inspectors")
    items = checklists().get(industry or "default")
    if items is None:
        raise InputError("industry", industry, "no checklist; known: " + ", ".join(checklists()))
    for k, v in (checklist or {}).items():
        if k not in items:
            raise InputError(f"checklist.{k}", v, "not an item of the checklist of " + (industry or "default"))
        if v not in ANSWERS:
            raise InputError(f"checklist.{k}", v, "answer ok, problem or n/a")
    for name, v, lo, hi in (("lon", lon, -180, 180), ("lat", lat, -90, 90)):
        if v is not None and not lo <= v <= hi:
            raise InputError(name, v, f"must lie between {lo} and {hi}")
    if len(attachments) > MAX_ATTACHMENTS:
        raise InputError("attachments", len(attachments), f"at most {MAX_ATTACHMENTS}")
    checked = [check_attachment(a, i) for i, a in enumerate(attachments)]
    with write_tx(store) as conn:
        ent = conn.execute(select(enterprise.c.id, enterprise.c.region_code).where(enterprise.c.uscc == uscc)).first()
        if ent is None:
            raise InputError("enterprise", uscc, "no registered enterprise with this USCC")
        if scope.role not in ("system", "admin", "officer") or (
                scope.role == "officer" and not ent.region_code.startswith(region_prefix(scope.region_code) or "-")):
            raise PermissionError("only admins and the officers of the enterprise's region record inspections")
        if draw_item_id is not None:
            _check_draw_item(conn, draw_item_id, ent.id, uscc)
        iid = conn.execute(insert(inspection).values(
            kind=kind, draw_item_id=draw_item_id, trigger_kind=trigger_kind, trigger_ref=trigger_ref,
            enterprise_id=ent.id, region_code=ent.region_code, inspected_at=inspected_at, lon=lon, lat=lat,
            inspectors=[i.strip() for i in inspectors if i.strip()], industry=industry, checklist=checklist or {},
            findings=findings, created_by=origin.actor, created_at=now).returning(inspection.c.id)).scalar_one()
        for a, (mime, size, digest) in zip(attachments, checked, strict=True):
            conn.execute(insert(insp_attachment).values(inspection_id=iid, filename=Path(a.filename).name[:200],
                                                        content_type=mime, size=size, sha256=digest, content=a.data,
                                                        created_at=now))
        origin.record(conn, "inspection_record", f"inspection:{iid}", {
            "enterprise": uscc, "kind": kind, "trigger": trigger_kind, "ref": trigger_ref,
            "attachments": [c[2] for c in checked]})
    return get(store, scope, iid)


def _check_draw_item(conn, item_id: int, enterprise_id: int, uscc: str) -> None:
    """A random inspection is filed against an item of an open draw that names this enterprise."""
    it = conn.execute(select(insp_draw_item.c.enterprise_id, insp_draw.c.status, insp_draw.c.period)
                      .join(insp_draw, insp_draw.c.id == insp_draw_item.c.draw_id)
                      .where(insp_draw_item.c.id == item_id)).first()
    if it is None:
        raise InputError("draw_item_id", item_id, "no such draw item")
    if it.enterprise_id != enterprise_id:
        raise InputError("draw_item_id", item_id, f"the draw item is not for enterprise {uscc}")
    if it.status == "closed":
        raise InputError("draw_item_id", item_id, f"the draw of {it.period} is closed")


def get(store: Store, scope: Scope, inspection_id: int) -> dict:
    q = select(inspection, enterprise.c.uscc, enterprise.c.name).join(
        enterprise, enterprise.c.id == inspection.c.enterprise_id).where(inspection.c.id == inspection_id)
    cond = _cond(scope)
    if cond is not None:
        q = q.where(cond)
    with store.engine.connect() as conn:
        r = conn.execute(q).mappings().first()
        if r is None:
            raise NotFound(f"inspection {inspection_id} not found (or not visible to you)")
        atts = conn.execute(select(insp_attachment.c.id, insp_attachment.c.filename, insp_attachment.c.content_type,
                                   insp_attachment.c.size, insp_attachment.c.sha256)
                            .where(insp_attachment.c.inspection_id == inspection_id)
                            .order_by(insp_attachment.c.id)).mappings().all()
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()}
    out["attachments"] = [dict(a) for a in atts]
    return out


def list_inspections(store: Store, scope: Scope, *, uscc: str | None = None, limit: int = 200) -> list[dict]:
    """Inspection records the caller may see, newest first: id, kind, trigger, enterprise, time, inspectors,
    findings."""
    q = (select(inspection.c.id, inspection.c.kind, inspection.c.trigger_kind, inspection.c.trigger_ref,
                inspection.c.inspected_at, inspection.c.inspectors, inspection.c.findings, inspection.c.region_code,
                enterprise.c.uscc, enterprise.c.name)
         .join(enterprise, enterprise.c.id == inspection.c.enterprise_id)
         .order_by(inspection.c.inspected_at.desc(), inspection.c.id.desc()).limit(limit))
    cond = _cond(scope)
    if cond is not None:
        q = q.where(cond)
    if uscc:
        q = q.where(enterprise.c.uscc == uscc)
    with store.engine.connect() as conn:
        return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()}
                for r in conn.execute(q).mappings()]
