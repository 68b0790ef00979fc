"""HJ 212 device simulator (``ecohub hj212 simulate``): N data loggers (数采仪) over real TCP.

Each simulated device connects to the gateway, uploads a realistic mix, waits for its 9014 answers,
retransmits unanswered packets (same QN) after ``ack_timeout`` up to ``recount`` times (HJ 212-2017
Table 1: OverTime / ReCount), re-sends what is still unanswered after a reconnection, and answers the
platform's commands like a real data logger (9011 QnRtn → uploads → 9012 ExeRtn):

- **flue-gas outlets** (ST=31): ten factors per real-time packet — SO2 a21026, NOx a21002, particulate
  a34013 (each with ``-ZsRtd``), O2 a19001, flow a00000, temperature a01012, pressure a01013, humidity
  a01014, CO a21005, NO a21003 — and hourly/minute packets with ``-Min/-Avg/-Max/-Cou``;
- **wastewater outlets** (ST=32): COD, NH3-N, TP, TN, pH, flow;
- **air stations** (ST=22): the real hourly PM2.5, PM10, SO2, NO2, CO and O3 of a CNEMC station shipped
  in ``ecohub/data/demo/air_hourly.csv.gz`` (replayed; the station is chosen per device).

Mix per device, in order of its packets: 2081 boot time on the first connection, then 2011 real-time
data; every 20th packet is a 2051 (10-minute) packet instead, every 120th a 2061 hourly packet, every 60th a
2021 status packet (``SB1-RS``). Values are a deterministic function of (MN, factor, time), so a
back-fill of a period already sent repeats the same values (the store counts duplicates, not conflicts).

Time: with ``time_lapse`` (the default when devices send faster than their real-time interval) the
``DataTime`` of real-time packets advances by ``rtd_interval`` (30 s) per packet and the run ends at the
present; QN is always the device's clock. Editions: 2017 (Flag=5), 2025 (Flag=9, CP SM4-encrypted when a
key is given) or 2005 (HJ/T 212-2005 codes, no QN and no Flag: the gateway answers nothing and the
simulator does not wait).

Faults (probability per packet; ``drift`` per device): ``bad-crc`` (the first transmission has a wrong
CRC), ``split`` (one packet in 2–3 writes), ``merge`` (two packets in one write), ``disconnect`` (the
connection is dropped after a packet), ``drift`` (the device clock is 10–30 min off until the platform
sets it), ``garbage`` (random bytes before a packet).

Python API: :func:`make_devices`, :func:`register_devices`, :func:`run_simulation` (async) /
:func:`simulate` (sync) → :class:`SimStats`. ``ecohub demo``'s devices: :mod:`ecohub.demo.devices`.

Where things are: :mod:`.model` (the devices: registration, deterministic values), :mod:`.device` (one data
logger's behaviour on the wire), :mod:`.stats` (faults, settings and results of a run), :mod:`.run` (running N
devices).
"""

from ecohub.ingest.hj212.sim.model import SimDevice, make_devices, newest_time, register_devices
from ecohub.ingest.hj212.sim.run import run_simulation, simulate
from ecohub.ingest.hj212.sim.stats import FAULTS, SimStats, next_start, parse_faults

__all__ = [
    "FAULTS",
    "SimDevice",
    "SimStats",
    "make_devices",
    "newest_time",
    "next_start",
    "parse_faults",
    "register_devices",
    "run_simulation",
    "simulate",
]
