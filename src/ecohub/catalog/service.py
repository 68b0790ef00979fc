"""The data resource catalogue (数据资源目录): datasets, who may see and export them, access requests and
grants, masked and watermarked exports.

**Who sees a dataset's description (metadata).** Admins and analysts: all. The owner department: its own.
Anyone (also anonymous): datasets whose open level is ``open`` or ``conditional``. Signed-in partners and
officers: also datasets shared ``unconditional`` or ``conditional`` (metadata open, data on request).

**Who may export its data.**
* admin, analyst, and the owner department's users: always;
* anyone, anonymous too: when the open level is ``open`` (无条件开放);
* partners and officers: when the sharing level is ``unconditional`` (无条件共享);
* holders of an approved, unexpired grant: when the sharing or open level is ``conditional``
  (有条件共享 / 有条件开放) — a partner requests with a purpose, the owner department (or an admin)
  approves with an expiry (default 90 days, at most 365) or refuses with a reason;
* nobody else; ``none`` / ``closed`` datasets only to the first group.

**Exports** are masked (fields with a ``mask`` policy, :mod:`ecohub.catalog.masking`), watermarked per
recipient (numeric fields with ``watermark``, :mod:`ecohub.catalog.watermark`) and recorded
(``export_record``; the API also writes the audit entry). Observation datasets take their rows from the
query layer with the dataset's own filter — a grant is to the dataset, not to the caller's region.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from ecohub.catalog import masking, watermark
from ecohub.domain.cells import neutralise
from ecohub.domain.errors import InputError
from ecohub.domain.timeutil import BEIJING
from ecohub.store.db import Store
from ecohub.store.queries import SYSTEM, SeriesFilter, observations
from ecohub.store.schema_catalog import (
    OPEN_LEVELS,
    SHARING_LEVELS,
    access_request,
    dataset,
    dataset_record,
    export_record,
)
from ecohub.store.schema_identity import app_user
from ecohub.store.tx import write_tx

FREQUENCIES = ("realtime", "minute", "hourly", "daily", "monthly", "quarterly", "yearly", "irregular")
FIELD_TYPES = ("string", "number", "integer", "time", "date", "boolean")
FORMATS = ("csv", "json", "parquet")
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json", "parquet": "application/vnd.apache.parquet"}
OBSERVATION_FIELDS = [
    {"name": "site", "type": "string", "description": "site code"},
    {"name": "parameter", "type": "string", "description": "parameter name"},
    {"name": "interval", "type": "string", "description": "rt, minute, hour, day"},
    {"name": "time", "type": "time", "description": "period start, Beijing time (ISO-8601)"},
    {"name": "value", "type": "number", "description": "value in the parameter's unit", "watermark": True},
    {"name": "flag", "type": "string", "description": "HJ 212 data flag"},
    {"name": "source", "type": "string", "description": "channel the value came by"},
]
MAX_GRANT_DAYS = 365
DEFAULT_GRANT_DAYS = 90
MAX_EXPORT_DAYS = 400


@dataclass(frozen=True)
class Requester:
    role: str  # admin, analyst, officer, enterprise, partner, public
    user_id: int | None = None
    name: str | None = None
    department: str | None = None


ANON = Requester("public")


# --- datasets -------------------------------------------------------------------------------------------------
def _check_fields(fields) -> list[dict]:
    if not isinstance(fields, list) or not fields:
        raise InputError("fields", fields, "a dataset needs a non-empty list of fields")
    out, names = [], set()
    for f in fields:
        if not isinstance(f, dict) or not isinstance(f.get("name"), str) or not f["name"].strip():
            raise InputError("fields", f, "each field needs a name")
        name = f["name"].strip()
        if name in names:
            raise InputError("fields", name, "duplicate field name")
        names.add(name)
        t = f.get("type", "string")
        if t not in FIELD_TYPES:
            raise InputError("fields", t, f"field type must be one of {', '.join(FIELD_TYPES)}")
        m = f.get("mask")
        if m is not None and m not in masking.POLICIES:
            raise InputError("fields", m, f"mask must be one of {', '.join(masking.POLICIES)}")
        d = f.get("decimals")
        if d is not None and (not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6):
            raise InputError("fields", d, "decimals must be an integer 0-6")
        if f.get("watermark") and t != "number":
            raise InputError("fields", name, "only number fields carry a watermark")
        out.append({"name": name, "type": t, "description": str(f.get("description") or ""),
                    **({"mask": m} if m else {}), **({"decimals": d} if d is not None else {}),
                    **({"watermark": True} if f.get("watermark") else {})})
    return out


def _check_source(src) -> dict:
    if not isinstance(src, dict) or src.get("type") not in ("observations", "records"):
        raise InputError("source", src, 'source must be {"type": "observations", ...filter} or {"type": "records"}')
    if src["type"] == "records":
        return {"type": "records"}
    out = {"type": "observations"}
    for k in ("sites", "parameters", "kinds"):
        v = src.get(k, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise InputError(f"source.{k}", v, "must be a list of names")
        out[k] = v
    for k in ("interval", "region_prefix"):
        v = src.get(k)
        if v is not None and not isinstance(v, str):
            raise InputError(f"source.{k}", v, "must be text")
        out[k] = v
    return out


def create_dataset(conn: Connection, *, code: str, title: str, description: str, owner_department: str,
                   fields: list | None, update_frequency: str, sharing_level: str, open_level: str,
                   source: dict) -> int:
    code = (code or "").strip()
    if not code or len(code) > 64 or any(ch.isspace() for ch in code):
        raise InputError("code", code, "1-64 characters without blanks")
    if conn.scalar(select(dataset.c.id).where(dataset.c.code == code)) is not None:
        raise InputError("code", code, "a dataset with this code exists")
    for name, v in (("title", title), ("description", description), ("owner_department", owner_department)):
        if not isinstance(v, str) or not v.strip():
            raise InputError(name, v, "must not be empty")
    if update_frequency not in FREQUENCIES:
        raise InputError("update_frequency", update_frequency, f"one of {', '.join(FREQUENCIES)}")
    if sharing_level not in SHARING_LEVELS:
        raise InputError("sharing_level", sharing_level, f"one of {', '.join(SHARING_LEVELS)}")
    if open_level not in OPEN_LEVELS:
        raise InputError("open_level", open_level, f"one of {', '.join(OPEN_LEVELS)}")
    src = _check_source(source)
    flds = OBSERVATION_FIELDS if src["type"] == "observations" else _check_fields(fields)
    now = datetime.now(UTC)
    return int(conn.execute(insert(dataset).values(
        code=code, title=title.strip(), description=description.strip(), owner_department=owner_department.strip(),
        fields=flds, update_frequency=update_frequency, sharing_level=sharing_level, open_level=open_level,
        source=src, created_at=now, updated_at=now)).inserted_primary_key[0])


def get_dataset(conn: Connection, dataset_id: int) -> dict | None:
    r = conn.execute(select(dataset).where(dataset.c.id == dataset_id)).mappings().first()
    return dict(r) if r else None


def _metadata_condition(who: Requester):
    if who.role in ("admin", "analyst"):
        return None
    conds = [dataset.c.open_level.in_(["open", "conditional"])]
    if who.department:
        conds.append(dataset.c.owner_department == who.department)
    if who.role in ("partner", "officer"):
        conds.append(dataset.c.sharing_level.in_(["unconditional", "conditional"]))
    return or_(*conds)


def can_see(ds: dict, who: Requester) -> bool:
    if who.role in ("admin", "analyst") or (who.department and who.department == ds["owner_department"]):
        return True
    if ds["open_level"] in ("open", "conditional"):
        return True
    return who.role in ("partner", "officer") and ds["sharing_level"] in ("unconditional", "conditional")


def list_datasets(conn: Connection, who: Requester) -> list[dict]:
    q = select(dataset).order_by(dataset.c.id)
    cond = _metadata_condition(who)
    if cond is not None:
        q = q.where(cond)
    out = []
    for r in conn.execute(q).mappings():
        d = dict(r)
        d["access"] = access_of(conn, d, who)
        out.append(d)
    return out


def _grant(conn: Connection, ds_id: int, user_id: int | None, now: datetime) -> dict | None:
    if user_id is None:
        return None
    r = conn.execute(select(access_request).where(
        access_request.c.dataset_id == ds_id, access_request.c.user_id == user_id,
        access_request.c.status == "approved", access_request.c.expires_at > now)
        .order_by(access_request.c.expires_at.desc())).mappings().first()
    return dict(r) if r else None


def access_of(conn: Connection, ds: dict, who: Requester, now: datetime | None = None) -> str:
    """``full`` (owner/admin/analyst), ``open``, ``shared``, ``granted``, ``requestable`` or ``none``."""
    now = now or datetime.now(UTC)
    if who.role in ("admin", "analyst") or (who.department and who.department == ds["owner_department"]):
        return "full"
    if ds["open_level"] == "open":
        return "open"
    if who.role in ("partner", "officer") and ds["sharing_level"] == "unconditional":
        return "shared"
    if _grant(conn, ds["id"], who.user_id, now) is not None:
        return "granted"
    if who.user_id is not None and (ds["sharing_level"] == "conditional" or ds["open_level"] == "conditional"):
        return "requestable"
    return "none"


def may_export(conn: Connection, ds: dict, who: Requester) -> bool:
    return access_of(conn, ds, who) in ("full", "open", "shared", "granted")


def add_records(conn: Connection, ds: dict, rows: list[dict], region_code: str | None = None) -> int:
    if ds["source"].get("type") != "records":
        raise InputError("dataset", ds["code"], "only 'records' datasets take records (observation datasets "
                         "read the observations)")
    names = {f["name"] for f in ds["fields"]}
    now = datetime.now(UTC)
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise InputError(f"records[{i}]", r, "must be an object")
        extra = set(r) - names
        if extra:
            raise InputError(f"records[{i}]", sorted(extra), "fields not in the dataset: "
                             + ", ".join(sorted(extra)))
        out.append({"dataset_id": ds["id"], "region_code": region_code, "data": r, "created_at": now})
    if out:
        conn.execute(insert(dataset_record), out)
    return len(out)


# --- requests and grants ------------------------------------------------------------------------------------
def request_access(conn: Connection, ds: dict, who: Requester, purpose: str) -> dict:
    if who.user_id is None:
        raise InputError("user", None, "sign in to request access")
    if not isinstance(purpose, str) or len(purpose.strip()) < 5:
        raise InputError("purpose", purpose, "say what the data are for (at least 5 characters)")
    acc = access_of(conn, ds, who)
    if acc in ("full", "open", "shared", "granted"):
        raise InputError("dataset", ds["code"], f"you already have access ({acc})")
    if acc != "requestable":
        raise InputError("dataset", ds["code"], "this dataset is not shared (不予共享): it cannot be requested")
    pending = conn.execute(select(access_request).where(
        access_request.c.dataset_id == ds["id"], access_request.c.user_id == who.user_id,
        access_request.c.status == "pending")).mappings().first()
    if pending is not None:
        return dict(pending)
    rid = conn.execute(insert(access_request).values(
        dataset_id=ds["id"], user_id=who.user_id, purpose=purpose.strip(), status="pending",
        requested_at=datetime.now(UTC))).inserted_primary_key[0]
    return get_request(conn, int(rid))


def get_request(conn: Connection, rid: int) -> dict | None:
    q = (select(access_request, dataset.c.code.label("dataset"), dataset.c.owner_department,
                app_user.c.name.label("user"))
         .select_from(access_request.join(dataset, dataset.c.id == access_request.c.dataset_id)
                      .join(app_user, app_user.c.id == access_request.c.user_id))
         .where(access_request.c.id == rid))
    r = conn.execute(q).mappings().first()
    return dict(r) if r else None


def can_decide(ds_or_req: dict, who: Requester) -> bool:
    return who.role == "admin" or (who.department is not None and who.role in ("analyst", "officer")
                                   and who.department == ds_or_req["owner_department"])


def list_requests(conn: Connection, who: Requester, status: str | None = None) -> list[dict]:
    q = (select(access_request, dataset.c.code.label("dataset"), dataset.c.owner_department,
                app_user.c.name.label("user"))
         .select_from(access_request.join(dataset, dataset.c.id == access_request.c.dataset_id)
                      .join(app_user, app_user.c.id == access_request.c.user_id))
         .order_by(access_request.c.id.desc()))
    if who.role != "admin":
        mine = access_request.c.user_id == (who.user_id or -1)
        owned = and_(dataset.c.owner_department == who.department, who.role in ("analyst", "officer")) \
            if who.department else None
        q = q.where(or_(mine, owned) if owned is not None else mine)
    if status:
        q = q.where(access_request.c.status == status)
    return [dict(r) for r in conn.execute(q).mappings()]


def decide(conn: Connection, rid: int, who: Requester, approve: bool, reason: str | None,
           days: int | None = None) -> dict:
    req = get_request(conn, rid)
    if req is None:
        raise LookupError("access request")
    if not can_decide(req, who):
        raise PermissionError("only the owner department or an admin decides")
    if req["status"] != "pending":
        raise InputError("status", req["status"], "the request has been decided already")
    now = datetime.now(UTC)
    if approve:
        days = DEFAULT_GRANT_DAYS if days is None else days
        if not 1 <= days <= MAX_GRANT_DAYS:
            raise InputError("days", days, f"a grant lasts 1-{MAX_GRANT_DAYS} days")
        values = {"status": "approved", "expires_at": now + timedelta(days=days)}
    else:
        if not reason or len(reason.strip()) < 2:
            raise InputError("reason", reason, "a refusal needs a reason")
        values = {"status": "refused"}
    conn.execute(update(access_request).where(access_request.c.id == rid).values(
        decided_at=now, decided_by=who.user_id, reason=(reason or "").strip() or None, **values))
    return get_request(conn, rid)


def revoke_grant(conn: Connection, rid: int, who: Requester, reason: str) -> dict:
    req = get_request(conn, rid)
    if req is None:
        raise LookupError("access request")
    if not can_decide(req, who):
        raise PermissionError("only the owner department or an admin revokes")
    if req["status"] != "approved":
        raise InputError("status", req["status"], "only an approved grant can be revoked")
    conn.execute(update(access_request).where(access_request.c.id == rid).values(
        status="revoked", reason=reason, decided_at=datetime.now(UTC), decided_by=who.user_id))
    return get_request(conn, rid)


# --- export ---------------------------------------------------------------------------------------------------
@dataclass
class Export:
    body: bytes
    media_type: str
    filename: str
    export_id: int
    rows: int
    masked: list[str]


def _filter(ds: dict) -> SeriesFilter:
    src = ds["source"]
    return SeriesFilter(sites=src.get("sites") or (), parameters=src.get("parameters") or (),
                        interval=src.get("interval"), kinds=src.get("kinds") or (),
                        region_prefix=src.get("region_prefix"))


def _rows(store: Store, ds: dict, start: datetime | None, end: datetime | None, limit: int, *,
          received: tuple[datetime | None, datetime] | None = None, offset: int = 0,
          ids: tuple[int, int] | None = None) -> Iterator[dict]:
    """The dataset's rows; ``received`` (after, until]: only observations received then (from the ``offset``-th
    on); ``ids`` (after, until]: only those records (deltas for a partner push)."""
    if ds["source"]["type"] == "observations":
        flt = _filter(ds)
        after, until = received if received is not None else (None, None)
        for r in observations(store, flt, start, end, limit=limit, scope=SYSTEM, as_of=until,
                              received_after=after, offset=offset):
            yield {"site": r["site"], "parameter": r["parameter"], "interval": r["interval"], "time": r["time"],
                   "value": r["value"], "flag": r["flag"], "source": r["source"]}
        return
    q = select(dataset_record.c.data).where(dataset_record.c.dataset_id == ds["id"]).order_by(
        dataset_record.c.id).limit(limit)
    if ids is not None:
        q = q.where(dataset_record.c.id > ids[0], dataset_record.c.id <= ids[1])
    with store.engine.connect() as conn:
        for (data,) in conn.execute(q):
            yield dict(data)


def _masked(ds: dict, rows: Iterator[dict], key: bytes) -> tuple[list[dict], list[str], dict, dict]:
    """Rows as exported: masked (field ``mask`` policies), watermarked with ``key`` (``watermark`` fields; the
    decimals kept in ``__dec_<field>``), times in Beijing time (ISO-8601). Returns (rows, names, masks, marks)."""
    fields = ds["fields"]
    names = [f["name"] for f in fields]
    masks = {f["name"]: f["mask"] for f in fields if f.get("mask")}
    marks = {f["name"]: f.get("decimals") for f in fields if f.get("watermark")}
    out_rows = []
    for r in rows:
        row = {n: r.get(n) for n in names}
        for n, pol in masks.items():
            row[n] = masking.mask(row[n], pol)
        for n, dec in marks.items():
            v = row.get(n)
            if isinstance(v, int | float) and not isinstance(v, bool):
                d = dec if dec is not None else watermark.DECIMALS.get(r.get("parameter"), 3)
                row[n] = watermark.mark(float(v), d, key)
                row[f"__dec_{n}"] = d
        if isinstance(row.get("time"), datetime):
            row["time"] = row["time"].astimezone(BEIJING).isoformat()
        out_rows.append(row)
    return out_rows, names, masks, marks


def _record_export(store: Store, ds: dict, who: Requester, recipient: str, fmt: str, rows: int, masks: dict,
                   key: bytes, ip: str | None) -> int:
    with write_tx(store) as conn:
        return int(conn.execute(insert(export_record).values(
            dataset_id=ds["id"], user_id=who.user_id, recipient=recipient[:200], format=fmt, rows=rows,
            masked_fields=sorted(masks), wm_key=key.hex(), created_at=datetime.now(UTC), ip=ip)
        ).inserted_primary_key[0])


def export_dataset(store: Store, ds: dict, who: Requester, fmt: str, *, start: datetime | None = None,
                   end: datetime | None = None, ip: str | None = None, max_rows: int = 1_000_000) -> Export:
    """Masked, watermarked export of a dataset for ``who`` (the caller checked :func:`may_export`)."""
    if fmt not in FORMATS:
        raise InputError("format", fmt, f"one of {', '.join(FORMATS)}")
    if ds["source"]["type"] == "observations":
        if start is None or end is None:
            raise InputError("from", None, "an observation dataset is exported for a time range: give from and to")
        if end <= start or (end - start).days > MAX_EXPORT_DAYS:
            raise InputError("to", end.isoformat(), f"the range must be positive and at most {MAX_EXPORT_DAYS} days")
    key = secrets.token_bytes(32)
    out_rows, names, masks, marks = _masked(ds, _rows(store, ds, start, end, max_rows), key)
    body, media = _serialise(out_rows, names, marks, fmt)
    recipient = who.name or f"anonymous@{ip or 'unknown'}"
    eid = _record_export(store, ds, who, recipient, fmt, len(out_rows), masks, key, ip)
    stamp = datetime.now(BEIJING).strftime("%Y%m%d%H%M")
    return Export(body, media, f"{ds['code']}_{stamp}_{eid}.{fmt}", int(eid), len(out_rows), sorted(masks))


@dataclass
class Delta:
    """What a partner push carries: rows exactly as a JSON export gives them, and where the next one starts."""

    rows: list[dict]
    cursor: str
    export_id: int | None
    masked: list[str]


def _epoch(t: datetime) -> str:
    return str(int(t.timestamp()))


def delta_rows(store: Store, ds: dict, who: Requester, cursor: str | None, *, recipient: str,
               max_rows: int = 5000) -> Delta:
    """The next at most ``max_rows`` rows of ``ds`` for ``who`` after ``cursor`` (the caller checked
    :func:`may_export`), masked and watermarked like an export (recorded in ``export_record`` when there are
    rows: identifiable like any export).

    Observations: a *window* of what was received after the previous window and before the current second
    (``received_at`` has whole seconds: rows of this second may still come) is read in pages of ``max_rows`` in
    the query layer's order; raw observations never change, so a window's pages are stable. Cursor
    ``recv:<after>:<until>:<offset>`` while a window is being read, ``recv:<until>`` when it is done (Unix
    seconds). Records: ids after the cursor's (``id:<n>``)."""
    if ds["source"]["type"] == "observations":
        parts = (cursor or "recv:").removeprefix("recv:").split(":")
        after = datetime.fromtimestamp(int(parts[0]), UTC) if parts[0] else None
        if len(parts) == 3:
            until, offset = datetime.fromtimestamp(int(parts[1]), UTC), int(parts[2])
        else:
            until, offset = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1), 0
            if after is not None and until <= after:
                return Delta([], cursor or "", None, [])
        rows = list(_rows(store, ds, None, None, max_rows, received=(after, until), offset=offset))
        head = _epoch(after) if after is not None else ""
        new_cursor = f"recv:{head}:{_epoch(until)}:{offset + len(rows)}" if len(rows) == max_rows \
            else f"recv:{_epoch(until)}"
        source: Iterator[dict] = iter(rows)
    else:
        after_id = int(cursor.removeprefix("id:")) if cursor else 0
        with store.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(select(dataset_record.c.id).where(
                dataset_record.c.dataset_id == ds["id"], dataset_record.c.id > after_id)
                .order_by(dataset_record.c.id).limit(max_rows))]
        until_id = ids[-1] if ids else after_id
        source = _rows(store, ds, None, None, max_rows, ids=(after_id, until_id))
        new_cursor = f"id:{until_id}"
    key = secrets.token_bytes(32)
    out_rows, names, masks, _marks = _masked(ds, source, key)
    clean = [{n: r[n] for n in names} for r in out_rows]
    eid = _record_export(store, ds, who, recipient, "push", len(clean), masks, key, None) if clean else None
    return Delta(clean, new_cursor, eid, sorted(masks))


def _serialise(rows: list[dict], names: list[str], marks: dict, fmt: str) -> tuple[bytes, str]:
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(names)
        for r in rows:
            w.writerow([watermark.fmt(r[n], r[f"__dec_{n}"]) if n in marks and f"__dec_{n}" in r
                        else ("" if r[n] is None else neutralise(r[n])) for n in names])
        return buf.getvalue().encode("utf-8-sig"), MEDIA["csv"]  # BOM: spreadsheets read the Chinese right
    if fmt == "json":
        clean = [{n: r[n] for n in names} for r in rows]
        return json.dumps(clean, ensure_ascii=False, default=str).encode(), MEDIA["json"]
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {}
    for n in names:
        vals = [r[n] for r in rows]
        if n in marks or all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals if v is not None):
            cols[n] = pa.array([None if v is None else float(v) for v in vals], type=pa.float64()) \
                if any(v is not None for v in vals) else pa.array(vals, type=pa.string())
        else:
            cols[n] = pa.array([None if v is None else str(v) for v in vals], type=pa.string())
    sink = io.BytesIO()
    pq.write_table(pa.table(cols), sink)
    return sink.getvalue(), MEDIA["parquet"]


# --- identify -------------------------------------------------------------------------------------------------
def identify(store: Store, rows: list[dict], limit: int = 20_000) -> dict:
    """Which export a file's rows come from: ``{"identified", "export_id", "recipient", "dataset", "created_at",
    "score", "matched", "values", "runner_up"}``."""
    with store.engine.connect() as conn:
        recs = conn.execute(select(export_record.c.id, export_record.c.wm_key, dataset.c.fields)
                            .select_from(export_record.outerjoin(dataset, dataset.c.id == export_record.c.dataset_id))
                            .order_by(export_record.c.id.desc()).limit(limit)).all()

    def keys():
        for eid, k, flds in recs:
            fd = {f["name"]: f["decimals"] for f in (flds or []) if f.get("watermark") and f.get("decimals") is not None}
            yield eid, bytes.fromhex(k), fd

    v = watermark.identify_rows(rows, keys())
    out = {"identified": v.identified, "export_id": v.export_id, "score": round(v.score, 3), "matched": v.matched,
           "values": v.values, "runner_up": round(v.runner_up, 3), "recipient": None, "dataset": None,
           "created_at": None}
    if v.export_id is not None:
        with store.engine.connect() as conn:
            r = conn.execute(select(export_record.c.recipient, export_record.c.created_at, export_record.c.ip,
                                    dataset.c.code).select_from(
                export_record.outerjoin(dataset, dataset.c.id == export_record.c.dataset_id))
                .where(export_record.c.id == v.export_id)).first()
        out.update(recipient=r.recipient, dataset=r.code, created_at=r.created_at.isoformat(), ip=r.ip)
    return out
