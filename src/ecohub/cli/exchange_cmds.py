"""``ecohub forward add|list|remove|enable|disable|status`` (HJ 212 forwarding destinations), ``ecohub forwarder``
(the process that sends their outboxes), ``ecohub partner add|list|subscribe`` and ``ecohub exchange
push|log|reconcile`` (push exchange with partners). Design: ``docs/exchange.md``."""

from __future__ import annotations

import asyncio
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
    register_exchange(app)


@forward_app.command("add")
def forward_add(
    name: Annotated[str, typer.Argument(help="Destination name (letters, digits, . _ -).")],
    host: Annotated[str, typer.Option(help="Upstream platform host.")],
    port: Annotated[int, typer.Option(help="Upstream platform TCP port.")],
    edition: Annotated[str, typer.Option(help="HJ 212 edition of re-encoded packets: 2017 or 2025 (2005: original "
                                              "mode only).")] = "2017",
    mode: Annotated[str, typer.Option(help="original (byte for byte) or reencode (the destination's edition, "
                                           "MN/PW mapping, parameters).")] = "original",
    devices: Annotated[list[str] | None, typer.Option("--device", "--devices",
                                                      help="MN(s) to forward (repeat, or comma-separated); "
                                                           "default all.")] = None,
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
        mns = [m for v in devices or [] for m in v.split(",") if m.strip()] or None
        d = add_destination(store, name, host, port, edition=edition, mode=mode, devices=mns,
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
    window: Annotated[int, typer.Option(help="Packets per window.")] = 100,
    in_flight: Annotated[int, typer.Option(help="Windows on the wire before the oldest must be answered.")] = 4,
    ack_timeout: Annotated[float, typer.Option(help="Seconds to wait for an answer (HJ 212-2017 Table 1: 10).")
                           ] = 10.0,
    recount: Annotated[int, typer.Option(help="Ack timeouts the oldest window may wait before the link is reopened "
                                              "and the unanswered packets sent again (Table 1: 3).")] = 3,
    retry_max: Annotated[float, typer.Option(help="Longest back-off between reconnections (s).")] = 60.0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
) -> None:
    """Send the forwarding outboxes to their destinations, in order per device, resending with back-off after an
    outage. Stops on Ctrl-C / SIGTERM; what was not answered is sent again at the next start."""
    from ecohub.exchange.forwarder import ForwarderConfig, run_forwarder
    from ecohub.logs import setup as setup_logging

    setup_logging(log_level)
    if window < 1 or in_flight < 1 or recount < 1 or ack_timeout <= 0:
        fail(f"window={window}, in_flight={in_flight}, recount={recount}, ack_timeout={ack_timeout}: must be positive")
    store = open_store(database_url)
    cfg = ForwarderConfig(window=window, in_flight=in_flight, ack_timeout=ack_timeout, recount=recount,
                          retry_max=retry_max)

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


# --- partners and push exchange ----------------------------------------------------------------------------------
partner_app = typer.Typer(help="Exchange partners (departments, provinces): keys, subscriptions.", no_args_is_help=True)
exchange_app = typer.Typer(help="Push exchange with partners: push deltas, the exchange log, reconcile.",
                           no_args_is_help=True)


def register_exchange(app: typer.Typer) -> None:
    app.add_typer(partner_app, name="partner")
    app.add_typer(exchange_app, name="exchange")


@partner_app.command("add")
def partner_add(
    name: Annotated[str, typer.Argument(help="Partner name.")],
    endpoint: Annotated[str | None, typer.Option(help="https:// URL batches are pushed to (none: incoming only).")
                        ] = None,
    alg: Annotated[str, typer.Option(help="hmac-sha256 or sm2 (the partner's choice).")] = "hmac-sha256",
    user: Annotated[str | None, typer.Option(help="The partner's user account: its catalogue grants and "
                                                  "masking apply to what is pushed.")] = None,
    department: Annotated[str | None, typer.Option(help="Department name.")] = None,
    incoming: Annotated[list[str] | None, typer.Option("--incoming", help="Dataset code it may push to us "
                                                                         "(repeat).")] = None,
    partner_public: Annotated[str | None, typer.Option(help="sm2: the partner's public key (hex), verifies what "
                                                            "it sends.")] = None,
    database_url: DatabaseUrl = None,
    json_out: JsonOut = False,
) -> None:
    """Add a partner. Prints the key id and, once, the shared secret (hmac-sha256) or our SM2 public key."""
    from ecohub.exchange.partners import add_partner

    store = open_store(database_url)
    try:
        p = add_partner(store, name, alg=alg, endpoint=endpoint, user=user, department=department,
                        incoming=incoming, partner_public=partner_public)
    except (InputError, ImportError) as e:
        fail(str(e))
    audit(store, "partner add", "partner.add", name, {"alg": alg, "endpoint": endpoint, "user": user})
    shown = {"name": p["name"], "key_id": p["key_id"], "alg": p["alg"], "endpoint": p["endpoint"],
             "secret": p.get("secret"), "public_key": p.get("sign_public"), "incoming": p["incoming"]}
    if json_out:
        print_json(shown)
    else:
        console.print(f"partner {name}: key id {p['key_id']} ({alg})")
        if p.get("secret"):
            console.print(f"shared secret (give it to the partner; shown once): {p['secret']}")
        if p.get("sign_public"):
            console.print(f"our SM2 public key for this partner: {p['sign_public']}")


@partner_app.command("list")
def partner_list(database_url: DatabaseUrl = None, json_out: JsonOut = False) -> None:
    """List partners (no secrets)."""
    from ecohub.exchange.partners import list_partners

    print_rows(list_partners(open_store(database_url)), json_out,
               {"name": "name", "alg": "alg", "key id": "key_id", "endpoint": "endpoint", "incoming": "incoming"})


@partner_app.command("subscribe")
def partner_subscribe(name: Annotated[str, typer.Argument()], dataset: Annotated[str, typer.Argument()],
                      disable: Annotated[bool, typer.Option("--disable", help="Stop pushing it.")] = False,
                      database_url: DatabaseUrl = None) -> None:
    """Subscribe a partner to a dataset (its catalogue access is checked at each push)."""
    from ecohub.exchange.partners import subscribe

    store = open_store(database_url)
    try:
        subscribe(store, name, dataset, enabled=not disable)
    except (InputError, NotFound) as e:
        fail(str(e))
    audit(store, "partner subscribe", "partner.subscribe", f"{name}:{dataset}", {"enabled": not disable})
    console.print(f"{name} {'unsubscribed from' if disable else 'subscribed to'} {dataset}")


@exchange_app.command("push")
def exchange_push(
    partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    max_rows: Annotated[int, typer.Option(help="Rows per batch at most.")] = 5000,
    every: Annotated[float, typer.Option(help="Push again every this many seconds until Ctrl-C / SIGTERM (0: one "
                                              "round).")] = 0.0,
    database_url: DatabaseUrl = None,
    json_out: JsonOut = False,
) -> None:
    """One push round: undelivered batches again (same id), then the new deltas, signed, in order. With --every,
    a round every N seconds (a partner that is away is retried at the next round)."""
    import threading
    import time

    from ecohub.exchange.push import push

    store = open_store(database_url)
    stop = threading.Event()
    if every > 0:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    while True:
        t0 = time.monotonic()
        try:
            results = push(store, partner, dataset, max_rows=max_rows)
        except NotFound as e:
            fail(str(e))
        if every <= 0 or any(r["delivered"] or r["status"] != "ok" for r in results):
            print_rows(results, json_out, {"partner": "partner", "dataset": "dataset", "status": "status",
                                           "batches": "delivered", "rows": "rows", "pending": "pending",
                                           "error": "error"})
        if every <= 0:
            break
        if stop.wait(max(every - (time.monotonic() - t0), 0.0)):
            return
    if any(r["status"] != "ok" for r in results):
        raise typer.Exit(1)


@exchange_app.command("log")
def exchange_log_cmd(partner: Annotated[str | None, typer.Option()] = None,
                     direction: Annotated[str | None, typer.Option(help="in or out.")] = None,
                     limit: Annotated[int, typer.Option()] = 1000,
                     database_url: DatabaseUrl = None, json_out: JsonOut = False) -> None:
    """The exchange log, newest first: batch id, direction, partner, dataset, rows, hash, status, attempts."""
    from ecohub.exchange.push import exchange_log

    print_rows(exchange_log(open_store(database_url), partner, direction, limit), json_out,
               {"batch": "batch_id", "dir": "direction", "partner": "partner", "dataset": "dataset", "rows": "rows",
                "hash": lambda r: f"{r['hash_alg']}:{r['hash'][:16]}…", "status": "status", "attempts": "attempts"})


@exchange_app.command("reconcile")
def exchange_reconcile(
    partner: Annotated[str, typer.Option(help="The partner.")],
    log_url: Annotated[str | None, typer.Option(help="Where the partner serves its log (default: its endpoint + "
                                                     "'/log'); a signed GET answered with [{batch_id, rows, "
                                                     "hash}].")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Compare our log of batches exchanged with a partner with the partner's log (counts and hashes)."""
    from urllib.parse import urlparse

    import httpx

    from ecohub.exchange.partners import get_partner, signer_for
    from ecohub.exchange.push import compare_logs, exchange_log

    store = open_store(database_url)
    try:
        p = get_partner(store, partner)
    except NotFound as e:
        fail(str(e))
    url = log_url or ((p["endpoint"] or "").rstrip("/") + "/log")
    headers = signer_for(p).headers("GET", urlparse(url).path or "/", "reconcile", b"")
    try:
        r = httpx.get(url, headers=headers, timeout=30.0)
        r.raise_for_status()
        theirs = r.json()
    except (httpx.HTTPError, ValueError) as e:
        fail(f"cannot read the partner's log at {url}: {e}")
    result = compare_logs(exchange_log(store, partner, None, 100_000), theirs)
    print_json(result)
    if not result["ok"]:
        raise typer.Exit(1)
