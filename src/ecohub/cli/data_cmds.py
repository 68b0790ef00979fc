"""Commands for the database, the registers (regions, sites, enterprises, devices), import, export, quarantine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from sqlalchemy import select

from ecohub.catalog.export import FORMATS, export_rows
from ecohub.cli.common import (
    DatabaseUrl,
    audit,
    console,
    err_console,
    fail,
    open_store,
    origin,
    print_json,
    print_rows,
)
from ecohub.config import Settings
from ecohub.domain.errors import InputError
from ecohub.domain.kinds import Interval, SiteKind
from ecohub.domain.parameters import PARAMETERS
from ecohub.domain.timeutil import parse_time
from ecohub.ingest.files import import_file
from ecohub.ingest.readers import FileUnreadable
from ecohub.ingest.sites import import_sites
from ecohub.store import registry
from ecohub.store.db import Store
from ecohub.store.quarantine import list_quarantine
from ecohub.store.queries import SeriesFilter, observations
from ecohub.store.schema import device, enterprise, region, site


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(region_app, name="region")
    app.add_typer(site_app, name="site")
    app.add_typer(enterprise_app, name="enterprise")
    app.add_typer(device_app, name="device")
    app.command("import")(import_cmd)
    app.command("export")(export_cmd)
    app.add_typer(quarantine_app, name="quarantine")
    app.command("parameters")(parameters_cmd)
    app.command("correct")(correct_cmd)


# --- db --------------------------------------------------------------------------------------------------
db_app = typer.Typer(help="Create or upgrade the database schema (Alembic migrations).", no_args_is_help=True)


AppRole = Annotated[str | None, typer.Option(
    "--app-role", help="PostgreSQL: also create (or update) this role for the application — it owns nothing, "
    "may only SELECT/INSERT on the append-only tables (observation, audit_log) and cannot disable triggers. "
    "Run as the schema owner; then point ECOHUB_DATABASE_URL of serve/gateway/worker at the new role.")]
PasswordEnv = Annotated[str, typer.Option(
    "--password-env", help="Name of the environment variable holding the role's password (never on the command "
    "line). Unset: the role gets no password (peer/trust or certificate authentication).")]


def _app_role(store: Store, name: str, password_env: str, json_out: bool) -> None:
    import os

    from ecohub.store.roles import create_app_role

    try:
        out = create_app_role(store, name, password=os.environ.get(password_env) or None)
    except InputError as e:
        fail(str(e))
    audit(store, "db app-role", "permission", f"db-role:{name}",
          {"change": "app-role", "created": out["created"], "owned": out["owned"]})
    if json_out:
        print_json(out)
        return
    console.print(f"application role {out['role']} {'created' if out['created'] else 'updated'}: "
                  f"{out['tables']} tables writable, append-only {', '.join(out['append_only'])} "
                  f"(+{out['partitions']} partitions), owns {out['owned']} objects (schema owner: {out['owner']})")


@db_app.command("init")
def db_init(database_url: DatabaseUrl = None, app_role: AppRole = None,
            password_env: PasswordEnv = "ECOHUB_APP_ROLE_PASSWORD",
            json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
    """Create the schema (or bring it up to date) and load the reference data: administrative regions
    (province, city, county) and the parameter catalogue. Safe to run again. With --app-role (PostgreSQL), also
    create the application's own role (see docs/security.md)."""
    settings = Settings.from_env(database_url=database_url)
    store = Store.open(settings.database_url)
    counts = store.init()
    audit(store, "db init", "write", "database", {"change": "init", **counts})
    if not json_out:
        console.print(f"database ready: {store.engine.url.render_as_string(hide_password=True)} — "
                      f"{counts['regions']} regions, {counts['parameters']} parameters")
    if app_role:
        _app_role(store, app_role, password_env, json_out)
    elif json_out:
        print_json(counts)


@db_app.command("app-role")
def db_app_role(name: Annotated[str, typer.Argument(help="Role name (lower-case letters, digits, _).")],
                password_env: PasswordEnv = "ECOHUB_APP_ROLE_PASSWORD", database_url: DatabaseUrl = None,
                json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
    """PostgreSQL: create or update the application role NAME, which owns nothing: read/write on the working
    tables, only SELECT/INSERT on observation and audit_log, no DDL except adding monthly partitions through
    an owner-defined function. Run as the schema owner, after 'ecohub db init'; idempotent (run it again after
    'ecohub db upgrade' — later tables are granted by default privileges anyway)."""
    store = open_store(database_url, init_if_empty=False)
    _app_role(store, name, password_env, json_out)


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Apply the migrations the database does not have yet."""
    settings = Settings.from_env(database_url=database_url)
    store = Store.open(settings.database_url)
    store.upgrade()
    audit(store, "db upgrade", "write", "database", {"change": "upgrade"})
    console.print("schema at the newest revision")


# --- regions ---------------------------------------------------------------------------------------------
region_app = typer.Typer(help="Administrative divisions (行政区划), 6-digit codes.", no_args_is_help=True)


@region_app.command("list")
def region_list(
    parent: Annotated[str | None, typer.Option(help="Only the children of this code (e.g. 130000).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List regions: the provinces, or the children of --parent."""
    store = open_store(database_url)
    q = select(region).order_by(region.c.code)
    q = q.where(region.c.parent == parent) if parent else q.where(region.c.level == 1)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    print_rows(rows, json_out, {"code": "code", "name": "name", "level": "level", "parent": "parent"})


# --- sites -----------------------------------------------------------------------------------------------
site_app = typer.Typer(help="Monitoring sites: stations, sections, points, outlets.", no_args_is_help=True)
_KINDS = ", ".join(k.value for k in SiteKind)


@site_app.command("add")
def site_add(
    code: Annotated[str, typer.Argument(help="Site code, unique (e.g. the CNEMC station code 1029A).")],
    kind: Annotated[str, typer.Option(help=f"One of: {_KINDS}.")],
    name: Annotated[str, typer.Option(help="Display name (Chinese is fine).")],
    lon: Annotated[float, typer.Option(help="Longitude, WGS-84 degrees.")],
    lat: Annotated[float, typer.Option(help="Latitude, WGS-84 degrees.")],
    region_code: Annotated[str, typer.Option("--region", help="6-digit administrative division code.")],
    enterprise_code: Annotated[str | None, typer.Option("--enterprise", help="USCC of the owner (outlets).")] = None,
    water_body: Annotated[str | None, typer.Option(
        "--water-body", help="Water sections: river | lake | reservoir (河流/湖泊/水库). Lakes and reservoirs are "
                             "classed with the GB 3838 lake/reservoir TP limits.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a site, or update it if the code exists."""
    store = open_store(database_url)
    try:
        with store.engine.begin() as conn:
            result = registry.upsert_site(conn, registry.SiteInput(code, kind, name, lon, lat, region_code,
                                                                   enterprise_code, water_body=water_body))
            origin("site add").record(conn, "write", f"site:{code}", {
                "change": str(result), "kind": kind, "name": name, "lon": lon, "lat": lat, "region": region_code,
                "enterprise": enterprise_code, "water_body": water_body})
    except InputError as e:
        fail(str(e))
    console.print(f"site {code}: {result}")


@site_app.command("import")
def site_import(
    file: Annotated[Path, typer.Argument(help="CSV or .xlsx with columns code,kind,name,lon,lat,region[,enterprise]"
                                              "[,water_body] (water_body: river | lake | reservoir).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the counts as one JSON object.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Import a site register. Existing codes are updated; bad rows are reported and quarantined."""
    store = open_store(database_url)
    try:
        s = import_sites(store, file)
    except FileUnreadable as e:
        fail(str(e))
    audit(store, "site import", "write", f"file:{file.name}", {"change": "site import", **s.counts()})
    for msg in s.errors[:20]:
        err_console.print(f"[yellow]rejected[/] {msg}", highlight=False)
    if len(s.errors) > 20:
        err_console.print(f"… and {len(s.errors) - 20} more (ecohub quarantine list)")
    if json_out:
        print_json(s.counts())
    else:
        console.print(", ".join(f"{k} {v}" for k, v in s.counts().items()))


@site_app.command("list")
def site_list(
    kind: Annotated[str | None, typer.Option(help=f"Only this kind ({_KINDS}).")] = None,
    region_code: Annotated[str | None, typer.Option("--region", help="Only this region and below.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List sites."""
    store = open_store(database_url)
    q = select(site.c.code, site.c.kind, site.c.name, site.c.lon, site.c.lat, site.c.region_code).order_by(site.c.code)
    if kind:
        q = q.where(site.c.kind == kind)
    if region_code:
        q = q.where(site.c.region_code.startswith(region_code.rstrip("0") or region_code, autoescape=True))
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    print_rows(rows, json_out, {"code": "code", "kind": "kind", "name": "name", "lon": lambda r: f"{r['lon']:.5f}",
                                "lat": lambda r: f"{r['lat']:.5f}", "region": "region_code"})


# --- enterprises -----------------------------------------------------------------------------------------
enterprise_app = typer.Typer(help="Regulated enterprises (排污单位), by unified social credit code.", no_args_is_help=True)


@enterprise_app.command("add")
def enterprise_add(
    uscc: Annotated[str, typer.Argument(help="Unified social credit code (18 characters, GB 32100-2015).")],
    name: Annotated[str, typer.Option(help="Registered name.")],
    region_code: Annotated[str, typer.Option("--region", help="6-digit administrative division code.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Add an enterprise (or update its name and region). The USCC check character is verified."""
    store = open_store(database_url)
    try:
        with store.engine.begin() as conn:
            registry.add_enterprise(conn, uscc, name, region_code)
            origin("enterprise add").record(conn, "write", f"enterprise:{uscc.strip().upper()}",
                                            {"name": name, "region": region_code})
    except InputError as e:
        fail(str(e))
    console.print(f"enterprise {uscc.strip().upper()}: saved")


@enterprise_app.command("list")
def enterprise_list(json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """List enterprises."""
    store = open_store(database_url)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(enterprise.c.uscc, enterprise.c.name, enterprise.c.region_code)
                                              .order_by(enterprise.c.uscc)).mappings()]
    print_rows(rows, json_out, {"uscc": "uscc", "name": "name", "region": "region_code"})


# --- devices ---------------------------------------------------------------------------------------------
device_app = typer.Typer(help="HJ 212 data loggers (数采仪) by MN.", no_args_is_help=True)


@device_app.command("add")
def device_add(
    mn: Annotated[str, typer.Argument(help="The device's MN (HJ 212-2017: 24 hex characters).")],
    password: Annotated[str, typer.Option(help="Access password PW the device sends (stored hashed, argon2).")],
    site_code: Annotated[str, typer.Option("--site", help="Code of the site the device reports for.")],
    protocol: Annotated[str, typer.Option(help="2025, 2017 or 2005.")] = "2017",
    sm4_key: Annotated[str | None, typer.Option(help="HJ 212-2025 SM4 key, 32 hex digits.")] = None,
    dialect: Annotated[str, typer.Option(help="Decoding profile: lenient (deviations from the standard accepted, "
                                              "answered and recorded per device) or strict (refused).")] = "lenient",
    sm4_variant: Annotated[str | None, typer.Option(help="HJ 212-2025 SM4 variant of the device: standard, "
                                                         "standard-plain-length, clist-cipher-crc, hex-pkcs7, "
                                                         "hex-pkcs7-plain-crc, hex-zero, base64-pkcs7, "
                                                         "base64-zero, or form/padding/crc/length (default: "
                                                         "the standard's text, others detected).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Register a device (or replace its password, site, protocol, profile and SM4 variant)."""
    if sm4_variant is not None:
        from ecohub.protocols.hj212 import Sm4Variant

        try:
            Sm4Variant.parse(sm4_variant)
        except ValueError as e:
            fail(f"--sm4-variant {sm4_variant!r}: {e}")
    store = open_store(database_url)
    try:
        with store.engine.begin() as conn:
            registry.add_device(conn, mn, password, site_code, protocol, sm4_key, dialect=dialect,
                                sm4_variant=sm4_variant)
            detail: dict[str, object] = {"site": site_code, "protocol": protocol, "sm4": sm4_key is not None}
            if dialect != "lenient":
                detail["dialect"] = dialect
            if sm4_variant is not None:
                detail["sm4_variant"] = sm4_variant
            origin("device add").record(conn, "write", f"device:{mn}", detail)  # never the password or the key
    except InputError as e:
        fail(str(e))
    console.print(f"device {mn}: saved")


@device_app.command("list")
def device_list(json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """List devices (passwords are never shown)."""
    store = open_store(database_url)
    q = (select(device.c.mn, device.c.protocol, site.c.code.label("site"), device.c.dialect, device.c.sm4_variant,
                device.c.created_at)
         .select_from(device.join(site, site.c.id == device.c.site_id)).order_by(device.c.mn))
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    print_rows(rows, json_out, {"mn": "mn", "protocol": "protocol", "site": "site",
                                "profile": lambda r: r["dialect"] or "lenient",
                                "sm4 variant": lambda r: r["sm4_variant"] or "",
                                "registered": lambda r: r["created_at"].isoformat(timespec="seconds")})


# --- import / export -------------------------------------------------------------------------------------
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (.csv, .csv.gz; UTF-8 or GB18030) or Excel (.xlsx).")],
    fmt: Annotated[str | None, typer.Option("--format", help="long (site,parameter,time,value[,flag]) or wide "
                                            "(site,time,<parameter>...). Default: from the header.")] = None,
    interval: Annotated[str, typer.Option(help="Interval of the data: rt, minute, hour, day.")] = "hour",
    create_sites: Annotated[bool, typer.Option("--create-sites", help="Create unknown sites (needs --region).")] = False,
    region_code: Annotated[str | None, typer.Option("--region", help="Region of sites created by --create-sites.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet name (default: the first).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="End with one JSON object: imported, duplicates, "
                                           "conflicts, rejected.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Import observations. Times are ISO-8601; without an offset they are Beijing time (UTC+8).

    Parameters by canonical name (pm25, pm10, so2, no2, co, o3, o3_8h, ph, do, codmn, cod, nh3n, tp, tn …;
    see 'ecohub parameters') or HJ 212 code. Importing a file again stores nothing new: every row counts as a
    duplicate; a row whose value differs from the stored one is kept as a conflict, never overwritten.
    Bad rows are quarantined with line and reason ('ecohub quarantine list') and do not stop the others.
    """
    if fmt not in (None, "long", "wide"):
        fail(f"--format {fmt!r}: use long or wide")
    try:
        Interval.parse(interval)
    except ValueError as e:
        fail(str(e))
    store = open_store(database_url)
    t0 = time.perf_counter()
    columns = [TextColumn("[bold]importing[/] {task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task(file.name, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            s = import_file(store, file, fmt=fmt, interval=interval, create_sites=create_sites,
                            region_code=region_code, progress=progress, sheet=sheet)
        except FileUnreadable as e:
            fail(str(e))
    dt = time.perf_counter() - t0
    audit(store, "import", "write", f"file:{file.name}", {"change": "import", "format": s.format, **s.counts()})
    for reason, n in sorted(s.reasons.items(), key=lambda kv: -kv[1])[:10]:
        err_console.print(f"[yellow]rejected[/] {n} × {reason}", highlight=False)
    err_console.print(
        f"{s.file}: {s.format} format, {s.rows} rows in {dt:.1f} s — imported {s.imported}, duplicates "
        f"{s.duplicates}, conflicts {s.conflicts}, rejected {s.rejected}"
        + (f", sites created {s.created_sites}" if s.created_sites else ""), highlight=False)
    if json_out:
        print_json(s.counts())


def export_cmd(
    site_codes: Annotated[list[str] | None, typer.Option("--site", help="Site code (repeatable).")] = None,
    parameters: Annotated[list[str] | None, typer.Option("--parameter", help="Parameter name (repeatable).")] = None,
    interval: Annotated[str | None, typer.Option(help="rt, minute, hour or day (default: all).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Start time, inclusive (ISO-8601; Beijing if no offset).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="End time, exclusive.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, json (JSON lines) or parquet.")] = "csv",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output file (default, or '-': standard "
                                                                     "output).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export observations in long format: site, parameter, interval, time (Beijing), value, flag, source.

    Text cells that a spreadsheet would run as a formula (starting with = + - @) are written with a leading '."""
    if output is not None and str(output) == "-":
        output = None  # -o - : standard output
    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    try:
        iv = Interval.parse(interval).value if interval else None
        t_from = parse_time(start, "--from") if start else None
        t_to = parse_time(end, "--to") if end else None
    except (InputError, ValueError) as e:
        fail(str(e))
    store = open_store(database_url)
    flt = SeriesFilter(sites=site_codes or (), parameters=parameters or (), interval=iv)
    try:
        n = export_rows(observations(store, flt, t_from, t_to), fmt, output)
    except ValueError as e:
        fail(str(e))
    audit(store, "export", "export", "observations", {
        "format": fmt, "rows": n, "sites": list(site_codes or ()), "parameters": list(parameters or ()),
        "from": start, "to": end, "output": str(output) if output else None})
    if output is not None:
        err_console.print(f"{n} observations written to {output}")
        from ecohub.cli.crypto_cmds import sign_beside

        sig = sign_beside(output)
        if sig is not None:
            err_console.print(f"signed: {sig} (ecohub verify-signature {output} {sig})")


# --- quarantine ------------------------------------------------------------------------------------------
quarantine_app = typer.Typer(help="Rejected input, kept with its reason.", no_args_is_help=True)


@quarantine_app.command("list")
def quarantine_list(
    channel: Annotated[str | None, typer.Option(help="file, hj212, mqtt or http.")] = None,
    limit: Annotated[int, typer.Option(help="Newest N records.")] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Show what was rejected, newest first: channel, origin (file / peer), line, field, reason."""
    store = open_store(database_url)
    rows = list_quarantine(store, channel=channel, limit=limit)
    if json_out:
        for r in rows:
            print_json(r)
        return
    t = Table("id", "when (UTC)", "channel", "origin", "line", "field", "reason")
    for r in rows:
        t.add_row(str(r["id"]), r["received_at"].isoformat(timespec="seconds"), r["channel"], Path(r["origin"]).name,
                  str(r["line"] or ""), r["field"] or "", r["reason"])
    console.print(t)


def parameters_cmd() -> None:
    """The parameter catalogue: canonical names, units, HJ 212-2017 and 2005 codes."""
    t = Table("name", "名称", "unit", "HJ 212-2017", "HJ/T 212-2005", "domain")
    for p in PARAMETERS:
        t.add_row(p.name, p.name_zh, p.unit, p.hj212_2017 or "", p.hj212_2005 or "", p.domain)
    console.print(t)


def correct_cmd(
    site_code: Annotated[str, typer.Option("--site", help="Site code.")],
    parameter_name: Annotated[str, typer.Option("--parameter", help="Parameter name.")],
    at: Annotated[str, typer.Option("--time", help="Time of the observation (ISO-8601; Beijing if no offset).")],
    reason: Annotated[str, typer.Option(help="Why (kept with the correction).")],
    author: Annotated[str, typer.Option(help="Who corrects.")],
    value: Annotated[float | None, typer.Option(help="Corrected value (omit to mark the value invalid).")] = None,
    flag: Annotated[str | None, typer.Option(help="Corrected data flag.")] = None,
    interval: Annotated[str, typer.Option(help="rt, minute, hour or day.")] = "hour",
    source_name: Annotated[str | None, typer.Option("--source", help="Source, when several hold it.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Correct a stored observation. The raw value is never changed: the correction is a new row with who,
    when and why, and exports/queries can show either (``export`` shows raw values)."""
    from ecohub.store.corrections import add_correction

    try:
        t = parse_time(at, "--time")
        iv = Interval.parse(interval).value
    except (InputError, ValueError) as e:
        fail(str(e))
    store = open_store(database_url)
    try:
        with store.engine.begin() as conn:
            cid = add_correction(conn, site_code=site_code, parameter_name=parameter_name, interval=iv, time=t,
                                 value=value, flag=flag, reason=reason, author=author, source_name=source_name)
            origin("correct").record(conn, "write", f"correction:{cid}", {
                "site": site_code, "parameter": parameter_name, "interval": iv, "time": t.isoformat(),
                "value": value, "flag": flag, "reason": reason, "author": author})
    except InputError as e:
        fail(str(e))
    console.print(f"correction {cid} recorded")
