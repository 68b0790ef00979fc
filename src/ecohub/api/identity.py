"""Identity: users with argon2id passwords, a password policy, lock-out, JWT access and refresh tokens, and
the principal of a request (from a token or an API key).

* Passwords: argon2id (argon2-cffi defaults). Policy: at least 10 characters, at least two character classes
  (lower case, upper case, digits, others — CJK characters count as "others"), not one repeated character,
  not containing the user name, at most 256 characters.
* Lock-out: 5 failed sign-ins in a row lock the account for 15 minutes (the right password is refused
  too while it is locked); a success resets the count.
* Tokens: HS256 JWT signed with ``ECOHUB_SECRET_KEY`` (or a random key kept in ``<data dir>/secret_key``,
  created on first use with mode 0600). Access tokens live 15 minutes, refresh tokens 7 days. Each sign-in
  is a session (``auth_session``): every token names it (``sid``), and every request checks that the
  session is live and the user enabled — so sign-out, an admin's revocation or a disabled account end access
  at once, and role changes apply to the next request. Refresh tokens rotate on every use; presenting a spent
  refresh token again (a stolen copy) revokes the whole session.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from ecohub.domain.errors import InputError
from ecohub.store.queries import Scope
from ecohub.store.schema import api_key, enterprise, region
from ecohub.store.schema_identity import ROLES, app_user, auth_session, refresh_token

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password, used to keep timing even")


def use_hasher(hasher: PasswordHasher) -> None:
    """Replace the password hasher (tests use cheap parameters; stored hashes carry their own parameters and
    keep verifying, and are re-hashed with the current ones at the next sign-in)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not a real password, used to keep timing even")

MIN_PASSWORD = 10
MAX_PASSWORD = 256
NAME_RE = re.compile(r"^[A-Za-z0-9_.@\-\u4e00-\u9fff]{2,64}$")


# --- configuration --------------------------------------------------------------------------------------------
@dataclass
class AuthConfig:
    secret: str
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=7)
    session_ttl: timedelta = timedelta(days=30)  # absolute lifetime of one sign-in
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    clock: Callable[[], float] = field(default=time.time)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


def load_secret(data_dir: Path | None = None) -> str:
    """``ECOHUB_SECRET_KEY``, else a random key kept in ``<data dir>/secret_key`` (created once, mode 0600)."""
    from ecohub.config import settings

    key = settings().secret_key
    env = key.get_secret_value() if key is not None else None
    if env:
        if len(env) < 32:
            raise ValueError("ECOHUB_SECRET_KEY must be at least 32 characters")
        return env
    if data_dir is None:
        from ecohub.config import Settings

        data_dir = Settings.from_env().data_dir
    path = Path(data_dir) / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


# --- principal ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Principal:
    """Who is calling: anonymous, a signed-in user, or an API key (with its user's rights when it has one)."""

    kind: str  # anonymous | user | key
    role: str = "public"
    name: str | None = None
    user_id: int | None = None
    region_code: str | None = None
    enterprise_id: int | None = None
    department: str | None = None
    session_id: str | None = None
    key_prefix: str | None = None
    key_scopes: tuple[str, ...] = ()

    @property
    def scope(self) -> Scope:
        role = self.role
        if self.kind == "key" and "read" not in self.key_scopes and "admin" not in self.key_scopes:
            role = "public"  # an ingest-only key reads like anybody
        return Scope(role, self.region_code, self.enterprise_id, self.user_id, self.name)

    @property
    def actor(self) -> str | None:
        if self.kind == "key":
            return f"key:{self.key_prefix}" + (f"({self.name})" if self.name else "")
        return self.name

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def can_write(self) -> bool:
        """Keys only write (through this API's own routes) with the ``admin`` scope; users always may try."""
        return self.kind == "user" or (self.kind == "key" and "admin" in self.key_scopes)

    @property
    def rate_key(self) -> str | None:
        if self.kind == "key":
            return f"key:{self.key_prefix}"
        if self.kind == "user":
            return f"user:{self.user_id}"
        return None


ANONYMOUS = Principal("anonymous")


class AuthError(Exception):
    """A credential was presented but is not valid (→ 401)."""


# --- users ----------------------------------------------------------------------------------------------------
def check_password_policy(password: str, name: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError("password", None, f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError("password", None, f"must be at most {MAX_PASSWORD} characters")
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]"))
    if classes < 2:
        raise InputError("password", None, "must mix at least two of: lower case, upper case, digits, others")
    if len(set(password)) == 1:
        raise InputError("password", None, "must not be one repeated character")
    if name and name.lower() in password.lower():
        raise InputError("password", None, "must not contain the user name")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _region_level(conn: Connection, code: str) -> int | None:
    return conn.scalar(select(region.c.level).where(region.c.code == code))


def _check_role_fields(conn: Connection, role: str, region_code: str | None, enterprise_uscc: str | None
                       ) -> tuple[str | None, int | None]:
    if role not in ROLES:
        raise InputError("role", role, "must be one of " + ", ".join(ROLES))
    ent_id = None
    if region_code is not None:
        level = _region_level(conn, region_code)
        if level is None:
            raise InputError("region", region_code, "unknown administrative division code")
    if role == "officer":
        if region_code is None:
            raise InputError("region", region_code, "an officer needs --region (a city or county code)")
        if _region_level(conn, region_code) not in (2, 3):
            raise InputError("region", region_code, "an officer's region is a city or county (province-wide: "
                             "use the analyst role)")
    elif role != "officer" and region_code is not None and role not in ("analyst", "admin", "partner"):
        raise InputError("region", region_code, f"the {role} role takes no region")
    if role == "enterprise":
        if not enterprise_uscc:
            raise InputError("enterprise", enterprise_uscc, "an enterprise account needs --enterprise (its USCC)")
        ent_id = conn.scalar(select(enterprise.c.id).where(enterprise.c.uscc == enterprise_uscc.strip().upper()))
        if ent_id is None:
            raise InputError("enterprise", enterprise_uscc, "no enterprise with this USCC")
    elif enterprise_uscc:
        raise InputError("enterprise", enterprise_uscc, f"the {role} role takes no enterprise")
    return region_code, ent_id


def create_user(conn: Connection, name: str, password: str, role: str, *, region_code: str | None = None,
                enterprise_uscc: str | None = None, department: str | None = None,
                display_name: str | None = None, now: datetime | None = None) -> int:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise InputError("name", name, "2-64 letters, digits, CJK characters or _ . @ -")
    if conn.scalar(select(app_user.c.id).where(func.lower(app_user.c.name) == name.lower())) is not None:
        raise InputError("name", name, "a user with this name exists")
    check_password_policy(password, name)
    region_code, ent_id = _check_role_fields(conn, role, region_code, enterprise_uscc)
    now = now or datetime.now(UTC)
    return int(conn.execute(insert(app_user).values(
        name=name, display_name=display_name, password_hash=hash_password(password), role=role,
        region_code=region_code, enterprise_id=ent_id, department=department, failed_logins=0,
        password_changed_at=now, created_at=now)).inserted_primary_key[0])


def update_user(conn: Connection, name: str, *, role: str | None = None, region_code: str | None = None,
                enterprise_uscc: str | None = None, department: str | None = None,
                disabled: bool | None = None, unlock: bool = False) -> dict:
    """Change a user's role/region/enterprise/department, enable/disable, unlock. Returns {field: (old, new)}.
    A role change clears region/enterprise unless given again."""
    u = user_by_name(conn, name)
    if u is None:
        raise InputError("user", name, "no such user")
    values: dict = {}
    if role is not None or region_code is not None or enterprise_uscc is not None:
        new_role = role or u["role"]
        reg = region_code if region_code is not None else (u["region_code"] if role in (None, u["role"]) else None)
        ent_uscc = enterprise_uscc
        if ent_uscc is None and role in (None, u["role"]) and u["enterprise_id"] is not None:
            ent_uscc = conn.scalar(select(enterprise.c.uscc).where(enterprise.c.id == u["enterprise_id"]))
        reg, ent_id = _check_role_fields(conn, new_role, reg, ent_uscc)
        values.update(role=new_role, region_code=reg, enterprise_id=ent_id)
    if department is not None:
        values["department"] = department or None
    if disabled is not None:
        values["disabled_at"] = datetime.now(UTC) if disabled else None
    if unlock:
        values.update(failed_logins=0, locked_until=None)
    changes = {k: (u[k], v) for k, v in values.items() if u[k] != v}
    if values:
        conn.execute(update(app_user).where(app_user.c.id == u["id"]).values(**values))
    if disabled:
        revoke_user_sessions(conn, u["id"], "user disabled")
    return changes


def set_password(conn: Connection, user_id: int, name: str, password: str) -> None:
    check_password_policy(password, name)
    conn.execute(update(app_user).where(app_user.c.id == user_id).values(
        password_hash=hash_password(password), password_changed_at=datetime.now(UTC), failed_logins=0,
        locked_until=None))
    revoke_user_sessions(conn, user_id, "password changed")


USER_PUBLIC_COLS = ("id", "name", "display_name", "role", "region_code", "enterprise_id", "department",
                    "failed_logins", "locked_until", "disabled_at", "created_at", "password_changed_at")


def user_by_name(conn: Connection, name: str) -> dict | None:
    r = conn.execute(select(app_user).where(app_user.c.name == name)).mappings().first()
    return dict(r) if r else None


def list_users(conn: Connection) -> list[dict]:
    q = (select(*[app_user.c[c] for c in USER_PUBLIC_COLS], enterprise.c.uscc.label("enterprise"))
         .select_from(app_user.outerjoin(enterprise, enterprise.c.id == app_user.c.enterprise_id))
         .order_by(app_user.c.name))
    return [dict(r) for r in conn.execute(q).mappings()]


# --- sign-in ------------------------------------------------------------------------------------------------
class LoginFailed(Exception):
    def __init__(self, reason: str, user_id: int | None = None):
        super().__init__(reason)
        self.reason, self.user_id = reason, user_id


@dataclass(frozen=True)
class PasswordCheck:
    """What :func:`check_password` found, before anything is written: the user row it read (None: no such
    user) and whether the password matched that row's hash."""

    user: dict | None
    ok: bool


def check_password(conn: Connection, name: str, password: str) -> PasswordCheck:
    """Read the user and verify the password (argon2, the slow part) — a read, no lock held. The verdict is
    applied by :func:`apply_password_check` in a write transaction."""
    u = user_by_name(conn, name or "")
    if u is None:
        try:
            _hasher.verify(_DUMMY_HASH, password or "")
        except (VerificationError, InvalidHashError):
            pass
        return PasswordCheck(None, False)
    try:
        ok = _hasher.verify(u["password_hash"], password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    return PasswordCheck(u, ok)


def apply_password_check(conn: Connection, cfg: AuthConfig, check: PasswordCheck, password: str) -> dict:
    """Count the attempt in ``conn`` (a write transaction): re-reads the user under the write lock, so the
    lock-out, a disabled account or a password changed meanwhile are judged on the current row. Returns the
    user row if the sign-in succeeds; else :class:`LoginFailed` (the failure count is written first — the
    caller commits it)."""
    now = cfg.now()
    if check.user is None:
        raise LoginFailed("unknown user")
    r = conn.execute(select(app_user).where(app_user.c.id == check.user["id"])).mappings().first()
    if r is None:
        raise LoginFailed("unknown user")
    u = dict(r)
    if u["disabled_at"] is not None:
        raise LoginFailed("disabled", u["id"])
    if u["locked_until"] is not None and u["locked_until"] > now:
        raise LoginFailed("locked", u["id"])
    ok = check.ok and u["password_hash"] == check.user["password_hash"]
    if not ok:
        failures = (u["failed_logins"] or 0) + 1
        values: dict = {"failed_logins": failures}
        reason = "bad password" if check.ok is False else "password changed during sign-in"
        if failures >= cfg.max_failures:
            values = {"failed_logins": 0, "locked_until": now + cfg.lockout}
            reason = f"{reason}; locked for {int(cfg.lockout.total_seconds() // 60)} min"
        conn.execute(update(app_user).where(app_user.c.id == u["id"]).values(**values))
        raise LoginFailed(reason, u["id"])
    values = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(u["password_hash"]):
        values["password_hash"] = hash_password(password)
    conn.execute(update(app_user).where(app_user.c.id == u["id"]).values(**values))
    return u


def authenticate(conn: Connection, cfg: AuthConfig, name: str, password: str) -> dict:
    """The user row if ``password`` is right and the account usable; else :class:`LoginFailed` (the reason is
    for the audit log only — the caller answers the same 401 whatever it is). Counts failures, locks.

    One connection for both phases (``conn`` must be a write transaction). The API verifies the password
    before taking the write lock instead (:func:`check_password` then :func:`apply_password_check`), so that
    the argon2 work never holds up the writers."""
    return apply_password_check(conn, cfg, check_password(conn, name, password), password)


# --- tokens ---------------------------------------------------------------------------------------------------
def _encode(cfg: AuthConfig, claims: dict) -> str:
    return jwt.encode(claims, cfg.secret, algorithm="HS256")


def _tokens(conn: Connection, cfg: AuthConfig, user: dict, sid: str, now: datetime) -> dict:
    jti = secrets.token_hex(16)
    iat = int(now.timestamp())
    access = _encode(cfg, {"sub": str(user["id"]), "name": user["name"], "role": user["role"], "sid": sid,
                           "typ": "access", "iat": iat, "exp": iat + int(cfg.access_ttl.total_seconds())})
    refresh_exp = now + cfg.refresh_ttl
    conn.execute(insert(refresh_token).values(jti=jti, session_id=sid, issued_at=now, expires_at=refresh_exp))
    refresh = _encode(cfg, {"sub": str(user["id"]), "sid": sid, "jti": jti, "typ": "refresh", "iat": iat,
                            "exp": int(refresh_exp.timestamp())})
    return {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
            "expires_in": int(cfg.access_ttl.total_seconds()),
            "refresh_expires_in": int(cfg.refresh_ttl.total_seconds())}


def start_session(conn: Connection, cfg: AuthConfig, user: dict, ip: str | None = None) -> dict:
    now = cfg.now()
    sid = secrets.token_hex(16)
    conn.execute(insert(auth_session).values(id=sid, user_id=user["id"], created_at=now,
                                             expires_at=now + cfg.session_ttl, ip=ip))
    return _tokens(conn, cfg, user, sid, now)


def decode(cfg: AuthConfig, token: str, typ: str) -> dict:
    """Claims of a genuine, unexpired token of type ``typ``; :class:`AuthError` otherwise."""
    try:
        claims = jwt.decode(token, cfg.secret, algorithms=["HS256"],
                            options={"verify_exp": False, "require": ["exp", "sub", "sid", "typ"]})
    except jwt.PyJWTError as e:
        raise AuthError(f"invalid token ({type(e).__name__})") from None
    if claims.get("typ") != typ:
        raise AuthError(f"not an {typ} token")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= cfg.clock():
        raise AuthError("token expired")
    return claims


def refresh_session(conn: Connection, cfg: AuthConfig, token: str) -> tuple[dict, dict]:
    """Rotate: spend the refresh token, issue a new pair. Returns (user, tokens). A spent token presented
    again revokes the whole session (:class:`AuthError`)."""
    claims = decode(cfg, token, "refresh")
    now = cfg.now()
    row = conn.execute(select(refresh_token, auth_session.c.revoked_at, auth_session.c.expires_at.label("s_exp"),
                              auth_session.c.user_id)
                       .select_from(refresh_token.join(auth_session, auth_session.c.id == refresh_token.c.session_id))
                       .where(refresh_token.c.jti == str(claims.get("jti")))).mappings().first()
    if row is None or row["session_id"] != claims["sid"] or str(row["user_id"]) != claims["sub"]:
        raise AuthError("unknown refresh token")
    if row["revoked_at"] is not None:
        raise AuthError("session revoked")
    if row["used_at"] is not None:
        revoke_session(conn, row["session_id"], "refresh token reused")
        raise AuthError("refresh token already used: the session is revoked")
    if row["expires_at"] <= now or row["s_exp"] <= now:
        raise AuthError("refresh token expired")
    spent = conn.execute(update(refresh_token).where(refresh_token.c.jti == row["jti"],
                                                     refresh_token.c.used_at.is_(None)).values(used_at=now))
    if spent.rowcount != 1:  # a concurrent use won the race
        revoke_session(conn, row["session_id"], "refresh token reused")
        raise AuthError("refresh token already used: the session is revoked")
    user = conn.execute(select(app_user).where(app_user.c.id == row["user_id"])).mappings().first()
    if user is None or user["disabled_at"] is not None:
        raise AuthError("account disabled")
    return dict(user), _tokens(conn, cfg, dict(user), row["session_id"], now)


def revoke_session(conn: Connection, sid: str, reason: str) -> bool:
    r = conn.execute(update(auth_session).where(auth_session.c.id == sid, auth_session.c.revoked_at.is_(None))
                     .values(revoked_at=datetime.now(UTC), revoked_reason=reason[:100]))
    return r.rowcount == 1


def revoke_user_sessions(conn: Connection, user_id: int, reason: str) -> int:
    r = conn.execute(update(auth_session).where(auth_session.c.user_id == user_id,
                                                auth_session.c.revoked_at.is_(None))
                     .values(revoked_at=datetime.now(UTC), revoked_reason=reason[:100]))
    return r.rowcount


# --- the principal of a request -------------------------------------------------------------------------------
def _principal_of_user(u, kind: str, **extra) -> Principal:
    return Principal(kind, role=u["role"], name=u["name"], user_id=u["id"], region_code=u["region_code"],
                     enterprise_id=u["enterprise_id"], department=u["department"], **extra)


def principal_from_token(conn: Connection, cfg: AuthConfig, token: str) -> Principal:
    claims = decode(cfg, token, "access")
    row = conn.execute(
        select(app_user, auth_session.c.revoked_at.label("s_revoked"), auth_session.c.expires_at.label("s_exp"))
        .select_from(app_user.join(auth_session, auth_session.c.user_id == app_user.c.id))
        .where(auth_session.c.id == str(claims["sid"]))).mappings().first()
    if row is None or str(row["id"]) != str(claims["sub"]):
        raise AuthError("unknown session")
    if row["s_revoked"] is not None:
        raise AuthError("session revoked")
    if row["s_exp"] <= cfg.now():
        raise AuthError("session expired")
    if row["disabled_at"] is not None:
        raise AuthError("account disabled")
    return _principal_of_user(row, "user", session_id=str(claims["sid"]))


def principal_from_key(conn: Connection, key: str, *, touch: bool = True) -> Principal:
    """The principal of an API key. ``touch``: refresh the key's ``last_used_at`` on ``conn`` (then a write
    transaction); the middleware reads with ``touch=False`` and refreshes it separately."""
    from ecohub.store.apikeys import lookup_key

    k = lookup_key(conn, key, touch=touch)
    if k is None:
        raise AuthError("invalid, expired or revoked API key")
    if k.user_id is None:
        return Principal("key", role="public", name=k.name, key_prefix=k.prefix, key_scopes=k.scopes)
    u = conn.execute(select(app_user).where(app_user.c.id == k.user_id)).mappings().first()
    if u is None or u["disabled_at"] is not None:
        raise AuthError("the key's user is disabled")
    return _principal_of_user(u, "key", key_prefix=k.prefix, key_scopes=k.scopes)


def credentials(headers) -> tuple[str | None, str | None]:
    """(bearer token, api key) from the request headers (``Authorization: Bearer …``, ``X-API-Key``);
    a Bearer value that looks like an API key (``ek_…``) is taken as a key."""
    key = headers.get("x-api-key")
    token = None
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthError("use 'Authorization: Bearer <token>'")
        value = value.strip()
        if value.startswith("ek_"):
            key = key or value
        else:
            token = value
    return token, key


def resolve_principal(conn: Connection, cfg: AuthConfig, headers, *, touch: bool = True) -> Principal:
    token, key = credentials(headers)
    if token:
        return principal_from_token(conn, cfg, token)
    if key:
        return principal_from_key(conn, key, touch=touch)
    return ANONYMOUS


__all__ = ["AuthConfig", "Principal", "ANONYMOUS", "AuthError", "LoginFailed", "create_user", "update_user",
           "set_password", "authenticate", "check_password", "apply_password_check", "start_session",
           "refresh_session", "revoke_session", "decode",
           "resolve_principal", "load_secret", "check_password_policy", "list_users", "user_by_name",
           "api_key"]
