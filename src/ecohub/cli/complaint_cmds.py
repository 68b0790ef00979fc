"""``ecohub complaint``: the 12369 complaint loop — advance a stage, transfer to the county, merge a duplicate,
link the inspection and case, show the loop, publish results, raise overdue alerts.

The loop is declared once in ``ecohub.supervision.complaint_machine``; a step it does not allow is refused with
the reason. Every change is audited with the actor ``cli:<name>`` (``ecohub --as NAME``)."""

from __future__ import annotations

from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, origin, print_json
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.queries import SYSTEM

complaint_app = typer.Typer(help="Complaints (12369 举报件): the loop with stage deadlines (working days where the "
                                 "rule says so), transfer, merge, reply, return visit (回访), publication.",
                            no_args_is_help=True)

Code = Annotated[str, typer.Argument(help="the tracking code (查询码), with or without hyphens")]
Json = Annotated[bool, typer.Option("--json", help="print the result as JSON")]


def register(app: typer.Typer) -> None:
    app.add_typer(complaint_app, name="complaint")


def _run(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except (InputError, NotFound, PermissionError) as e:
        fail(str(e))


def _show(h: dict, as_json: bool) -> None:
    if as_json:
        print_json(h)
        return
    console.print(f"{h['tracking_code']}  {h['stage']} {h['stage_name']}  due {h['stage_due'] or '-'}"
                  f"{'  OVERDUE' if h.get('overdue') else ''}  handler {h['handler'] or '-'}  supervisor "
                  f"{h['supervisor'] or '-'}", highlight=False)
    for k in ("transferred_to", "merged_into", "inspection_id", "case", "result", "reply", "satisfaction"):
        if h.get(k):
            console.print(f"  {k}: {h[k]}", highlight=False)
    if h.get("merged"):
        console.print("  merged: " + ", ".join(h["merged"]), highlight=False)
    console.print("  next: " + (", ".join(h["allowed"]) or "none (finished)"), highlight=False)


@complaint_app.command("advance")
def complaint_advance(
    code: Code,
    to: Annotated[str, typer.Argument(help="the stage: accepted, rejected, transferred, handling, handled, "
                                           "replied, visited, closed, merged")],
    note: Annotated[str | None, typer.Option(help="reason / what was done (needed by rejected, handled, …)")] = None,
    region: Annotated[str | None, typer.Option(help="transferred: the county code (区县代码) it goes to")] = None,
    into: Annotated[str | None, typer.Option(help="merged: the tracking code of the complaint it duplicates")] = None,
    reply: Annotated[str | None, typer.Option(help="replied: the reply to the complainant")] = None,
    satisfaction: Annotated[str | None, typer.Option(help="visited: satisfied | basic | unsatisfied")] = None,
    handler: Annotated[str | None, typer.Option(help="the handling officer (承办人)")] = None,
    supervisor: Annotated[str | None, typer.Option(help="who gets the overdue alerts")] = None,
    as_json: Json = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Move a complaint to the next stage of the loop."""
    from ecohub.supervision import complaint_loop as L

    store = open_store(database_url)
    _run(L.advance, store, SYSTEM, origin("complaint advance"), code, to, note=note, region_code=region,
         target=into, reply=reply, satisfaction=satisfaction, handler=handler, supervisor=supervisor)
    _show(_run(L.handling, store, SYSTEM, code), as_json)


@complaint_app.command("link")
def complaint_link(
    code: Code,
    inspection: Annotated[int | None, typer.Option(help="the targeted inspection's id")] = None,
    case: Annotated[str | None, typer.Option(help="the enforcement case number")] = None,
    as_json: Json = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Link the complaint to the inspection and/or case it led to."""
    from ecohub.supervision import complaint_loop as L

    store = open_store(database_url)
    _run(L.link, store, SYSTEM, origin("complaint link"), code, inspection_id=inspection, case=case)
    _show(_run(L.handling, store, SYSTEM, code), as_json)


@complaint_app.command("show")
def complaint_show(code: Code, as_json: Json = False, database_url: DatabaseUrl = None) -> None:
    """The loop of one complaint: stage, deadline, handler, transfer, merge, links, reply, return visit."""
    from ecohub.supervision import complaint_loop as L

    _show(_run(L.handling, open_store(database_url), SYSTEM, code), as_json)


@complaint_app.command("results")
def complaint_results(
    region: Annotated[str | None, typer.Option(help="a region code (its sub-regions included)")] = None,
    as_json: Json = False,
    database_url: DatabaseUrl = None,
) -> None:
    """The published results (办理结果公开): no personal data."""
    from ecohub.supervision import complaint_loop as L

    rows = _run(L.public_results, open_store(database_url), region_code=region)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['published_at'][:10]}  {r['region_name']}  {r['category']}  {r['result']}", highlight=False)


@complaint_app.command("check-overdue")
def complaint_check_overdue(as_json: Json = False, database_url: DatabaseUrl = None) -> None:
    """Raise a 'complaint_overdue' alert, addressed to the handler's supervisor, for every stage past its deadline."""
    from ecohub.supervision import complaint_loop as L

    raised = _run(L.check_overdue, open_store(database_url))
    if as_json:
        print_json(raised)
        return
    for r in raised:
        console.print(f"alert {r['alert_id']}: {r['complaint']} {r['stage']} due {r['due']} → {r['notify']}",
                      highlight=False)
