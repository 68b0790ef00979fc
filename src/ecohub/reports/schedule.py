"""Scheduled reports: the worker generates each month's report of the configured regions once the month is over
(from day ``day`` of the next month, Beijing time), and the annual report in January. Idempotent: an issue that
already exists for (kind, region, period, format) is not generated again; previous issues are kept."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select

from ecohub.domain.timeutil import BEIJING
from ecohub.reports import service
from ecohub.store.db import Store
from ecohub.store.schema_reports import report_issue

log = logging.getLogger("ecohub.reports")
ACTOR = "worker"


def configured_regions() -> list[str]:
    """``ECOHUB_REPORT_REGIONS`` (comma-separated division codes; default the demo province 130000)."""
    from ecohub.config import settings

    raw = settings().report_regions
    return [r.strip() for r in raw.split(",") if r.strip().isdigit() and len(r.strip()) == 6]


def due(now: datetime, day: int = 3) -> list[tuple[str, str]]:
    """(kind, period) due at ``now``: last month's report from ``day`` of this month; last year's in January."""
    b = now.astimezone(BEIJING)
    if b.day < day:
        return []
    y, m = (b.year - 1, 12) if b.month == 1 else (b.year, b.month - 1)
    out = [("monthly", f"{y:04d}-{m:02d}")]
    if b.month == 1:
        out.append(("annual", f"{b.year - 1:04d}"))
    return out


def run_due(store: Store, now: datetime | None = None, *, regions: list[str] | None = None,
            formats: tuple[str, ...] = ("docx", "pdf"), day: int = 3) -> list[dict]:
    """Generate the due issues that do not exist yet; returns their listing rows (without figures)."""
    now = now or datetime.now(UTC)
    made = []
    for kind, period in due(now, day):
        for region in regions if regions is not None else configured_regions():
            for fmt in formats:
                with store.engine.connect() as conn:
                    exists = conn.scalar(select(report_issue.c.id).where(
                        report_issue.c.kind == kind, report_issue.c.region_code == region,
                        report_issue.c.period == period, report_issue.c.format == fmt).limit(1))
                if exists:
                    continue
                try:
                    row = service.generate(store, kind, region, period, fmt, actor=ACTOR)
                except ValueError as e:  # an unknown region in the configuration: logged, the others go on
                    log.error("scheduled report %s %s %s: %s", kind, region, period, e)
                    continue
                made.append({k: v for k, v in row.items() if k != "figures"})
    return made
