"""Corrections: raw observations never change; a correction is a new row with who, when and why.

The effective value of an observation is its newest correction, if any (``queries.observations(...,
corrected=True)``); with ``as_of`` the data are seen as they were at that moment, so a published number can
be recomputed as it was published.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import and_, insert, select
from sqlalchemy.engine import Connection

from ecohub.domain.errors import InputError
from ecohub.store.schema import correction, observation, parameter, series, site, source
from ecohub.store.types import inserted_id


def add_correction(conn: Connection, *, site_code: str, parameter_name: str, interval: str, time: datetime,
                   value: float | None, flag: str | None, reason: str, author: str, source_name: str | None = None) -> int:
    """Record a correction of a stored observation. The observation must exist; reason and author are required."""
    if not (reason or "").strip():
        raise InputError("reason", reason, "a correction needs a reason")
    if not (author or "").strip():
        raise InputError("author", author, "a correction needs its author")
    if value is not None and (math.isnan(value) or math.isinf(value)):
        raise InputError("value", value, "not a finite number")
    q = (select(observation.c.series_id, observation.c.time, observation.c.source_id, source.c.name)
         .select_from(observation.join(series, series.c.id == observation.c.series_id)
                      .join(site, site.c.id == series.c.site_id)
                      .join(parameter, parameter.c.id == series.c.parameter_id)
                      .join(source, source.c.id == observation.c.source_id))
         .where(and_(site.c.code == site_code, parameter.c.name == parameter_name, series.c.interval == interval,
                     observation.c.time == time)))
    if source_name:
        q = q.where(source.c.name == source_name)
    rows = conn.execute(q).all()
    if not rows:
        raise InputError("time", time.isoformat(), f"no stored {interval} observation of {parameter_name} at "
                         f"site {site_code} at this time")
    if len(rows) > 1:
        raise InputError("source", source_name, "several sources hold this observation (" +
                         ", ".join(r.name for r in rows) + "): name one")
    r = rows[0]
    return inserted_id(conn.execute(insert(correction).values(
        series_id=r.series_id, time=r.time, source_id=r.source_id, value=value, flag=flag,
        reason=reason.strip(), author=author.strip(), created_at=datetime.now(UTC))))
