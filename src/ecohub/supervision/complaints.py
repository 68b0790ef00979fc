"""Public complaints (环境污染举报, 12369-style): submission, public tracking, staff handling.

A complaint has an unguessable **tracking code** (12 characters from an alphabet without look-alike characters
— no 0/O, 1/I/L — 60 bits of randomness), a category, a description, a location (WGS-84) with the region found
from it (:mod:`ecohub.supervision.geo`), an optional photo (JPEG or PNG, size- and type-checked by content,
metadata such as EXIF GPS removed, stored under ``<data dir>/uploads/complaints/``) and an optional contact
phone.

**Personal data.** The phone (and the photo, the precise location and the description, which may name
people) are never part of the public lookup: that shows category, region, status history (status, time,
public note) only. The complainant's identity (phone, address) is visible to the **handling officer only**
(issue 15; confidentiality of the complainant: 生态环境部《关于实施生态环境违法行为举报奖励制度的指导意见》
2020 "对举报人的个人信息要严格保密" — docs/enforcement.md, where the article of the 2010 hotline measures is
marked UNCONFIRMED): the staff member
named as the complaint's handler in its loop row (``complaint_handling.handler``, set when it is accepted or
taken over after a transfer) — not the other officers of the region, not analysts, not admins, who all see
``138****5678`` and a masked address (:func:`may_see_contact`). A complaint no one has accepted yet shows its
contact to no one; the platform's own services (role ``system``) read it to send replies. At rest the phone and
the address are SM4-encrypted when a key is configured (:mod:`ecohub.store.personal`, docs/crypto.md); the
phone is searchable through its HMAC-SM3 blind index.

**Who sees what** (``Scope`` of the query layer): admins and analysts every complaint, officers those of
their region (city → its counties), everyone else none (:class:`PermissionError` → 403).

**Status** (12369 practice): received → accepted | rejected (a reason is required) ; accepted → handled (what
was done) | rejected ; handled → closed ; rejected → closed. These are stages of the complaint loop (transfer,
merge, reply, return visit, publication), declared once in :mod:`ecohub.supervision.complaint_machine` and run by
:mod:`ecohub.supervision.complaint_loop`. Every change is a ``complaint_event`` row and an audit row.

**Duplicates** (LESSONS lesson 11, FixMyStreet): open complaints (received/accepted) of the same category
within :data:`DUPLICATE_RADIUS_M` are suggested as possible duplicates — to the complainant before sending
(without their codes or texts) and to staff (recorded on the new complaint).
"""

from __future__ import annotations

import math
import re
import secrets
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, or_, select
from sqlalchemy.sql import ColumnElement

from ecohub.domain.errors import InputError
from ecohub.domain.timeutil import BEIJING
from ecohub.store import personal
from ecohub.store.db import Store
from ecohub.store.personal import mask_phone  # noqa: F401 - re-exported (C.mask_phone)
from ecohub.store.queries import Scope, haversine_km, region_prefix
from ecohub.store.schema import region
from ecohub.store.schema_supervision import (
    COMPLAINT_CATEGORIES,
    COMPLAINT_STATUSES,
    complaint,
    complaint_event,
    complaint_handling,
)
from ecohub.store.tx import write_tx
from ecohub.supervision import geo

CATEGORIES = COMPLAINT_CATEGORIES
STATUSES = COMPLAINT_STATUSES
OPEN_STATUSES = ("received", "accepted")

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0 O 1 I L: read aloud and typed back without mistakes
CODE_LENGTH = 12
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 2000
ADDRESS_MAX = 200
MAX_PHOTO_BYTES = 5 * 1024 * 1024
DUPLICATE_RADIUS_M = 50.0
STAFF_ROLES = ("system", "admin", "analyst", "officer")
CONTACT_ROLES = ("admin", "officer")  # roles that can be a complaint's handler (and so see its contact)
_PHONE = re.compile(r"^(?:\+?86)?(?:1[3-9]\d{9}|0\d{2,3}\d{7,8})$")


# --- validation -----------------------------------------------------------------------------------------------
@dataclass
class ComplaintInput:
    category: str
    description: str
    lon: float | str
    lat: float | str
    phone: str | None = None
    address: str | None = None
    photo: bytes | None = None


def normalize_code(code: str) -> str:
    """A tracking code as typed (any case, spaces or hyphens) → its canonical form."""
    return re.sub(r"[\s\-]", "", code or "").upper()


def format_code(code: str) -> str:
    """``ABCD-EFGH-JKMN`` for reading and writing down."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def valid_code(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _float(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(name, value, "not a number") from None
    if not math.isfinite(v):
        raise InputError(name, value, "not a finite number")
    return v


def clean_phone(phone: str | None) -> str | None:
    if phone is None or not str(phone).strip():
        return None
    p = re.sub(r"[\s\-()]", "", str(phone))
    if not _PHONE.match(p):
        raise InputError("phone", phone, "a mainland mobile number (11 digits, 1[3-9]…) or a landline with its "
                         "area code (0…)")
    return p[3:] if p.startswith("+86") else p[2:] if p.startswith("86") and len(p) > 12 else p


def sniff_photo(data: bytes) -> str:
    """The image type from its content (``image/jpeg`` or ``image/png``); InputError otherwise."""
    if not data:
        raise InputError("photo", None, "the file is empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise InputError("photo", f"{len(data)} bytes", f"at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    if data[:3] == b"\xff\xd8\xff" and len(data) > 100:
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return "image/png"
    raise InputError("photo", f"{len(data)} bytes starting {data[:4].hex()}", "not a JPEG or PNG image")


def strip_metadata(data: bytes, mime: str) -> bytes:
    """Remove metadata that can identify the complainant (EXIF with GPS and camera serial numbers, XMP,
    comments, text chunks) without re-encoding the image. InputError when the image structure is broken."""
    if mime == "image/jpeg":
        return _strip_jpeg(data)
    if mime == "image/png":
        return _strip_png(data)
    return data


def _strip_jpeg(data: bytes) -> bytes:
    out = bytearray(b"\xff\xd8")
    i = 2
    n = len(data)
    while i < n:
        if data[i] != 0xFF:
            raise InputError("photo", None, "not a well-formed JPEG image")
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            break
        marker = data[i]
        i += 1
        if marker == 0xDA:  # start of scan: the rest is image data
            out += b"\xff\xda" + data[i:]
            return bytes(out)
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            out += bytes((0xFF, marker))
            continue
        if marker == 0xD9:
            out += b"\xff\xd9"
            return bytes(out)
        if i + 2 > n:
            raise InputError("photo", None, "not a well-formed JPEG image (truncated)")
        (length,) = struct.unpack(">H", data[i:i + 2])
        if length < 2 or i + length > n:
            raise InputError("photo", None, "not a well-formed JPEG image (bad segment length)")
        seg = data[i:i + length]
        i += length
        keep = not (0xE1 <= marker <= 0xEF and marker != 0xEE) and marker != 0xFE  # APP0 JFIF, APP14 Adobe kept
        if keep:
            out += bytes((0xFF, marker)) + seg
    raise InputError("photo", None, "not a well-formed JPEG image (no image data)")


_PNG_DROP = {b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"}


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    i = 8
    while i + 12 <= len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        ctype = data[i + 4:i + 8]
        end = i + 12 + length
        if end > len(data):
            raise InputError("photo", None, "not a well-formed PNG image (truncated chunk)")
        if ctype not in _PNG_DROP:
            out += data[i:end]
        i = end
        if ctype == b"IEND":
            return bytes(out)
    raise InputError("photo", None, "not a well-formed PNG image (no IEND)")


def validate(inp: ComplaintInput) -> dict:
    """Checked and normalised fields; :class:`InputError` naming the first bad field and its value."""
    category = (inp.category or "").strip().lower()
    if category not in CATEGORIES:
        raise InputError("category", inp.category, "one of " + ", ".join(CATEGORIES))
    desc = (inp.description or "").strip()
    if len(desc) < DESCRIPTION_MIN:
        raise InputError("description", desc, f"at least {DESCRIPTION_MIN} characters: what, where, since when")
    if len(desc) > DESCRIPTION_MAX:
        raise InputError("description", desc, f"at most {DESCRIPTION_MAX} characters")
    lon, lat = _float("lon", inp.lon), _float("lat", inp.lat)
    if not -180 <= lon <= 180:
        raise InputError("lon", inp.lon, "a longitude in degrees (WGS-84), -180 … 180")
    if not -90 <= lat <= 90:
        raise InputError("lat", inp.lat, "a latitude in degrees (WGS-84), -90 … 90")
    address = (inp.address or "").strip() or None
    if address and len(address) > ADDRESS_MAX:
        raise InputError("address", address, f"at most {ADDRESS_MAX} characters")
    out = {"category": category, "description": desc, "lon": round(lon, 6), "lat": round(lat, 6),
           "address": address, "phone": clean_phone(inp.phone), "photo": None, "photo_type": None}
    if inp.photo is not None and len(inp.photo) > 0:
        mime = sniff_photo(inp.photo)
        out["photo"] = strip_metadata(inp.photo, mime)
        out["photo_type"] = mime
    return out


# --- submission and public tracking ---------------------------------------------------------------------------
def _bj(t: datetime | None) -> str | None:
    return t.astimezone(BEIJING).isoformat() if t is not None else None


def nearby_open(store: Store, lon: float, lat: float, category: str | None = None,
                radius_m: float = DUPLICATE_RADIUS_M, exclude_id: int | None = None) -> list[dict]:
    """Open complaints (received/accepted) within ``radius_m`` of the point (same category if given), nearest
    first: id, tracking_code, category, status, submitted_at, distance_m (for staff; the public answer keeps
    only category, status, date and distance)."""
    dlat = radius_m / 111_000.0
    dlon = radius_m / max(1.0, 111_320.0 * math.cos(math.radians(min(89.9, abs(lat)))))
    q = (select(complaint.c.id, complaint.c.tracking_code, complaint.c.category, complaint.c.status,
                complaint.c.submitted_at, complaint.c.lon, complaint.c.lat)
         .where(complaint.c.status.in_(OPEN_STATUSES),
                complaint.c.lat.between(lat - dlat, lat + dlat), complaint.c.lon.between(lon - dlon, lon + dlon)))
    if category:
        q = q.where(complaint.c.category == category)
    if exclude_id is not None:
        q = q.where(complaint.c.id != exclude_id)
    out = []
    with store.engine.connect() as conn:
        for r in conn.execute(q).mappings():
            d = haversine_km(lon, lat, r["lon"], r["lat"]) * 1000.0
            if d <= radius_m:
                out.append({"id": r["id"], "tracking_code": r["tracking_code"], "category": r["category"],
                            "status": r["status"], "submitted_at": _bj(r["submitted_at"]),
                            "distance_m": round(d, 1)})
    return sorted(out, key=lambda r: (r["distance_m"], r["id"]))


def public_nearby(store: Store, lon, lat, category: str | None) -> list[dict]:
    lon, lat = _float("lon", lon), _float("lat", lat)
    if category is not None and category not in CATEGORIES:
        raise InputError("category", category, "one of " + ", ".join(CATEGORIES))
    return [{k: r[k] for k in ("category", "status", "submitted_at", "distance_m")}
            for r in nearby_open(store, lon, lat, category)]


def submit(store: Store, inp: ComplaintInput, data_dir: Path, *, now: datetime | None = None) -> dict:
    """Validate, place, store (photo first, then one transaction for the row and its first event). Returns
    the tracking code and what the complainant may see."""
    v = validate(inp)
    loc = geo.locate(store, v["lon"], v["lat"])
    if loc is None:
        raise InputError("location", f"{v['lon']},{v['lat']}", "outside the divisions this platform serves "
                         "(not in China)")
    now = now or datetime.now(UTC)
    dups = nearby_open(store, v["lon"], v["lat"], v["category"])
    photo_rel = None
    if v["photo"] is not None:
        ext = ".jpg" if v["photo_type"] == "image/jpeg" else ".png"
        photo_rel = f"uploads/complaints/{now:%Y%m}/{uuid.uuid4().hex}{ext}"
        path = Path(data_dir) / photo_rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(v["photo"])
    ring = personal.ring()  # SM4 for the phone and the address when a key is configured
    with write_tx(store) as conn:
        for _ in range(5):
            code = new_code()
            if conn.scalar(select(complaint.c.id).where(complaint.c.tracking_code == code)) is None:
                break
        cid = conn.execute(insert(complaint).values(
            tracking_code=code, category=v["category"], description=v["description"], lon=v["lon"], lat=v["lat"],
            region_code=loc.code, region_method=loc.method, address=personal.seal(v["address"], ring),
            phone=personal.seal(v["phone"], ring), phone_bidx=personal.phone_index(v["phone"], ring),
            photo_path=photo_rel, photo_type=v["photo_type"], photo_size=len(v["photo"]) if v["photo"] else None,
            status="received", possible_duplicates=[d["id"] for d in dups] or None, submitted_at=now,
            updated_at=now)).inserted_primary_key[0]
        conn.execute(insert(complaint_event).values(complaint_id=cid, status="received", at=now, actor=None,
                                                    note=None))
    return {"tracking_code": code, "tracking_code_display": format_code(code), "status": "received",
            "category": v["category"], "region_code": loc.code, "region_name": loc.name,
            "region_method": loc.method, "submitted_at": _bj(now), "photo": photo_rel is not None,
            "possible_duplicates": [{k: d[k] for k in ("category", "status", "submitted_at", "distance_m")}
                                    for d in dups]}


def _history(conn, cid: int, *, with_actor: bool) -> list[dict]:
    rows = conn.execute(select(complaint_event.c.status, complaint_event.c.at, complaint_event.c.note,
                               complaint_event.c.actor)
                        .where(complaint_event.c.complaint_id == cid).order_by(complaint_event.c.id)).mappings()
    return [{"status": r["status"], "at": _bj(r["at"]), "note": r["note"],
             **({"actor": r["actor"]} if with_actor else {})} for r in rows]


def track(store: Store, code: str) -> dict | None:
    """The public view of one complaint by its tracking code (None when there is none): no personal data."""
    code = normalize_code(code)
    if not valid_code(code):
        return None
    q = (select(complaint.c.id, complaint.c.tracking_code, complaint.c.category, complaint.c.status,
                complaint.c.submitted_at, complaint.c.updated_at, complaint.c.region_code,
                region.c.name.label("region_name"))
         .select_from(complaint.join(region, region.c.code == complaint.c.region_code))
         .where(complaint.c.tracking_code == code))
    with store.engine.connect() as conn:
        r = conn.execute(q).mappings().first()
        if r is None:
            return None
        return {"tracking_code": r["tracking_code"], "tracking_code_display": format_code(r["tracking_code"]),
                "category": r["category"], "status": r["status"], "region_code": r["region_code"],
                "region_name": r["region_name"], "submitted_at": _bj(r["submitted_at"]),
                "updated_at": _bj(r["updated_at"]), "history": _history(conn, r["id"], with_actor=False)}


# --- staff ----------------------------------------------------------------------------------------------------
def scope_condition(scope: Scope) -> ColumnElement | None:
    """SQL condition on ``complaint`` for a staff scope (None: all); PermissionError for other roles."""
    if scope.role in ("system", "admin", "analyst"):
        return None
    if scope.role == "officer" and scope.region_code:
        return complaint.c.region_code.startswith(region_prefix(scope.region_code), autoescape=True)
    raise PermissionError("complaints are handled by staff (admin, analyst, officer)")


def may_see_contact(scope: Scope, handler: str | None) -> bool:
    """Whether ``scope`` may see the contact of a complaint whose handler is ``handler``: the platform's own
    services, and the handling officer (by user name) — nobody while no one handles it."""
    if scope.role == "system":
        return True
    return scope.role in CONTACT_ROLES and bool(scope.name) and scope.name == handler


def handles_any(scope: Scope) -> bool:
    """Whether the caller is of a role that can handle complaints (and so search its own by phone)."""
    return scope.role == "system" or scope.role in CONTACT_ROLES


def _staff_row(r, scope: Scope) -> dict:
    """Personal fields decrypted (SM4, :mod:`ecohub.store.personal`) for the handling officer, masked for others."""
    d = dict(r)
    phone, address = personal.unseal(d.pop("phone", None)), personal.unseal(d.pop("address", None))
    see = may_see_contact(scope, d.get("handler"))
    d["phone"] = phone if see else mask_phone(phone)
    d["address"] = address if see else personal.mask_address(address)
    d["phone_masked"] = bool(phone) and not see
    d["tracking_code_display"] = format_code(d["tracking_code"])
    for k in ("submitted_at", "updated_at"):
        d[k] = _bj(d[k])
    d["photo"] = d.pop("photo_path", None) is not None
    return d


_STAFF_COLS = (complaint.c.id, complaint.c.tracking_code, complaint.c.category, complaint.c.description,
               complaint.c.lon, complaint.c.lat, complaint.c.region_code, region.c.name.label("region_name"),
               complaint.c.region_method, complaint.c.address, complaint.c.phone, complaint.c.photo_path,
               complaint.c.status, complaint.c.possible_duplicates, complaint.c.submitted_at, complaint.c.updated_at,
               complaint_handling.c.handler)
_STAFF_FROM = (complaint.join(region, region.c.code == complaint.c.region_code)
               .outerjoin(complaint_handling, complaint_handling.c.complaint_id == complaint.c.id))


def list_complaints(store: Store, scope: Scope, *, status: str | None = None, region_code: str | None = None,
                    category: str | None = None, limit: int = 100, before_id: int | None = None,
                    phone: str | None = None) -> list[dict]:
    """Newest first. ``phone``: only the complaints left with this number among those the caller handles (found
    through the HMAC-SM3 blind index when the phone is encrypted, by equality on rows still in clear)."""
    cond = scope_condition(scope)
    if phone is not None and not handles_any(scope):
        raise PermissionError("searching by phone is for the handling officer, among the complaints he handles")
    if status is not None and status not in STATUSES and status != "open":
        raise InputError("status", status, "one of open, " + ", ".join(STATUSES))
    if category is not None and category not in CATEGORIES:
        raise InputError("category", category, "one of " + ", ".join(CATEGORIES))
    q = select(*_STAFF_COLS).select_from(_STAFF_FROM).order_by(complaint.c.id.desc()).limit(limit)
    if cond is not None:
        q = q.where(cond)
    if status == "open":
        q = q.where(complaint.c.status.in_(OPEN_STATUSES))
    elif status:
        q = q.where(complaint.c.status == status)
    if category:
        q = q.where(complaint.c.category == category)
    if region_code:
        q = q.where(complaint.c.region_code.startswith(region_prefix(region_code), autoescape=True))
    if before_id is not None:
        q = q.where(complaint.c.id < before_id)
    if phone is not None:
        p = clean_phone(phone)
        idx = personal.phone_index(p)
        q = q.where(or_(complaint.c.phone == p, *([complaint.c.phone_bidx == idx] if idx else [])))
        if scope.role != "system":
            q = q.where(complaint_handling.c.handler == scope.name)
    with store.engine.connect() as conn:
        return [_staff_row(r, scope) for r in conn.execute(q).mappings()]


def get_complaint(store: Store, scope: Scope, code: str) -> dict | None:
    """Staff view of one complaint with its history (actors included) and the nearby open complaints."""
    cond = scope_condition(scope)
    code = normalize_code(code)
    q = select(*_STAFF_COLS).select_from(_STAFF_FROM).where(complaint.c.tracking_code == code)
    if cond is not None:
        q = q.where(cond)
    with store.engine.connect() as conn:
        r = conn.execute(q).mappings().first()
        if r is None:
            return None
        out = _staff_row(r, scope)
        out["history"] = _history(conn, r["id"], with_actor=True)
    out["nearby_open"] = [d for d in nearby_open(store, r["lon"], r["lat"], r["category"], exclude_id=r["id"])]
    return out


def photo_file(store: Store, scope: Scope, code: str, data_dir: Path) -> tuple[Path, str] | None:
    cond = scope_condition(scope)
    q = select(complaint.c.photo_path, complaint.c.photo_type).where(
        complaint.c.tracking_code == normalize_code(code))
    if cond is not None:
        q = q.where(cond)
    with store.engine.connect() as conn:
        r = conn.execute(q).first()
    if r is None or r.photo_path is None:
        return None
    p = (Path(data_dir) / r.photo_path).resolve()
    if not p.is_relative_to(Path(data_dir).resolve()) or not p.is_file():
        return None
    return p, r.photo_type


def change_status(store: Store, scope: Scope, code: str, new_status: str, *, actor: str, note: str | None = None,
                  now: datetime | None = None) -> dict:
    """Move a complaint along its workflow — through the one declaration of the loop
    (:func:`ecohub.supervision.complaint_loop.advance`; the coarse statuses are stages of it). Analysts only
    read: admins and officers act. InputError for a step the loop does not declare or a missing reason;
    LookupError when not found."""
    from ecohub.store.audit import Origin
    from ecohub.supervision import complaint_loop

    if scope.role not in ("system", "admin", "officer"):
        raise PermissionError("complaints are handled by admins and officers")
    if new_status not in STATUSES:
        raise InputError("status", new_status, "one of " + ", ".join(STATUSES))
    out = complaint_loop.advance(store, scope, Origin(actor, scope.role), code, new_status, note=note, now=now)
    return {"tracking_code": out["tracking_code"], "status": out["status"], "at": out["at"]}


def statistics(store: Store, scope: Scope, *, now: datetime | None = None) -> dict:
    """Counts by status, received today (Beijing), and the mean days to acceptance and to closure (12369
    reports both) over the complaints the scope may see."""
    cond = scope_condition(scope)
    now = now or datetime.now(UTC)
    today = now.astimezone(BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    base = select(complaint.c.status, func.count()).group_by(complaint.c.status)
    tq = select(func.count()).select_from(complaint).where(complaint.c.submitted_at >= today.astimezone(UTC))
    ev = (select(complaint.c.id, complaint.c.submitted_at, complaint_event.c.status, complaint_event.c.at)
          .select_from(complaint.join(complaint_event, complaint_event.c.complaint_id == complaint.c.id))
          .where(complaint_event.c.status.in_(("accepted", "closed")),
                 complaint.c.submitted_at >= now - timedelta(days=365)))
    if cond is not None:
        base, tq, ev = base.where(cond), tq.where(cond), ev.where(cond)
    with store.engine.connect() as conn:
        by_status = {s: 0 for s in STATUSES}
        by_status.update(dict(conn.execute(base).all()))
        today_n = int(conn.scalar(tq) or 0)
        accept, close = [], []
        for r in conn.execute(ev).mappings():
            days = (r["at"] - r["submitted_at"]).total_seconds() / 86400.0
            (accept if r["status"] == "accepted" else close).append(days)
    mean = lambda xs: round(sum(xs) / len(xs), 2) if xs else None  # noqa: E731
    return {"by_status": by_status, "open": sum(by_status[s] for s in OPEN_STATUSES), "today": today_n,
            "total": sum(by_status.values()), "mean_days_to_accept": mean(accept), "mean_days_to_close": mean(close)}
