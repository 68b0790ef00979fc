"""Identity, sessions and the audit log (SQLAlchemy Core, on ``ecohub.store.schema.metadata``).

* ``app_user`` — people (and partner systems signing in as people): argon2 password hash, role, the region
  (officers) or enterprise (enterprise accounts) that bounds what they see, lock-out counters.
* ``auth_session`` — one sign-in; access tokens name their session, so revoking the session (sign-out,
  refresh-token theft, an admin) ends every token of it at once.
* ``refresh_token`` — rotated on every use; a second use of a spent token revokes the whole session.
* ``audit_log`` — append-only (database triggers refuse UPDATE and DELETE on both backends): who, what,
  when, from where, for every write, sign-in, permission change and export.

``api_key.user_id`` (added by migration 0004) links a machine key to the user whose rights it carries.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
)

from ecohub.store.schema import api_key, metadata
from ecohub.store.types import UTCTime

ROLES = ("admin", "analyst", "officer", "enterprise", "partner", "public")

app_user = Table(
    "app_user", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=True),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("role", String(16), nullable=False),
    Column("region_code", String(6), ForeignKey("region.code"), nullable=True),  # officer: city/county
    Column("enterprise_id", Integer, ForeignKey("enterprise.id"), nullable=True),  # enterprise accounts
    Column("department", String(200), nullable=True),  # owning/partner department (catalogue)
    Column("failed_logins", SmallInteger, nullable=False, server_default="0"),
    Column("locked_until", UTCTime, nullable=True),
    Column("password_changed_at", UTCTime, nullable=False),
    Column("disabled_at", UTCTime, nullable=True),
    Column("created_at", UTCTime, nullable=False),
    CheckConstraint("role IN ('admin', 'analyst', 'officer', 'enterprise', 'partner', 'public')", name="role"),
)

auth_session = Table(
    "auth_session", metadata,
    Column("id", String(32), primary_key=True),  # random, in the tokens' "sid" claim
    Column("user_id", Integer, ForeignKey("app_user.id"), nullable=False),
    Column("created_at", UTCTime, nullable=False),
    Column("expires_at", UTCTime, nullable=False),
    Column("revoked_at", UTCTime, nullable=True),
    Column("revoked_reason", String(100), nullable=True),
    Column("ip", String(64), nullable=True),
)
Index("ix_auth_session_user_id", auth_session.c.user_id)

refresh_token = Table(
    "refresh_token", metadata,
    Column("jti", String(32), primary_key=True),
    Column("session_id", String(32), ForeignKey("auth_session.id"), nullable=False),
    Column("issued_at", UTCTime, nullable=False),
    Column("expires_at", UTCTime, nullable=False),
    Column("used_at", UTCTime, nullable=True),
)
Index("ix_refresh_token_session_id", refresh_token.c.session_id)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCTime, nullable=False),
    Column("actor", String(100), nullable=True),  # user name, "key:<prefix>", "cli:<os user>" or None (anonymous)
    Column("actor_role", String(16), nullable=True),
    Column("action", String(40), nullable=False),  # login, login_failed, write, permission, export, …
    Column("target", String(300), nullable=True),
    Column("method", String(8), nullable=True),
    Column("path", String(500), nullable=True),
    Column("status", SmallInteger, nullable=True),
    Column("ip", String(64), nullable=True),
    Column("detail", JSON, nullable=True),
    # the SM3 hash chain (migration 0016, ecohub.store.audit_chain); NULL on rows written before it
    Column("chain_seq", BigInteger, nullable=True),
    Column("prev_hash", String(64), nullable=True),
    Column("row_hash", String(64), nullable=True),
)
Index("ix_audit_log_at", audit_log.c.at)
Index("ix_audit_log_actor", audit_log.c.actor)
Index("ix_audit_log_action", audit_log.c.action)

# the link from machine keys to users (column added by migration 0004)
api_key.append_column(Column("user_id", Integer, ForeignKey("app_user.id"), nullable=True))
Index("ix_api_key_user_id", api_key.c.user_id)

AUDIT_TRIGGER_MESSAGE = "audit_log is append-only"
