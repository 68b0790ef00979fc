"""The data resource catalogue (数据资源目录): datasets, access requests and grants, records, exports.

* ``dataset`` — a resource with owner department, description, fields, update frequency, sharing level
  (``unconditional`` 无条件共享 / ``conditional`` 有条件共享 / ``none`` 不予共享) and open level
  (``open`` 无条件开放 / ``conditional`` 有条件开放 / ``closed`` 不予开放). ``source`` says where its rows come
  from: ``{"type": "observations", ...filter}`` (the query layer) or ``{"type": "records"}`` (rows stored in
  ``dataset_record``, e.g. a register or a complaints table with personal data that exports mask).
* ``access_request`` — a partner's request; the owner approves (with an expiry) or refuses with a reason.
  An approved, unexpired, unrevoked request is the grant.
* ``export_record`` — every export: recipient, masked fields, and the random watermark key that
  ``ecohub watermark identify`` tests against a leaked file.
"""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

SHARING_LEVELS = ("unconditional", "conditional", "none")
OPEN_LEVELS = ("open", "conditional", "closed")

dataset = Table(
    "dataset", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner_department", String(200), nullable=False),
    Column("fields", JSON, nullable=False),  # [{"name", "type", "description", "mask"?, "watermark"?}]
    Column("update_frequency", String(32), nullable=False),  # realtime, hourly, daily, monthly, yearly, irregular
    Column("sharing_level", String(16), nullable=False),
    Column("open_level", String(16), nullable=False),
    Column("source", JSON, nullable=False),
    Column("created_at", UTCTime, nullable=False),
    Column("updated_at", UTCTime, nullable=False),
    CheckConstraint("sharing_level IN ('unconditional', 'conditional', 'none')", name="sharing_level"),
    CheckConstraint("open_level IN ('open', 'conditional', 'closed')", name="open_level"),
)

access_request = Table(
    "access_request", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("dataset.id"), nullable=False),
    Column("user_id", Integer, ForeignKey("app_user.id"), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending, approved, refused, revoked
    Column("requested_at", UTCTime, nullable=False),
    Column("decided_at", UTCTime, nullable=True),
    Column("decided_by", Integer, ForeignKey("app_user.id"), nullable=True),
    Column("reason", Text, nullable=True),
    Column("expires_at", UTCTime, nullable=True),
    CheckConstraint("status IN ('pending', 'approved', 'refused', 'revoked')", name="status"),
)
Index("ix_access_request_dataset_user", access_request.c.dataset_id, access_request.c.user_id)

dataset_record = Table(
    "dataset_record", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("dataset.id"), nullable=False),
    Column("region_code", String(6), nullable=True),
    Column("data", JSON, nullable=False),
    Column("created_at", UTCTime, nullable=False),
)
Index("ix_dataset_record_dataset_id", dataset_record.c.dataset_id)

export_record = Table(
    "export_record", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("dataset.id"), nullable=True),
    Column("user_id", Integer, ForeignKey("app_user.id"), nullable=True),
    Column("recipient", String(200), nullable=False),  # user name, or "anonymous@<ip>"
    Column("format", String(16), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("masked_fields", JSON, nullable=False),
    Column("wm_key", String(64), nullable=False),  # random per export (hex); finds the recipient of a leak
    Column("created_at", UTCTime, nullable=False),
    Column("ip", String(64), nullable=True),
)
