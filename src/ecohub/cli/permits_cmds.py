"""Commands of the permit register and emissions accounting: ``permit register import``, ``permit show``,
``emissions``. (``permit import`` — the limit rows alone — stays in :mod:`ecohub.cli.worker_cmds`.)"""

from __future__ import annotations

from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, err_console, fail, open_store, origin, print_json
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.queries import SYSTEM

register_app = typer.Typer(help="The permit register (排污许可证, 一证式): permits, versions, outlets, limits, "
                                "tonnage, self-monitoring plans.", no_args_is_help=True)

IMPORT_HELP = """Import a permit register: an Excel workbook with one sheet per table (permits, outlets, limits,
tonnage, plans — or 许可证, 排放口, 限值, 许可排放量, 自行监测方案) or a folder of permits.csv, outlets.csv, …

A permit is saved with all its rows or not at all; each bad row is reported with its table, line, field and
reason (and kept in the quarantine). Numbers are checked against HJ 608-2017 (USCC + 3-digit sequence + P/W);
issuing a number twice, a renewal overlapping the validity it continues, unknown outlets, limits in units that
cannot be converted are refused. Limit rows imported earlier with `ecohub permit import` for a registered outlet
become the permit's (the same rows, updated — never copied). Exit 0 when every permit was saved, 1 when some
were rejected, 2 when the file cannot be read."""


@register_app.command("import", help=IMPORT_HELP)
def register_import(
    path: Annotated[str, typer.Argument(metavar="FILE.xlsx|DIR")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: saved, rejected, errors.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    from ecohub.supervision.permits.register import import_register

    store = open_store(database_url)
    try:
        res = import_register(store, path, origin("permit register import"))
    except InputError as e:
        fail(str(e))
    if json_out:
        print_json(res.as_dict())
    else:
        for e in res.errors:
            err_console.print(f"{e.get('table')} line {e.get('line')}: {e.get('field')}={e.get('value')!r}: "
                              f"{e.get('reason')}" + (f" (permit {e['permit']} not saved)" if "permit" in e else ""),
                              highlight=False)
        console.print(f"permits: {len(res.saved)} saved, {len(res.rejected)} rejected")
    if res.rejected:
        raise typer.Exit(1)


def permit_show(
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="The 22-character permit number.")],
    json_out: Annotated[bool, typer.Option("--json", help="The whole record as JSON.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Show a permit: enterprise, category, validity and status, outlets (coordinates, type), concentration limits
    (period, O2 reference, standard), permitted tonnage, self-monitoring plan and every version."""
    from ecohub.supervision.permits.register import permit_detail

    store = open_store(database_url)
    try:
        d = permit_detail(store, SYSTEM, number)
    except NotFound:
        fail(f"permit {number!r} is not in the register")
    if json_out:
        print_json(d)
        return
    console.print(f"[bold]{d['number']}[/] {d['enterprise_name']} ({d['enterprise']}) — {d['category']}, "
                  f"{d['industry'] or ''}; {d['status']} {d['valid_from']} … {d['valid_to']}", highlight=False)
    for o in d["outlets"]:
        console.print(f"  outlet {o['outlet_code']} ({o['outlet_type']}, {o['kind']}) site {o['site']} "
                      f"{o['lon']:.5f},{o['lat']:.5f}", highlight=False)
    for x in d["limits"]:
        o2 = f" at {x['converted_o2']:g}% O2" if x["converted_o2"] is not None else ""
        console.print(f"  limit {x['outlet'] or x['site']} {x['parameter']} {x['period']}: {x['limit_value']:g} "
                      f"{x['unit']}{o2} {x['standard'] or ''}", highlight=False)
    for t in d["tonnage"]:
        console.print(f"  tonnage {t['parameter']}: {t['tonnes_per_year']:g} t/a", highlight=False)
    for v in d["versions"]:
        console.print(f"  v{v['seq']} {v['kind']} {v['effective_on']} valid {v['valid_from']} … {v['valid_to']}",
                      highlight=False)


def emissions_cmd(
    enterprise: Annotated[str, typer.Option("--enterprise", help="The enterprise's USCC.")],
    year: Annotated[int, typer.Option("--year", help="Calendar year (Beijing time).")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Count up to this time (ISO 8601; default now).")] = None,
    both: Annotated[bool, typer.Option("--both-methods", help="Also the totals by Cou only and by C×Q only.")] = False,
    alert: Annotated[bool, typer.Option("--alert", help="Raise permit_tonnage alerts (80 %, 100 %).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="The result as JSON.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Actual emissions of an enterprise's permitted pollutants in a year from the online-monitoring hourly data:
    the devices' cumulative amounts (Cou) where sent, else concentration × flow, invalid hours substituted as
    HJ 75-2017 says; beside the permitted tonnage: actual t, permitted t, share, projected year-end."""
    from ecohub.domain.timeutil import parse_time
    from ecohub.supervision.permits.emissions import check_tonnage, enterprise_emissions

    store = open_store(database_url)
    try:
        when = parse_time(as_of, "as_of") if as_of else None
        res = enterprise_emissions(store, SYSTEM, enterprise, year, as_of=when, both_methods=both)
        if alert:
            res["alerts"] = check_tonnage(store, year, as_of=when, uscc=enterprise)
    except InputError as e:
        fail(str(e))
    except NotFound as e:
        fail(str(e))
    if json_out:
        print_json(res)
        return
    console.print(f"{res['enterprise']} {res['year']} (to {res['as_of']}, {res['elapsed_share']:.0%} of the year)")
    for p in res["pollutants"]:
        share = f"{p['share']:.1%}" if p["share"] is not None else "—"
        permitted = f"{p['permitted_t']:g}" if p["permitted_t"] is not None else "—"
        console.print(f"  {p['pollutant']:<12} actual {p['actual_t']:.4f} t  permitted {permitted} t  share {share}",
                      highlight=False)


_registered = {"done": False}


def register(app: typer.Typer) -> None:
    from ecohub.cli.worker_cmds import permit_app

    if not _registered["done"]:  # permit_app is module-level: add the sub-commands once
        permit_app.add_typer(register_app, name="register")
        permit_app.command("show")(permit_show)
        _registered["done"] = True
    app.command("emissions")(emissions_cmd)

