"""Replay the shipped real hourly air data time-shifted, so the demo always has recent data.

Each station's data is a contiguous run of hours (the 石家庄 stations: 2019-01-01…02-28; the other Hebei
stations: the national winter week 2019-01-08…14). Demo hour ``T`` shows the source hour
``S0 + ((T − A) mod P)`` where ``S0`` is the first source hour, ``P`` the run's length (a whole number of
days, so the time of day is kept) and ``A`` an anchor with the same time of day. Values are the real
published concentrations; only the time stamps move. Hours are labelled by their start; the newest hour
written is the last complete one (CNEMC publishes an hour after it ends).

Water sections have one real snapshot (2026-02-04); the demo shows it as the latest 4-hourly reading.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import numpy as np

from ecohub.data.air_runs import StationRun, load_runs  # noqa: F401 (re-exported; tests patch load_runs)
from ecohub.demo.province import water_snapshot
from ecohub.store import registry as R
from ecohub.store.db import Store
from ecohub.store.writer import ObservationWriter, WriteCounts

HOUR = 3600
DAY = 86400
SOURCE = "demo"
WATER_PARAMS = ("water_temp", "ph", "do", "conductivity", "turbidity", "codmn", "nh3n", "tp", "tn")


class Replayer:
    def __init__(self, store: Store):
        self.store = store
        self.runs = load_runs()
        with store.engine.begin() as conn:
            sites = R.site_index(conn)
            params = R.parameter_index(conn)
            res = R.SeriesResolver()
            self.series = {
                (code, p): res.get(conn, sites[code][0], params[p], "hour")
                for code, run in self.runs.items() if code in sites for p in run.values
            }
            self.water_series = {
                (r["code"], p): res.get(conn, sites[r["code"]][0], params[p], "rt")
                for r in water_snapshot() if r["code"] in sites for p in WATER_PARAMS
            }

    def write_hours(self, first_h: int, last_h: int) -> WriteCounts:
        """Write demo hours [first_h, last_h] (epoch hours, inclusive) for every station."""
        w = ObservationWriter(self.store, SOURCE, origin="demo replay", batch_size=100_000)
        hours = np.arange(first_h, last_h + 1, dtype=np.int64)
        for (code, p), sid in self.series.items():
            run = self.runs[code]
            # anchor: demo hour h maps to source index (h - start) mod period (same time of day, whole days)
            idx = (hours - run.start_h) % run.period_h
            vals = run.values[p][idx]
            ok = ~np.isnan(vals)
            for h, v in zip(hours[ok].tolist(), vals[ok].tolist(), strict=True):
                w.add(sid, h * HOUR, v, "N")
        w.flush()
        return w.totals

    def write_water(self, now: datetime) -> WriteCounts:
        """The water snapshot as the newest 4-hourly automatic-station reading."""
        slot = int(now.timestamp()) // (4 * HOUR) * (4 * HOUR)
        w = ObservationWriter(self.store, SOURCE, origin="demo water snapshot")
        for r in water_snapshot():
            for p in WATER_PARAMS:
                sid = self.water_series.get((r["code"], p))
                if sid is not None and r[p]:
                    w.add(sid, slot, float(r[p]), "N")
        return w.flush()

    @staticmethod
    def last_complete_hour(now: datetime) -> int:
        return int(now.timestamp()) // HOUR - 1

    def backfill(self, days: int, now: datetime | None = None) -> WriteCounts:
        now = now or datetime.now(UTC)
        last = self.last_complete_hour(now)
        counts = self.write_hours(last - days * 24 + 1, last)
        counts += self.write_water(now)
        return counts


class ReplayThread(threading.Thread):
    """Writes each new hour as soon as it is complete (checks every ``poll`` seconds)."""

    def __init__(self, replayer: Replayer, poll: float = 15.0):
        super().__init__(name="ecohub-demo-replay", daemon=True)
        self.replayer, self.poll = replayer, poll
        self.stop_event = threading.Event()
        self.last_written: int | None = None

    def run(self) -> None:
        while not self.stop_event.is_set():
            now = datetime.now(UTC)
            h = Replayer.last_complete_hour(now)
            if self.last_written is None or h > self.last_written:
                first = h if self.last_written is None else self.last_written + 1
                self.replayer.write_hours(first, h)
                if h % 4 == 3 or self.last_written is None:
                    self.replayer.write_water(now)
                self.last_written = h
            self.stop_event.wait(self.poll)

    def stop(self) -> None:
        self.stop_event.set()
