"""What a serving process does once, after it has built the application and before it answers requests."""

from __future__ import annotations

import gc


def freeze_heap() -> int:
    """Take every object alive now out of the cyclic garbage collector's view (:func:`gc.freeze`) and return
    how many were frozen.

    Why: a full (generation 2) collection walks every object the collector tracks. A served application holds
    ≈ 180,000 of them once it has started (modules, the app and its routes, SQLAlchemy's metadata and compiled
    statements, pydantic's validators), and each full collection took 90–115 ms on the demo database — about
    8 of them in 300 requests of ``/api/v1/observations``: they made the p99 of read endpoints whose p50 is
    5–20 ms (p99 of that URL 120 → 19 ms; ``bench/bench_reads.py`` and ``--no-freeze``). After the freeze a full
    collection walks only what was created since.

    Cost: a reference cycle among the frozen objects that later becomes garbage is never collected; what is
    frozen is the start-up heap, which lives as long as the process. Do not call it per request or per app in
    a process that builds many apps (the test suite)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
