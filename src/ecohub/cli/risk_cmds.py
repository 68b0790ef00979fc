"""``ecohub risk …``: the risk-source register (一源一档) and its HJ 941-2018 grade."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, print_json
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.queries import SYSTEM

risk_app = typer.Typer(help="Risk-source register (一源一档): import, grade (HJ 941-2018), list.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(risk_app, name="risk")


@risk_app.command("import")
def risk_import(
    file: Annotated[Path, typer.Argument(help="CSV or Excel, one row per substance: uscc, substance, cas, quantity_t, "
                                              "critical_t, m_score, e_air, e_water, lon, lat, plan_record_no, "
                                              "plan_filed_on, plan_valid_until, supplies, contact_name, contact_phone")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Import (upsert) risk-source records and grade them (HJ 941-2018). An enterprise whose rows have an error
    (unknown enterprise, substance not in the table without critical_t, bad number or date) is rejected with
    every reason; the others are kept."""
    from ecohub.emergency.risk import import_register

    store = open_store(database_url)
    try:
        rep = import_register(store, file, by="cli")
    except (InputError, OSError) as e:
        fail(str(e))
    if as_json:
        print_json(rep)
        return
    console.print(f"imported {rep['imported']}, rejected {len(rep['rejected'])}", highlight=False)
    for r in rep["rejected"]:
        console.print(f"  [red]rejected[/] {r.get('uscc') or ''} lines {r.get('lines') or r.get('line')}: {r['reason']}",
                      highlight=False)


@risk_app.command("grade")
def risk_grade(
    enterprise: Annotated[str, typer.Option("--enterprise", help="unified social credit code (USCC)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the grade as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """The enterprise's risk grade with Q, M, E per medium and the substances behind Q."""
    from ecohub.emergency.risk import grade_enterprise

    store = open_store(database_url)
    try:
        g = grade_enterprise(store, enterprise)
    except NotFound as e:
        fail(str(e))
    if as_json:
        print_json(g)
        return
    if g.get("grade") is None:
        console.print(f"{g['uscc']}: not graded (no environment sensitivity given)", highlight=False)
        return
    console.print(f"{g['uscc']}: {g['grade_zh']} ({g['grade']}) {g['code']}, Q = {g['q']}, plan {g['plan_state']}, "
                  f"record {g['status']}", highlight=False)
    for s in g["substances"]:
        console.print(f"  {s['name']} {s['cas'] or ''}: {s['quantity_t']} t / {s['critical_t']} t = {s['ratio']:.3g} "
                      f"({s['source']})", highlight=False)


@risk_app.command("list")
def risk_list(as_json: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Every risk-source record with its grade and plan validity."""
    from ecohub.emergency.risk import list_sources

    store = open_store(database_url)
    rows = list_sources(store, SYSTEM)
    if as_json:
        for r in rows:
            print_json(r)
        return
    for r in rows:
        console.print(f"{r['uscc']} {r['name']}: {r['grade'] or '-'} {r['grade_code'] or ''} plan {r['plan_state']} "
                      f"({r['status']})", highlight=False)
