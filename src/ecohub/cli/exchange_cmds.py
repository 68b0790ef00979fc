"""``ecohub forward add|list|remove|enable|disable|status`` (HJ 212 forwarding destinations) and
``ecohub forwarder`` (the process that sends their outboxes). Design: ``docs/exchange.md``."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, audit, console, fail, open_store, print_json, print_rows
from ecohub.domain.errors import InputError, NotFound

__all__ = ["register"]

forward_app = typer.Typer(help="HJ 212 forwarding (数据转发) to upstream platforms: destinations and status.",
                          no_args_is_help=True)
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(forward_app, name="forward")
    app.command("forwarder")(forwarder_cmd)


@forward_app.command("add")
def forward_add(
    name: Annotated[str, typer.Argument(help="Destination name (letters, digits, . _ -).")],
    host: Annotated[str, typer.Option(help="Upstream platform host.")],
    port: Annotated[int, typer.Option(help="Upstream platform TCP port.")],
    edition: Annotated[str, typer.Option(help="HJ 212 edition of re-encoded packets: 2017 or 2025 (2005: original "
                                              "mode only).")] = "2017",
    mode: Annotated[str, typer.Option(help="original (byte for byte) or reencode (the destination's edition, "
                                           "MN/PW mapping, parameters).")] = "original",
    devices: Annotated[list[str] | None, typer.Option("--device", help="MN to forward (repeat); default all.")
                       ] = None,
    parameters: Annotated[list[str] | None, typer.Option("--parameter", help="HJ 212 factor code to keep "
                                                                             "(reencode; repeat); default all.")
                          ] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="LOCAL_MN=REMOTE_MN[:REMOTE_PW] (reencode; "
                                                                    "repeat).")] = None,
    pw: Annotated[str | None, typer.Option(help="PW of re-encoded packets (default: the device's own).")] = None,
    ack: Annotated[bool, typer.Option("--ack/--no-ack", help="Re-encoded packets ask for the 9014 answer.")] = True,
    database_url: DatabaseUrl = None,
    json_out: JsonOut = False,
) -> None:
    """Add a forwarding destination; the gateway queues uploads for it from now on (within 5 s)."""
    from ecohub.exchange.forward import add_destination, parse_mn_map

    store = open_store(database_url)
    try:
        d = add_destination(store, name, host, port, edition=edition, mode=mode, devices=devices,
                            parameters=parameters, mn_map=parse_mn_map(mapping), pw=pw, ack=ack)
    except InputError as e:
        fail(str(e))
    audit(store, "forward add", "forward.add", name, {"host": host, "port": port, "mode": mode, "edition": edition})
    if json_out:
        print_json({k: v for k, v in d.items() if k != "pw"})
    else:
        console.print(f"destination {name} → {host}:{port} ({mode}, HJ 212-{edition}) added")


@forward_app.command("list")
def forward_list(database_url: DatabaseUrl = None, json_out: JsonOut = False) -> None:
    """List the destinations."""
    from ecohub.exchange.forward import list_destinations

    store = open_store(database_url)
    rows = [{k: v for k, v in d.items() if k != "pw"} for d in list_destinations(store)]
    print_rows(rows, json_out, {"name": "name", "host": "host", "port": "port", "mode": "mode",
                                "edition": "edition", "enabled": "enabled", "devices": "devices"})


@forward_app.command("remove")
def forward_remove(name: Annotated[str, typer.Argument()], database_url: DatabaseUrl = None) -> None:
    """Remove a destination and its outbox."""
    from ecohub.exchange.forward import remove_destination

    store = open_store(database_url)
    try:
        n = remove_destination(store, name)
    except NotFound as e:
        fail(str(e))
    audit(store, "forward remove", "forward.remove", name, {"outbox_dropped": n})
    console.print(f"destination {name} removed ({n} queued packets dropped)")


def _set(name: str, enabled: bool, database_url: str | None) -> None:
    from ecohub.exchange.forward import set_enabled

    store = open_store(database_url)
    try:
        set_enabled(store, name, enabled)
    except NotFound as e:
        fail(str(e))
    audit(store, "forward " + ("enable" if enabled else "disable"), "forward.enable" if enabled else
          "forward.disable", name)
    console.print(f"destination {name} {'enabled' if enabled else 'disabled'}")


@forward_app.command("enable")
def forward_enable(name: Annotated[str, typer.Argument()], database_url: DatabaseUrl = None) -> None:
    """Enable a destination (the gateway queues for it again)."""
    _set(name, True, database_url)


@forward_app.command("disable")
def forward_disable(name: Annotated[str, typer.Argument()], database_url: DatabaseUrl = None) -> None:
    """Disable a destination: nothing more is queued or sent (its backlog is kept)."""
    _set(name, False, database_url)


@forward_app.command("status")
def forward_status(database_url: DatabaseUrl = None, json_out: JsonOut = False) -> None:
    """Per destination: backlog, lag (age of the oldest queued packet), last ack, failures, totals."""
    from ecohub.exchange.forward import destination_status

    store = open_store(database_url)
    print_rows(destination_status(store), json_out,
               {"name": "name", "enabled": "enabled", "backlog": "backlog", "lag s": "lag_seconds",
                "last ack": "last_ack_at", "failures": "failures", "failed": "failed", "sent": "sent",
                "acked": "acked", "last error": "last_error"})


def forwarder_cmd(
    database_url: DatabaseUrl = None,
    window: Annotated[int, typer.Option(help="Packets sent before waiting for their 9014 answers.")] = 100,
    ack_timeout: Annotated[float, typer.Option(help="Seconds to wait for an answer (HJ 212-2017 Table 1: 10).")
                           ] = 10.0,
    recount: Annotated[int, typer.Option(help="Tries per link before it is reopened (Table 1: 3).")] = 3,
    retry_max: Annotated[float, typer.Option(help="Longest back-off between reconnections (s).")] = 60.0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
) -> None:
    """Send the forwarding outboxes to their destinations, in order per device, resending with back-off after an
    outage. Stops on Ctrl-C / SIGTERM; what was not answered is sent again at the next start."""
    from ecohub.exchange.forwarder import ForwarderConfig, run_forwarder

    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if window < 1 or recount < 1 or ack_timeout <= 0:
        fail(f"window={window}, recount={recount}, ack_timeout={ack_timeout}: must be positive")
    store = open_store(database_url)
    cfg = ForwarderConfig(window=window, ack_timeout=ack_timeout, recount=recount, retry_max=retry_max)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        sys.stdout.write("forwarder running\n")
        sys.stdout.flush()
        await run_forwarder(store, cfg, stop)

    try:
        asyncio.run(main())
    finally:
        store.close()
