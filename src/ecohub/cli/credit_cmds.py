"""``ecohub credit``: enterprise environmental credit (企业环境信用评价) — rate, history, blacklist, credit repair."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, origin, print_json
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.queries import SYSTEM

credit_app = typer.Typer(help="Enterprise environmental credit: four levels (green 环保诚信, blue 良好, yellow 警示, "
                              "red 不良) from the platform's own facts, with veto items; versioned; blacklist and "
                              "credit repair. Method and sources: docs/credit.md.", no_args_is_help=True)
repair_app = typer.Typer(help="Credit repair (信用修复) of a blacklist entry.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    credit_app.add_typer(repair_app, name="repair")
    app.add_typer(credit_app, name="credit")


def _run(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except (InputError, NotFound, PermissionError) as e:
        fail(str(e))


def _date(v: str | None) -> date | None:
    if v is None:
        return None
    try:
        return date.fromisoformat(v)
    except ValueError:
        fail(f"--on {v!r}: not a date (YYYY-MM-DD)")


@credit_app.command("rate")
def credit_rate(
    year: Annotated[int, typer.Option(help="the year rated")],
    enterprise: Annotated[str | None, typer.Option(help="one enterprise (USCC); default all")] = None,
    method: Annotated[str, typer.Option(help="ecohub-credit-v1 (deductions over platform facts) or mee-2013-150 "
                                             "(the national 2013 indicator set, 环发〔2013〕150号)")] = "ecohub-credit-v1",
    as_json: Annotated[bool, typer.Option("--json", help="print the ratings (level, score, facts, points) as JSON")]
    = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Rate enterprises for a year: a new version of each rating (never overwritten), with the facts and points
    behind it; a veto puts the enterprise on the blacklist."""
    from ecohub.supervision.credit import service

    rows = _run(service.rate, open_store(database_url), SYSTEM, origin("credit rate"), year, uscc=enterprise,
                method_name=method)
    if as_json:
        print_json(rows if enterprise is None else rows[0])
        return
    for r in rows:
        console.print(f"{r['enterprise_uscc']} {r['enterprise_name']} {r['year']} v{r['version']}: {r['level']} "
                      f"{r['level_name']} score {r['score']:g}", highlight=False)
        for p in r["points"]:
            fact = "-" if p["fact"] is None else f"{p['fact']:g}"
            console.print(f"    {p['points']:>6g}  {p['name']}: {fact} {p['unit']}", highlight=False)
        for v in r["vetoes"]:
            console.print(f"    VETO   {v['reason']}", highlight=False)


@credit_app.command("show")
def credit_show(
    enterprise: Annotated[str, typer.Argument(help="USCC")],
    as_json: Annotated[bool, typer.Option("--json", help="print every version as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Every rating version of an enterprise, newest first."""
    from ecohub.supervision.credit import service

    rows = _run(service.history, open_store(database_url), SYSTEM, enterprise)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['year']} v{r['version']} {r['level']} {r['level_name']} {r['score']:g} "
                      f"({r['computed_at']}, {r['computed_by']})", highlight=False)


@credit_app.command("blacklist")
def credit_blacklist(
    all_: Annotated[bool, typer.Option("--all", help="include restored entries")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """The blacklist (严重失信): enterprise, since, reason, status."""
    from ecohub.supervision.credit import service

    rows = service.blacklist(open_store(database_url), include_restored=all_)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"#{r['id']} {r['uscc']} {r['name']} since {r['start_on']} {r['status']}: {r['reason']}",
                      highlight=False)


@repair_app.command("apply")
def repair_apply(
    entry: Annotated[int, typer.Argument(help="blacklist entry id")],
    statement: Annotated[str, typer.Option(help="what the enterprise corrected")],
    on: Annotated[str | None, typer.Option(help="application date (default today)")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Apply for credit repair; prints the conditions and whether each holds."""
    from ecohub.supervision.credit import service

    print_json(_run(service.apply_repair, open_store(database_url), SYSTEM, origin("credit repair apply"), entry,
                    statement, on=_date(on)))


@repair_app.command("decide")
def repair_decide(
    entry: Annotated[int, typer.Argument(help="blacklist entry id")],
    approve: Annotated[bool, typer.Option("--approve/--refuse", help="approve (restore) or refuse")],
    on: Annotated[str | None, typer.Option(help="decision date = restored date (default today)")] = None,
    note: Annotated[str | None, typer.Option(help="note")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Approve (all conditions must hold) or refuse an application."""
    from ecohub.supervision.credit import service

    print_json(_run(service.decide_repair, open_store(database_url), SYSTEM, origin("credit repair decide"), entry,
                    approve, on=_date(on), note=note))
