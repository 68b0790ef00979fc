"""Tables of the reports area (migration 0012): generated report issues (kept, never overwritten) and soil
samples with their GB 15618 / GB 36600 classes."""

from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        CheckConstraint,
                        Column,
                        Float,
                        ForeignKey,
                        Index,
                        Integer,
                        LargeBinary,
                        String,
                        Table,
                        Text,
)

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

report_issue = Table(
    "report_issue", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # monthly | annual
    Column("region_code", String(6), ForeignKey("region.code"), nullable=False),
    Column("period", String(7), nullable=False),  # 2026-11 | 2026
    Column("format", String(4), nullable=False),  # docx | pdf
    Column("filename", String(200), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("figures", JSON, nullable=False),  # the JSON sidecar: every number of the report and its query
    Column("template", String(200), nullable=False),
    Column("created_at", UTCTime, nullable=False),
    Column("created_by", String(100), nullable=True),
    CheckConstraint("kind IN ('monthly', 'annual')", name="kind"),
    CheckConstraint("format IN ('docx', 'pdf')", name="format"),
)
Index("ix_report_issue_region_period", report_issue.c.region_code, report_issue.c.period)

soil_sample = Table(
    "soil_sample", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("sampled_at", UTCTime, nullable=False),
    Column("land_use", String(16), nullable=False),
    Column("ph", Float, nullable=True),
    Column("values", JSON, nullable=False),  # pollutant → mg/kg
    Column("classes", JSON, nullable=False),  # pollutant → below_screening | between | above_intervention
    Column("worst", String(20), nullable=True),
    Column("standard", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("created_at", UTCTime, nullable=False),
    Column("created_by", String(100), nullable=True),
)
Index("ix_soil_sample_site_id", soil_sample.c.site_id, soil_sample.c.sampled_at)
