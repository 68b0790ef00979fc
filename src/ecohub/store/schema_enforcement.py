"""Tables of inspection and enforcement (``ecohub.supervision.inspect``, ``.cases``, ``.credit``), migration 0014.

Enforcement cases (``ecohub.supervision.cases``):

* ``enf_case`` — one administrative-penalty case (环境行政处罚案件): number, enterprise, region, the violation
  and its legal basis (a snapshot of the row of the configurable legal-basis table), where it came from (alert,
  complaint, inspection), the current ``state`` of the workflow (declared once in
  :mod:`ecohub.supervision.cases.machine`), since when and until when (``state_due``: the deadline of the
  current step), the overall decision deadline (``decision_due``), owner and supervisor (overdue steps alert
  the supervisor).
* ``enf_case_event`` — every transition (from, to, when, who, note): the case's timeline; also in the audit log.
* ``enf_penalty`` — penalties decided in a case: kind, amount; daily continuous penalties (按日连续处罚) keep
  their base amount and the counted dates.
* ``enf_document`` — generated documents (DOCX) with their SHA-256.

Random and targeted inspections (``ecohub.supervision.inspect``):

* ``insp_object`` — the directory of supervised objects (检查对象名录): an enterprise with its category.
* ``inspector`` — the directory of inspectors (执法检查人员名录): region, qualifications, linked enterprises
  (avoidance: never drawn for them).
* ``insp_draw`` — one random draw (双随机): period, scope, seed, algorithm and version, ratios, hashes of the
  directories it drew from, the result; ``ux_insp_draw_period`` makes a second draw of a period impossible.
* ``insp_draw_item`` — an object drawn and its two inspectors.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

CASE_STATES = ("clue", "filed", "investigating", "notified", "hearing", "decided", "executing", "closed",
               "not_filed", "revoked")
PENALTY_KINDS = ("warning", "fine", "daily_fine", "confiscation", "suspension", "permit_revocation",
                 "order_correction")
SOURCE_KINDS = ("alert", "complaint", "inspection", "other")

enf_case = Table(
    "enf_case", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("violation", String(40), nullable=False),
    Column("legal_basis", JSON, nullable=False),
    Column("source_kind", String(16), nullable=False),
    Column("source_ref", String(64), nullable=True),
    Column("discovered_on", Date, nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_since", UTCTime, nullable=False),
    Column("state_due", Date, nullable=True),
    Column("decision_due", Date, nullable=True),
    Column("filed_on", Date, nullable=True),
    Column("notified_on", Date, nullable=True),
    Column("decided_on", Date, nullable=True),
    Column("served_on", Date, nullable=True),
    Column("owner", String(100), nullable=False),
    Column("supervisor", String(100), nullable=True),
    Column("reason", Text, nullable=True),  # of 不予立案 / 撤销
    Column("published", Boolean, nullable=False, server_default=false()),
    Column("opened_at", UTCTime, nullable=False),
    Column("updated_at", UTCTime, nullable=False),
    CheckConstraint("state IN ('clue', 'filed', 'investigating', 'notified', 'hearing', 'decided', 'executing', "
                    "'closed', 'not_filed', 'revoked')", name="state"),
    CheckConstraint("source_kind IN ('alert', 'complaint', 'inspection', 'other')", name="source_kind"),
)
Index("ix_enf_case_enterprise_id", enf_case.c.enterprise_id)
Index("ix_enf_case_region_code", enf_case.c.region_code)
Index("ix_enf_case_state_due", enf_case.c.state, enf_case.c.state_due)

enf_case_event = Table(
    "enf_case_event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("enf_case.id"), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("at", UTCTime, nullable=False),
    Column("on_date", Date, nullable=False),  # the legal date of the step (may precede ``at``)
    Column("actor", String(100), nullable=True),
    Column("note", Text, nullable=True),
    Column("detail", JSON, nullable=True),
)
Index("ix_enf_case_event_case_id", enf_case_event.c.case_id)

enf_penalty = Table(
    "enf_penalty", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("enf_case.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount_yuan", Float, nullable=True),
    Column("base_yuan", Float, nullable=True),  # daily_fine: the original penalty per day
    Column("from_date", Date, nullable=True),  # daily_fine: first counted day
    Column("to_date", Date, nullable=True),  # daily_fine: last counted day (re-inspection found it continuing)
    Column("days", Integer, nullable=True),
    Column("note", Text, nullable=True),
    Column("paid_on", Date, nullable=True),
    Column("created_at", UTCTime, nullable=False),
    CheckConstraint("kind IN ('warning', 'fine', 'daily_fine', 'confiscation', 'suspension', 'permit_revocation', "
                    "'order_correction')", name="kind"),
    CheckConstraint("amount_yuan IS NULL OR amount_yuan >= 0", name="amount"),
)
Index("ix_enf_penalty_case_id", enf_penalty.c.case_id)

enf_document = Table(
    "enf_document", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("enf_case.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCTime, nullable=False),
    Column("created_by", String(100), nullable=True),
)
Index("ix_enf_document_case_id", enf_document.c.case_id)

# --- random inspections (双随机) ----------------------------------------------------------------------------------
insp_object = Table(
    "insp_object", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False, unique=True),
    Column("category", String(16), nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("updated_at", UTCTime, nullable=False),
)

inspector = Table(
    "inspector", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("qualifications", JSON, nullable=True),
    Column("linked_enterprises", JSON, nullable=True),  # enterprise ids this inspector must never inspect
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("updated_at", UTCTime, nullable=False),
)
Index("ix_inspector_region_code", inspector.c.region_code)

insp_draw = Table(
    "insp_draw", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("period", String(7), nullable=False),  # YYYY-MM
    Column("scope_code", String(6), nullable=False),  # region the draw covers
    Column("seed", String(100), nullable=False),
    Column("algorithm", String(60), nullable=False),
    Column("ratios", JSON, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("objects_sha256", String(64), nullable=False),
    Column("inspectors_sha256", String(64), nullable=False),
    Column("result_sha256", String(64), nullable=False),
    Column("inputs", JSON, nullable=False),  # the directories exactly as drawn from (verify re-runs on these)
    Column("status", String(12), nullable=False),
    Column("drawn_at", UTCTime, nullable=False),
    Column("drawn_by", String(100), nullable=True),
    Column("closed_at", UTCTime, nullable=True),
    CheckConstraint("status IN ('drawn', 'published', 'closed')", name="status"),
    UniqueConstraint("period", "scope_code", name="ux_insp_draw_period"),
)

insp_draw_item = Table(
    "insp_draw_item", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("draw_id", Integer, ForeignKey("insp_draw.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("category", String(16), nullable=False),
    Column("inspector_ids", JSON, nullable=False),
    UniqueConstraint("draw_id", "enterprise_id", name="ux_insp_draw_item"),
)
Index("ix_insp_draw_item_draw_id", insp_draw_item.c.draw_id)

# --- enterprise environmental credit (企业环境信用评价) -------------------------------------------------------------
CREDIT_LEVELS = ("green", "blue", "yellow", "red")  # 环保诚信 / 良好 / 警示 / 不良

credit_rating = Table(
    "credit_rating", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, … per enterprise and year: never overwritten
    Column("level", String(8), nullable=False),
    Column("score", Float, nullable=False),
    Column("facts", JSON, nullable=False),
    Column("points", JSON, nullable=False),  # deductions: indicator, facts, points
    Column("vetoes", JSON, nullable=False),
    Column("method", String(60), nullable=False),
    Column("computed_at", UTCTime, nullable=False),
    Column("computed_by", String(100), nullable=True),
    CheckConstraint("level IN ('green', 'blue', 'yellow', 'red')", name="level"),
    UniqueConstraint("enterprise_id", "year", "version", name="ux_credit_rating_version"),
)

credit_blacklist = Table(
    "credit_blacklist", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("start_on", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("case_id", Integer, ForeignKey("enf_case.id"), nullable=True),
    Column("rating_id", Integer, ForeignKey("credit_rating.id"), nullable=True),
    Column("status", String(12), nullable=False),  # listed | applied | restored | refused
    Column("repair_applied_on", Date, nullable=True),
    Column("repair_statement", Text, nullable=True),
    Column("repair_conditions", JSON, nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("restored_on", Date, nullable=True),
    Column("updated_at", UTCTime, nullable=False),
    CheckConstraint("status IN ('listed', 'applied', 'restored', 'refused')", name="status"),
)
Index("ix_credit_blacklist_enterprise_id", credit_blacklist.c.enterprise_id)

# --- inspection records (migration 0014b) ------------------------------------------------------------------------
inspection = Table(
    "inspection", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(12), nullable=False),  # random | targeted
    Column("draw_item_id", Integer, ForeignKey("insp_draw_item.id"), nullable=True),
    Column("trigger_kind", String(12), nullable=True),  # alert | complaint (targeted)
    Column("trigger_ref", String(64), nullable=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("inspected_at", UTCTime, nullable=False),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
    Column("inspectors", JSON, nullable=False),
    Column("industry", String(40), nullable=True),
    Column("checklist", JSON, nullable=False),
    Column("findings", Text, nullable=True),
    Column("created_by", String(100), nullable=True),
    Column("created_at", UTCTime, nullable=False),
    CheckConstraint("kind IN ('random', 'targeted')", name="kind"),
    CheckConstraint("kind = 'random' OR trigger_kind IS NOT NULL", name="targeted_trigger"),
)
Index("ix_inspection_enterprise_id", inspection.c.enterprise_id, inspection.c.inspected_at)

insp_attachment = Table(
    "insp_attachment", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("inspection_id", Integer, ForeignKey("inspection.id"), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCTime, nullable=False),
)
Index("ix_insp_attachment_inspection_id", insp_attachment.c.inspection_id)
