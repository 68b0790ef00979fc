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
    by: Annotated[str | None, typer.Option("--by", help="Also the tonnes per month or day (month | day).")] = None,
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
        res = enterprise_emissions(store, SYSTEM, enterprise, year, as_of=when, both_methods=both, by=by)
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
        for x in p.get("periods") or []:
            console.print(f"    {x['period']}  {x['actual_t']:.4f} t", highlight=False)


report_app = typer.Typer(help="Execution reports (排污许可证执行报告): submit, review (accept / return with reasons), "
                              "list; manual monitoring results of the self-monitoring plan.", no_args_is_help=True)


def _content(value: str | None) -> dict:
    import json
    from pathlib import Path

    if not value:
        return {}
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    try:
        d = json.loads(text)
    except ValueError as e:
        fail(f"content={value!r}: not JSON ({e})")
    if not isinstance(d, dict):
        fail(f"content={value!r}: must be a JSON object")
    return d


@report_app.command("submit")
def report_submit(
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="The permit number.")],
    kind: Annotated[str, typer.Option("--kind", help="month | quarter | year")],
    period: Annotated[str, typer.Option("--period", help="2026-03 (month), 2026-Q1 (quarter), 2026 (year).")],
    content: Annotated[str | None, typer.Option(help="What the enterprise declares: a JSON object, or @FILE.json.")]
    = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Submit (or resubmit a returned) execution report. The platform's figures for the period (emissions per
    pollutant, exceedance alerts, completeness against the self-monitoring plan and its findings) are kept beside
    what is declared. Prints the report as JSON; audited."""
    from ecohub.supervision.permits.reports import submit

    store = open_store(database_url)
    try:
        print_json(submit(store, SYSTEM, origin("permit report submit"), number, kind, period, _content(content)))
    except (InputError, NotFound) as e:
        fail(str(e))


@report_app.command("review")
def report_review(
    report_id: Annotated[int, typer.Argument(metavar="ID", help="The report id (see `permit report list`).")],
    accept: Annotated[bool, typer.Option("--accept", help="Accept the report.")] = False,
    return_: Annotated[bool, typer.Option("--return", help="Return it to the enterprise (reasons required).")] = False,
    note: Annotated[str | None, typer.Option("--note", help="The reasons (required with --return).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Accept or return (with reasons) a submitted execution report — submitted → accepted | returned; a returned
    report can be resubmitted. Illegal steps are refused with the state and what is allowed. Audited."""
    from ecohub.supervision.permits.reports import review

    if accept == return_:
        fail("give exactly one of --accept or --return")
    store = open_store(database_url)
    try:
        print_json(review(store, SYSTEM, origin("permit report review"), report_id,
                          "accept" if accept else "return", note))
    except (InputError, NotFound) as e:
        fail(str(e))


@report_app.command("list")
def report_list(
    number: Annotated[str | None, typer.Option("--permit", help="Only this permit.")] = None,
    state: Annotated[str | None, typer.Option(help="submitted | accepted | returned")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON lines: id, number, enterprise, kind, period, state, "
                                                          "submitted_at, reviewed_at, review_note, …")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Execution reports, newest first."""
    from ecohub.cli.common import print_rows
    from ecohub.supervision.permits.reports import list_reports

    if state and state not in ("submitted", "accepted", "returned"):
        fail(f"state={state!r}: submitted, accepted or returned")
    store = open_store(database_url)
    rows = list_reports(store, SYSTEM, number=number, state=state)
    print_rows(rows, json_out, {"id": "id", "permit": "number", "enterprise": "enterprise", "kind": "kind",
                                "period": "period", "state": "state", "submitted": "submitted_at",
                                "reviewed": lambda r: r.get("reviewed_at") or "", "note": lambda r: r.get("review_note") or ""})


@report_app.command("monitoring")
def report_monitoring(
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="The permit number.")],
    site: Annotated[str, typer.Option("--site", help="The outlet's site code.")],
    parameter: Annotated[str, typer.Option("--parameter", help="The pollutant of the plan row.")],
    sampled_on: Annotated[str, typer.Option("--sampled-on", help="Sampling date (YYYY-MM-DD).")],
    value: Annotated[float | None, typer.Option(help="The result, in the plan's unit.")] = None,
    lab: Annotated[str | None, typer.Option(help="The laboratory.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """File a manual monitoring result (手工监测) against the permit's self-monitoring plan; a plan interval without
    one is a finding, and the worker raises monitoring_report_missing for it. Audited."""
    from datetime import date

    from ecohub.supervision.permits.reports import file_manual_report

    try:
        day = date.fromisoformat(sampled_on)
    except ValueError:
        fail(f"sampled-on={sampled_on!r}: a date YYYY-MM-DD")
    store = open_store(database_url)
    try:
        print_json(file_manual_report(store, SYSTEM, origin("permit report monitoring"), number, site_code=site,
                                      parameter_name=parameter, sampled_on=day, value=value, lab=lab))
    except (InputError, NotFound) as e:
        fail(str(e))


_registered = {"done": False}


def register(app: typer.Typer) -> None:
    from ecohub.cli.worker_cmds import permit_app

    if not _registered["done"]:  # permit_app is module-level: add the sub-commands once
        permit_app.add_typer(register_app, name="register")
        permit_app.command("show")(permit_show)
        permit_app.add_typer(report_app, name="report")
        _registered["done"] = True
    app.command("emissions")(emissions_cmd)

