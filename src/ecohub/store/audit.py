"""The audit log: who did what, when, from where — every write, sign-in (success and failure), permission
change and data export. Append-only: the database refuses UPDATE and DELETE on ``audit_log`` (triggers of
migration 0004), and nothing in ecohub offers to change it; tamper-evident: the rows form an SM3 hash chain
(:mod:`ecohub.store.audit_chain`, ``ecohub audit verify``).

It lives in the store so that every layer records through the same writer: writes through the API are recorded
by the middleware (``action`` ``write`` unless the route names a more specific one; routes for sign-in,
permission changes and exports record their own, richer entries); the command line records every
state-changing command with the actor ``cli:<operating-system user>`` (or ``cli:<name>`` given with ``--as``);
domain services record their transitions in the caller's transaction.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ecohub.store import audit_chain
from ecohub.store.db import Store
from ecohub.store.schema_identity import audit_log
from ecohub.store.tx import write_tx

ACTIONS = ("login", "login_failed", "logout", "token_refresh", "token_refresh_failed", "write", "permission",
           "export", "password", "alert_acknowledge", "alert_close")


@dataclass(frozen=True)
class Origin:
    """Who asks for a change and through what: the API passes the signed-in caller with method, path and
    address; the command line ``Origin.cli()``. Services write it into the audit row of the change."""

    actor: str | None
    role: str | None = None
    method: str | None = None
    path: str | None = None
    ip: str | None = None

    @classmethod
    def cli(cls, as_: str | None = None, command: str | None = None) -> Origin:
        return cls(cli_actor(as_), "system", "CLI", command)

    def record(self, conn: Connection, action: str, target: str | None = None, detail: dict | None = None,
               status: int | None = None) -> None:
        """The audit row of a change, in the caller's transaction (committed with the change or not at all)."""
        record(conn, action, actor=self.actor, role=self.role, target=target, method=self.method,
               path=self.path, status=status, ip=self.ip, detail=detail)


def record(conn: Connection, action: str, *, actor: str | None = None, role: str | None = None,
           target: str | None = None, method: str | None = None, path: str | None = None,
           status: int | None = None, ip: str | None = None, detail: dict | None = None,
           at: datetime | None = None) -> None:
    """One audit row, linked into the SM3 hash chain (:mod:`ecohub.store.audit_chain`) under its lock."""
    audit_chain.append(conn, dict(
        at=at or datetime.now(UTC), actor=(actor or None) and actor[:100], actor_role=role, action=action[:40],
        target=target[:300] if target else None, method=method, path=path[:500] if path else None,
        status=status, ip=ip[:64] if ip else None, detail=detail))


def record_now(store: Store, action: str, **kw) -> None:
    """Record in a transaction of its own (committed even if the caller's work fails)."""
    with write_tx(store) as conn:
        record(conn, action, **kw)


def cli_actor(as_: str | None = None) -> str:
    """``cli:<name>``: the name given with ``--as``, else the operating-system user."""
    if as_ and as_.strip():
        return f"cli:{as_.strip()[:90]}"
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


def query(store: Store, *, actor: str | None = None, action: Sequence[str] = (), target: str | None = None,
          start: datetime | None = None, end: datetime | None = None, limit: int = 100,
          before_id: int | None = None) -> list[dict]:
    """Newest first; keyset paging by ``before_id``."""
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if action:
        q = q.where(audit_log.c.action.in_(list(action)))
    if target:
        q = q.where(audit_log.c.target.startswith(target, autoescape=True))
    if start is not None:
        q = q.where(audit_log.c.at >= start)
    if end is not None:
        q = q.where(audit_log.c.at < end)
    if before_id is not None:
        q = q.where(audit_log.c.id < before_id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
