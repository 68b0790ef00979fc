"""``ecohub demo`` and ``ecohub serve``: run the platform."""

from __future__ import annotations

import threading
import time
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("serve")(serve)


def build_app(store, settings=None):
    """The whole web application: API v1 (``create_app``) with the portal, one map and cockpit mounted, with
    one :class:`~ecohub.config.Settings` (default: the environment now) passed to both."""
    from ecohub.api.app import create_app
    from ecohub.config import Settings
    from ecohub.web import mount_web

    settings = settings or Settings()
    return mount_web(create_app(store, settings=settings), store, data_dir=settings.data_dir)


def _run_web(store, host: str, port: int) -> None:
    import uvicorn

    from ecohub.api.serving import freeze_heap
    from ecohub.logs import log_format, setup

    web = build_app(store)
    freeze_heap()  # full GC passes over the start-up heap were the read endpoints' p99 (ecohub.api.serving)
    if log_format() == "json":  # uvicorn's loggers through the root handler, as JSON lines
        setup("info")
        uvicorn.run(web, host=host, port=port, log_level="info", access_log=False, log_config=None)
    else:
        uvicorn.run(web, host=host, port=port, log_level="info", access_log=False)


def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Web port.")] = 8000,
    days: Annotated[int, typer.Option(help="Days of hourly history to build on first start.", min=1, max=365)] = 30,
    replay: Annotated[bool, typer.Option(help="Keep writing each new hour as it completes.")] = True,
    worker: Annotated[bool, typer.Option(help="Run QC and the alert rules every --worker-interval seconds.")] = True,
    worker_interval: Annotated[float, typer.Option(help="Seconds between worker passes.", min=5)] = 60.0,
    gateway_port: Annotated[int, typer.Option(help="HJ 212 gateway port (0: no gateway, no devices).")] = 6010,
    devices: Annotated[bool, typer.Option(help="Simulate the 12 demo outlets' data loggers over HJ 212.")] = True,
    database_url: DatabaseUrl = None,
) -> None:
    """Run everything in one process on the embedded database: the demo province (河北省: real CNEMC air-station
    and surface-water data, fictional enterprises marked 演示) replayed time-shifted so the newest data are from
    the last hour, and the web on HOST:PORT (plain HTTP).

    The data folder is ECOHUB_DATA_DIR (default ./var in a checkout); delete it to start afresh.
    """
    from ecohub.demo.province import is_loaded, load_registers
    from ecohub.demo.replay import Replayer, ReplayThread

    store = open_store(database_url)
    first = not is_loaded(store)
    counts = load_registers(store)
    console.print("demo province 河北省: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    t0 = time.perf_counter()
    replayer = Replayer(store)
    written = replayer.backfill(days if first else 2)
    console.print(f"history: {written.imported} observations written ({written.duplicates} already there) "
                  f"in {time.perf_counter() - t0:.1f} s")
    stop = threading.Event()
    threads: list[threading.Thread] = []
    if replay:
        rt = ReplayThread(replayer)
        rt.start()
        threads.append(rt)
    if worker:
        threads.append(_start_worker(store, worker_interval, stop))
    gateway = forwarder = None
    if gateway_port:
        from ecohub.demo.devices import simulate_demo_devices
        from ecohub.ingest.hj212 import start_in_thread

        gateway = start_in_thread(store, host, gateway_port)
        console.print(f"HJ 212 gateway on {host}:{gateway.port}")
        from ecohub.exchange.forwarder import ForwarderHandle  # sends to `ecohub forward add` destinations

        forwarder = ForwarderHandle(store)
        if devices:
            sim_thread, _ = simulate_demo_devices(store, host, gateway.port, stop=stop)
            threads.append(sim_thread)
            console.print("simulated devices: the 12 demo outlets upload real-time data every 30 s")
    console.print(f"[bold green]ecohub demo[/] on http://{host}:{port}  (API docs: /docs; Ctrl-C stops)")
    try:
        _run_web(store, host, port)
    finally:
        stop.set()
        for t in threads:
            if isinstance(t, ReplayThread):
                t.stop()
        if gateway is not None:
            gateway.stop()
        if forwarder is not None:
            forwarder.stop()


def _start_worker(store, interval: float, stop: threading.Event) -> threading.Thread:
    """QC, alert rules and notification delivery in a background thread (``ecohub worker`` in one process)."""
    from ecohub.alerts.worker import WorkerSettings, run_forever
    from ecohub.cli.worker_cmds import supervision_jobs

    def on_pass(res: dict) -> None:
        a = res.get("alerts", {})
        if a.get("opened") or a.get("cleared"):
            console.print(f"worker: alerts opened {a.get('opened', 0)}, cleared {a.get('cleared', 0)} "
                          f"({res.get('seconds')} s)")

    t = threading.Thread(target=run_forever, name="ecohub-demo-worker", daemon=True,
                         kwargs={"store": store, "interval": interval, "stop": stop.is_set, "on_pass": on_pass,
                                 "settings": WorkerSettings(jobs=supervision_jobs())})
    t.start()
    return t


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the API and web pages against the configured database (production: PostgreSQL)."""
    if port <= 0 or port > 65535:
        fail(f"--port {port}: not a TCP port")
    store = open_store(database_url, init_if_empty=False)
    _run_web(store, host, port)
