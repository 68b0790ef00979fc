"""``ecohub gateway`` (the HJ 212 TCP gateway), ``ecohub device command …`` (platform → device commands) and
``ecohub hj212 simulate`` (device simulator).

The lead wires :func:`register` into ``ecohub.cli.main`` and :func:`add_simulate` into the ``hj212`` sub-app.
``python -m ecohub.cli.gateway_cmds …`` runs these commands on their own (used before the wiring exists).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, err_console, fail, open_store, print_json

__all__ = ["register", "add_simulate"]

ACTIONS = ("backfill", "set-interval", "set-time", "list", "show", "cancel")

def register(app: typer.Typer) -> None:
    """Add ``gateway`` to the main app and ``command`` to the ``device`` group."""
    from ecohub.cli.data_cmds import device_app

    app.command("gateway")(gateway_cmd)
    device_app.command("command")(device_command_cmd)
    device_app.command("commands")(device_commands_cmd)


def add_simulate(hj212_typer: typer.Typer) -> None:
    """Add ``simulate`` to the ``hj212`` sub-app."""
    hj212_typer.command("simulate")(simulate_cmd)


# --- gateway ---------------------------------------------------------------------------------------------------
def gateway_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: any free port; the chosen port is printed).")] = 6010,
    database_url: DatabaseUrl = None,
    max_connections: Annotated[int, typer.Option(help="Connections at most (more are closed at once).")] = 5000,
    idle_timeout: Annotated[float, typer.Option(help="Seconds without data before a connection is closed.")] = 1800.0,
    first_packet_timeout: Annotated[float, typer.Option(
        help="Seconds a new connection has to send its first valid (authenticated) packet; then it is "
             "closed.")] = 120.0,
    max_pending_per_address: Annotated[int, typer.Option(
        help="Connections from one IP address that may be open without having sent a single frame; more from "
             "that address are closed at once (a device sends its first packet at once, so it is not held back).")] = 64,
    device_rate: Annotated[float, typer.Option(help="Sustained packets/s per device (burst: 10×).")] = 50.0,
    queue_packets: Annotated[int, typer.Option(help="Packets waiting for the database at most; then the "
                                                    "sockets are read more slowly.")] = 10000,
    batch_records: Annotated[int, typer.Option(help="Observations per write transaction at most.")] = 50000,
    batch_linger: Annotated[float, typer.Option(help="Seconds to wait for more packets before writing a small "
                                                     "batch (fewer, larger transactions).")] = 0.0,
    writers: Annotated[int, typer.Option(help="Writers (0: 2 on PostgreSQL, 1 on SQLite).")] = 0,
    ack_timeout: Annotated[float | None, typer.Option(
        help="Seconds the devices wait for an answer before retransmitting (default: the setting "
             "ECOHUB_HJ212_ACK_TIMEOUT, 10): the gateway keeps the packets it holds within a quarter of it "
             "at the measured commit rate and otherwise reads the sockets more slowly.")] = None,
    max_inflight_per_conn: Annotated[int, typer.Option(
        help="Packets read from one connection and not yet answered at most; then its socket is not read.")
                                     ] = 64,
    max_inflight: Annotated[int, typer.Option(help="Packets read and not yet answered at most, in all.")
                            ] = 10000,
    socket_rcvbuf: Annotated[int, typer.Option(help="Receive buffer of the device sockets in bytes (SO_RCVBUF; "
                                                    "0: the OS's).")] = 4096,
    writer_process: Annotated[bool, typer.Option("--writer-process/--writer-thread",
                                                 help="Write in child processes (the other CPU core) or in "
                                                      "threads of the gateway process.")] = True,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
    stats_json: Annotated[bool, typer.Option("--stats-json", help="Print the final counters as JSON.")] = False,
    bus: Annotated[str | None, typer.Option(
        help="NATS URL (nats://127.0.0.1:4222): publish validated records to the JetStream ingest stream and "
             "answer 9014 after the stream's ack, instead of writing to the database (run `ecohub writer "
             "--bus …` to consume). Env ECOHUB_BUS_URL.", envvar="ECOHUB_BUS_URL")] = None,
    metrics_port: Annotated[int, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics (packets, "
                                                   "acks, rejects by reason, queue depth, ack latency) and "
                                                   "readiness on /readyz (database, bus); 0: none.")
                            ] = 0,
) -> None:
    """Run the HJ 212 TCP gateway: authenticate devices (MN + PW), store their data through the one writer,
    answer 9014 after commit, execute queued commands. Stops on Ctrl-C / SIGTERM. With --bus the records go
    to NATS JetStream (9014 after the stream's ack) and `ecohub writer` writes them."""
    from ecohub.config import settings
    from ecohub.ingest.hj212 import GatewayConfig, run_gateway
    from ecohub.logs import setup as setup_logging

    setup_logging(log_level)
    store = open_store(database_url)
    cfg = GatewayConfig(host=host, port=port, max_connections=max_connections, idle_timeout=idle_timeout,
                        first_packet_timeout=first_packet_timeout, max_pending_per_address=max_pending_per_address,
                        device_rate=device_rate, device_burst=device_rate * 10, queue_packets=queue_packets,
                        batch_records=batch_records, batch_linger=batch_linger, writers=writers,
                        writer_process=writer_process, max_inflight_per_conn=max_inflight_per_conn,
                        max_inflight=max_inflight, min_inflight=min(max_inflight, 1000),
                        ack_timeout=ack_timeout if ack_timeout is not None else settings().hj212_ack_timeout,
                        socket_rcvbuf=socket_rcvbuf)

    def ready(gw) -> None:
        from ecohub.ingest.hj212.work import tune_gc

        tune_gc()  # this process is the gateway
        if metrics_port:
            from ecohub.bus.metrics import gateway_registry, readiness, serve

            serve(metrics_port, gateway_registry(gw), ready=lambda: readiness(store, bus))
        # one machine-readable line: tests and scripts wait for it
        sys.stdout.write(f"listening {host}:{gw.port}\n")
        sys.stdout.flush()

    try:
        factory = None
        if bus:
            from ecohub.bus.publish import BusCommitter
            from ecohub.bus.streams import BusConfig

            bus_cfg = BusConfig(url=bus)

            def factory(c, counters, latency):  # type: ignore[no-untyped-def]
                return BusCommitter(store, bus_cfg, c, counters, latency)
        stats = run_gateway(store, cfg, on_ready=ready, committer_factory=factory)
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e.strerror or e}")
    finally:
        store.close()
    if stats_json:
        print_json(stats)
    else:
        err_console.print(f"gateway stopped: {stats['packets']} packets, {stats['stored']} observations stored, "
                          f"{stats['acks_sent']} answers, {stats['quarantined']} quarantined, "
                          f"{stats['auth_failures']} authentication failures")


# --- device command ---------------------------------------------------------------------------------------------
def _show(row: dict, json_out: bool) -> None:
    if json_out:
        print_json(row)
        return
    result = row.get("result")
    console.print(f"command {row['id']} {row['kind']} (CN {row['cn']}) for {row['mn']}: [bold]{row['status']}[/]"
                  + (f" — {json.dumps(result, ensure_ascii=False)}" if result else ""), highlight=False)


JsonOut = Annotated[bool, typer.Option("--json", help="Print the command(s) as JSON.")]


def device_command_cmd(
    mn: Annotated[str, typer.Argument(help="The device's MN.")],
    action: Annotated[str, typer.Argument(help="backfill (补数: upload stored data of a period again), "
                                               "set-interval (real-time interval, CN 1062), set-time (time "
                                               "calibration, CN 1012); list, show --id N, cancel --id N.")],
    begin: Annotated[str | None, typer.Option("--from", help="backfill: start (ISO-8601, no offset = Beijing "
                                                             "time; or YYYYMMDDhhmmss).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="backfill: end, same forms.")] = None,
    cn: Annotated[str, typer.Option(help="backfill: 2061 hourly, 2051 minute, 2031 daily data.")] = "2061",
    seconds: Annotated[int | None, typer.Option(help="set-interval: RtdInterval, 30-3600 s.")] = None,
    command_id: Annotated[int | None, typer.Option("--id", help="show / cancel: the command's id.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the command has finished (or --timeout); "
                                                      "exit 1 unless it is done.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 600.0,
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Queue a platform → device command (HJ 212-2017 §6.5); the gateway sends it when the device is connected:
    ``ecohub device command MN backfill --from T --to T [--cn 2061]``, ``… set-interval --seconds N``,
    ``… set-time``."""
    from ecohub.domain.errors import InputError
    from ecohub.ingest.hj212.commands import (
        cancel_command,
        enqueue_command,
        get_command,
        list_commands,
        wait_command,
    )

    if action not in ACTIONS:
        fail(f"action {action!r}: must be one of {', '.join(ACTIONS)}")
    store = open_store(database_url)
    if action == "list":
        for row in list_commands(store, mn):
            _show(row, json_out)
        return
    if action in ("show", "cancel"):
        if command_id is None:
            fail(f"{action} needs --id")
        row = get_command(store, command_id)
        if row is None or row["mn"] != mn:
            fail(f"no command {command_id} for {mn}")
        if action == "cancel" and not cancel_command(store, command_id):
            fail(f"command {command_id} is not pending (already sent, finished or cancelled)")
        _show(get_command(store, command_id), json_out)
        return
    params: dict = {}
    if action == "backfill":
        if begin is None or end is None:
            fail("backfill needs --from and --to")
        params = {"begin": begin, "end": end, "cn": cn}
    elif action == "set-interval":
        if seconds is None:
            fail("set-interval needs --seconds")
        params = {"seconds": seconds}
    try:
        cid = enqueue_command(store, mn, action, requested_by="cli", **params)
    except InputError as e:
        fail(str(e))
    if not wait:
        _show(get_command(store, cid), json_out)
        return
    row = wait_command(store, cid, timeout=timeout)
    _show(row, json_out)
    if row["status"] != "done":
        raise typer.Exit(1)


def device_commands_cmd(
    status: Annotated[str | None, typer.Option(help="Only this status (pending, sent, done, timeout …).")] = None,
    limit: Annotated[int, typer.Option(help="Newest N.")] = 50,
    json_out: JsonOut = False, database_url: DatabaseUrl = None,
) -> None:
    """List the platform → device commands of all devices, newest first."""
    from ecohub.ingest.hj212.commands import list_commands

    for row in list_commands(open_store(database_url), None, status, limit):
        _show(row, json_out)


# --- simulator --------------------------------------------------------------------------------------------------
def simulate_cmd(
    devices: Annotated[int, typer.Option("--devices", help="Number of simulated devices.")] = 10,
    port: Annotated[int, typer.Option(help="Gateway port.")] = 6010,
    host: Annotated[str, typer.Option(help="Gateway address.")] = "127.0.0.1",
    rate: Annotated[float | None, typer.Option(help="Packets per second, all devices together "
                                                     "(default: one per device per second).")] = None,
    protocol: Annotated[str, typer.Option(help="2025, 2017 or 2005.")] = "2017",
    faults: Annotated[str | None, typer.Option(help="Comma-separated faults with probabilities, e.g. "
                                                     "'bad-crc=0.01,split=0.05,merge=0.05,disconnect=0.001,"
                                                     "drift=0.1,garbage=0.01'.")] = None,
    duration: Annotated[float, typer.Option(help="Seconds of sending (then the last answers are awaited).")] = 10.0,
    mix: Annotated[str, typer.Option(help="realistic (real-time, minute, hourly, status, boot), realtime "
                                          "(ten-pollutant 2011 only) or hourly (2061 only with -Avg and -Cou, "
                                          "one hour of device time per packet).")] = "realistic",
    packets: Annotated[int, typer.Option(help="Packets per device at most (0: as many as the duration "
                                              "allows); e.g. --mix hourly --packets 8760 --start 2025-01-01 "
                                              "--duration 0 sends a year.")] = 0,
    kinds: Annotated[str, typer.Option(help="gas (flue-gas outlets) or mixed (gas, water, air stations "
                                            "replaying real data).")] = "gas",
    ack_timeout: Annotated[float, typer.Option(help="Seconds to wait for a 9014 before retransmitting "
                                                    "(OverTime).")] = 10.0,
    recount: Annotated[int, typer.Option(help="Retransmissions at most (ReCount).")] = 3,
    sndbuf: Annotated[int, typer.Option(help="Model loggers with this TCP send buffer (bytes): a device's "
                                             "write waits while its socket is full and a packet's answer is "
                                             "awaited from when the socket took it (0: the OS's buffer).")] = 0,
    password: Annotated[str, typer.Option(help="PW of the simulated devices.")] = "123456",
    prefix: Annotated[str, typer.Option(help="Site-code prefix of the simulated devices.")] = "SIM",
    sm4_key: Annotated[str | None, typer.Option(help="HJ 212-2025: encrypt the CP with this SM4 key "
                                                     "(32 hex).")] = None,
    sm4_variant: Annotated[str | None, typer.Option(help="HJ 212-2025: write the encrypted CP in this SM4 "
                                                         "variant: a preset (standard, standard-plain-length, "
                                                         "clist-cipher-crc, hex-pkcs7, …) or form/padding/crc/"
                                                         "length.")] = None,
    register: Annotated[bool, typer.Option("--register", help="Register the devices (and their sites) in the "
                                                              "database first.")] = False,
    start: Annotated[str | None, typer.Option(help="Time-lapse runs: the devices' clock starts at this time "
                                                   "(ISO-8601, no offset = Beijing time, or YYYYMMDDhhmmss). "
                                                   "Default with --register or --database-url: just after the "
                                                   "newest time stored for these devices, so that a second run "
                                                   "sends new data, not the first run's again.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the faults.")] = 1,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Simulate N HJ 212 data loggers over real TCP; print how many packets were sent, acknowledged,
    retransmitted and failed."""
    from ecohub.ingest.hj212.sim import make_devices, parse_faults, register_devices, simulate

    if mix not in ("realistic", "realtime", "hourly"):
        fail(f"--mix {mix!r}: realistic, realtime or hourly")
    if packets < 0:
        fail(f"--packets {packets}: 0 or more")
    try:
        fault_map = parse_faults(faults)
        if sm4_variant is not None:
            from ecohub.protocols.hj212 import Sm4Variant

            Sm4Variant.parse(sm4_variant)  # a bad name or spec: ValueError naming it
        devs = make_devices(devices, protocol=protocol, mix=kinds, password=password, prefix=prefix,
                            sm4_key=sm4_key, sm4_variant=sm4_variant)
    except ValueError as e:
        fail(str(e))
    start_at: float | None = None
    if start is not None:
        from ecohub.domain.errors import InputError
        from ecohub.ingest.hj212.commands import _hj_time
        from ecohub.protocols.hj212 import parse_time

        try:
            start_at = parse_time(_hj_time(start, "start"), "start").timestamp()
        except InputError as e:
            fail(str(e))
    if register or database_url:
        from ecohub.domain.timeutil import BEIJING
        from ecohub.ingest.hj212.sim import newest_time, next_start

        store = open_store(database_url)
        if register:
            register_devices(store, devs)
        if start_at is None:
            newest = newest_time(store, devs)
            start_at = next_start(newest)
            if newest is not None and not json_out:
                console.print(f"continuing after the newest stored time "
                              f"{newest.astimezone(BEIJING):%Y-%m-%d %H:%M:%S} (Beijing); --start to choose",
                              highlight=False)
        store.close()
    try:
        stats = simulate(devs, host, port, rate=rate, duration=duration if duration > 0 else math.inf,
                         faults=fault_map, ack_timeout=ack_timeout, recount=recount, mix=mix, seed=seed,
                         start=start_at, sndbuf=sndbuf or None, packets=packets or None)
    except ValueError as e:
        fail(str(e))
    d = stats.as_dict()
    if json_out:
        print_json(d)
    else:
        console.print(
            f"{d['devices']} devices, {d['duration_s']} s: sent {d['sent']}, acknowledged {d['acked']}, "
            f"retransmitted {d['retransmitted']}, failed {d['failed']}, unanswered {d['unanswered']}, "
            f"no answer expected {d['no_ack_expected']}; {d['acked_per_s']} acknowledged/s; ack latency "
            f"p50 {d['ack_latency_p50_ms']} ms, p99 {d['ack_latency_p99_ms']} ms", highlight=False)
        if d["faults"]:
            console.print("faults: " + ", ".join(f"{k} {v}" for k, v in sorted(d["faults"].items())),
                          highlight=False)
    if stats.connects == 0:
        err_console.print(f"[bold red]error:[/] could not connect to {host}:{port}")
        raise typer.Exit(1)


def _standalone() -> typer.Typer:
    app = typer.Typer(no_args_is_help=True, add_completion=False)
    register(app)
    from ecohub.cli.data_cmds import device_app

    app.add_typer(device_app, name="device")
    hj = typer.Typer(no_args_is_help=True)
    add_simulate(hj)

    @hj.callback()
    def _group() -> None:
        """HJ 212 tools."""

    app.add_typer(hj, name="hj212")
    return app


if __name__ == "__main__":
    _standalone()()
