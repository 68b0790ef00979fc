"""Commands of hazardous-waste supervision: ``waste codes``, ``waste licence``, ``waste generated``,
``waste storage``, ``waste manifest create|approve|dispatch|receive|close|cancel|events``, ``waste manifests``,
``waste check``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from ecohub.cli.common import (
    DatabaseUrl,
    console,
    err_console,
    fail,
    open_store,
    origin,
    print_json,
    print_rows,
)
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.queries import SYSTEM

waste_app = typer.Typer(help="Hazardous waste (危险废物): national-list codes, licences, ledger, transfer manifests "
                             "(转移联单).", no_args_is_help=True)
manifest_app = typer.Typer(help="One transfer manifest through its life: create → (approve, cross-province) → "
                                "dispatch → receive → close; or cancel before dispatch. Illegal steps are refused "
                                "with the state and the allowed actions; every step is audited.",
                           no_args_is_help=True)
waste_app.add_typer(manifest_app, name="manifest")


def _time(v: str | None, name: str) -> datetime | None:
    if not v:
        return None
    from ecohub.domain.timeutil import parse_time

    return parse_time(v, name)


def _run(fn, json_out: bool):
    try:
        out = fn()
    except InputError as e:
        fail(str(e))
    except NotFound as e:
        fail(f"not found: {e}")
    except PermissionError as e:
        fail(str(e))
    if json_out:
        print_json(out)
    else:
        console.print(out, highlight=False)
    return out


@waste_app.command("codes")
def codes_cmd(category: Annotated[str | None, typer.Option(help="Only this category, e.g. HW08.")] = None,
              json_out: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
              database_url: DatabaseUrl = None) -> None:
    """The waste codes shipped (a sourced subset of the national list; docs/waste.md says which)."""
    from ecohub.supervision.waste.codes import list_codes

    rows = list_codes(open_store(database_url), category)
    print_rows(rows, json_out, {"code": "code", "category": "category", "hazard": "hazard",
                                "description": "description"})


@waste_app.command("codes-import")
def codes_import_cmd(
    file: Annotated[str, typer.Argument(metavar="FILE.csv", help="UTF-8 CSV: code,category,industry,description,"
                                                               "hazard (one row per code of the list).")],
    edition: Annotated[str, typer.Option(help="The edition the rows come from, e.g. 国家危险废物名录（2025年版）.")],
    json_out: Annotated[bool, typer.Option("--json", help="The result as JSON.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Load waste codes of the National Hazardous Waste List (e.g. the whole list typed from the official text):
    new codes added, existing ones updated, the edition recorded on each. Every row is checked (8 digits, category
    of the list and equal to the code's last two digits, description, hazard T/C/I/R/In); with any bad row nothing
    is saved and each is reported with line, field and reason (exit 1). Audited."""
    from ecohub.supervision.waste.codes import import_codes

    store = open_store(database_url)
    try:
        res = import_codes(store, origin("waste codes-import"), file, edition)
    except InputError as e:
        fail(str(e))
    if json_out:
        print_json(res)
    else:
        for bad in res["errors"]:
            err_console.print(f"line {bad['line']}: {bad['field']}={bad['value']!r}: {bad['reason']}",
                              highlight=False)
        console.print(f"codes: {res['added']} added, {res['updated']} updated"
                      + (f"; {len(res['errors'])} bad rows, nothing saved" if res["errors"] else ""))
    if res["errors"]:
        raise typer.Exit(1)


@waste_app.command("licence")
def licence_cmd(enterprise: Annotated[str, typer.Option(help="The licence holder's USCC.")],
                number: Annotated[str, typer.Option(help="Licence number (危险废物经营许可证编号).")],
                codes: Annotated[str, typer.Option(help="Comma-separated 8-digit codes and/or HWxx categories.")],
                valid_from: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
                valid_to: Annotated[str, typer.Option("--to", help="YYYY-MM-DD")],
                database_url: DatabaseUrl = None) -> None:
    """Register a hazardous-waste business licence (receivers must hold one for the code they receive)."""
    from ecohub.supervision.waste.codes import add_licence

    store = open_store(database_url)

    def go():
        try:
            a, b = date.fromisoformat(valid_from), date.fromisoformat(valid_to)
        except ValueError as e:
            raise InputError("from/to", f"{valid_from}/{valid_to}", f"dates YYYY-MM-DD ({e})") from None
        return add_licence(store, origin("waste licence"), uscc=enterprise, licence_no=number,
                           codes=[c for c in codes.split(",") if c.strip()], valid_from=a, valid_to=b)

    _run(go, False)


@waste_app.command("generated")
def generated_cmd(enterprise: Annotated[str, typer.Option(help="The generator's USCC.")],
                  code: Annotated[str, typer.Option(help="Waste code NNN-NNN-NN.")],
                  tonnes: Annotated[float, typer.Option(help="Quantity generated (t).")],
                  at: Annotated[str | None, typer.Option(help="When (ISO 8601; default now).")] = None,
                  database_url: DatabaseUrl = None) -> None:
    """Record waste generated in the generator's ledger (台账)."""
    from ecohub.supervision.waste.ledger import record_generated

    store = open_store(database_url)
    _run(lambda: record_generated(store, SYSTEM, origin("waste generated"), uscc=enterprise, code=code,
                                  tonnes=tonnes, at=_time(at, "at")), False)


@waste_app.command("storage")
def storage_cmd(enterprise: Annotated[str, typer.Option(help="USCC.")],
                json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Per code: generated, shipped, stored tonnes and the oldest stored batch (FIFO)."""
    from ecohub.supervision.waste.ledger import storage

    store = open_store(database_url)
    _run(lambda: storage(store, SYSTEM, enterprise), json_out)


@manifest_app.command("create")
def m_create(generator: Annotated[str, typer.Option(help="Generator's USCC.")],
             receiver: Annotated[str, typer.Option(help="Receiver's USCC (must hold a licence for the code).")],
             code: Annotated[str, typer.Option(help="Waste code NNN-NNN-NN (national list).")],
             tonnes: Annotated[float, typer.Option(help="Quantity (t).")],
             json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Create a manifest. A receiver in another province makes it cross-province: approve before dispatch."""
    from ecohub.supervision.waste.manifest import create

    store = open_store(database_url)
    _run(lambda: create(store, SYSTEM, origin("waste manifest create"), generator=generator, receiver=receiver,
                        code=code, tonnes=tonnes), json_out)


def _step(action: str, number: str, json_out: bool, database_url: str | None, **fields) -> None:
    from ecohub.supervision.waste.manifest import transition

    store = open_store(database_url)
    _run(lambda: transition(store, SYSTEM, origin(f"waste manifest {action}"), number, action, **fields), json_out)


@manifest_app.command("approve")
def m_approve(number: Annotated[str, typer.Argument(metavar="NUMBER")],
              ref: Annotated[str, typer.Option("--ref", help="The approval's reference (批准文号).")],
              json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Approve a cross-province transfer (officers)."""
    _step("approve", number, json_out, database_url, approval_ref=ref)


@manifest_app.command("dispatch")
def m_dispatch(number: Annotated[str, typer.Argument(metavar="NUMBER")],
               transporter: Annotated[str, typer.Option(help="Transport company.")],
               vehicle: Annotated[str, typer.Option(help="Vehicle plate.")],
               at: Annotated[str | None, typer.Option(help="Departure time (ISO 8601; default now).")] = None,
               deadline_days: Annotated[float | None, typer.Option(help="Days to the receipt deadline.")] = None,
               json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Dispatch: the waste leaves with the transporter; the receipt deadline starts."""
    _step("dispatch", number, json_out, database_url, transporter=transporter, vehicle=vehicle, at=_time(at, "at"),
          deadline_days=deadline_days)


@manifest_app.command("receive")
def m_receive(number: Annotated[str, typer.Argument(metavar="NUMBER")],
              tonnes: Annotated[float, typer.Option(help="Received quantity (t).")],
              at: Annotated[str | None, typer.Option(help="Receipt time (ISO 8601; default now).")] = None,
              json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Receive: the receiver confirms the quantity (a difference beyond 5 % raises an alert)."""
    _step("receive", number, json_out, database_url, tonnes=tonnes, at=_time(at, "at"))


@manifest_app.command("close")
def m_close(number: Annotated[str, typer.Argument(metavar="NUMBER")],
            json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Close a received manifest."""
    _step("close", number, json_out, database_url)


@manifest_app.command("cancel")
def m_cancel(number: Annotated[str, typer.Argument(metavar="NUMBER")],
             reason: Annotated[str, typer.Option(help="Why.")],
             json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Cancel a manifest before dispatch."""
    _step("cancel", number, json_out, database_url, reason=reason)


@manifest_app.command("events")
def m_events(number: Annotated[str, typer.Argument(metavar="NUMBER")],
             json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """The manifest's history: every step with who and when."""
    from ecohub.supervision.waste.manifest import manifest_events

    store = open_store(database_url)
    _run(lambda: manifest_events(store, SYSTEM, number), json_out)


@waste_app.command("manifests")
def manifests_cmd(state: Annotated[str | None, typer.Option(help="open, or created, approved, dispatched, "
                                                                   "received, closed, cancelled.")] = None,
                  json_out: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
                  database_url: DatabaseUrl = None) -> None:
    """List manifests, newest first."""
    from ecohub.supervision.waste.manifest import list_manifests

    try:
        rows = list_manifests(open_store(database_url), SYSTEM, state=state)
    except InputError as e:
        fail(str(e))
    print_rows(rows, json_out, {"number": "number", "state": "state", "code": "code", "t": "quantity_t",
                                "generator": "generator", "receiver": "receiver"})


@waste_app.command("check")
def check_cmd(now: Annotated[str | None, typer.Option(help="Judge at this time (ISO 8601; default now).")] = None,
              database_url: DatabaseUrl = None) -> None:
    """Raise the overdue-manifest and storage-time alerts (run by a scheduler, e.g. hourly)."""
    from ecohub.supervision.waste.ledger import check_storage
    from ecohub.supervision.waste.manifest import check_overdue

    store = open_store(database_url)
    when = _time(now, "now") or datetime.now(UTC)
    out = {"overdue": check_overdue(store, when), "storage": check_storage(store, when)}
    print_json(out)


def register(app: typer.Typer) -> None:
    app.add_typer(waste_app, name="waste")
