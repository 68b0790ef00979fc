"""Commands for the push channels: ``ecohub mqtt-subscribe`` (the HTTP push endpoint is served by ``serve``)."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, print_json
from ecohub.domain.errors import InputError

DEFAULT_BROKER = "mqtt://127.0.0.1:1883"


def register(app: typer.Typer) -> None:
    app.command("mqtt-subscribe")(mqtt_subscribe_cmd)


def _default_client_id() -> str:
    return f"ecohub-ingest-{socket.gethostname()}"[:128]


def mqtt_subscribe_cmd(
    broker: Annotated[str, typer.Option("--broker", envvar="ECOHUB_MQTT_URL", show_envvar=True,
                                        help="mqtt://[user:pass@]host[:1883] or mqtts://host[:8883]")] = DEFAULT_BROKER,
    topic: Annotated[list[str] | None, typer.Option(
        "--topic", help="topic filter to subscribe to (repeatable). Default: <root>/#")] = None,
    root: Annotated[str, typer.Option(help="topic root of the scheme <root>/obs/<site>, <root>/batch")]
    = "ecohub/v1",
    client_id: Annotated[str | None, typer.Option(
        "--client-id", envvar="ECOHUB_MQTT_CLIENT_ID", show_envvar=True,
        help="fixed client id: the broker keeps the session (unacknowledged messages) under it. "
             "Default: ecohub-ingest-<hostname>")] = None,
    interval: Annotated[str, typer.Option(help="interval of records that name none (rt, minute, hour, day)")] = "rt",
    batch_records: Annotated[int, typer.Option(help="commit after this many records")] = 5000,
    batch_ms: Annotated[int, typer.Option(help="... or after this many milliseconds")] = 200,
    queue: Annotated[int, typer.Option(help="messages held in memory before reading from the broker pauses")] = 1000,
    max_payload: Annotated[int, typer.Option(help="largest accepted payload in bytes")] = 256 * 1024,
    session_expiry: Annotated[int, typer.Option(help="seconds the broker keeps the session while we are away")]
    = 7 * 24 * 3600,
    duration: Annotated[float, typer.Option(help="stop after this many seconds (0: run until Ctrl-C/SIGTERM)")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the final counts as JSON")] = False,
    bus: Annotated[str | None, typer.Option(
        help="NATS URL (nats://127.0.0.1:4222): publish to the JetStream ingest stream and acknowledge (PUBACK) "
             "after the stream's ack, instead of writing to the database (`ecohub writer --bus …` stores). "
             "Default: ECOHUB_BUS_URL (none: write to the database)")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Subscribe to an MQTT broker and store the observations published on ecohub/v1/obs/<site> and
    ecohub/v1/batch (JSON; see docs/ingest-channels.md). Messages are acknowledged only after they are
    committed; bad ones go to the quarantine."""
    from ecohub.config import settings
    from ecohub.ingest.mqtt import MqttSubscriber

    store = open_store(database_url)
    bus = bus or settings().bus_url
    publisher = None
    if bus:
        from ecohub.bus.records import RecordPublisher
        from ecohub.bus.streams import BusConfig

        publisher = RecordPublisher(store, BusConfig(url=bus), "mqtt")
    try:
        sub = MqttSubscriber(store, broker, topics=tuple(topic or ()), root=root,
                             client_id=client_id or _default_client_id(), interval=interval,
                             batch_records=batch_records, batch_ms=batch_ms, queue_messages=queue,
                             max_payload=max_payload, session_expiry=session_expiry, publisher=publisher)
    except InputError as e:
        fail(str(e))
    if not logging.getLogger().handlers:
        from ecohub.logs import setup as setup_logging

        setup_logging("info")
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    if duration > 0:
        timer = threading.Timer(duration, stop.set)
        timer.daemon = True
        timer.start()
    if not as_json:
        console.print(f"subscribing to {', '.join(sub.topics)} on {sub.broker} as {sub.client_id} "
                      "(Ctrl-C to stop)", highlight=False)
    try:
        sub.run(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if publisher is not None:
            publisher.close()
        store.close()
    status = sub.status()
    if as_json:
        print_json(status)
    else:
        console.print("stopped: " + ", ".join(f"{k} {status[k]}" for k in (
            "received", "committed", "imported", "published", "duplicates", "conflicts", "rejected",
            "malformed")),
            highlight=False)
    if sub.aborted:
        fail(f"the subscriber stopped on an error: {sub.last_error}", 1)
