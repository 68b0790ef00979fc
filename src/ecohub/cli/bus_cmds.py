"""``ecohub writer --bus nats://… [--workers N]``: consume the JetStream ingest stream and write it through the
one idempotent writer, acking each message after the database commit (``docs/bus.md``)."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("writer")(writer_cmd)
    app.command("loadtest")(loadtest_cmd)


def writer_cmd(
    bus: Annotated[str, typer.Option(help="NATS URL of the JetStream server (nats://127.0.0.1:4222). Env "
                                          "ECOHUB_BUS_URL.", envvar="ECOHUB_BUS_URL")] = "nats://127.0.0.1:4222",
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Writer processes (each its own NATS and "
                                                                 "database connection, one shared consumer).")] = 1,
    subject: Annotated[str, typer.Option(help="Subjects to consume: ecohub.ingest.> (all), or by kind and "
                                              "region, e.g. ecohub.ingest.air.> or ecohub.ingest.*.320100.")
                       ] = "ecohub.ingest.>",
    durable: Annotated[str, typer.Option(help="Durable consumer name (one per subject filter).")
                       ] = "ecohub-writers",
    fetch: Annotated[int, typer.Option(min=1, max=10000, help="Messages per fetch (one database transaction).")
                     ] = 64,
    max_ack_pending: Annotated[int, typer.Option(min=1, help="Unacked messages at most over all workers.")
                               ] = 1024,
    metrics_port: Annotated[int, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics (worker i "
                                                   "on PORT+i; 0: none).")] = 0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
) -> None:
    """Write what the gateways published to the bus: fetch, write (idempotent), commit, then ack. A message that
    fails validation, or that the database refuses, goes to the dead-letter stream ecohub.dead.<reason> with the
    reason. Stops on Ctrl-C / SIGTERM."""
    from ecohub.bus.consume import run_writers
    from ecohub.bus.streams import BusConfig
    from ecohub.cli.common import open_store
    from ecohub.logs import setup as setup_logging

    setup_logging(log_level)
    store = open_store(database_url)  # migrated, and its URL (the workers open their own)
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    cfg = BusConfig(url=bus, subject=subject, durable=durable, fetch=fetch, max_ack_pending=max_ack_pending)

    def ready() -> None:
        sys.stdout.write(f"writing {subject} from {bus} with {workers} worker(s)\n")
        sys.stdout.flush()

    run_writers(url, cfg, workers, on_ready=ready, metrics_port=metrics_port or None)


def loadtest_cmd(
    outlets: Annotated[int, typer.Option(min=1, max=100_000, help="Simulated outlets (HJ 212 devices).")] = 200,
    gateways: Annotated[int, typer.Option(min=1, max=8, help="Gateway processes.")] = 1,
    writers: Annotated[int, typer.Option(min=0, max=16, help="Writer workers on the bus (0: the gateways write "
                                                             "directly, no bus).")] = 1,
    seconds: Annotated[float, typer.Option(min=1, max=600, help="Seconds of load.")] = 10.0,
    rate: Annotated[float | None, typer.Option(help="Packets/s over all outlets (default: one per outlet per "
                                                    "second, minute data compressed 60x).")] = None,
    bus: Annotated[str | None, typer.Option(help="NATS URL (default ECOHUB_BUS_URL or nats://127.0.0.1:4222).",
                                            envvar="ECOHUB_BUS_URL")] = "nats://127.0.0.1:4222",
    database_url: DatabaseUrl = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Bounded load on 127.0.0.1: M outlets through G gateways → the bus → W writers → the database (or direct
    with --writers 0); prints acknowledged packets/s, ack latency and end-to-end observations/s. Use a scratch
    database: it registers the outlets and writes their data."""
    from ecohub.bus.loadtest import run_loadtest
    from ecohub.cli.common import open_store, print_json

    store = open_store(database_url)
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    r = run_loadtest(url, outlets=outlets, gateways=gateways, writers=writers, seconds=seconds, bus=bus,
                     rate=rate, prefix=f"LT{int(time.time()) % 100000:05d}")
    if json_out:
        print_json(r)
    else:
        for k, v in r.items():
            sys.stdout.write(f"{k}: {v}\n")
