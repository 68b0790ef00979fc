"""FastAPI dependencies shared by the routers: the store, the caller and its scope, the role checks, paging
and day ranges. A route declares what it needs in its signature (``store: StoreDep``, ``scope: ScopeDep``,
``page: Paging``, ``p: Annotated[Principal, Depends(role("admin", "officer", write=True))]``) and passes the
values to the domain package's service functions — routers hold no SQL.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query, Request

from ecohub.api.http import check_limit, decode_cursor, parse_date_param, principal, require_role
from ecohub.api.identity import Principal
from ecohub.api.problems import ApiProblem
from ecohub.domain.timeutil import BEIJING
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_principal(request: Request) -> Principal:
    return principal(request)


def get_scope(request: Request) -> Scope:
    return principal(request).scope


def get_origin(request: Request) -> Origin:
    """The caller as the audit log names it, with method, path and address (for services that audit)."""
    p = principal(request)
    return Origin(p.actor, p.role if p.authenticated else None, request.method, request.url.path,
                  getattr(request.state, "ip", None))


StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ScopeDep = Annotated[Scope, Depends(get_scope)]
OriginDep = Annotated[Origin, Depends(get_origin)]


def role(*roles: str, write: bool = False) -> Callable[[Request], Principal]:
    """A dependency: the caller, signed in with one of ``roles`` (401 / 403 otherwise)."""
    def dep(request: Request) -> Principal:
        return require_role(request, *roles, write=write)

    return dep


@dataclass(frozen=True)
class Page:
    limit: int
    cursor: str | None

    def after(self, types: tuple[type, ...]) -> list | None:
        """The keyset in the cursor (400 when it is not one of ours)."""
        return decode_cursor(self.cursor, types)


def paging(default: int = 1000, maximum: int = 10_000) -> Callable[..., Page]:
    """A dependency: ``limit`` (1 … ``maximum``; 400 otherwise) and the opaque ``cursor``."""
    def dep(limit: Annotated[int, Query(description=f"at most {maximum}")] = default,
            cursor: Annotated[str | None, Query(description="from meta.next_cursor")] = None) -> Page:
        return Page(check_limit(limit, maximum), cursor)

    return dep


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date


def yesterday() -> date:
    return datetime.now(BEIJING).date() - timedelta(days=1)


def day_range(date_: str | None, from_: str | None, to: str | None, default_days: int,
              check: Callable[[date, date], object] | None = None) -> DayRange:
    """Beijing days: one ``date``, or ``from``/``to`` (default: ``default_days`` days ending yesterday)."""
    d = parse_date_param(date_, "date")
    d0, d1 = parse_date_param(from_, "from"), parse_date_param(to, "to")
    if d is not None:
        if d0 or d1:
            raise ApiProblem(400, "give date, or from and to — not both")
        return DayRange(d, d)
    end = d1 or yesterday()
    start = d0 or end - timedelta(days=default_days - 1)
    if check is not None:
        try:
            check(start, end)
        except ValueError as e:
            raise ApiProblem(400, str(e)) from None
    return DayRange(start, end)


def platform_keys(request: Request):  # -> ecohub.crypto.keyfile.PlatformKeys
    """The platform's SM2 keys (the folder of ``ECOHUB_KEYS_DIR``, default ``<data folder>/keys``)."""
    from ecohub.crypto.keyfile import PlatformKeys

    settings = request.app.state.settings
    return PlatformKeys(settings.keys_dir or settings.data_dir / "keys")

