"""Tables of supervision (``ecohub.supervision``): public complaints (12369-style 举报) and their history.

* ``complaint`` — one report: an unguessable ``tracking_code`` (the complainant's key to follow it), category,
  description, location (WGS-84) and the region found from it (``region_method``: ``polygon`` when the point
  falls in a shipped county/city boundary, ``nearest`` when the nearest county point of ``region`` was used),
  an optional photo (stored in the data folder; ``photo_path`` relative to it), an optional contact phone
  (**personal data**: never shown publicly, masked in staff views except for authorised roles), the current
  ``status`` and the ids of the nearby open complaints of the same category suggested as possible duplicates
  when it was submitted.
* ``complaint_event`` — the status history (received → accepted / rejected with a reason → handled → closed),
  with who (staff only) and when; the public lookup shows status, time and note. Since the complaint loop
  (migration 0019) it records the fine stage (:mod:`ecohub.supervision.complaint_machine`).
* ``complaint_handling`` — the loop of one complaint (migration 0019): its stage, since when, until when
  (``stage_due``, working days where the rule says so), handler and the handler's supervisor (overdue stages alert
  the supervisor), the region it was transferred to, the complaint it was merged into, the targeted inspection
  and the case it led to, the result, the reply, the return visit (回访) with the satisfaction, and whether the
  result is published.
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
    false,
)

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

COMPLAINT_CATEGORIES = ("air", "water", "noise", "waste", "soil", "radiation", "other")
COMPLAINT_STATUSES = ("received", "accepted", "rejected", "handled", "closed")

complaint = Table(
    "complaint", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tracking_code", String(16), nullable=False, unique=True),
    Column("category", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("lon", Float, nullable=False),  # WGS-84
    Column("lat", Float, nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("region_method", String(16), nullable=False),  # polygon | nearest
    Column("address", Text, nullable=True),  # personal data: SM4-encrypted (sm4:1:…) when a key is set
    Column("phone", Text, nullable=True),  # personal data: SM4-encrypted (sm4:1:…) when a key is set
    Column("phone_bidx", String(64), nullable=True),  # HMAC-SM3 blind index of the phone (search)
    Column("photo_path", String(200), nullable=True),
    Column("photo_type", String(32), nullable=True),
    Column("photo_size", Integer, nullable=True),
    Column("status", String(12), nullable=False),
    Column("possible_duplicates", JSON, nullable=True),
    Column("submitted_at", UTCTime, nullable=False),
    Column("updated_at", UTCTime, nullable=False),
    CheckConstraint("category IN ('air', 'water', 'noise', 'waste', 'soil', 'radiation', 'other')",
                    name="category"),
    CheckConstraint("status IN ('received', 'accepted', 'rejected', 'handled', 'closed')", name="status"),
    CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="position"),
)
Index("ix_complaint_phone_bidx", complaint.c.phone_bidx)
Index("ix_complaint_region_code", complaint.c.region_code)
Index("ix_complaint_status_submitted_at", complaint.c.status, complaint.c.submitted_at)
Index("ix_complaint_lat_lon", complaint.c.lat, complaint.c.lon)

complaint_event = Table(
    "complaint_event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("complaint_id", Integer, ForeignKey("complaint.id"), nullable=False),
    Column("status", String(12), nullable=False),
    Column("at", UTCTime, nullable=False),
    Column("actor", String(100), nullable=True),  # staff user (never shown publicly); null = the complainant
    Column("note", Text, nullable=True),  # reason of a rejection, what was done, … (shown publicly)
)
Index("ix_complaint_event_complaint_id", complaint_event.c.complaint_id)

complaint_handling = Table(
    "complaint_handling", metadata,
    Column("complaint_id", Integer, ForeignKey("complaint.id"), primary_key=True),
    Column("stage", String(12), nullable=False),
    Column("stage_since", UTCTime, nullable=False),
    Column("stage_due", Date, nullable=True),
    Column("due_provisional", Boolean, nullable=False, server_default=false()),
    Column("accepted_on", Date, nullable=True),
    Column("handler", String(100), nullable=True),
    Column("supervisor", String(100), nullable=True),
    Column("located_region", String(6), ForeignKey("region.code"), nullable=True),  # region found from the point
    Column("transferred_to", String(6), ForeignKey("region.code"), nullable=True),
    Column("merged_into", Integer, ForeignKey("complaint.id"), nullable=True),
    Column("inspection_id", Integer, ForeignKey("inspection.id"), nullable=True),
    Column("case_id", Integer, ForeignKey("enf_case.id"), nullable=True),
    Column("result", Text, nullable=True),  # 办理结果 (published when the complaint is closed)
    Column("reply", Text, nullable=True),  # 答复举报人
    Column("replied_at", UTCTime, nullable=True),
    Column("satisfaction", String(12), nullable=True),  # satisfied | basic | unsatisfied (回访)
    Column("visit_note", Text, nullable=True),
    Column("visited_at", UTCTime, nullable=True),
    Column("published", Boolean, nullable=False, server_default=false()),
    Column("published_at", UTCTime, nullable=True),
    Column("updated_at", UTCTime, nullable=False),
    CheckConstraint("stage IN ('received', 'accepted', 'transferred', 'handling', 'handled', 'replied', 'visited', "
                    "'closed', 'rejected', 'merged')", name="stage"),
    CheckConstraint("satisfaction IS NULL OR satisfaction IN ('satisfied', 'basic', 'unsatisfied')",
                    name="satisfaction"),
    CheckConstraint("merged_into IS NULL OR merged_into <> complaint_id", name="not_self"),
)
Index("ix_complaint_handling_stage_due", complaint_handling.c.stage, complaint_handling.c.stage_due)
Index("ix_complaint_handling_merged_into", complaint_handling.c.merged_into)
