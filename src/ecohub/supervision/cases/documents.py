"""Documents of a case generated as DOCX (python-docx) from the templates of ``supervision/data/
doc_templates.json`` — 责令改正违法行为决定书, 行政处罚决定书 — stored with the case (``enf_document``: content,
SHA-256, size) and audited. A template may only be issued in the states it names (a penalty decision only after
the decision)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import insert, select

from ecohub.domain.errors import InputError, NotFound
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope
from ecohub.store.schema_enforcement import enf_document
from ecohub.store.tx import write_tx
from ecohub.supervision.cases import service

TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "doc_templates.json"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KIND_NAMES = {"warning": "警告", "fine": "罚款", "daily_fine": "按日连续处罚", "confiscation": "没收违法所得",
              "suspension": "责令停产整治", "permit_revocation": "吊销许可证", "order_correction": "责令改正"}


@cache
def templates() -> dict[str, dict]:
    raw = json.loads(TEMPLATES.read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def _penalty_lines(case: dict) -> str:
    lines = []
    for p in case["penalties"]:
        s = KIND_NAMES.get(p["kind"], p["kind"])
        if p["kind"] == "daily_fine":
            s += (f"：{p['base_yuan']:,.2f} 元/日 × {p['days']} 日（{p['from_date']} 至 {p['to_date']}）= "
                  f"{p['amount_yuan']:,.2f} 元")
        elif p.get("amount_yuan") is not None:
            s += f"：{p['amount_yuan']:,.2f} 元"
        lines.append(s)
    lines.append(f"合计：{case['penalty_total_yuan']:,.2f} 元")
    return "；".join(lines)


def render(case: dict, kind: str) -> bytes:
    from docx import Document

    t = templates().get(kind)
    if t is None:
        raise InputError("kind", kind, "unknown document; known: " + ", ".join(templates()))
    lb = case["legal_basis"]
    values = {"number": case["number"], "enterprise_name": case.get("enterprise_name", ""),
              "enterprise_uscc": case.get("enterprise_uscc", ""), "violation_name": lb["name"],
              "violates": lb["violates"], "penalty_basis": lb["penalty_basis"], "source": case["source_kind"],
              "penalties": _penalty_lines(case), "decided_on": case.get("decided_on") or "",
              "date": datetime.now(UTC).date().isoformat()}
    doc = Document()
    doc.core_properties.title = t["title"]
    doc.add_heading(t["title"], level=1)
    for p in t["paragraphs"]:
        doc.add_paragraph(p.format(**values))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def generate(store: Store, scope: Scope, origin: Origin, ref: int | str, kind: str,
             now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    case = service.get_case(store, scope, ref)
    t = templates().get(kind)
    if t is None:
        raise InputError("kind", kind, "unknown document; known: " + ", ".join(templates()))
    if case["state"] not in t["states"]:
        raise InputError("kind", kind, f"a {t['title']} is issued in states {', '.join(t['states'])}; the case is "
                         f"{case['state']}")
    data = render(case, kind)
    digest = hashlib.sha256(data).hexdigest()
    name = f"{case['number']}-{kind}.docx"
    with write_tx(store) as conn:
        service._may_write(scope, case["region_code"])
        did = conn.execute(insert(enf_document).values(case_id=case["id"], kind=kind, filename=name, sha256=digest,
                                                       size=len(data), content=data, created_at=now,
                                                       created_by=origin.actor).returning(enf_document.c.id)
                           ).scalar_one()
        origin.record(conn, "case_document", f"case:{case['number']}", {"document": did, "kind": kind,
                                                                         "sha256": digest})
    return {"id": did, "filename": name, "sha256": digest, "size": len(data), "kind": kind}


def content(store: Store, scope: Scope, ref: int | str, document_id: int) -> tuple[str, bytes]:
    case = service.get_case(store, scope, ref)  # scope applies
    with store.engine.connect() as conn:
        r = conn.execute(select(enf_document.c.filename, enf_document.c.content).where(
            enf_document.c.id == document_id, enf_document.c.case_id == case["id"])).first()
    if r is None:
        raise NotFound(f"document {document_id} of case {case['number']} not found")
    return r.filename, bytes(r.content)
