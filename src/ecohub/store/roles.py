"""PostgreSQL: the application's own role, which owns nothing.

The schema owner (the role that runs ``ecohub db init`` / ``upgrade``) owns every table, trigger and function. The
API, the gateway and the worker connect as a separate *application role* created by :func:`create_app_role`:

* it may read and write the tables it has to (``SELECT, INSERT, UPDATE, DELETE``), but on the append-only tables
  (``observation`` with its partitions, ``audit_log``) only ``SELECT, INSERT`` — no ``UPDATE``, ``DELETE`` or
  ``TRUNCATE`` privilege at all, and the triggers of migrations 0002/0004/0008 refuse them even to the owner;
* it owns nothing, so it cannot ``ALTER TABLE … DISABLE TRIGGER``, drop a trigger or a partition; it is not a
  superuser and has no ``SET`` privilege on ``session_replication_role`` (which would skip triggers);
* new monthly partitions are created through ``ecohub_observation_partition(y, m)`` (``SECURITY DEFINER``, owned by
  the schema owner), the only DDL it may cause;
* tables added by later migrations are granted to it by ``ALTER DEFAULT PRIVILEGES`` of the owner.

Retention (dropping old months) is therefore an owner-only operation — see ``docs/security.md``.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

from ecohub.domain.errors import InputError
from ecohub.store.db import Store

ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: tables the application may only read and append to
APPEND_ONLY = ("observation", "audit_log")
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def _ddl(conn: Connection, template: str, *args: str) -> None:
    """Run DDL built by the server's own ``format()`` (``%I`` identifiers, ``%L`` literals): nothing is quoted
    by hand."""
    placeholders = ", ".join(f"CAST(:a{i} AS text)" for i in range(len(args)))
    sql = conn.scalar(text(f"SELECT format(CAST(:t AS text), {placeholders})"), {"t": template, **{f"a{i}": a for i, a in
                                                                                       enumerate(args)}})
    conn.exec_driver_sql(sql.replace("%", "%%"))


def _partitions(conn: Connection) -> list[str]:
    return list(conn.scalars(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'observation' ORDER BY 1")))


def owned_objects(conn: Connection, name: str) -> int:
    """How many relations, functions, schemas, types and databases the role owns."""
    return int(conn.scalar(text(
        "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid)"
        " + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)"
        " + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)"
        " + (SELECT count(*) FROM pg_type WHERE typowner = r.oid)"
        " + (SELECT count(*) FROM pg_database WHERE datdba = r.oid)"
        " FROM pg_roles r WHERE r.rolname = :n"), {"n": name}) or 0)


def create_app_role(store: Store, name: str, *, password: str | None = None, login: bool = True) -> dict:
    """Create (or bring up to date) the application role ``name`` in this database; idempotent. The caller is the
    schema owner (it grants on its own tables). Returns what was done: ``created``, ``tables``, ``append_only``,
    ``partitions``, ``owned`` (0: the role owns nothing). Raises :class:`InputError` for a bad name, SQLite, or a
    role that is too powerful (superuser, create role, bypass RLS) or owns objects in this database."""
    if not store.is_postgres:
        raise InputError("database", store.engine.url.render_as_string(hide_password=True),
                         "application roles are a PostgreSQL feature (the embedded SQLite file has no roles)")
    if not ROLE_RE.match(name or ""):
        raise InputError("app-role", name, "a role name of lower-case letters, digits and _ (at most 63)")
    with store.engine.begin() as conn:
        me = conn.scalar(text("SELECT current_user"))
        if name == me:
            raise InputError("app-role", name, "must differ from the schema owner you are connected as")
        row = conn.execute(text("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
                                "WHERE rolname = :n"), {"n": name}).first()
        created = row is None
        if created:
            _ddl(conn, "CREATE ROLE %I " + ("LOGIN" if login else "NOLOGIN") +
                 " NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT", name)
        elif row is not None and any(row):
            raise InputError("app-role", name, "the role exists and is too powerful (superuser, createrole, "
                             "createdb or bypassrls): choose another name or strip those attributes")
        if owned_objects(conn, name):
            raise InputError("app-role", name, "the role owns objects in this database: it must own nothing")
        if password is not None:
            _ddl(conn, "ALTER ROLE %I PASSWORD %L", name, password)
        db = conn.scalar(text("SELECT current_database()"))
        _ddl(conn, "GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I", db, name)
        _ddl(conn, "GRANT USAGE ON SCHEMA public TO %I", name)
        _ddl(conn, f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO %I", name)
        _ddl(conn, "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I", name)
        parts = _partitions(conn)
        for table in (*APPEND_ONLY, *parts):
            _ddl(conn, "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE %I FROM %I", table, name)
        _ddl(conn, "GRANT EXECUTE ON FUNCTION ecohub_observation_partition(integer, integer) TO %I", name)
        # later migrations' tables and sequences (created by this owner) are granted too
        _ddl(conn, f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {TABLE_PRIVILEGES} ON TABLES TO %I", name)
        _ddl(conn, "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %I", name)
        tables = int(conn.scalar(text(
            "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = :n "
            "AND privilege_type = 'INSERT'"), {"n": name}) or 0)
        owned = owned_objects(conn, name)
    return {"role": name, "created": created, "tables": tables, "append_only": list(APPEND_ONLY),
            "partitions": len(parts), "owned": owned, "owner": me}


__all__ = ["create_app_role", "owned_objects", "APPEND_ONLY", "ROLE_RE"]
