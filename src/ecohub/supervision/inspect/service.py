"""Random inspections for a caller: the directories (objects, inspectors), the draw (recorded with seed,
algorithm, inputs and hashes; never redone), verification, publication (公开) and closing.

Scope: the directories and draws are written by system/admin, and by officers for their region (a draw's
``scope`` is a region code; ``000000`` is the whole database). Published draws are public with what disclosure
allows: period, seed, algorithm, hashes and the enterprises drawn (name, USCC, category) — not the inspectors'
identities, which staff see (UNCONFIRMED whether a bureau publishes them; configurable later).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ecohub.domain.errors import InputError, NotFound
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import enterprise, region
from ecohub.store.schema_enforcement import insp_draw, insp_draw_item, insp_object, inspector
from ecohub.store.tx import write_tx
from ecohub.supervision.inspect import draw as algo

ALL = "000000"
WRITERS = ("system", "admin", "officer")
STAFF = ("system", "admin", "analyst", "officer")
CATEGORIES = ("key", "general", "special")


def _may_write(scope: Scope, region_code: str) -> None:
    if scope.role not in WRITERS:
        raise PermissionError(f"role {scope.role!r} may not manage random inspections")
    if scope.role == "officer":
        mine = region_prefix(scope.region_code)
        if not mine or region_code == ALL or not region_code.startswith(mine):
            raise PermissionError(f"region {region_code} is outside the officer's region {scope.region_code}")


def _read_csv(path: Path | str | None, data: bytes | None) -> list[dict]:
    raw = data if data is not None else Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("file", str(path), "not UTF-8 text") from None
    return list(csv.DictReader(io.StringIO(text)))


def import_objects(store: Store, scope: Scope, origin: Origin, path: Path | str | None = None, *,
                   data: bytes | None = None, now: datetime | None = None) -> dict:
    """CSV ``uscc,category`` (category: key 重点 / general 一般 / special 特殊); upsert per enterprise. Rows with an
    unknown enterprise or category are rejected with the reason; the good rows are kept."""
    now = now or datetime.now(UTC)
    rows = _read_csv(path, data)
    done, rejected = 0, []
    with write_tx(store) as conn:
        for line, r in enumerate(rows, start=2):
            u, cat = (r.get("uscc") or "").strip(), (r.get("category") or "").strip()
            ent = conn.execute(select(enterprise.c.id, enterprise.c.region_code).where(enterprise.c.uscc == u)).first()
            if ent is None:
                rejected.append({"line": line, "field": "uscc", "value": u, "reason": "no registered enterprise"})
                continue
            if cat not in CATEGORIES:
                rejected.append({"line": line, "field": "category", "value": cat,
                                 "reason": "must be one of " + ", ".join(CATEGORIES)})
                continue
            try:
                _may_write(scope, ent.region_code)
            except PermissionError as e:
                rejected.append({"line": line, "field": "uscc", "value": u, "reason": str(e)})
                continue
            if conn.execute(update(insp_object).where(insp_object.c.enterprise_id == ent.id)
                            .values(category=cat, active=True, updated_at=now)).rowcount == 0:
                conn.execute(insert(insp_object).values(enterprise_id=ent.id, category=cat, updated_at=now))
            done += 1
        origin.record(conn, "inspect_objects", "insp_object", {"imported": done, "rejected": len(rejected)})
    return {"imported": done, "rejected": rejected}


def import_inspectors(store: Store, scope: Scope, origin: Origin, path: Path | str | None = None, *,
                      data: bytes | None = None, now: datetime | None = None) -> dict:
    """CSV ``code,name,region,qualifications,linked`` (qualifications and linked USCCs ``;``-separated; linked:
    enterprises the inspector must never be drawn for — relatives, former employer, …)."""
    now = now or datetime.now(UTC)
    rows = _read_csv(path, data)
    done, rejected = 0, []
    with write_tx(store) as conn:
        for line, r in enumerate(rows, start=2):
            code, name, reg = ((r.get(k) or "").strip() for k in ("code", "name", "region"))
            if not code or not name:
                rejected.append({"line": line, "field": "code" if not code else "name", "value": code or name,
                                 "reason": "required"})
                continue
            if conn.scalar(select(region.c.code).where(region.c.code == reg)) is None:
                rejected.append({"line": line, "field": "region", "value": reg, "reason": "unknown region code"})
                continue
            try:
                _may_write(scope, reg)
            except PermissionError as e:
                rejected.append({"line": line, "field": "region", "value": reg, "reason": str(e)})
                continue
            quals = [q.strip() for q in (r.get("qualifications") or "").split(";") if q.strip()]
            linked = sorted({q.strip() for q in (r.get("linked") or "").split(";") if q.strip()})
            vals = {"name": name[:100], "region_code": reg, "qualifications": quals, "linked_enterprises": linked,
                    "active": True, "updated_at": now}
            if conn.execute(update(inspector).where(inspector.c.code == code).values(**vals)).rowcount == 0:
                conn.execute(insert(inspector).values(code=code[:32], **vals))
            done += 1
        origin.record(conn, "inspect_inspectors", "inspector", {"imported": done, "rejected": len(rejected)})
    return {"imported": done, "rejected": rejected}


def _inputs(conn, scope_code: str) -> tuple[list[algo.Obj], list[algo.Inspector]]:
    q = (select(enterprise.c.uscc, insp_object.c.category, enterprise.c.region_code)
         .join(enterprise, enterprise.c.id == insp_object.c.enterprise_id).where(insp_object.c.active.is_(True)))
    qi = select(inspector.c.code, inspector.c.region_code, inspector.c.linked_enterprises, inspector.c.qualifications
                ).where(inspector.c.active.is_(True))
    if scope_code != ALL:
        p = region_prefix(scope_code)
        q = q.where(enterprise.c.region_code.startswith(p, autoescape=True))
        qi = qi.where(inspector.c.region_code.startswith(p, autoescape=True))
    objs = [algo.Obj(r.uscc, r.category, r.region_code) for r in conn.execute(q)]
    insps = [algo.Inspector(r.code, r.region_code, tuple(r.linked_enterprises or ()), tuple(r.qualifications or ()))
             for r in conn.execute(qi)]
    return objs, insps


def _as_json(objs, insps) -> dict:
    return {"objects": sorted([[o.uscc, o.category, o.region_code] for o in objs]),
            "inspectors": sorted([[i.code, i.region_code, sorted(i.linked)] for i in insps])}


def _from_json(inputs: dict) -> tuple[list[algo.Obj], list[algo.Inspector]]:
    return ([algo.Obj(*o) for o in inputs["objects"]],
            [algo.Inspector(c, r, tuple(linked)) for c, r, linked in inputs["inspectors"]])


def _period(period: str) -> str:
    try:
        y, m = period.split("-")
        if len(y) != 4 or len(m) != 2 or not 1 <= int(m) <= 12:
            raise ValueError
    except ValueError:
        raise InputError("period", period, "a month YYYY-MM") from None
    return period


def perform(store: Store, scope: Scope, origin: Origin, *, period: str, seed: str, scope_code: str = ALL,
            ratios: dict[str, float] | None = None, rules: dict | None = None, now: datetime | None = None) -> dict:
    """Draw the period once. A second draw of a drawn (or closed) period is refused — never silently redone."""
    now = now or datetime.now(UTC)
    _period(period)
    _may_write(scope, scope_code)
    ratios = algo.check_ratios(ratios or algo.DEFAULT_RATIOS)
    rules = {**algo.DEFAULT_RULES, **(rules or {})}
    try:
        with write_tx(store) as conn:
            prev = conn.execute(select(insp_draw.c.id, insp_draw.c.status).where(
                insp_draw.c.period == period, insp_draw.c.scope_code == scope_code)).first()
            if prev is not None:
                raise InputError("period", period, f"already drawn for scope {scope_code} (draw {prev.id}, "
                                 f"{prev.status}); a draw is never redone — verify it with 'inspect draw verify "
                                 f"{prev.id}'")
            objs, insps = _inputs(conn, scope_code)
            if not objs:
                raise InputError("scope", scope_code, "no supervised objects in the directory for this scope")
            result = algo.run(objs, insps, seed=seed, period=period, scope=scope_code, ratios=ratios, rules=rules)
            inputs = _as_json(objs, insps)
            did = conn.execute(insert(insp_draw).values(
                period=period, scope_code=scope_code, seed=str(seed), algorithm=algo.ALGORITHM, ratios=ratios,
                rules=rules, objects_sha256=algo.sha256(inputs["objects"]),
                inspectors_sha256=algo.sha256(inputs["inspectors"]), result_sha256=algo.sha256(result),
                inputs=inputs, status="drawn", drawn_at=now, drawn_by=origin.actor).returning(insp_draw.c.id)
            ).scalar_one()
            ids = dict(conn.execute(select(enterprise.c.uscc, enterprise.c.id).where(
                enterprise.c.uscc.in_([r["enterprise"] for r in result]))).all())
            icodes = dict(conn.execute(select(inspector.c.code, inspector.c.id)).all())
            for pos, r in enumerate(result):
                conn.execute(insert(insp_draw_item).values(draw_id=did, position=pos, enterprise_id=ids[r["enterprise"]],
                                                           category=r["category"],
                                                           inspector_ids=[icodes[c] for c in r["inspectors"]]))
            origin.record(conn, "inspect_draw", f"draw:{did}", {"period": period, "scope": scope_code,
                                                                "seed": str(seed), "result_sha256": algo.sha256(result)})
    except IntegrityError:
        raise InputError("period", period, f"already drawn for scope {scope_code} (a concurrent draw won)") from None
    return get_draw(store, scope, did)


def verify(store: Store, draw_id: int) -> dict:
    """Re-run the recorded draw from its recorded inputs and seed: ``same`` when the result is identical. Also
    says whether the directories changed since (which does not change the recorded draw)."""
    with store.engine.connect() as conn:
        d = conn.execute(select(insp_draw).where(insp_draw.c.id == draw_id)).mappings().first()
        if d is None:
            raise NotFound(f"draw {draw_id} not found")
        objs, insps = _from_json(d["inputs"])
        if algo.sha256(d["inputs"]["objects"]) != d["objects_sha256"] or \
                algo.sha256(d["inputs"]["inspectors"]) != d["inspectors_sha256"]:
            return {"draw": draw_id, "same": False, "reason": "the recorded inputs do not match their hashes"}
        if d["algorithm"] != algo.ALGORITHM:
            return {"draw": draw_id, "same": False, "reason": f"algorithm {d['algorithm']} is not implemented here"}
        rerun = algo.run(objs, insps, seed=d["seed"], period=d["period"], scope=d["scope_code"], ratios=d["ratios"],
                         rules=d["rules"])
        now_objs, now_insps = _inputs(conn, d["scope_code"])
        current = _as_json(now_objs, now_insps)
    got = algo.sha256(rerun)
    return {"draw": draw_id, "period": d["period"], "scope": d["scope_code"], "seed": d["seed"],
            "algorithm": d["algorithm"], "same": got == d["result_sha256"], "result_sha256": got,
            "recorded_sha256": d["result_sha256"],
            "directories_changed_since": current != d["inputs"]}


def _set_status(store: Store, scope: Scope, origin: Origin, draw_id: int, to: str, frm: tuple[str, ...]) -> dict:
    now = datetime.now(UTC)
    with write_tx(store) as conn:
        d = conn.execute(select(insp_draw.c.status, insp_draw.c.scope_code).where(insp_draw.c.id == draw_id)).first()
        if d is None:
            raise NotFound(f"draw {draw_id} not found")
        _may_write(scope, d.scope_code)
        if d.status not in frm:
            raise InputError("status", d.status, f"a {d.status} draw cannot become {to}")
        vals = {"status": to} | ({"closed_at": now} if to == "closed" else {})
        conn.execute(update(insp_draw).where(insp_draw.c.id == draw_id).values(**vals))
        origin.record(conn, f"inspect_draw_{to}", f"draw:{draw_id}", {"from": d.status, "to": to})
    return get_draw(store, scope, draw_id)


def publish(store: Store, scope: Scope, origin: Origin, draw_id: int) -> dict:
    return _set_status(store, scope, origin, draw_id, "published", ("drawn",))


def close(store: Store, scope: Scope, origin: Origin, draw_id: int) -> dict:
    return _set_status(store, scope, origin, draw_id, "closed", ("drawn", "published"))


def get_draw(store: Store, scope: Scope, draw_id: int, *, public: bool = False) -> dict:
    with store.engine.connect() as conn:
        d = conn.execute(select(insp_draw).where(insp_draw.c.id == draw_id)).mappings().first()
        if d is None or (public and d["status"] == "drawn"):
            raise NotFound(f"draw {draw_id} not found")
        if not public and scope.role not in STAFF:
            raise PermissionError("unpublished draws are visible to staff only")
        names = {r.code: r.name for r in conn.execute(select(inspector.c.id, inspector.c.code, inspector.c.name))}
        ids = {r.id: r.code for r in conn.execute(select(inspector.c.id, inspector.c.code))}
        items = conn.execute(select(insp_draw_item, enterprise.c.uscc, enterprise.c.name)
                             .join(enterprise, enterprise.c.id == insp_draw_item.c.enterprise_id)
                             .where(insp_draw_item.c.draw_id == draw_id).order_by(insp_draw_item.c.position)
                             ).mappings().all()
    out = {k: d[k] for k in ("id", "period", "scope_code", "seed", "algorithm", "ratios", "rules", "objects_sha256",
                             "inspectors_sha256", "result_sha256", "status")}
    out["drawn_at"] = d["drawn_at"].isoformat()
    out["items"] = [{"enterprise_uscc": i["uscc"], "enterprise_name": i["name"], "category": i["category"]}
                    | ({} if public else {"inspectors": [{"code": ids[x], "name": names[ids[x]]}
                                                         for x in i["inspector_ids"]]}) for i in items]
    return out


def list_draws(store: Store, scope: Scope, *, public: bool = False) -> list[dict]:
    q = select(insp_draw.c.id, insp_draw.c.period, insp_draw.c.scope_code, insp_draw.c.status, insp_draw.c.seed,
               insp_draw.c.result_sha256).order_by(insp_draw.c.period.desc(), insp_draw.c.id.desc())
    if public:
        q = q.where(insp_draw.c.status != "drawn")
    elif scope.role not in STAFF:
        raise PermissionError("unpublished draws are visible to staff only")
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
