"""``ecohub case``: enforcement cases (环境行政处罚案件) — open, advance, close, penalties, list, show, overdue.

The procedure (立案 → 调查取证 → 告知 → [听证] → 处罚决定 → 执行 → 结案; 不予立案 / 撤销 with a reason) is declared
once in ``ecohub.supervision.cases.machine``; a step the procedure does not allow is refused with the reason.
Every step is audited with the actor ``cli:<name>`` (``ecohub --as NAME``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, origin, print_json
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.queries import SYSTEM

case_app = typer.Typer(help="Enforcement cases (环境行政处罚案件): the procedure with deadlines (working days where "
                            "the law says so), penalties incl. daily continuous penalties, overdue alerts.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")


def _show(case: dict, as_json: bool) -> None:
    if as_json:
        print_json(case)
        return
    console.print(f"{case['number']}  {case.get('enterprise_name', '')} ({case.get('enterprise_uscc', '')})  "
                  f"{case['state']} {case['state_name']}  due {case['state_due'] or '-'}"
                  f"{'  OVERDUE' if case.get('overdue') else ''}", highlight=False)
    for e in case.get("timeline", []):
        console.print(f"  {e['on_date']}  {e['from_state'] or '':>13} → {e['to_state']:<13} {e['actor'] or ''}  "
                      f"{e['note'] or ''}", highlight=False)
    for p in case.get("penalties", []):
        extra = f" ({p['days']} days × {p['base_yuan']:g})" if p.get("days") else ""
        console.print(f"  penalty #{p['id']} {p['kind']} {p['amount_yuan'] or ''}{extra}"
                      f"{' paid ' + p['paid_on'] if p.get('paid_on') else ''}", highlight=False)


def _run(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except (InputError, NotFound, PermissionError) as e:
        fail(str(e))


@case_app.command("open")
def case_open(
    enterprise: Annotated[str, typer.Option(help="the enterprise's USCC (统一社会信用代码)")],
    violation: Annotated[str, typer.Option(help="violation code of the legal-basis table (e.g. air_exceed, "
                                                "water_exceed, no_permit, monitoring_fraud, no_self_monitoring)")],
    title: Annotated[str | None, typer.Option(help="case title (default: the violation's name)")] = None,
    source: Annotated[str, typer.Option(help="where it came from: alert | complaint | inspection | other")] = "other",
    source_ref: Annotated[str | None, typer.Option("--ref", help="the alert id, complaint code or inspection id")] = None,
    discovered: Annotated[str | None, typer.Option(help="date the clue was found (YYYY-MM-DD; default today)")] = None,
    filed: Annotated[str | None, typer.Option(help="date of filing 立案 (default today)")] = None,
    pending: Annotated[bool, typer.Option("--pending", help="record the clue only; decide on filing later")] = False,
    owner: Annotated[str | None, typer.Option(help="case owner 承办人 (default: you)")] = None,
    supervisor: Annotated[str | None, typer.Option(help="who is alerted when a step is overdue")] = None,
    legal_table: Annotated[str | None, typer.Option(help="a legal-basis table of your own (JSON)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the case as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Open a case: the clue (线索) and, unless --pending, its filing (立案) — the decision is due 90 days later."""
    from ecohub.supervision.cases import service

    store = open_store(database_url)
    case = _run(service.open_case, store, SYSTEM, origin("case open"), uscc=enterprise, violation=violation,
                title=title, source_kind=source, source_ref=source_ref, discovered_on=discovered, filed_on=filed,
                pending=pending, owner=owner, supervisor=supervisor, legal_table=legal_table)
    _show(case, as_json)


@case_app.command("advance")
def case_advance(
    case: Annotated[str, typer.Argument(help="case number or id")],
    to: Annotated[str | None, typer.Option(help="target state (default: the next step of the main line): filed, "
                                                "investigating, notified, hearing, decided, executing, closed")] = None,
    on: Annotated[str | None, typer.Option(help="legal date of the step (YYYY-MM-DD; default today)")] = None,
    note: Annotated[str | None, typer.Option(help="note or reason")] = None,
    waived: Annotated[bool, typer.Option("--waived", help="the party waived the hearing in writing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the case as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Move a case one step; a step the procedure does not allow is refused with the reason."""
    from ecohub.supervision.cases import service

    store = open_store(database_url)
    _show(_run(service.advance, store, SYSTEM, origin("case advance"), case, to, on=on, note=note, waived=waived),
          as_json)


@case_app.command("close")
def case_close(
    case: Annotated[str, typer.Argument(help="case number or id")],
    reason: Annotated[str | None, typer.Option(help="reason (required for 不予立案 and 撤销) or how it was enforced")]
    = None,
    on: Annotated[str | None, typer.Option(help="date (YYYY-MM-DD; default today)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the case as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """结案 after execution (fines paid), 不予立案 of a clue, 撤销 of an open case before its decision."""
    from ecohub.supervision.cases import service

    store = open_store(database_url)
    _show(_run(service.close, store, SYSTEM, origin("case close"), case, reason=reason, on=on), as_json)


@case_app.command("penalty")
def case_penalty(
    case: Annotated[str, typer.Argument(help="case number or id")],
    kind: Annotated[str, typer.Option(help="warning | fine | daily_fine | confiscation | suspension | "
                                           "permit_revocation | order_correction")],
    amount: Annotated[float | None, typer.Option(help="amount in yuan (fine, confiscation)")] = None,
    base: Annotated[float | None, typer.Option(help="daily_fine: the original fine per day (yuan)")] = None,
    served: Annotated[str | None, typer.Option(help="daily_fine: date the correction order was served")] = None,
    recheck: Annotated[str | None, typer.Option(help="daily_fine: date the re-inspection found it continuing")] = None,
    note: Annotated[str | None, typer.Option(help="note")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the case as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Propose a penalty (before the decision); fines are checked against the legal basis' range, daily
    continuous penalties computed from the dates (days = re-inspection − service)."""
    from ecohub.supervision.cases import service

    store = open_store(database_url)
    _show(_run(service.add_penalty, store, SYSTEM, origin("case penalty"), case, kind=kind, amount_yuan=amount,
               base_yuan=base, served_on=served, recheck_on=recheck, note=note), as_json)


@case_app.command("paid")
def case_paid(
    case: Annotated[str, typer.Argument(help="case number or id")],
    penalty: Annotated[int, typer.Option(help="penalty id")],
    on: Annotated[str | None, typer.Option(help="payment date (default today)")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Record that a fine was paid."""
    from ecohub.supervision.cases import service

    store = open_store(database_url)
    _show(_run(service.mark_paid, store, SYSTEM, origin("case paid"), case, penalty, paid_on=on), False)


@case_app.command("show")
def case_show(
    case: Annotated[str, typer.Argument(help="case number or id")],
    as_json: Annotated[bool, typer.Option("--json", help="print the case as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """A case with its timeline, penalties and documents."""
    from ecohub.supervision.cases import service

    store = open_store(database_url)
    _show(_run(service.get_case, store, SYSTEM, case), as_json)


@case_app.command("list")
def case_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="only cases whose current step is past its deadline")]
    = False,
    state: Annotated[str | None, typer.Option(help="only cases in this state")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Cases, the most urgent deadline first."""
    from ecohub.supervision.cases import service

    store = open_store(database_url)
    rows = _run(service.list_cases, store, SYSTEM, overdue=overdue, state=state)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for r in rows:
        console.print(f"{r['number']}  {r.get('enterprise_name', '')}  {r['state']} {r['state_name']}  "
                      f"due {r['state_due'] or '-'}{'  OVERDUE' if r['overdue'] else ''}  {r['owner']}",
                      highlight=False)


@case_app.command("check-overdue")
def case_check_overdue(
    as_json: Annotated[bool, typer.Option("--json", help="print the alerts raised as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Raise a 'case_overdue' alert, addressed to the owner's supervisor, for every step past its deadline."""
    from ecohub.supervision.cases import service

    store = open_store(database_url)
    raised = _run(service.check_overdue, store)
    if as_json:
        print_json(raised)
        return
    for r in raised:
        console.print(f"alert {r['alert_id']}: {r['case']} {r['state']} due {r['due']} → {r['notify']}",
                      highlight=False)


@case_app.command("document")
def case_document(
    case: Annotated[str, typer.Argument(help="case number or id")],
    kind: Annotated[str, typer.Option(help="correction_order (责令改正违法行为决定书) | penalty_decision (行政处罚决定书)")],
    out: Annotated[str | None, typer.Option(help="also write the DOCX to this file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the document record as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Generate a case document (DOCX from the templates), store it with its SHA-256, audit it."""
    from pathlib import Path

    from ecohub.supervision.cases import documents

    store = open_store(database_url)
    d = _run(documents.generate, store, SYSTEM, origin("case document"), case, kind)
    if out:
        Path(out).write_bytes(_run(documents.content, store, SYSTEM, case, d["id"])[1])
    if as_json:
        print_json(d)
    else:
        console.print(f"document {d['id']} {d['filename']} {d['size']} bytes sha256 {d['sha256']}", highlight=False)
