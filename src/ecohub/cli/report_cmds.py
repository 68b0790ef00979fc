"""``ecohub report``: a monthly or annual environmental quality report as DOCX or PDF, with its JSON sidecar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, err_console, fail, open_store

REPORT_HELP = """Generate an environmental quality report (环境质量月报/年报) from the stored data.

--kind monthly --period 2026-11, or --kind annual --period 2026; --region: a division code (province 130000 or a
city); --format docx (editable) or pdf (Noto CJK embedded). Writes FILE and FILE.json, the sidecar with every
number of the report and the query behind it. The issue is also kept in the database (listed on the reports
page and by GET /api/v1/reports) unless --no-keep. --template: your own copy of the Jinja2 template
(ecohub/reports/templates/default.zh.j2 shows the placeholders). Sections without data say 无数据 (no data);
a period without any data is reported as such on stderr."""


def report_cmd(kind: Annotated[str, typer.Option(help="monthly or annual")],
               period: Annotated[str, typer.Option(help="YYYY-MM (monthly) or YYYY (annual)")],
               output: Annotated[Path, typer.Option("-o", "--output", help="output file (.docx or .pdf)")],
               region: Annotated[str, typer.Option(help="division code")] = "130000",
               format_: Annotated[str | None, typer.Option("--format", help="docx or pdf (default: from -o)")] = None,
               template: Annotated[Path | None, typer.Option(help="Jinja2 template file")] = None,
               keep: Annotated[bool, typer.Option(help="keep the issue in the database")] = True,
               as_: Annotated[str | None, typer.Option("--as", help="who generates it (audit)")] = None,
               database_url: DatabaseUrl = None):
    from ecohub.reports import service
    from ecohub.store.audit import cli_actor

    fmt = format_ or output.suffix.lstrip(".").lower()
    if fmt not in service.FORMATS:
        fail(f"--format: {fmt!r} is not docx or pdf (give --format or an output ending in .docx / .pdf)")
    store = open_store(database_url)
    try:
        if keep:
            row = service.generate(store, kind, region, period, fmt, template=template, actor=cli_actor(as_))
            issue = service.get_report(store, row["id"])
            content, figures = issue["content"], issue["figures"]
        else:
            r = service.render_report(store, kind, region, period, fmt, template=template)
            content, figures = r.content, r.figures
    except ValueError as e:
        fail(str(e))
    except RuntimeError as e:  # missing font
        fail(str(e))
    output.write_bytes(content)
    sidecar = output.with_name(output.name + ".json")
    sidecar.write_text(json.dumps(figures, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    empty = [k for k in ("air", "water", "noise", "soil", "radiation") if not figures[k].get("has_data")]
    if len(empty) == 5:
        err_console.print(f"warning: no data at all for {region} in {figures['meta']['period']}: the report says "
                          "无数据 in every section", highlight=False)
    elif empty:
        err_console.print(f"note: no data for {', '.join(empty)} — those sections say 无数据", highlight=False)
    err_console.print(f"wrote {output} ({len(content)} bytes) and {sidecar}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("report", help=REPORT_HELP)(report_cmd)
