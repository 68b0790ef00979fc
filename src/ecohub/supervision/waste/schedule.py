"""The hazardous-waste jobs of the worker (``ecohub worker``): when due (every ``ECOHUB_SUPERVISION_CHECK_EVERY``
seconds; state in ``worker_state`` row ``waste_checks``) the storage-duration check of the ledgers (rule
``waste_storage``, :func:`~ecohub.supervision.waste.ledger.check_storage`) and the manifests not received by their
deadline (rule ``waste_overdue``, :func:`~ecohub.supervision.waste.manifest.check_overdue`)."""

from __future__ import annotations

from datetime import UTC, datetime

from ecohub.store.db import Store
from ecohub.supervision.schedule import due_checks
from ecohub.supervision.waste.ledger import check_storage
from ecohub.supervision.waste.manifest import check_overdue

CHECKS = "waste_checks"


def run_due(store: Store, now: datetime | None = None, *, every: int = 3600) -> dict:
    """The waste checks of one worker pass, when due: {storage: [...], overdue: [...]} or {} when not due."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    if not due_checks(store, CHECKS, now, every):
        return {}
    return {"storage": check_storage(store, now), "overdue": check_overdue(store, now)}
