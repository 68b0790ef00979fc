"""Commands for identity, API keys, the catalogue, the audit log and watermarks:
``ecohub user …``, ``ecohub apikey …``, ``ecohub dataset …``, ``ecohub audit list``, ``ecohub watermark identify``.

Every change made here is recorded in the audit log with the actor ``cli:<operating-system user>``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecohub.cli.common import DatabaseUrl, audit, console, err_console, fail, open_store, print_json
from ecohub.domain.errors import InputError


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(apikey_app, name="apikey")
    app.add_typer(dataset_app, name="dataset")
    app.add_typer(audit_app, name="audit")
    app.add_typer(watermark_app, name="watermark")


def _audit(store, command: str, action: str, target: str, detail: dict) -> None:
    audit(store, command, action, target, detail)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
    else:
        pw = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if not pw:
        fail("no password given")
    return pw


# --- users ----------------------------------------------------------------------------------------------------
user_app = typer.Typer(help="Users: roles admin, analyst, officer, enterprise, partner, public.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (sign-in name).")],
    role: Annotated[str, typer.Option(help="admin, analyst, officer, enterprise, partner or public.")],
    region: Annotated[str | None, typer.Option(help="Officers: their city or county code (e.g. 130100).")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Enterprise accounts: the enterprise's USCC.")] = None,
    department: Annotated[str | None, typer.Option(help="Department (owner of datasets / partner department).")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown to people.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first "
                                                 "line of standard input (else: prompt).")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user. The password must have at least 10 characters of two kinds and not contain the name."""
    from ecohub.api.identity import create_user

    pw = _read_password(password_stdin)
    store = open_store(database_url)
    try:
        with store.engine.begin() as conn:
            uid = create_user(conn, name, pw, role, region_code=region, enterprise_uscc=enterprise,
                              department=department, display_name=display_name)
    except InputError as e:
        fail(str(e))
    _audit(store, "user add", "permission", f"user:{name}", {"change": "create", "role": role, "region": region,
                                                 "enterprise": enterprise, "department": department})
    console.print(f"user {name} ({role}) created, id {uid}")


@user_app.command("list")
def user_list(json_out: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
              database_url: DatabaseUrl = None) -> None:
    """Users with role, region, enterprise, lock and disable state."""
    from ecohub.api.identity import list_users

    store = open_store(database_url)
    with store.engine.connect() as conn:
        rows = list_users(conn)
    if json_out:
        for r in rows:
            print_json({k: v for k, v in r.items()})
        return
    t = Table("name", "role", "region", "enterprise", "department", "locked until", "disabled")
    for r in rows:
        t.add_row(r["name"], r["role"], r["region_code"] or "", r["enterprise"] or "", r["department"] or "",
                  r["locked_until"].isoformat(timespec="seconds") if r["locked_until"] else "",
                  "yes" if r["disabled_at"] else "")
    console.print(t)


@user_app.command("set")
def user_set(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str | None, typer.Option(help="New role.")] = None,
    region: Annotated[str | None, typer.Option(help="New region (officers).")] = None,
    enterprise: Annotated[str | None, typer.Option(help="New enterprise USCC (enterprise accounts).")] = None,
    department: Annotated[str | None, typer.Option(help="New department ('' clears).")] = None,
    disable: Annotated[bool, typer.Option("--disable", help="Disable the account (ends its sessions).")] = False,
    enable: Annotated[bool, typer.Option("--enable", help="Enable the account again.")] = False,
    unlock: Annotated[bool, typer.Option("--unlock", help="Lift a lock-out.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a user's role and scope, disable/enable, unlock (each change is audited)."""
    from ecohub.api.identity import update_user

    if disable and enable:
        fail("--disable and --enable together")
    store = open_store(database_url)
    try:
        with store.engine.begin() as conn:
            changes = update_user(conn, name, role=role, region_code=region, enterprise_uscc=enterprise,
                                  department=department, disabled=True if disable else (False if enable else None),
                                  unlock=unlock)
    except InputError as e:
        fail(str(e))
    _audit(store, "user set", "permission", f"user:{name}", {"change": "update", "fields": {
        k: [str(a) if a is not None else None, str(b) if b is not None else None] for k, (a, b) in changes.items()}})
    console.print(f"user {name}: " + (", ".join(f"{k} {a} → {b}" for k, (a, b) in changes.items()) or "no change"))


@user_app.command("password")
def user_password(name: Annotated[str, typer.Argument()],
                  password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
                  database_url: DatabaseUrl = None) -> None:
    """Set a user's password (ends the user's sessions)."""
    from ecohub.api.identity import set_password, user_by_name

    pw = _read_password(password_stdin)
    store = open_store(database_url)
    try:
        with store.engine.begin() as conn:
            u = user_by_name(conn, name)
            if u is None:
                fail(f"no user {name!r}")
            set_password(conn, u["id"], name, pw)
    except InputError as e:
        fail(str(e))
    _audit(store, "user password", "password", f"user:{name}", {"change": "set by admin"})
    console.print(f"password of {name} set")


# --- API keys -------------------------------------------------------------------------------------------------
apikey_app = typer.Typer(help="API keys for machine clients (HTTP push, scripts).", no_args_is_help=True)


@apikey_app.command("create")
def apikey_create(
    user: Annotated[str | None, typer.Option(help="The user whose rights the key carries.")] = None,
    name: Annotated[str | None, typer.Option(help="What the key is for (default: 'key of USER').")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="Scope (repeatable): read, ingest, admin. Default: "
                                                    "read with --user, ingest without.")] = None,
    days: Annotated[int | None, typer.Option(help="Expire after this many days (default: never).", min=1)] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    from ecohub.api.identity import user_by_name
    from ecohub.store.apikeys import create_key

    if not user and not name:
        fail("give --user NAME (a key with that user's rights) or --name for a bare machine key")
    store = open_store(database_url)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    scopes = scope or (["read"] if user else ["ingest"])
    try:
        with store.engine.begin() as conn:
            uid = None
            if user:
                u = user_by_name(conn, user)
                if u is None:
                    fail(f"no user {user!r} (ecohub user add)")
                uid = u["id"]
            key = create_key(conn, name or f"key of {user}", scopes, owner=user, expires_at=expires, user_id=uid)
    except InputError as e:
        fail(str(e))
    _audit(store, "apikey create", "permission", f"apikey:{key.split('_')[1]}", {"change": "create", "user": user, "scopes": scopes,
                                                                "expires_at": expires.isoformat() if expires else None})
    err_console.print("store this key now; it cannot be shown again:")
    print(key)


@apikey_app.command("list")
def apikey_list(user: Annotated[str | None, typer.Option(help="Only this user's keys.")] = None,
                json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Keys (prefix, name, user, scopes, expiry, revocation, last use) — never the keys themselves."""
    from ecohub.api.identity import user_by_name
    from ecohub.store.apikeys import list_keys

    store = open_store(database_url)
    with store.engine.connect() as conn:
        uid = None
        if user:
            u = user_by_name(conn, user)
            if u is None:
                fail(f"no user {user!r}")
            uid = u["id"]
        rows = list_keys(conn, uid)
    if json_out:
        for r in rows:
            print_json(r)
        return
    t = Table("prefix", "name", "owner", "scopes", "expires", "revoked", "last used")
    for r in rows:
        t.add_row(r["prefix"], r["name"], r["owner"] or "", ",".join(r["scopes"]),
                  r["expires_at"].isoformat(timespec="seconds") if r["expires_at"] else "",
                  r["revoked_at"].isoformat(timespec="seconds") if r["revoked_at"] else "",
                  r["last_used_at"].isoformat(timespec="seconds") if r["last_used_at"] else "")
    console.print(t)


@apikey_app.command("revoke")
def apikey_revoke(prefix: Annotated[str, typer.Argument(help="The key's prefix (the part after 'ek_').")],
                  database_url: DatabaseUrl = None) -> None:
    """Revoke an API key at once."""
    from ecohub.store.apikeys import revoke_key

    store = open_store(database_url)
    with store.engine.begin() as conn:
        if not revoke_key(conn, prefix):
            fail(f"no active key with prefix {prefix!r}")
    _audit(store, "apikey revoke", "permission", f"apikey:{prefix}", {"change": "revoke"})
    console.print(f"key {prefix} revoked")


# --- catalogue ------------------------------------------------------------------------------------------------
dataset_app = typer.Typer(help="The data resource catalogue (数据资源目录).", no_args_is_help=True)


@dataset_app.command("add")
def dataset_add(file: Annotated[Path, typer.Argument(help="JSON: code, title, description, owner_department, "
                                                     "fields, update_frequency, sharing_level, open_level, source.")],
                database_url: DatabaseUrl = None) -> None:
    """Register a dataset from a JSON description (see docs/api.md)."""
    from ecohub.catalog.service import create_dataset

    try:
        spec = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{file}: {e}")
    if not isinstance(spec, dict):
        fail(f"{file}: a JSON object is expected")
    store = open_store(database_url)
    try:
        with store.engine.begin() as conn:
            did = create_dataset(conn, code=spec.get("code"), title=spec.get("title"),
                                 description=spec.get("description"), owner_department=spec.get("owner_department"),
                                 fields=spec.get("fields"), update_frequency=spec.get("update_frequency"),
                                 sharing_level=spec.get("sharing_level"), open_level=spec.get("open_level"),
                                 source=spec.get("source"))
    except InputError as e:
        fail(str(e))
    _audit(store, "dataset add", "write", f"dataset:{spec.get('code')}", {"change": "create"})
    console.print(f"dataset {spec.get('code')} registered, id {did}")


@dataset_app.command("list")
def dataset_list(json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Every dataset with its sharing and open levels."""
    from ecohub.catalog.service import Requester, list_datasets

    store = open_store(database_url)
    with store.engine.connect() as conn:
        rows = list_datasets(conn, Requester("admin"))
    if json_out:
        for r in rows:
            print_json(r)
        return
    t = Table("id", "code", "title", "owner", "sharing", "open", "frequency")
    for r in rows:
        t.add_row(str(r["id"]), r["code"], r["title"], r["owner_department"], r["sharing_level"], r["open_level"],
                  r["update_frequency"])
    console.print(t)


# --- audit ----------------------------------------------------------------------------------------------------
audit_app = typer.Typer(help="The audit log (append-only, an SM3 hash chain).", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Walk the SM3 hash chain of the audit log; name the first broken row (exit code 1 when broken)."""
    from ecohub.store.audit_chain import verify_store

    store = open_store(database_url)
    rep = verify_store(store)
    if json_out:
        print_json(rep.as_dict())
    elif rep.ok:
        console.print(f"audit chain intact: {rep.rows} chained rows ({rep.anchors} anchors, {rep.signed_anchors} "
                      f"SM2-signed), {rep.legacy_rows} rows "
                      f"before the chain covered by the genesis anchor; head seq {rep.head_seq} "
                      f"SM3 {rep.head_hash}", highlight=False)
    else:
        err_console.print(f"[bold red]audit chain broken[/] at row id {rep.broken_id} (seq {rep.broken_seq}): "
                          f"{rep.reason}", highlight=False)
        for p in rep.problems[1:]:
            err_console.print(f"  also row id {p['id']} (seq {p['seq']}): {p['reason']}", highlight=False)
    if not rep.ok:
        raise typer.Exit(1)


@audit_app.command("list")
def audit_list(actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
               action: Annotated[list[str] | None, typer.Option(help="Only these actions (repeatable).")] = None,
               limit: Annotated[int, typer.Option(help="Newest N records.")] = 50,
               json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Who did what, when, from where — newest first."""
    from ecohub.store.audit import query

    store = open_store(database_url)
    rows = query(store, actor=actor, action=action or (), limit=limit)
    if json_out:
        for r in rows:
            print_json(r)
        return
    t = Table("id", "when (UTC)", "actor", "action", "target", "request", "status", "from")
    for r in rows:
        t.add_row(str(r["id"]), r["at"].isoformat(timespec="seconds"), r["actor"] or "-", r["action"],
                  r["target"] or "", f"{r['method'] or ''} {r['path'] or ''}".strip(), str(r["status"] or ""),
                  r["ip"] or "")
    console.print(t)


# --- watermark ------------------------------------------------------------------------------------------------
watermark_app = typer.Typer(help="Watermarks of exported files.", no_args_is_help=True)


@watermark_app.command("identify")
def watermark_identify(file: Annotated[Path, typer.Argument(help="An exported file (CSV, JSON, Parquet, .xlsx), "
                                                            "possibly re-ordered or re-saved.")],
                       json_out: Annotated[bool, typer.Option("--json")] = False,
                       database_url: DatabaseUrl = None) -> None:
    """Name the recipient of an exported file from the watermark in its values. Exit status 0 when identified,
    1 when no export matches convincingly, 2 when the file cannot be read."""
    from ecohub.catalog.service import identify
    from ecohub.catalog.watermark import read_table

    try:
        rows = read_table(file)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same answer for the user
        fail(f"{file}: cannot read it as CSV, JSON, Parquet or Excel ({type(e).__name__}: {e})")
    store = open_store(database_url)
    v = identify(store, rows)
    if json_out:
        print_json(v)
    elif v["identified"]:
        console.print(f"[bold]recipient: {v['recipient']}[/] — export {v['export_id']} of dataset {v['dataset']} "
                      f"on {v['created_at']} ({v['matched']}/{v['values']} marked values match; the next best "
                      f"export matches {v['runner_up']:.0%})", highlight=False)
    else:
        console.print(f"no export matches convincingly (best {v['score']:.0%} of {v['values']} values; "
                      "the file may be unmarked, rounded or recomputed)", highlight=False)
    if not v["identified"]:
        raise typer.Exit(1)
