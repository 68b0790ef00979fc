"""Tables of hazardous-waste supervision (``ecohub.supervision.waste``, 危险废物全过程监管), migration 0013.

* ``waste_code`` — the waste codes of the National Hazardous Waste List (国家危险废物名录): the 8-digit code
  (industry 3 + sequence 3 + category 2), its category ``HWxx``, industry source, description, hazard
  characteristics (T, C, I, R, In) and the edition it comes from (the shipped subset: ``docs/waste.md``).
* ``waste_licence`` — a business licence for hazardous waste (危险废物经营许可证) held by an enterprise: the
  codes or whole categories it covers, and its validity. A receiver must hold one for the manifest's code.
* ``waste_ledger`` — the generator's ledger (台账): waste generated, shipped (by a manifest) and received, per
  enterprise and code, in tonnes; what is stored is generated − shipped (oldest first).
* ``manifest`` — an electronic transfer manifest (转移联单): generator, transporter, vehicle, receiver, code,
  quantities, deadline, cross-region approval, its state (the machine of :mod:`ecohub.supervision.waste.manifest`)
  and a ``version`` counter that every transition advances with a compare-and-set update (no step is lost
  when two clients act at once).
* ``manifest_event`` — one row per transition (seq 1, 2, … unique per manifest) with who, when and details.
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
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

MANIFEST_STATES = ("created", "approved", "dispatched", "received", "closed", "cancelled")
LEDGER_KINDS = ("generated", "shipped", "received")

waste_code = Table(
    "waste_code", metadata,
    Column("code", String(10), primary_key=True),
    Column("category", String(4), nullable=False),
    Column("industry", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("hazard", String(16), nullable=False),
    Column("edition", String(40), nullable=False),
)
Index("ix_waste_code_category", waste_code.c.category)

waste_licence = Table(
    "waste_licence", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("licence_no", String(64), nullable=False, unique=True),
    Column("codes", JSON, nullable=False),  # list of 8-digit codes and/or HWxx categories covered
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("created_at", UTCTime, nullable=False),
)
Index("ix_waste_licence_enterprise_id", waste_licence.c.enterprise_id)

manifest = Table(
    "manifest", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("generator_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("receiver_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("code", String(10), ForeignKey("waste_code.code"), nullable=False),
    Column("quantity_t", Float, nullable=False),
    Column("state", String(12), nullable=False),
    Column("version", Integer, nullable=False),
    Column("cross_region", Boolean, nullable=False),
    Column("approval_ref", String(64), nullable=True),
    Column("transporter", String(200), nullable=True),
    Column("vehicle", String(32), nullable=True),
    Column("dispatched_at", UTCTime, nullable=True),
    Column("deadline_at", UTCTime, nullable=True),
    Column("received_at", UTCTime, nullable=True),
    Column("received_quantity_t", Float, nullable=True),
    Column("closed_at", UTCTime, nullable=True),
    Column("created_at", UTCTime, nullable=False),
    Column("updated_at", UTCTime, nullable=False),
    CheckConstraint("state IN ('created', 'approved', 'dispatched', 'received', 'closed', 'cancelled')",
                    name="state"),
    CheckConstraint("quantity_t > 0", name="quantity_positive"),
)
Index("ix_manifest_state", manifest.c.state)
Index("ix_manifest_generator_id", manifest.c.generator_id)
Index("ix_manifest_receiver_id", manifest.c.receiver_id)

manifest_event = Table(
    "manifest_event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("manifest_id", Integer, ForeignKey("manifest.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("from_state", String(12), nullable=True),
    Column("to_state", String(12), nullable=False),
    Column("at", UTCTime, nullable=False),
    Column("actor", String(100), nullable=True),
    Column("detail", JSON, nullable=True),
    UniqueConstraint("manifest_id", "seq"),
)

waste_ledger = Table(
    "waste_ledger", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=False),
    Column("code", String(10), ForeignKey("waste_code.code"), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("quantity_t", Float, nullable=False),
    Column("at", UTCTime, nullable=False),
    Column("manifest_id", Integer, ForeignKey("manifest.id"), nullable=True),
    Column("note", Text, nullable=True),
    Column("recorded_by", String(100), nullable=True),
    CheckConstraint("kind IN ('generated', 'shipped', 'received')", name="kind"),
    CheckConstraint("quantity_t > 0", name="quantity_positive"),
)
Index("ix_waste_ledger_enterprise_code", waste_ledger.c.enterprise_id, waste_ledger.c.code)
