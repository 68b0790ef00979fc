"""``ecohub redline …``: ecological protection red lines (生态保护红线) — import, check, change patches, areas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, print_json
from ecohub.domain.errors import InputError
from ecohub.store.queries import SYSTEM

redline_app = typer.Typer(help="Ecological protection red lines (生态保护红线): import polygons, check what lies "
                               "inside or near them, import change patches (raises redline_change alerts), "
                               "areas per county.", no_args_is_help=True)

DATUM_HELP = "datum of the coordinates: wgs84 (default; CGCS2000 is taken as WGS-84) or gcj02 (converted)"


def register(app: typer.Typer) -> None:
    app.add_typer(redline_app, name="redline")


def _report(rep: dict, as_json: bool) -> None:
    if as_json:
        print_json(rep)
        return
    console.print(f"imported {rep['imported']}, updated {rep.get('updated', 0)}, rejected {len(rep['rejected'])}",
                  highlight=False)
    for r in rep["rejected"]:
        console.print(f"  [red]rejected[/] feature {r.get('index')} {r.get('id') or ''}: {r['reason']}", highlight=False)
    for w in rep["warnings"]:
        console.print(f"  [yellow]warning[/] {w}", highlight=False)
    for a in rep.get("alerts", []):
        console.print(f"  [bold]alert {a['alert_id']}[/] patch {a['patch']} ∩ red line {a['redline_code']}: "
                      f"{a['area_km2']} km² at {a['lon']}, {a['lat']}", highlight=False)


@redline_app.command("import")
def redline_import(
    file: Annotated[Path, typer.Argument(help="GeoJSON, Shapefile (.shp beside .dbf/.prj) or a .zip of one; "
                                              "properties code, name, type (or 编码/名称/类型)")],
    datum: Annotated[str, typer.Option(help=DATUM_HELP)] = "wgs84",
    as_json: Annotated[bool, typer.Option("--json", help="print the import report as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Import red-line polygons (upsert by code). Invalid geometries (self-intersections …), features without a
    code and coordinates in an undeclared projected CRS are rejected with the reason; the rest is kept."""
    from ecohub.emergency.redline import import_redlines

    store = open_store(database_url)
    try:
        rep = import_redlines(store, file, datum=datum, by="cli")
    except (InputError, OSError) as e:
        fail(str(e))
    _report(rep.as_dict(), as_json)


@redline_app.command("patches")
def redline_patches(
    file: Annotated[Path, typer.Argument(help="change patches (GeoJSON/Shapefile): code, activity, observed_on")],
    datum: Annotated[str, typer.Option(help=DATUM_HELP)] = "wgs84",
    as_json: Annotated[bool, typer.Option("--json", help="print the import report as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Import change patches (new human activity from remote-sensing interpretation); every patch intersecting
    a red line raises an alert (rule redline_change) with the intersection area and location."""
    from ecohub.emergency.redline import import_patches

    store = open_store(database_url)
    try:
        rep = import_patches(store, file, datum=datum, by="cli")
    except (InputError, OSError) as e:
        fail(str(e))
    _report(rep.as_dict(), as_json)


@redline_app.command("check")
def redline_check(
    buffer_m: Annotated[float, typer.Option("--buffer-m", help="also list objects within this many metres")] = 0.0,
    kind: Annotated[list[str] | None, typer.Option(help="outlet, risk_source, incident, receptor (repeatable)")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Which outlets (and their permits), risk sources, incident locations and receptors lie inside a red line
    or within --buffer-m of one (PostGIS on PostgreSQL, shapely on SQLite: the same answers)."""
    from ecohub.emergency.redline import check

    store = open_store(database_url)
    try:
        res = check(store, SYSTEM, buffer_m, tuple(kind) if kind else None)
    except InputError as e:
        fail(str(e))
    if as_json:
        print_json(res)
        return
    console.print(f"{res['objects_checked']} objects against {res['redlines']} red lines ({res['backend']}), "
                  f"buffer {res['buffer_m']} m: {len(res['hits'])} hits", highlight=False)
    for h in res["hits"]:
        where = "inside" if h["inside"] else f"{h['distance_m']:.0f} m from"
        console.print(f"  {h['kind']} {h['code']} {h['name']}: {where} {h['redline_code']} {h['redline_name']}",
                      highlight=False)


@redline_app.command("areas")
def redline_areas(
    as_json: Annotated[bool, typer.Option("--json", help="print the rows as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Red-line area per county (km², on the ellipsoid), from the shipped county boundaries."""
    from ecohub.emergency.redline import county_areas

    store = open_store(database_url)
    rows = county_areas(store, SYSTEM)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['region_code']} {r['name']}: {r['area_km2']} km² ({len(r['redlines'])} red lines)",
                      highlight=False)
