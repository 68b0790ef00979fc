"""``ecohub soil assess`` and ``ecohub noise assess``: CSV in, CSV out, through the assessment services.

Output cells are neutralised against formula injection (``domain.cells``). A row with a bad cell is kept: its other values are still assessed and the problem (line, column, value) is
in its ``error`` column and on stderr. Exit code 0 when every row was read, 1 when some rows had errors.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ecohub.analytics import noise_service, soil_service
from ecohub.cli.common import DatabaseUrl, err_console, fail, open_store, print_json
from ecohub.domain.cells import neutralise
from ecohub.domain.timeutil import BEIJING

MAX_ERRORS_SHOWN = 50

SOIL_HELP = """Classify soil samples by GB 15618-2018 (agricultural land) or GB 36600-2018 (development land).

Input columns (CSV, UTF-8; values in mg/kg dry soil; empty cell = not measured):
- site: sample site code; land_use: paddy | other | orchard | rotation (GB 15618) or
  construction_1 | construction_2 (GB 36600); ph: soil pH (needed for GB 15618 Cd Hg As Pb Cr Cu Ni Zn)
- optional: region_code (county, for --summary county), name, lon, lat, time, sample, depth
- one column per pollutant: cd hg as pb cr cu ni zn hch ddt bap (GB 15618); as cd cr6 cu pb hg ni and the
  GB 36600 organics (ccl4 chloroform … naphthalene, see docs/assessments.md)

Output = the input columns, then <pollutant>_class = below_screening | between | above_intervention
(≤ screening value; above it and ≤ intervention value; above the intervention value — GB 15618 §5,
GB 36600 §5), class (the worst), standard and error. --summary site|county prints a summary table
as JSON on stdout instead of nothing."""

NOISE_HELP = """Assess noise data (GB 3096-2008 limits; HJ 640-2012 methods). Levels in dB(A).

--kind functional (default): input columns time (ISO-8601; no offset = Beijing time), site, leq, optional
  lmax and zone (GB 3096 class 0 1 2 3 4a 4b; or --zone for all rows). --interval hour|minute. Output: one
  row per site and Beijing day with ld, ln (energy means of the day 06–22 h and night 22–06 h hours), hours
  used, limits, complies (empty when too few hours: 12 of 16 day, 6 of 8 night), lmax check at night.
--kind regional: columns point, leq, period (day|night): the grid mean and the HJ 640 grade 1–5.
--kind road: columns section, leq, length_km, period: the length-weighted mean and the HJ 640 grade.
Gaps are listed on stderr; a summary is printed as JSON on stdout."""


def _read_csv(path: Path) -> list[dict]:
    if not path.exists():
        fail(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            return [dict(r) for r in csv.DictReader(f)]
    except (UnicodeDecodeError, csv.Error) as e:
        fail(f"{path}: not a UTF-8 CSV file ({e})")


def _write_csv(rows: list[dict], out: Path | None) -> None:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    f = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
    try:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else neutralise(v)) for k, v in r.items()})
    finally:
        if out:
            f.close()


def _report_errors(errors: list[str]) -> None:
    for e in errors[:MAX_ERRORS_SHOWN]:
        err_console.print(f"[yellow]{e}[/]", highlight=False, soft_wrap=True)
    if len(errors) > MAX_ERRORS_SHOWN:
        err_console.print(f"… and {len(errors) - MAX_ERRORS_SHOWN} more", highlight=False)


def soil_assess(file: Annotated[Path, typer.Argument(help="input CSV")],
                output: Annotated[Path | None, typer.Option("-o", "--output", help="output CSV (default stdout)")] = None,
                summary: Annotated[str | None, typer.Option(help="also print a summary: site or county")] = None):
    rows = _read_csv(file)
    if not rows:
        fail(f"{file}: no samples (an empty file or only a header)")
    header = list(rows[0])
    for need in ("site", "land_use"):
        if need not in header:
            fail(f"{file}: column {need!r} is missing (columns: {', '.join(header)})")
    res = soil_service.classify_samples(rows)
    if not res.pollutants:
        fail(f"{file}: no pollutant column; expected some of {', '.join(soil_service.ALL_POLLUTANTS[:11])} …")
    if res.unknown_columns:
        err_console.print(f"note: columns passed through unassessed: {', '.join(res.unknown_columns)}",
                          highlight=False)
    _write_csv(res.rows, output)
    _report_errors(res.errors)
    n_bad = sum(1 for r in res.rows if r["error"])
    err_console.print(f"{len(res.rows)} samples, {len(res.pollutants)} pollutants, {n_bad} with errors",
                      highlight=False)
    if summary:
        if summary not in ("site", "county"):
            fail(f"--summary: {summary!r} is not site or county")
        by = "site" if summary == "site" else "region_code"
        sys.stdout.write(json.dumps(soil_service.summarize(res.rows, by), ensure_ascii=False) + "\n")
    if n_bad:
        raise typer.Exit(1)


SOIL_IMPORT_HELP = """Store soil samples (classified by GB 15618 / GB 36600 on import) at soil points.

Columns as for 'soil assess', plus time (sampling time, ISO-8601; no offset = Beijing; default now) and, for a
site that does not exist yet, lon, lat (WGS-84) and region_code (it is created as a soil point). Rejected rows
are listed with the reason; a row without pH is kept with the pH-dependent items unclassified. The samples are
shown by GET /api/v1/assessments/soil/samples (points for the map) and in the reports."""


def soil_import(file: Annotated[Path, typer.Argument(help="input CSV")],
                as_: Annotated[str | None, typer.Option("--as", help="who imports (audit)")] = None,
                database_url: DatabaseUrl = None):
    from ecohub.analytics import soil_store
    from ecohub.store.audit import cli_actor

    rows = _read_csv(file)
    if not rows:
        fail(f"{file}: no samples")
    store = open_store(database_url)
    res = soil_store.import_samples(store, rows, actor=cli_actor(as_))
    _report_errors(res.rejected)
    print_json({"imported": res.imported, "sites_created": res.sites_created, "rejected": len(res.rejected)})
    if res.rejected:
        raise typer.Exit(1)


def _parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=BEIJING)


def _float(text, line: int, col: str, errors: list[str]) -> float | None:
    if text is None or str(text).strip() == "":
        return None
    try:
        v = float(text)
    except ValueError:
        errors.append(f"line {line}: {col}: {text!r} is not a number")
        return None
    if not (0 <= v <= 200):
        errors.append(f"line {line}: {col}: {text!r} is outside 0–200 dB(A)")
        return None
    return v


def noise_assess(file: Annotated[Path, typer.Argument(help="input CSV")],
                 output: Annotated[Path | None, typer.Option("-o", "--output", help="output CSV (default stdout)")] = None,
                 kind: Annotated[str, typer.Option(help="functional | regional | road")] = "functional",
                 zone: Annotated[str | None, typer.Option(help="GB 3096 class for every row (0 1 2 3 4a 4b)")] = None,
                 interval: Annotated[str, typer.Option(help="hour | minute (functional)")] = "hour"):
    rows = _read_csv(file)
    if not rows:
        fail(f"{file}: no rows")
    errors: list[str] = []
    if kind == "functional":
        for need in ("time", "leq"):
            if need not in rows[0]:
                fail(f"{file}: column {need!r} is missing")
        by_site: dict[str, dict] = {}
        for i, r in enumerate(rows, start=2):
            try:
                t = _parse_time(r["time"])
            except ValueError:
                errors.append(f"line {i}: time: {r['time']!r} is not an ISO-8601 time")
                continue
            z = (r.get("zone") or zone or "").strip().lower()
            s = by_site.setdefault(r.get("site") or "", {"zone": z, "t": [], "leq": [], "lmax": []})
            s["t"].append(t)
            s["leq"].append(_float(r["leq"], i, "leq", errors))
            s["lmax"].append(_float(r.get("lmax"), i, "lmax", errors) if "lmax" in r else None)
        out, summary = [], []
        for code, s in sorted(by_site.items()):
            if not s["zone"]:
                fail(f"site {code!r}: no zone — give a zone column or --zone")
            try:
                res = noise_service.functional_zone(s["t"], s["leq"], s["zone"], interval=interval,
                                                    lmax=s["lmax"] if any(v is not None for v in s["lmax"]) else None)
            except ValueError as e:
                fail(f"site {code!r}: {e}")
            out += [{"site": code, **d} for d in res["days"]]
            errors += [f"site {code}: {g}" for g in res["gaps"]]
            summary.append({"site": code, **{k: v for k, v in res.items() if k not in ("days", "gaps")}})
    elif kind in ("regional", "road"):
        need = ["leq", "period"] + (["length_km"] if kind == "road" else [])
        for c in need:
            if c not in rows[0]:
                fail(f"{file}: column {c!r} is missing")
        out, summary = [], []
        for per in ("day", "night"):
            sel = [(i, r) for i, r in enumerate(rows, start=2) if (r.get("period") or "").strip() == per]
            if not sel:
                continue
            lv = [_float(r["leq"], i, "leq", errors) for i, r in sel]
            if kind == "regional":
                summary.append(noise_service.regional(lv, per))
            else:
                ln = []
                for i, r in sel:
                    try:
                        x = float(r["length_km"])
                        ln.append(x if x >= 0 else None)
                        if x < 0:
                            errors.append(f"line {i}: length_km: {r['length_km']!r} is negative")
                    except ValueError:
                        errors.append(f"line {i}: length_km: {r['length_km']!r} is not a number")
                        ln.append(None)
                summary.append(noise_service.road_traffic(lv, ln, per))
        bad = [(i, r["period"]) for i, r in enumerate(rows, start=2) if (r.get("period") or "").strip()
               not in ("day", "night")]
        errors += [f"line {i}: period: {p!r} is not day or night" for i, p in bad]
        out = summary
    else:
        fail(f"--kind: {kind!r} is not functional, regional or road")
    _write_csv(out, output)
    _report_errors(errors)
    if output:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    soil = typer.Typer(name="soil", help="Soil assessments (GB 15618-2018, GB 36600-2018).", no_args_is_help=True)
    soil.command("assess", help=SOIL_HELP)(soil_assess)
    soil.command("import", help=SOIL_IMPORT_HELP)(soil_import)
    noise = typer.Typer(name="noise", help="Noise assessments (GB 3096-2008, HJ 640-2012).", no_args_is_help=True)
    noise.command("assess", help=NOISE_HELP)(noise_assess)
    app.add_typer(soil)
    app.add_typer(noise)
