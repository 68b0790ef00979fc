"""``ecohub serve``/``demo`` freeze the start-up heap before answering (ecohub.api.serving): full garbage
collections then walk only what requests create, not the ≈ 180,000 objects of the started application."""

from __future__ import annotations

import gc

from ecohub.api.serving import freeze_heap
from ecohub.cli import serve_cmds


def test_freeze_heap_takes_the_live_objects_out_of_the_collector():
    try:
        before = len(gc.get_objects())
        n = freeze_heap()
        assert n >= before // 2 and gc.get_freeze_count() == n
        assert len(gc.get_objects()) < before // 10  # what the collector still walks
    finally:
        gc.unfreeze()  # the test process builds many apps: do not pin their garbage


def test_the_web_server_starts_with_a_frozen_heap(store, monkeypatch):
    seen = {}

    def run(app, **kw):  # instead of serving: what uvicorn would be handed
        seen["frozen"] = gc.get_freeze_count()
        seen["app"] = app
        seen["kw"] = kw

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", run)
    try:
        serve_cmds._run_web(store, "127.0.0.1", 8765)
    finally:
        gc.unfreeze()
    assert seen["frozen"] > 10_000
    assert seen["kw"]["host"] == "127.0.0.1" and seen["kw"]["port"] == 8765
    assert "/api/v1/latest" in seen["app"].openapi()["paths"]
