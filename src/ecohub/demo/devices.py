"""The demo's simulated data loggers: the registered demo outlets upload over real TCP to the HJ 212 gateway
(the simulator is ``ecohub.ingest.hj212_sim``; the demo decides which devices and with which password)."""

from __future__ import annotations

import asyncio
import math
import threading

from sqlalchemy import select

from ecohub.demo.province import DEMO_DEVICE_PASSWORD
from ecohub.ingest.hj212.sim import SimDevice, run_simulation
from ecohub.store.schema import device, site


def simulate_demo_devices(store, host: str = "127.0.0.1", port: int = 6010, *, duration: float = math.inf,
                          rate_per_device: float = 1 / 30, stop=None):
    """For ``ecohub demo``: the 12 registered demo outlets (``ecohub.demo.province``) upload real-time data
    every 30 s (plus the mix) to the gateway in a daemon thread, until ``stop`` (a ``threading.Event``) is
    set. Returns ``(thread, stop_event)``. The demo registers the devices (``load_registers``) first."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(device.c.mn, device.c.protocol, site.c.code, site.c.kind)
                            .select_from(device.join(site, site.c.id == device.c.site_id))
                            .where(site.c.code.like("DEMO-%"))).all()
    devices = [SimDevice(r.mn, DEMO_DEVICE_PASSWORD, r.code, "gas" if r.kind == "gas_outlet" else "water",
                         r.protocol or "2017") for r in rows if r.kind in ("gas_outlet", "water_outlet")]
    stop = stop or threading.Event()

    def target():
        loop = asyncio.new_event_loop()
        ev = asyncio.Event()

        async def main():
            def watch():
                stop.wait()
                loop.call_soon_threadsafe(ev.set)
            threading.Thread(target=watch, daemon=True).start()
            return await run_simulation(devices, host, port, rate=rate_per_device * len(devices),
                                        duration=duration, time_lapse=False, stop_event=ev, ramp=5.0)

        try:
            loop.run_until_complete(main())
        finally:
            loop.close()

    t = threading.Thread(target=target, name="hj212-demo-devices", daemon=True)
    t.start()
    return t, stop
