"""Registers: regions, enterprises, sites (outlets too), devices, and the series of each site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ecohub.domain import uscc as uscc_mod
from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.kinds import Interval, SiteKind, parse_water_body
from ecohub.domain.parameters import resolve as resolve_parameter
from ecohub.store.schema import device, enterprise, parameter, region, series, site
from ecohub.store.types import inserted_id

_hasher = PasswordHasher()


@dataclass(frozen=True)
class SiteInput:
    code: str
    kind: str
    name: str
    lon: float
    lat: float
    region: str
    enterprise: str | None = None
    attrs: dict | None = None
    #: water sections: river / lake / reservoir (or 河流/湖泊/水库); None = not given (kept on update)
    water_body: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def check_region(conn: Connection, code: str, field: str = "region") -> str:
    c = (code or "").strip()
    if len(c) != 6 or not c.isdigit():
        raise InputError(field, code, "must be a 6-digit administrative division code (e.g. 130100 石家庄市)")
    if conn.scalar(select(region.c.code).where(region.c.code == c)) is None:
        raise InputError(field, code, "unknown administrative division code")
    return c


def validate_site(s: SiteInput) -> SiteInput:
    """Check the fields that need no database; raise :class:`InputError` naming the field and value."""
    code = (s.code or "").strip()
    if not code or len(code) > 64 or any(ch.isspace() for ch in code):
        raise InputError("code", s.code, "site code must be 1-64 characters without blanks")
    try:
        kind = SiteKind(s.kind.strip())
    except (ValueError, AttributeError):
        raise InputError("kind", s.kind, "must be one of " + ", ".join(k.value for k in SiteKind)) from None
    name = (s.name or "").strip()
    if not name:
        raise InputError("name", s.name, "site name is empty")
    try:
        lon, lat = float(s.lon), float(s.lat)
    except (TypeError, ValueError):
        raise InputError("lon/lat", f"{s.lon},{s.lat}", "position must be numbers (WGS-84 degrees)") from None
    if not -180 <= lon <= 180:
        raise InputError("lon", s.lon, "longitude must be between -180 and 180")
    if not -90 <= lat <= 90:
        raise InputError("lat", s.lat, "latitude must be between -90 and 90")
    ent = (s.enterprise or "").strip() or None
    if kind.is_outlet and ent is None:
        raise InputError("enterprise", s.enterprise, f"a {kind.value} belongs to an enterprise: give its USCC")
    if ent is not None:
        try:
            ent = uscc_mod.validate(ent)
        except uscc_mod.USCCError as e:
            raise InputError("enterprise", s.enterprise, str(e).removeprefix("uscc: ")) from None
    attrs = dict(s.attrs) if s.attrs else None
    wb_raw = s.water_body
    if wb_raw is None and attrs and "waterbody" in attrs:  # older registers kept it in attrs
        wb_raw = attrs.pop("waterbody")
        attrs = attrs or None
    try:
        wb = parse_water_body(wb_raw)
    except (ValueError, AttributeError):
        raise InputError("water_body", wb_raw, "must be river, lake or reservoir (河流/湖泊/水库)") from None
    if wb is not None and kind is not SiteKind.water_section:
        raise InputError("water_body", wb_raw, f"only a water_section has a water-body type, not a {kind.value}")
    return SiteInput(code, kind.value, name, lon, lat, (s.region or "").strip(), ent, attrs,
                     None if wb is None else wb.value)


def upsert_site(conn: Connection, s: SiteInput) -> str:
    """Create or update a site. Returns ``created``, ``updated`` or ``unchanged``."""
    s = validate_site(s)
    region_code = check_region(conn, s.region)
    ent_id = None
    if s.enterprise:
        ent_id = conn.scalar(select(enterprise.c.id).where(enterprise.c.uscc == s.enterprise))
        if ent_id is None:
            raise InputError("enterprise", s.enterprise, "no enterprise with this USCC; add it first "
                             "(ecohub enterprise add)")
    values = {"kind": s.kind, "name": s.name, "lon": s.lon, "lat": s.lat, "region_code": region_code,
              "enterprise_id": ent_id, "attrs": s.attrs}
    if s.water_body is not None:
        values["water_body"] = s.water_body
    row = conn.execute(select(site).where(site.c.code == s.code)).mappings().first()
    if row is None:
        conn.execute(insert(site).values(code=s.code, created_at=_now(), **values))
        return "created"
    changed = {k: v for k, v in values.items() if row[k] != v and not (k == "attrs" and v is None)}
    if not changed:
        return "unchanged"
    conn.execute(update(site).where(site.c.id == row["id"]).values(**changed))
    return "updated"


def add_enterprise(conn: Connection, code: str, name: str, region_code: str) -> int:
    try:
        c = uscc_mod.validate(code)
    except uscc_mod.USCCError as e:
        raise InputError("uscc", code, str(e).removeprefix("uscc: ")) from None
    if not (name or "").strip():
        raise InputError("name", name, "enterprise name is empty")
    rc = check_region(conn, region_code)
    existing = conn.scalar(select(enterprise.c.id).where(enterprise.c.uscc == c))
    if existing is not None:
        conn.execute(update(enterprise).where(enterprise.c.id == existing).values(name=name.strip(), region_code=rc))
        return int(existing)
    return inserted_id(conn.execute(insert(enterprise).values(uscc=c, name=name.strip(), region_code=rc,
                                                      created_at=_now())))


def site_index(conn: Connection) -> dict[str, tuple[int, str]]:
    """code → (id, kind) of every site."""
    return {r.code: (r.id, r.kind) for r in conn.execute(select(site.c.code, site.c.id, site.c.kind))}


def parameter_index(conn: Connection) -> dict[str, int]:
    return {r.name: r.id for r in conn.execute(select(parameter.c.name, parameter.c.id))}


class SeriesResolver:
    """(site id, parameter id, interval) → series id, creating series on first use; cached."""

    def __init__(self):
        self._cache: dict[tuple[int, int, str], int] = {}

    def cached(self, key: tuple[int, int, str]) -> int | None:
        return self._cache.get(key)

    def resolve_many(self, conn: Connection, keys) -> None:
        """Find or create the series of many keys at once (one insert, one select per 500 sites)."""
        missing = {k for k in keys if k not in self._cache}
        if not missing:
            return
        conn.execute(insert(series).prefix_with("OR IGNORE") if conn.dialect.name == "sqlite"
                     else _pg_insert_ignore(), [{"site_id": k[0], "parameter_id": k[1], "interval": k[2]}
                                                for k in sorted(missing)])
        site_ids = sorted({k[0] for k in missing})
        for i in range(0, len(site_ids), 500):
            chunk = site_ids[i:i + 500]
            for r in conn.execute(select(series.c.id, series.c.site_id, series.c.parameter_id, series.c.interval)
                                  .where(series.c.site_id.in_(chunk))):
                self._cache[(r.site_id, r.parameter_id, r.interval)] = r.id

    def get(self, conn: Connection, site_id: int, parameter_id: int, interval: str) -> int:
        key = (site_id, parameter_id, interval)
        sid = self._cache.get(key)
        if sid is None:
            q = select(series.c.id).where(series.c.site_id == site_id, series.c.parameter_id == parameter_id,
                                          series.c.interval == interval)
            sid = conn.scalar(q)
            if sid is None:
                sid = inserted_id(conn.execute(insert(series).values(site_id=site_id, parameter_id=parameter_id,
                                                         interval=interval)))
            self._cache[key] = sid = int(sid)
        return sid


def _pg_insert_ignore():
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert(series).on_conflict_do_nothing()


# --- devices (HJ 212 data loggers) ----------------------------------------------------------------------
def add_device(conn: Connection, mn: str, password: str, site_code: str, protocol: str = "2017",
               sm4_key: str | None = None, *, dialect: str | None = None, sm4_variant: str | None = None) -> int:
    """Register an HJ 212 device. The access password (PW) is stored as an argon2 hash. ``dialect``: decoding
    profile (``None``/``"lenient"``: deviations accepted with a warning; ``"strict"``: refused);
    ``sm4_variant``: its HJ 212-2025 SM4 variant (a preset name or spec, checked by the caller with
    ``ecohub.protocols.hj212.Sm4Variant.parse``)."""
    mn = (mn or "").strip()
    if not mn or len(mn) > 64 or not mn.isascii() or any(ch in mn for ch in ";=&, "):
        raise InputError("mn", mn, "MN must be 1-64 ASCII characters without ; = & , or blanks")
    if protocol not in ("2005", "2017", "2025"):
        raise InputError("protocol", protocol, "must be 2005, 2017 or 2025")
    if not password or len(password) > 64 or any(ch in password for ch in ";=&,"):
        raise InputError("password", "***", "PW must be 1-64 characters without ; = & ,")
    if sm4_key is not None:
        k = sm4_key.strip().lower()
        if len(k) != 32 or any(ch not in "0123456789abcdef" for ch in k):
            raise InputError("sm4_key", sm4_key, "an SM4 key is 16 bytes written as 32 hex digits")
        sm4_key = k
    if dialect not in (None, "lenient", "strict"):
        raise InputError("dialect", dialect, "must be lenient or strict")
    if sm4_variant is not None and (not sm4_variant.strip() or len(sm4_variant) > 64):
        raise InputError("sm4_variant", sm4_variant, "an SM4 variant is a preset name or form/padding/crc/length")
    site_id = conn.scalar(select(site.c.id).where(site.c.code == site_code))
    if site_id is None:
        raise InputError("site", site_code, "unknown site code; add the site first")
    values = {"site_id": site_id, "protocol": protocol, "password_hash": _hasher.hash(password), "sm4_key": sm4_key,
              "dialect": None if dialect in (None, "lenient") else dialect,
              "sm4_variant": sm4_variant.strip() if sm4_variant else None}
    existing = conn.scalar(select(device.c.id).where(device.c.mn == mn))
    if existing is not None:
        conn.execute(update(device).where(device.c.id == existing).values(**values))
        return int(existing)
    return inserted_id(conn.execute(insert(device).values(mn=mn, created_at=_now(), **values)))


def verify_device_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_site(conn: Connection, code: str):
    row = conn.execute(select(site).where(site.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"site {code!r} not found")
    return row


__all__ = [
    "Interval", "SeriesResolver", "SiteInput", "add_device", "add_enterprise", "check_region", "get_site",
    "parameter_index", "resolve_parameter", "site_index", "upsert_site", "validate_site",
    "verify_device_password",
]
