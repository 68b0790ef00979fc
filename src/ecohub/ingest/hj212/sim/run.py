"""Running N simulated devices against a gateway: :func:`run_simulation` (async), :func:`simulate` (sync)."""

from __future__ import annotations

import asyncio
import math
import time

from ecohub.ingest.hj212.sim.device import _Device
from ecohub.ingest.hj212.sim.model import SimDevice
from ecohub.ingest.hj212.sim.stats import SimStats, Simulation


async def run_simulation(devices: list[SimDevice], host: str = "127.0.0.1", port: int = 6010, *,
                         rate: float | None = None, duration: float = 10.0, faults: dict[str, float] | None = None,
                         ack_timeout: float = 10.0, recount: int = 3, rtd_interval: int = 30,
                         time_lapse: bool | None = None, mix: str = "realistic", keep_acked: bool = False,
                         seed: int = 1, drain: float | None = None, ramp: float = 1.0,
                         stop_event: asyncio.Event | None = None, start: float | None = None,
                         sndbuf: int | None = None, packets: int | None = None) -> SimStats:
    """Run ``devices`` against the gateway at ``host:port`` for ``duration`` seconds at ``rate`` packets/s in
    total (default: one packet per device per second) — or until each device sent ``packets`` — then wait up to ``drain`` seconds (default
    ``ack_timeout × (recount + 1)``) for the last answers. ``mix``: ``realistic``, ``realtime`` (2011 only:
    the benchmark load) or ``hourly`` (2061 only, one hour of device time per packet from ``start``: a
    time-compressed year is 8,760 packets per device). ``keep_acked``: keep (MN, CN, DataTime, {code: value}) of every answered data packet
    in ``stats.acked_packets`` (for checks against the store). Connections start spread over ``ramp`` s.
    ``start`` (epoch seconds): the simulated clock of a time-lapse run starts there — e.g. after the newest
    stored time (:func:`newest_time`, :func:`~ecohub.ingest.hj212.sim.stats.next_start`) so that a second run
    sends new data, not the first run's again; ``ValueError`` when the run would reach more than a day ahead.
    ``sndbuf`` (bytes): model loggers with a small TCP send buffer (``SO_SNDBUF``) whose ``write`` blocks while
    the socket is full — the device keeps its data meanwhile and a packet's answer is awaited (and its latency
    counted) from when the socket took it; default: the OS's buffer, and packets counted from the ``write``
    call (on loopback the OS buffer grows to MBs, so an overloaded gateway's backlog piles up there)."""
    n = len(devices)
    rate = float(rate if rate is not None else n)
    sim = Simulation(host, port, devices, rate=rate, duration=duration, faults=faults or {},
                      ack_timeout=ack_timeout, recount=recount, rtd_interval=rtd_interval, time_lapse=time_lapse,
                      mix_realtime=(mix == "realtime"), keep_acked=keep_acked, seed=seed,
                      drain=ack_timeout * (recount + 1) if drain is None else drain, start=start, sndbuf=sndbuf,
                     mix_hourly=(mix == "hourly"), packets=packets)
    period = n / rate if rate > 0 else math.inf
    t_start = time.monotonic()
    sim.stats.started = t_start
    gen_until = t_start + duration
    end_at = gen_until + sim.drain
    devs = [_Device(d, sim, i) for i, d in enumerate(devices)]
    tasks = [asyncio.ensure_future(dv.run(t_start + ramp * i / max(n, 1), period, gen_until, end_at))
             for i, dv in enumerate(devs)]
    if stop_event is not None:
        async def _stopper():
            await stop_event.wait()
            for t in tasks:
                t.cancel()
        stopper = asyncio.ensure_future(_stopper())
    lag = asyncio.ensure_future(_loop_lag(sim.stats))
    await asyncio.gather(*tasks, return_exceptions=True)
    lag.cancel()
    if stop_event is not None:
        stopper.cancel()
    sim.stats.duration = min(time.monotonic(), gen_until) - t_start
    return sim.stats


async def _loop_lag(stats: SimStats, every: float = 0.1) -> None:
    """How late the simulator's own event loop runs (a busy or starved load generator answers late itself:
    that part of the ack latency it measures is not the gateway's)."""
    loop = asyncio.get_running_loop()
    while True:
        t = loop.time()
        await asyncio.sleep(every)
        stats.loop_lags.append(max(0.0, loop.time() - t - every))


def simulate(devices: list[SimDevice], host: str = "127.0.0.1", port: int = 6010, **kwargs) -> SimStats:
    """Synchronous :func:`run_simulation` (its own event loop; uvloop when installed)."""
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(run_simulation(devices, host, port, **kwargs))
    finally:
        loop.close()
