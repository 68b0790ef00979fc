"""The HJ 212 TCP gateway (``ecohub gateway``): devices (数采仪) connect, upload data, get their 9014 answer
only after the data are durably committed, and receive the platform's commands.

Pipeline (one event loop; the writing step in a writer thread, or — ``ecohub gateway`` — in a child process;
two writers on PostgreSQL, whose database waits then overlap; every observation goes through
:class:`~ecohub.store.writer.ObservationWriter`)::

    socket ─ StreamFramer ─ decode ─ authenticate (MN, PW) ─ records ─ series keys ─┐
      (per connection coroutine; a full queue blocks it: back-pressure)              │ Committer (bounded queue)
                                                                                     v
    9014 answers  <── ack after commit <── writer: series, quarantine, events, ObservationWriter.flush

Where things are (one concern a file; arrows point down the list, never up — no circle):

- :mod:`.run` — :func:`run_gateway` (until SIGINT/SIGTERM), :func:`start_in_thread` → :class:`GatewayHandle`;
- :mod:`.server` — connections and life cycle: :class:`Gateway` (listen, accept within the bounds, read
  through the framer, garbage, idle connections, start/stop of the parts, ``stats()``, the ``on_event`` hook);
- :mod:`.session` — device sessions: decoding, authentication, per-device rate, retransmissions (QN memory),
  clock checks, split-message assembly, 1013 → 9013; hands the work to the committer;
- :mod:`.records` — a packet → observations, quarantine rows and ``device_event`` rows
  (:func:`primary_values`);
- :mod:`.commit` — the commit-then-acknowledge path behind the small :class:`~.commit.Committer` interface
  (``offer``/``submit``/``side``/``start``/``drain``/``stop``/``qsize``); :class:`~.commit.StoreCommitter`
  batches, writes, retries and answers; a bus publisher implements the same interface;
- :mod:`.writer` — the writing step in a thread or a child process;
- :mod:`.commands` — platform → device commands: the ``device_command`` queue, the runner, the gateway's
  command loop;
- :mod:`.auth` — MN/PW verification with caches; :mod:`.config` — :class:`GatewayConfig`,
  :class:`GatewayEvent`; :mod:`.work` — the work item passed between the stages;
- :mod:`.sim` — the device simulator (``ecohub hj212 simulate``); the demo's devices are in
  :mod:`ecohub.demo.devices`.

Behaviour in detail: ``docs/hj212-gateway.md``.
"""

from ecohub.ingest.hj212.config import GatewayConfig, GatewayEvent, config_dict
from ecohub.ingest.hj212.records import primary_values
from ecohub.ingest.hj212.run import GatewayHandle, run_gateway, start_in_thread
from ecohub.ingest.hj212.server import Gateway

__all__ = [
    "Gateway",
    "GatewayConfig",
    "GatewayEvent",
    "GatewayHandle",
    "config_dict",
    "primary_values",
    "run_gateway",
    "start_in_thread",
]
