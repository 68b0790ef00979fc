"""Commands of environmental emergencies: ``ecohub plume`` (Gaussian plume/puff screening) and
``ecohub river-spill`` (1-D river spill screening). Both are pure models: no database needed."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, print_json
from ecohub.domain.errors import InputError

PLUME_HELP = """Screening estimate of the ground-level concentrations of an air release (Gaussian model).

A continuous release (--rate-gs, g/s) is modelled as a Gaussian plume, an instantaneous one (--mass-kg) as
a Gaussian puff (peak concentration as it passes). Output: the maximum ground-level concentration (mg/m³) and
its distance, the area of each isopleth (--threshold, mg/m³, repeatable; e.g. the HJ 169-2018 Appendix H
toxic end-points), and the receptors (--receptors FILE) inside the outermost isopleth with distance, arrival
time and concentration. --geojson writes the source, isopleths and affected receptors for the one map;
--aermod writes an AERMOD runstream of the scenario for users with a regulatory model.

--height-m is the physical release height; Briggs plume rise (ISC3) is added only when --exit-velocity-ms,
--exit-temp-c and --diameter-m are all given. --stability auto derives the Pasquill–Gifford class from wind
speed, --cloud (total cloud, tenths) and --time (GB/T 3840-91 Appendix B).

THIS IS A SCREENING MODEL, NOT A REGULATORY PREDICTION (every output says so)."""


RIVER_HELP = """Screening estimate of a spill into a river: arrival, peak and pass times at the downstream sections
and drinking-water intakes of a reach (1-D advection–dispersion, instantaneous release, analytical solution).

--reach FILE is JSON: {"name", "velocity_ms", "area_m2" (or "width_m" + "depth_m", or "discharge_m3s"),
"dispersion_m2s" (or "width_m", "depth_m", "slope" for Fischer's formula), "decay_per_day" (default 0 =
conservative), "sections": [{"name", "km", "type": "section"|"intake", "code"}]}. Kilometres are counted
along the reach; --release-km is where the spill enters. --threshold (mg/L) defines arrival and pass (first and
last exceedance); without it they are the times the concentration reaches 1 % of each section's peak.

THIS IS A SCREENING MODEL, NOT A REGULATORY PREDICTION (every output says so)."""


receptor_app = typer.Typer(help="Sensitive receptors (环境敏感目标): schools, hospitals, residential areas, water "
                                 "intakes and protection zones, nature reserves.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("plume", help=PLUME_HELP)(plume_cmd)
    app.command("river-spill", help=RIVER_HELP)(river_spill_cmd)
    app.add_typer(receptor_app, name="receptors")


@receptor_app.command("import")
def receptors_import(
    file: Annotated[Path, typer.Argument(help="GeoJSON or Shapefile (.zip): points or polygons with code, name, type "
                                              "(学校/医院/居民区/取水口/水源保护区/自然保护区 or English), population")],
    datum: Annotated[str, typer.Option(help="wgs84 (default) or gcj02 (converted)")] = "wgs84",
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Import (upsert by code) sensitive receptors; bad features are rejected with their reason."""
    from ecohub.emergency.registers import import_receptors

    store = open_store(database_url)
    try:
        rep = import_receptors(store, file, datum=datum)
    except (InputError, OSError) as e:
        fail(str(e))
    if as_json:
        print_json(rep)
        return
    console.print(f"imported {rep['imported']}, updated {rep['updated']}, rejected {len(rep['rejected'])}",
                  highlight=False)
    for r in rep["rejected"]:
        console.print(f"  [red]rejected[/] feature {r.get('index')} {r.get('id') or ''}: {r['reason']}", highlight=False)


def river_spill_cmd(
    reach: Annotated[Path, typer.Option(help="reach description (JSON, see --help)")],
    mass_kg: Annotated[float, typer.Option("--mass-kg", help="released mass, kg")],
    release_km: Annotated[float, typer.Option("--release-km", help="release point, km along the reach")] = 0.0,
    threshold: Annotated[float | None, typer.Option(help="concentration of concern, mg/L")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    from ecohub.emergency.river import reach_from_dict, spill

    try:
        try:
            data = json.loads(reach.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as e:
            raise InputError("reach", str(reach), f"not JSON: {e}") from None
        result = spill(mass_kg, reach_from_dict(data), release_km, threshold)
    except (InputError, OSError) as e:
        fail(str(e))
    if as_json:
        print_json(result)
        return
    console.print(f"[bold yellow]{result['screening']}[/]", highlight=False)
    r = result["reach"]
    console.print(f"reach {r['name']}: u = {r['velocity_ms']} m/s, A = {r['area_m2']} m², D = {r['dispersion_m2s']} "
                  f"m²/s ({r['dispersion_source']}), k = {r['decay_per_day']}/d", highlight=False)
    console.print(f"arrival/pass: {result['arrival_definition']}", highlight=False)
    for s in result["sections"]:
        if s["upstream"]:
            console.print(f"  {s['name']} (km {s['km']}): upstream of the release", highlight=False)
            continue
        console.print(f"  {s['name']} ({s['type']}, km {s['km']}): arrival {s['arrival_time_h']} h, peak "
                      f"{s['peak_mg_l']} mg/L at {s['peak_time_h']} h, pass {s['pass_time_h']} h", highlight=False)


def load_receptors_file(path: Path) -> list[dict]:
    """Receptors from GeoJSON (Point features; properties id, name, type, population) or CSV
    (id,name,type,lon,lat,population)."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".json", ".geojson"):
        try:
            fc = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError("receptors", str(path), f"not JSON: {e}") from None
        out = []
        for i, f in enumerate(fc.get("features", []) if isinstance(fc, dict) else []):
            g = (f or {}).get("geometry") or {}
            if g.get("type") != "Point":
                raise InputError(f"receptors.features[{i}].geometry", g.get("type"), "a Point")
            p = f.get("properties") or {}
            out.append({"id": p.get("id", i), "name": p.get("name", ""), "type": p.get("type", ""),
                        "lon": g["coordinates"][0], "lat": g["coordinates"][1], "population": p.get("population")})
        return out
    return list(csv.DictReader(text.splitlines()))


def plume_cmd(
    lon: Annotated[float, typer.Option(help="release longitude (WGS-84)")],
    lat: Annotated[float, typer.Option(help="release latitude (WGS-84)")],
    wind_ms: Annotated[float, typer.Option("--wind-ms", help="wind speed at 10 m, m/s (≥ 0.5)")],
    wind_from_deg: Annotated[float, typer.Option("--wind-from-deg", help="direction the wind blows FROM, ° from N")],
    threshold: Annotated[list[float], typer.Option("--threshold", help="isopleth concentration, mg/m³ (repeatable)")],
    rate_gs: Annotated[float | None, typer.Option("--rate-gs", help="continuous emission rate, g/s")] = None,
    mass_kg: Annotated[float | None, typer.Option("--mass-kg", help="instantaneous release, kg (puff)")] = None,
    height_m: Annotated[float, typer.Option("--height-m", help="physical release height, m")] = 0.0,
    stability: Annotated[str, typer.Option(help="Pasquill–Gifford class A … F (A-B, B-C, C-D) or auto")] = "D",
    cloud: Annotated[int | None, typer.Option(help="total cloud cover, tenths 0 … 10 (for --stability auto)")] = None,
    low_cloud: Annotated[int | None, typer.Option("--low-cloud", help="low cloud cover, tenths (default = total)")]
    = None,
    time: Annotated[str | None, typer.Option(help="time of the release, ISO-8601 (naive = Beijing time)")] = None,
    exit_velocity_ms: Annotated[float | None, typer.Option("--exit-velocity-ms", help="stack exit velocity, m/s")]
    = None,
    exit_temp_c: Annotated[float | None, typer.Option("--exit-temp-c", help="stack exit temperature, °C")] = None,
    diameter_m: Annotated[float | None, typer.Option("--diameter-m", help="stack inner diameter at the top, m")]
    = None,
    ambient_temp_c: Annotated[float, typer.Option("--ambient-temp-c", help="ambient temperature, °C")] = 20.0,
    scheme: Annotated[str, typer.Option(help="σ scheme: pg (Pasquill–Gifford), briggs-rural, briggs-urban")] = "pg",
    terrain: Annotated[str, typer.Option(help="rural or urban (wind-profile exponents)")] = "rural",
    mixing_height_m: Annotated[float | None, typer.Option("--mixing-height-m", help="mixing height, m")] = None,
    no_reflection: Annotated[bool, typer.Option("--no-reflection", help="switch off ground reflection")] = False,
    x_max_m: Annotated[float, typer.Option("--x-max-m", help="largest downwind distance modelled, m")] = 50_000.0,
    receptors: Annotated[Path | None, typer.Option(help="receptors: GeoJSON points or CSV id,name,type,lon,lat,"
                                                        "population")] = None,
    registered: Annotated[bool, typer.Option("--registered", help="also use the receptor register of the database "
                                                                  "(within --x-max-m)")] = False,
    database_url: DatabaseUrl = None,
    geojson: Annotated[Path | None, typer.Option(help="write the GeoJSON FeatureCollection here")] = None,
    aermod: Annotated[Path | None, typer.Option(help="write an AERMOD runstream (.inp) of the scenario here")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the full result as JSON")] = False,
) -> None:
    from ecohub.emergency.aermod import runstream
    from ecohub.emergency.scenario import Scenario, parse_receptors, run

    try:
        recs = parse_receptors(load_receptors_file(receptors)) if receptors else []
        if registered:
            from ecohub.emergency.registers import receptors_near
            from ecohub.store.queries import SYSTEM

            store = open_store(database_url)
            try:
                recs += parse_receptors(receptors_near(store, SYSTEM, lon, lat, x_max_m))
            finally:
                store.close()
        sc = Scenario(lon=lon, lat=lat, wind_ms=wind_ms, wind_from_deg=wind_from_deg, thresholds_mg_m3=threshold,
                      kind="puff" if mass_kg is not None and rate_gs is None else "plume", rate_gs=rate_gs,
                      mass_kg=mass_kg, height_m=height_m, stability=stability, cloud=cloud, low_cloud=low_cloud,
                      time=time, exit_velocity_ms=exit_velocity_ms, exit_temp_c=exit_temp_c,
                      diameter_m=diameter_m, ambient_temp_c=ambient_temp_c, scheme=scheme, terrain=terrain,
                      mixing_height_m=mixing_height_m, ground_reflection=not no_reflection, x_max_m=x_max_m,
                      receptors=recs)
        if rate_gs is not None and mass_kg is not None:
            raise InputError("rate_gs/mass_kg", [rate_gs, mass_kg], "give one: --rate-gs (continuous) or "
                             "--mass-kg (instantaneous)")
        result = run(sc)
    except (InputError, OSError) as e:
        fail(str(e))
    if geojson:
        geojson.write_text(json.dumps(result["geojson"], ensure_ascii=False), encoding="utf-8")
    if aermod:
        aermod.write_text(runstream(sc, result), encoding="utf-8")
    if as_json:
        print_json({k: v for k, v in result.items() if k != "geojson"})
        return
    console.print(f"[bold yellow]{result['screening']}[/]", highlight=False)
    st = result["stability"]
    console.print(f"stability {st['stability']} ({st['method']}), wind at release {result['wind_at_release_ms']} m/s,"
                  f" effective height {result['effective_height_m']} m", highlight=False)
    console.print(f"max ground-level concentration {result['max_concentration_mg_m3']} {result['unit']} "
                  f"at {result['max_distance_m']} m downwind", highlight=False)
    for iso in result["isopleths"]:
        console.print(f"  ≥ {iso['threshold_mg_m3']} mg/m³: area {iso['area_km2']} km², to "
                      f"{iso['downwind_extent_m']} m downwind, half-width ≤ {iso['max_halfwidth_m']} m", highlight=False)
    for r in result["receptors"]:
        console.print(f"  receptor {r['name'] or r['id']} ({r['type']}): {r['distance_m']} m, arrival "
                      f"{r['arrival_min']} min, {r['concentration_mg_m3']} mg/m³", highlight=False)
    for n in result["notes"]:
        console.print(f"[yellow]note:[/] {n}", highlight=False)
