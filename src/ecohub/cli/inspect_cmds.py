"""``ecohub inspect``: random inspections (双随机一公开) — directories, the draw, its verification and publication."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, origin, print_json
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.queries import SYSTEM

inspect_app = typer.Typer(help="Random and targeted inspections (双随机一公开).", no_args_is_help=True)
objects_app = typer.Typer(help="The directory of supervised objects (检查对象名录).", no_args_is_help=True)
inspectors_app = typer.Typer(help="The directory of inspectors (执法检查人员名录).", no_args_is_help=True)
draw_app = typer.Typer(help="""Draw the objects of a period at the configured ratios per category and two inspectors per
object at random (avoidance: never an inspector linked to the enterprise; --local: inspectors of the enterprise's
city). The algorithm (ecohub-draw-v1, specified in ecohub.supervision.inspect.draw), the seed, the directories
drawn from and the hashes are recorded; 'inspect draw verify ID' re-runs it. A period is drawn once: a second
draw is refused.""")


def register(app: typer.Typer) -> None:
    inspect_app.add_typer(objects_app, name="objects")
    inspect_app.add_typer(inspectors_app, name="inspectors")
    inspect_app.add_typer(draw_app, name="draw")
    app.add_typer(inspect_app, name="inspect")


def _run(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except (InputError, NotFound, PermissionError, OSError) as e:
        fail(str(e))


def _report(rep: dict, as_json: bool) -> None:
    if as_json:
        print_json(rep)
        return
    console.print(f"imported {rep['imported']}, rejected {len(rep['rejected'])}", highlight=False)
    for r in rep["rejected"]:
        console.print(f"  line {r['line']}: {r['field']}={r['value']!r}: {r['reason']}", highlight=False)


@objects_app.command("import")
def objects_import(
    file: Annotated[Path, typer.Argument(help="CSV with columns uscc, category (key | general | special)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add or update supervised objects; bad rows are rejected with line, field and reason."""
    from ecohub.supervision.inspect import service

    _report(_run(service.import_objects, open_store(database_url), SYSTEM, origin("inspect objects import"), file),
            as_json)


@inspectors_app.command("import")
def inspectors_import(
    file: Annotated[Path, typer.Argument(help="CSV with columns code, name, region, qualifications (;), linked "
                                              "(USCCs the inspector must never inspect, ;)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add or update inspectors; bad rows are rejected with line, field and reason."""
    from ecohub.supervision.inspect import service

    _report(_run(service.import_inspectors, open_store(database_url), SYSTEM, origin("inspect inspectors import"),
                 file), as_json)


def _ratios(items: list[str]) -> dict[str, float] | None:
    if not items:
        return None
    out: dict[str, float] = {}
    for it in items:
        cat, sep, val = it.partition("=")
        if not sep:
            fail(f"--ratio {it!r}: expected CATEGORY=SHARE, e.g. key=0.25")
        try:
            out[cat.strip()] = float(val)
        except ValueError:
            fail(f"--ratio {it!r}: {val!r} is not a number")
    return out


def _print_draw(d: dict, as_json: bool) -> None:
    if as_json:
        print_json(d)
        return
    console.print(f"draw {d['id']} {d['period']} scope {d['scope_code']} seed {d['seed']!r} {d['algorithm']} "
                  f"{d['status']}  result {d['result_sha256'][:16]}…", highlight=False)
    for i in d["items"]:
        who = ", ".join(x["name"] for x in i.get("inspectors", []))
        console.print(f"  {i['category']:<8} {i['enterprise_uscc']} {i['enterprise_name']}  {who}", highlight=False)


@draw_app.callback(invoke_without_command=True)
def draw_cmd(
    ctx: typer.Context,
    period: Annotated[str | None, typer.Option(help="the month drawn (YYYY-MM)")] = None,
    seed: Annotated[str | None, typer.Option(help="the seed (recorded and published; e.g. a public lottery number "
                                                  "announced after the directories were frozen)")] = None,
    scope: Annotated[str, typer.Option(help="region code the draw covers (000000: everything)")] = "000000",
    ratio: Annotated[list[str] | None, typer.Option(help="CATEGORY=SHARE per period, repeatable (default key=0.25, "
                                                         "general=0.05, special=0.5)")] = None,
    local: Annotated[bool, typer.Option("--local/--any-city", help="inspectors only of the enterprise's city")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the draw as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Draw a period (see the group's help); subcommands verify, publish, close, show, list."""
    if ctx.invoked_subcommand is not None:
        return
    if not period or not seed:
        fail("--period and --seed are required to draw (or use a subcommand: verify, publish, close, show, list)")
    from ecohub.supervision.inspect import service

    d = _run(service.perform, open_store(database_url), SYSTEM, origin("inspect draw"), period=period, seed=seed,
             scope_code=scope, ratios=_ratios(ratio or []), rules={"local": local})
    _print_draw(d, as_json)


@draw_app.command("verify")
def draw_verify(
    draw_id: Annotated[int, typer.Argument(help="the draw's id")],
    as_json: Annotated[bool, typer.Option("--json", help="print the verification as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Re-run a recorded draw from its recorded inputs and seed; exit 1 when the result differs."""
    from ecohub.supervision.inspect import service

    v = _run(service.verify, open_store(database_url), draw_id)
    if as_json:
        print_json(v)
    else:
        console.print(("SAME" if v["same"] else "DIFFERENT") + f": draw {draw_id} result {v.get('result_sha256')} "
                      f"(recorded {v.get('recorded_sha256')})"
                      + ("; the directories changed since the draw" if v.get("directories_changed_since") else ""),
                      highlight=False)
    if not v["same"]:
        raise typer.Exit(1)


@draw_app.command("publish")
def draw_publish(draw_id: Annotated[int, typer.Argument(help="the draw's id")],
                 database_url: DatabaseUrl = None) -> None:
    """Publish a draw (公开): its objects appear on the public page."""
    from ecohub.supervision.inspect import service

    _print_draw(_run(service.publish, open_store(database_url), SYSTEM, origin("inspect draw publish"), draw_id),
                False)


@draw_app.command("close")
def draw_close(draw_id: Annotated[int, typer.Argument(help="the draw's id")],
               database_url: DatabaseUrl = None) -> None:
    """Close a draw's period (its inspections are done)."""
    from ecohub.supervision.inspect import service

    _print_draw(_run(service.close, open_store(database_url), SYSTEM, origin("inspect draw close"), draw_id), False)


@draw_app.command("show")
def draw_show(draw_id: Annotated[int, typer.Argument(help="the draw's id")],
              as_json: Annotated[bool, typer.Option("--json", help="print the draw as JSON")] = False,
              database_url: DatabaseUrl = None) -> None:
    """A draw with its objects and inspectors."""
    from ecohub.supervision.inspect import service

    _print_draw(_run(service.get_draw, open_store(database_url), SYSTEM, draw_id), as_json)


@draw_app.command("list")
def draw_list(
    as_json: Annotated[bool, typer.Option("--json", help="print the draws as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Every draw: id, period, scope, status, seed, result hash."""
    from ecohub.supervision.inspect import service

    rows = _run(service.list_draws, open_store(database_url), SYSTEM)
    if as_json:
        print_json(rows)
        return
    for d in rows:
        console.print(f"{d['id']:>5}  {d['period']}  {d['scope_code']}  {d['status']:<9}  seed {d['seed']!r}  "
                      f"{d['result_sha256'][:16]}…", highlight=False)


def _guess_type(path: Path) -> str:
    return {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".pdf": "application/pdf"}.get(
        path.suffix.lower(), "application/octet-stream")


@inspect_app.command("record")
def inspect_record(
    enterprise: Annotated[str, typer.Option(help="the enterprise's USCC")],
    at: Annotated[str, typer.Option(help="when (ISO 8601 with a time zone, e.g. 2026-12-04T10:00+08:00)")],
    inspectors: Annotated[str, typer.Option(help="at least two inspectors, comma-separated")],
    trigger: Annotated[str | None, typer.Option(help="targeted: alert | complaint")] = None,
    ref: Annotated[str | None, typer.Option(help="the alert id or the complaint's tracking code")] = None,
    draw_item: Annotated[int | None, typer.Option(help="random: the draw item id")] = None,
    industry: Annotated[str | None, typer.Option(help="the checklist's industry (default: default)")] = None,
    checklist: Annotated[str | None, typer.Option(help='answers as JSON, e.g. \'{"permit_posted": "ok"}\'')] = None,
    findings: Annotated[str | None, typer.Option(help="what was found")] = None,
    attach: Annotated[list[Path] | None, typer.Option(help="a photo (JPEG/PNG) or PDF; repeatable; type checked "
                                                          "by content, size limited")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the record as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Record an inspection (targeted: name the trigger; random: the draw item). Nothing is saved when any part
    is bad (an attachment too large or of a disguised type, an unknown checklist item, a time in the future)."""
    import json
    from datetime import datetime

    from ecohub.supervision.inspect import records

    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        fail(f"--at {at!r}: not an ISO 8601 time")
    try:
        answers = json.loads(checklist) if checklist else None
    except json.JSONDecodeError:
        fail(f"--checklist: not JSON: {checklist!r}")
    files = [records.Attachment(p.name, _guess_type(p), _run(p.read_bytes)) for p in attach or []]
    out = _run(records.record, open_store(database_url), SYSTEM, origin("inspect record"), uscc=enterprise,
               inspected_at=when, inspectors=[x.strip() for x in inspectors.split(",")],
               kind="random" if draw_item is not None else "targeted", trigger_kind=trigger, trigger_ref=ref,
               draw_item_id=draw_item, industry=industry, checklist=answers, findings=findings, attachments=files)
    if as_json:
        print_json(out)
    else:
        console.print(f"inspection {out['id']} recorded ({out['kind']}, {len(out.get('attachments', []))} "
                      f"attachments)", highlight=False)


@inspect_app.command("show")
def inspect_show(inspection_id: Annotated[int, typer.Argument(help="the inspection's id")],
                 as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
                 database_url: DatabaseUrl = None) -> None:
    """One inspection record with its attachments (hash, size, type)."""
    from ecohub.supervision.inspect import records

    r = _run(records.get, open_store(database_url), SYSTEM, inspection_id)
    if as_json:
        print_json(r)
        return
    console.print(f"{r['id']} {r['kind']} {r['trigger_kind'] or ''} {r['trigger_ref'] or ''}  {r['uscc']} {r['name']}  "
                  f"{r['inspected_at']}  {', '.join(r['inspectors'])}", highlight=False)
    for a in r["attachments"]:
        console.print(f"  {a['filename']} {a['content_type']} {a['size']} B sha256 {a['sha256']}", highlight=False)


@inspect_app.command("list")
def inspect_list(enterprise: Annotated[str | None, typer.Option(help="one enterprise (USCC)")] = None,
                 as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
                 database_url: DatabaseUrl = None) -> None:
    """Inspection records, newest first."""
    from ecohub.supervision.inspect import records

    rows = _run(records.list_inspections, open_store(database_url), SYSTEM, uscc=enterprise)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['id']:>5}  {r['inspected_at'][:16]}  {r['kind']:<8} {r['uscc']} {r['name']}  "
                      f"{r['trigger_kind'] or ''} {r['trigger_ref'] or ''}", highlight=False)


@inspect_app.command("tasks")
def inspect_tasks(overdue: Annotated[bool, typer.Option("--overdue", help="only tasks past their due day")] = False,
                  as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
                  database_url: DatabaseUrl = None) -> None:
    """Open random-inspection tasks: the objects of open draws with no inspection filed against them yet, due on
    the last day of the draw's period (file one with `ecohub inspect record --draw-item ID`)."""
    from ecohub.supervision.inspect import tasks

    rows = _run(tasks.inspection_tasks, open_store(database_url), SYSTEM, overdue_only=overdue)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        crew = "、".join(i["name"] for i in r["inspectors"])
        console.print(f"{r['draw_item_id']:>6}  {r['due']}{' overdue' if r['overdue'] else '':<8}  "
                      f"{r['enterprise_uscc']} {r['enterprise_name']}  {r['period']}  {crew}", highlight=False)
