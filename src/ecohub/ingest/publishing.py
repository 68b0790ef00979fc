"""What the JSON channels (MQTT subscriber, HTTP push) need of a bus, without depending on it: a *publisher*
takes a validated batch — observations ``((site, parameter, interval), epoch s, value, flag)`` and quarantine
rows ``(origin, reason, field, raw, line, channel)`` — and returns only once the bus holds all of it durably, or
raises :class:`BusUnavailable` (then nothing may be acknowledged to the client). The NATS JetStream one is
:class:`ecohub.bus.records.RecordPublisher`; the command line and the application hand it in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["BusUnavailable", "Publisher"]


class BusUnavailable(ConnectionError):
    """The bus did not acknowledge the batch: answer nothing (MQTT: retry; HTTP: 503)."""


class Publisher(Protocol):
    def publish(self, rows: Sequence[tuple[Any, ...]], quarantine: Sequence[tuple[Any, ...]] = ()) -> int: ...

    def close(self) -> None: ...
