"""Running the gateway: :func:`run_gateway` (``ecohub gateway``: until SIGINT/SIGTERM) and :func:`start_in_thread`
(``ecohub demo``, tests: on its own event loop in a daemon thread, a :class:`GatewayHandle` back)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

from ecohub.ingest.hj212.config import GatewayConfig, GatewayEvent
from ecohub.ingest.hj212.server import CommitterFactory, Gateway
from ecohub.store.db import Store

__all__ = ["GatewayHandle", "new_loop", "run_gateway", "start_in_thread"]


def new_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's when installed."""
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        return uvloop.new_event_loop()  # type: ignore[no-any-return, unused-ignore]
    except ImportError:
        return asyncio.new_event_loop()


def run_gateway(store: Store, config: GatewayConfig | None = None, *,
                on_event: Callable[[GatewayEvent], None] | None = None,
                on_ready: Callable[[Gateway], None] | None = None,
                stop_event: threading.Event | None = None,
                committer_factory: CommitterFactory | None = None) -> dict[str, Any]:
    """Run the gateway until SIGINT/SIGTERM (main thread) or ``stop_event``; returns its final stats."""
    import signal

    loop = new_loop()
    gw = Gateway(store, config, on_event=on_event, committer_factory=committer_factory)

    async def main() -> None:
        await gw.start()
        if on_ready is not None:
            on_ready(gw)
        done = asyncio.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, done.set)
        if stop_event is not None:
            ev = stop_event

            def _watch() -> None:
                ev.wait()
                loop.call_soon_threadsafe(done.set)
            threading.Thread(target=_watch, daemon=True).start()
        await done.wait()
        await gw.stop()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    return gw.stats()


class GatewayHandle:
    """A gateway running in a background thread (see :func:`start_in_thread`)."""

    def __init__(self, thread: threading.Thread, stop_event: threading.Event, holder: dict[str, Any]):
        self._thread = thread
        self._stop = stop_event
        self._holder = holder

    @property
    def gateway(self) -> Gateway:
        gw: Gateway = self._holder["gateway"]
        return gw

    @property
    def port(self) -> int:
        port = self.gateway.port
        assert port is not None
        return port

    def stats(self) -> dict[str, Any]:
        return self.gateway.stats()

    def stop(self, timeout: float = 15.0) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout)
        return self._holder.get("stats") or self.stats()

    def __enter__(self) -> GatewayHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(store: Store, host: str = "127.0.0.1", port: int = 6010, *,
                    config: GatewayConfig | None = None, on_event: Callable[[GatewayEvent], None] | None = None,
                    ready_timeout: float = 30.0, committer_factory: CommitterFactory | None = None
                    ) -> GatewayHandle:
    """Start the gateway on its own event loop in a daemon thread (``ecohub demo``, tests). ``port=0`` picks a
    free port (``handle.port``). Returns once it listens; raises ``RuntimeError`` if it does not start.
    ``committer_factory``: as for :func:`run_gateway` (default: commit to ``store``)."""
    cfg = config or GatewayConfig()
    cfg.host, cfg.port = host, port
    ready = threading.Event()
    stop_event = threading.Event()
    holder: dict[str, Any] = {}

    def on_ready(gw: Gateway) -> None:
        holder["gateway"] = gw
        ready.set()

    def target() -> None:
        try:
            holder["stats"] = run_gateway(store, cfg, on_event=on_event, on_ready=on_ready, stop_event=stop_event,
                                          committer_factory=committer_factory)
        except BaseException as e:  # noqa: BLE001 - reported to the starting thread
            holder["error"] = e
            ready.set()

    t = threading.Thread(target=target, name="hj212-gateway", daemon=True)
    t.start()
    if not ready.wait(ready_timeout) or "error" in holder:
        stop_event.set()
        raise RuntimeError(f"the HJ 212 gateway did not start: {holder.get('error', 'timeout')}")
    return GatewayHandle(t, stop_event, holder)
