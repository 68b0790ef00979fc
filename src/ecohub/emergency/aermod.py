"""Export a dispersion scenario as an AERMOD runstream (control file) for users with the regulatory model.

The file follows the AERMOD User's Guide (EPA-454/B-23-008) pathway layout — CO (control), SO (source),
RE (receptors), ME (meteorology), OU (output). Coordinates are metres on the local plane of
:mod:`ecohub.emergency.localgeo` with the source at (0, 0); receptors keep their names in comments.
Meteorology is not something a screening scenario has: the ME pathway names ``scenario.sfc`` and
``scenario.pfl``, to be produced by AERMET (or MAKEMET/AERSCREEN for a single screening hour with the wind
speed, direction and stability of this scenario). An instantaneous puff is exported as a 1-hour release of
the same mass (AERMOD has no instantaneous source); the file says so.
"""

from __future__ import annotations

from ecohub.emergency import SCREENING_NOTICE, localgeo


def runstream(s, result: dict) -> str:
    """The AERMOD input (``aermod.inp``) of a validated scenario and its result."""
    q = s.rate_gs if s.kind == "plume" else s.mass_kg * 1000.0 / 3600.0
    if s.exit_velocity_ms is not None:
        ts, vs, d = s.exit_temp_c + 273.15, s.exit_velocity_ms, s.diameter_m
    else:  # passive release: Ts = 0 means ambient temperature in AERMOD; negligible exit velocity
        ts, vs, d = 0.0, 0.001, 0.1
    lines = [
        "** ecohub dispersion scenario exported for AERMOD",
        f"** {SCREENING_NOTICE}",
        f"** source WGS-84 lon {s.lon:.6f} lat {s.lat:.6f}; local plane metres, source at (0, 0)",
        f"** wind {s.wind_ms} m/s from {s.wind_from_deg} deg, stability {result['stability']['stability']}",
    ]
    if s.kind == "puff":
        lines.append(f"** instantaneous release of {s.mass_kg} kg exported as a 1-hour release ({q:.4f} g/s)")
    lines += [
        "CO STARTING",
        "   TITLEONE  ecohub emergency scenario (screening export)",
        "   MODELOPT  DFAULT CONC",
        "   AVERTIME  1",
        "   POLLUTID  OTHER",
        "   RUNORNOT  RUN",
        "CO FINISHED",
        "SO STARTING",
        "   ELEVUNIT  METERS",
        "   LOCATION  SRC1  POINT  0.0  0.0  0.0",
        f"   SRCPARAM  SRC1  {q:.6g}  {s.height_m:.2f}  {ts:.2f}  {vs:.3f}  {d:.3f}",
        "   SRCGROUP  ALL",
        "SO FINISHED",
        "RE STARTING",
        "   GRIDPOLR  POL1  STA",
        "   GRIDPOLR  POL1  ORIG  SRC1",
        "   GRIDPOLR  POL1  DIST  100. 200. 500. 1000. 2000. 5000. 10000. 20000.",
        "   GRIDPOLR  POL1  GDIR  36  10.  10.",
        "   GRIDPOLR  POL1  END",
    ]
    for r in s.receptors:
        e, n = localgeo.to_local(s.lon, s.lat, r.lon, r.lat)
        lines.append(f"** receptor {r.id} {r.name}".rstrip())
        lines.append(f"   DISCCART  {float(e):.1f}  {float(n):.1f}")
    lines += [
        "RE FINISHED",
        "ME STARTING",
        "   SURFFILE  scenario.sfc",
        "   PROFFILE  scenario.pfl",
        "   SURFDATA  99999  2026",
        "   UAIRDATA  99999  2026",
        "   PROFBASE  0.0  METERS",
        "ME FINISHED",
        "OU STARTING",
        "   RECTABLE  ALLAVE  FIRST",
        "   PLOTFILE  1  ALL  FIRST  scenario_plot.out",
        "OU FINISHED",
    ]
    return "\n".join(lines) + "\n"
