"""The complaint loop (12369 举报件办理) for a caller: every stage change, transfer to the county, merging of
duplicates, links to the targeted inspection and the case, reply, return visit (回访), publication of the result,
overdue alerts to the handler's supervisor.

The loop is declared once in :mod:`ecohub.supervision.complaint_machine`; :func:`advance` is the one place that
changes a stage — the older ``complaints.change_status`` goes through it too. One :func:`~ecohub.store.tx.write_tx`
per change: the stage, the coarse ``complaint.status``, the public history row (``complaint_event``) and the audit
row are saved together or not at all; a change the loop does not declare is refused with the reason
(:class:`IllegalStep`, the API answers 409).

**Who.** Staff who may see the complaint (``complaints.scope_condition``: admins, analysts, officers of its region);
only admins, officers of the region and ``system`` act. A transfer moves the complaint's ``region_code`` to the
county bureau it is transferred to (the region found from the point is kept in ``located_region``), so the
county's officers see and handle it from then on.

**Merging.** A duplicate (same category, within :data:`MERGE_RADIUS_M` and :data:`MERGE_WINDOW_DAYS` of the
complaint it is merged into, which must itself be open and not merged) becomes ``merged``: it is linked to the
one that goes on, and the reply to that one is written into the history of every merged complaint as well (one
reply for all; each complainant sees it under their own tracking code, without the others' codes).

**Publication.** Closing after the return visit publishes the result (办理结果公开): category, region, dates and
the result text — never the description, location, phone or photo (they may identify the complainant).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from ecohub.alerts.lifecycle import Condition, clear_condition, raise_condition
from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.timeutil import BEIJING
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope, haversine_km, region_prefix
from ecohub.store.schema import region
from ecohub.store.schema_enforcement import enf_case, inspection
from ecohub.store.schema_supervision import complaint, complaint_event, complaint_handling
from ecohub.store.tx import write_tx
from ecohub.supervision import complaint_machine as M
from ecohub.supervision import complaints as C
from ecohub.supervision import workdays

ACTORS = ("system", "admin", "officer")
MERGE_RADIUS_M = 500.0
MERGE_WINDOW_DAYS = 30
TEXT_MAX = 2000
OVERDUE_RULE = "complaint_overdue"


class IllegalStep(InputError):
    """A change the loop does not declare (the API answers 409 with the reason)."""


def _bj(t: datetime | None) -> str | None:
    return t.astimezone(BEIJING).isoformat() if t is not None else None


def _day(t: datetime) -> date:
    return t.astimezone(BEIJING).date()


def _text(name: str, value: str | None) -> str | None:
    v = (value or "").strip() or None
    if v is not None and len(v) > TEXT_MAX:
        raise InputError(name, v, f"at most {TEXT_MAX} characters")
    return v


def _may_act(scope: Scope) -> None:
    if scope.role not in ACTORS:
        raise PermissionError("complaints are handled by admins and officers")


def _find(conn: Connection, scope: Scope, code: str):
    cond = C.scope_condition(scope)
    q = select(complaint).where(complaint.c.tracking_code == C.normalize_code(code))
    if cond is not None:
        q = q.where(cond)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    r = conn.execute(q).mappings().first()
    if r is None:
        raise NotFound(f"complaint {code} not found (or not in your region)")
    return r


def _handling(conn: Connection, c) -> dict:
    """The loop row of a complaint; a complaint from before the loop (no row) is at the stage of its status."""
    h = conn.execute(select(complaint_handling).where(complaint_handling.c.complaint_id == c["id"])).mappings().first()
    if h is not None:
        return dict(h)
    return {"complaint_id": c["id"], "stage": c["status"], "stage_since": c["updated_at"], "stage_due": None,
            "accepted_on": None, "handler": None, "supervisor": None, "merged_into": None, "result": None,
            "satisfaction": None, "_new": True}


def _save(conn: Connection, h: dict, values: dict) -> None:
    if h.get("_new"):
        conn.execute(insert(complaint_handling).values(complaint_id=h["complaint_id"], **values))
    else:
        conn.execute(update(complaint_handling).where(complaint_handling.c.complaint_id == h["complaint_id"])
                     .values(**values))


def _target(conn: Connection, scope: Scope, c, into: str | None):
    if not into:
        raise InputError("target", into, "the tracking code of the complaint this one duplicates")
    t = _find(conn, scope, into)
    if t["id"] == c["id"]:
        raise InputError("target", into, "a complaint cannot be merged into itself")
    th = _handling(conn, t)
    if th["stage"] in M.TERMINAL or th["stage"] == "rejected":
        where = ""
        if th.get("merged_into"):
            where = " (merge into the complaint it was merged into)"
        raise InputError("target", into, f"the complaint is {th['stage']}: merge only into an open one{where}")
    if t["category"] != c["category"]:
        raise InputError("target", into, f"another category ({t['category']}, this one {c['category']})")
    d = haversine_km(c["lon"], c["lat"], t["lon"], t["lat"]) * 1000.0
    if d > MERGE_RADIUS_M:
        raise InputError("target", into, f"{d:.0f} m away: duplicates lie within {MERGE_RADIUS_M:.0f} m")
    days = abs((c["submitted_at"] - t["submitted_at"]).total_seconds()) / 86400.0
    if days > MERGE_WINDOW_DAYS:
        raise InputError("target", into, f"submitted {days:.0f} days apart: duplicates within {MERGE_WINDOW_DAYS}")
    return t


def _region(conn: Connection, scope: Scope, code: str | None) -> str:
    if not code:
        raise InputError("region", code, "the county (区县) code of the bureau the complaint is transferred to")
    r = conn.execute(select(region.c.code, region.c.level).where(region.c.code == str(code).strip())).first()
    if r is None:
        raise InputError("region", code, "no such region")
    if scope.role == "officer" and not r.code.startswith(region_prefix(scope.region_code or "")):
        raise PermissionError(f"region {r.code} is outside the officer's region {scope.region_code}")
    return str(r.code)


def _event(conn: Connection, cid: int, stage: str, note: str | None, actor: str | None, now: datetime) -> None:
    conn.execute(insert(complaint_event).values(complaint_id=cid, status=stage, at=now, actor=actor, note=note))


def advance(store: Store, scope: Scope, origin: Origin, code: str, to: str, *, note: str | None = None,
            region_code: str | None = None, target: str | None = None, reply: str | None = None,
            satisfaction: str | None = None, handler: str | None = None, supervisor: str | None = None,
            now: datetime | None = None) -> dict:
    """Move a complaint to stage ``to`` (see :data:`~ecohub.supervision.complaint_machine.TRANSITIONS` for what
    each step needs). InputError naming the field for missing or bad input, IllegalStep for an undeclared step,
    NotFound / PermissionError outside the caller's scope."""
    _may_act(scope)
    now = now or datetime.now(UTC)
    note, reply = _text("note", note), _text("reply", reply)
    if to not in M.STAGES:
        raise InputError("status", to, "one of " + ", ".join(M.STAGES))
    with write_tx(store) as conn:
        c = _find(conn, scope, code)
        h = _handling(conn, c)
        frm = h["stage"]
        why = M.refusal(frm, to)
        if why:
            raise IllegalStep("status", to, why)
        step = M.TRANSITIONS[(frm, to)]
        if "note" in step.needs and not note:
            raise InputError("note", note, f"{step.name} needs a note (a reason, or what was done)")
        if "reply" in step.needs and not reply:
            raise InputError("reply", reply, "the reply to the complainant (the result of the handling)")
        if "satisfaction" in step.needs and satisfaction not in M.SATISFACTION:
            raise InputError("satisfaction", satisfaction, "one of " + ", ".join(M.SATISFACTION))
        if step.only_unsatisfied and h.get("satisfaction") != "unsatisfied":
            raise IllegalStep("status", to, "only a complaint whose return visit was unsatisfied is reopened")
        values: dict = {"stage": to, "stage_since": now, "updated_at": now}
        public_note, detail = note, {"from": frm, "to": to, "step": step.name}
        today = _day(now)
        accepted_on = h.get("accepted_on")
        if to == "accepted":
            accepted_on = today
            values.update(accepted_on=today, handler=(handler or origin.actor or None),
                          supervisor=supervisor or h.get("supervisor"))
        if to == "transferred":
            dest = _region(conn, scope, region_code)
            name = conn.scalar(select(region.c.name).where(region.c.code == dest))
            values.update(transferred_to=dest, located_region=c["region_code"], handler=handler or None,
                          supervisor=supervisor or h.get("supervisor"))
            conn.execute(update(complaint).where(complaint.c.id == c["id"]).values(region_code=dest))
            public_note = f"转办至{name}生态环境部门办理" + (f"：{note}" if note else "")
            detail["region"] = dest
        if to == "handling" and frm == "transferred":
            values["handler"] = handler or origin.actor or h.get("handler")
        if to == "handled":
            values["result"] = note
        if to == "merged":
            t = _target(conn, scope, c, target)
            values["merged_into"] = t["id"]
            public_note = "与同一污染源的其他举报合并办理，办理结果将一并答复" + (f"（{note}）" if note else "")
            detail["into"] = t["tracking_code"]
        if to == "replied":
            values.update(reply=reply, replied_at=now)
            public_note = reply
        if to == "visited":
            values.update(satisfaction=satisfaction, visit_note=note, visited_at=now)
            public_note = f"回访：{M.SATISFACTION[satisfaction or '']}"
            detail["satisfaction"] = satisfaction
        if to == "closed" and frm == "visited":
            values.update(published=True, published_at=now)
        if to == "handling" and frm == "visited":
            values.update(satisfaction=None)
        if supervisor and "supervisor" not in values:
            values["supervisor"] = supervisor
        due = M.due(to, entered=today, submitted=_day(c["submitted_at"]), accepted=accepted_on)
        values.update(stage_due=due, due_provisional=workdays.provisional(due))
        _save(conn, h, values)
        status = M.STATUS_OF[to]
        done = conn.execute(update(complaint).where(and_(complaint.c.id == c["id"], complaint.c.status == c["status"]))
                            .values(status=status, updated_at=now))
        if done.rowcount != 1:
            raise InputError("status", to, "the complaint changed meanwhile; reload it")
        _event(conn, c["id"], to, public_note, origin.actor, now)
        if to == "replied":  # one reply for all the complaints merged into this one
            for m in conn.execute(select(complaint_handling.c.complaint_id).where(
                    complaint_handling.c.merged_into == c["id"])).scalars():
                _event(conn, m, "replied", reply, origin.actor, now)
        clear_condition(conn, f"complaint:{c['id']}:{frm}", int(now.timestamp()), f"stage done: {step.name}")
        origin.record(conn, "complaint_stage", f"complaint:{c['tracking_code']}", detail)
    return {"tracking_code": c["tracking_code"], "status": status, "stage": to, "stage_name": M.STAGES[to],
            "stage_due": due.isoformat() if due else None, "at": _bj(now)}


def link(store: Store, scope: Scope, origin: Origin, code: str, *, inspection_id: int | None = None,
         case: str | None = None, now: datetime | None = None) -> dict:
    """Link the complaint to the targeted inspection and/or the case it led to (complaint → inspection → case).
    Both must exist and lie in the caller's scope; an inspection or case triggered by another complaint is
    refused; a link once made is not replaced."""
    _may_act(scope)
    if inspection_id is None and not case:
        raise InputError("inspection", None, "name an inspection id or a case number to link")
    now = now or datetime.now(UTC)
    with write_tx(store) as conn:
        c = _find(conn, scope, code)
        h = _handling(conn, c)
        if h["stage"] in M.TERMINAL or h["stage"] == "rejected":
            raise IllegalStep("stage", h["stage"], "a closed, merged or rejected complaint takes no new links")
        values: dict = {"updated_at": now}
        detail: dict = {}
        if inspection_id is not None:
            i = conn.execute(select(inspection.c.id, inspection.c.region_code, inspection.c.trigger_kind,
                                    inspection.c.trigger_ref).where(inspection.c.id == int(inspection_id))).first()
            if i is None or not i.region_code.startswith(region_prefix(c["region_code"])[:4]):
                raise InputError("inspection", inspection_id, "no inspection with this id in the complaint's city")
            if i.trigger_kind == "complaint" and C.normalize_code(i.trigger_ref or "") != c["tracking_code"]:
                raise InputError("inspection", inspection_id, f"it was triggered by another complaint ({i.trigger_ref})")
            if h.get("inspection_id") not in (None, i.id):
                raise InputError("inspection", inspection_id, f"already linked to inspection {h['inspection_id']}")
            values["inspection_id"] = detail["inspection"] = i.id
        if case:
            k = conn.execute(select(enf_case.c.id, enf_case.c.number, enf_case.c.region_code, enf_case.c.source_kind,
                                    enf_case.c.source_ref).where(enf_case.c.number == str(case).strip())).first()
            if k is None or not k.region_code.startswith(region_prefix(c["region_code"])[:4]):
                raise InputError("case", case, "no case with this number in the complaint's city")
            if k.source_kind == "complaint" and C.normalize_code(k.source_ref or "") != c["tracking_code"]:
                raise InputError("case", case, f"it was opened from another complaint ({k.source_ref})")
            if h.get("case_id") not in (None, k.id):
                raise InputError("case", case, "the complaint is already linked to another case")
            values["case_id"] = k.id
            detail["case"] = k.number
        if h.get("_new"):
            values.update(stage=h["stage"], stage_since=h["stage_since"])
        _save(conn, h, values)
        origin.record(conn, "complaint_link", f"complaint:{c['tracking_code']}", detail)
    return {"tracking_code": c["tracking_code"], **detail}


def handling(store: Store, scope: Scope, code: str) -> dict:
    """Staff view of the loop of one complaint: stage, deadline, handler, supervisor, transfer, merge, links,
    result, reply, return visit, and the complaints merged into it."""
    with store.engine.connect() as conn:
        c = _find(conn, scope, code)
        h = _handling(conn, c)
        merged = conn.execute(select(complaint.c.tracking_code).join(
            complaint_handling, complaint_handling.c.complaint_id == complaint.c.id).where(
            complaint_handling.c.merged_into == c["id"]).order_by(complaint.c.id)).scalars().all()
        into = (conn.scalar(select(complaint.c.tracking_code).where(complaint.c.id == h["merged_into"]))
                if h.get("merged_into") else None)
        case_no = (conn.scalar(select(enf_case.c.number).where(enf_case.c.id == h["case_id"]))
                   if h.get("case_id") else None)
    due = h.get("stage_due")
    return {"tracking_code": c["tracking_code"], "stage": h["stage"], "stage_name": M.STAGES[h["stage"]],
            "stage_since": _bj(h.get("stage_since")), "stage_due": due.isoformat() if due else None,
            "due_provisional": bool(h.get("due_provisional")),
            "overdue": bool(due and h["stage"] in M.OPEN and due < _day(datetime.now(UTC))),
            "allowed": M.allowed(h["stage"]), "handler": h.get("handler"), "supervisor": h.get("supervisor"),
            "located_region": h.get("located_region"), "transferred_to": h.get("transferred_to"),
            "merged_into": into, "merged": list(merged), "inspection_id": h.get("inspection_id"), "case": case_no,
            "result": h.get("result"), "reply": h.get("reply"), "replied_at": _bj(h.get("replied_at")),
            "satisfaction": h.get("satisfaction"), "visited_at": _bj(h.get("visited_at")),
            "published": bool(h.get("published"))}


def tasks(store: Store, scope: Scope, *, overdue: bool = False, today: date | None = None,
          limit: int = 500) -> list[dict]:
    """The open complaints the caller may see with their stage and deadline, the most urgent first (the officer
    workbench). A complaint the loop has not touched yet is ``received`` with its 15-day deadline."""
    cond = C.scope_condition(scope)
    today = today or _day(datetime.now(UTC))
    q = (select(complaint.c.id, complaint.c.tracking_code, complaint.c.category, complaint.c.status,
                complaint.c.submitted_at, complaint.c.region_code, region.c.name.label("region_name"),
                complaint_handling.c.stage, complaint_handling.c.stage_due, complaint_handling.c.handler,
                complaint_handling.c.supervisor)
         .select_from(complaint.outerjoin(complaint_handling, complaint_handling.c.complaint_id == complaint.c.id)
                      .join(region, region.c.code == complaint.c.region_code))
         .where(complaint.c.status != "closed").order_by(complaint.c.id.desc()).limit(limit))
    if cond is not None:
        q = q.where(cond)
    out = []
    with store.engine.connect() as conn:
        for r in conn.execute(q).mappings():
            stage = r["stage"] or r["status"]
            due = r["stage_due"] if r["stage"] else M.due(stage, entered=_day(r["submitted_at"]),
                                                             submitted=_day(r["submitted_at"]), accepted=None)
            late = bool(due and due < today)
            if overdue and not late:
                continue
            out.append({"tracking_code": r["tracking_code"], "tracking_code_display": C.format_code(r["tracking_code"]),
                        "category": r["category"], "region_code": r["region_code"], "region_name": r["region_name"],
                        "stage": stage, "stage_name": M.STAGES[stage], "stage_due": due.isoformat() if due else None,
                        "overdue": late, "handler": r["handler"], "supervisor": r["supervisor"],
                        "allowed": M.allowed(stage)})
    return sorted(out, key=lambda t: (t["stage_due"] or "9999", t["tracking_code"]))


def public_result(store: Store, code: str) -> dict | None:
    """The published result of a complaint by its tracking code (a merged one: the result of the one it was
    merged into); None when not published. No personal data."""
    code = C.normalize_code(code)
    if not C.valid_code(code):
        return None
    with store.engine.connect() as conn:
        cid = conn.scalar(select(complaint.c.id).where(complaint.c.tracking_code == code))
        if cid is None:
            return None
        into = conn.scalar(select(complaint_handling.c.merged_into).where(complaint_handling.c.complaint_id == cid))
        h = conn.execute(select(complaint_handling.c.result, complaint_handling.c.published_at,
                                complaint_handling.c.satisfaction).where(
            complaint_handling.c.complaint_id == (into or cid), complaint_handling.c.published.is_(True))).first()
    if h is None:
        return None
    return {"result": h.result, "published_at": _bj(h.published_at), "satisfaction": h.satisfaction,
            "merged": into is not None}


def public_results(store: Store, *, region_code: str | None = None, limit: int = 200) -> list[dict]:
    """Published results (办理结果公开): category, region, submitted and published dates, result, satisfaction."""
    q = (select(complaint.c.category, complaint.c.region_code, region.c.name, complaint.c.submitted_at,
                complaint_handling.c.published_at, complaint_handling.c.result, complaint_handling.c.satisfaction)
         .select_from(complaint.join(complaint_handling, complaint_handling.c.complaint_id == complaint.c.id)
                      .join(region, region.c.code == complaint.c.region_code))
         .where(complaint_handling.c.published.is_(True))
         .order_by(complaint_handling.c.published_at.desc()).limit(limit))
    if region_code:
        q = q.where(complaint.c.region_code.startswith(region_prefix(region_code), autoescape=True))
    with store.engine.connect() as conn:
        return [{"category": r.category, "region_code": r.region_code, "region_name": r.name,
                 "submitted_on": _day(r.submitted_at).isoformat(), "published_at": _bj(r.published_at),
                 "result": r.result, "satisfaction": r.satisfaction} for r in conn.execute(q)]


def check_overdue(store: Store, *, today: date | None = None, now: datetime | None = None) -> list[dict]:
    """Raise a ``complaint_overdue`` alert for every complaint whose stage is past its deadline, addressed to the
    handler's supervisor (``details.notify``; ``admin`` when none is named); cleared when the stage is done."""
    now = now or datetime.now(UTC)
    today = today or _day(now)
    out = []
    with write_tx(store) as conn:
        rows = conn.execute(select(complaint_handling, complaint.c.tracking_code, complaint.c.region_code)
                            .join(complaint, complaint.c.id == complaint_handling.c.complaint_id)
                            .where(complaint_handling.c.stage.in_(M.OPEN),
                                   complaint_handling.c.stage_due < today)).mappings().all()
        for r in rows:
            days = (today - r["stage_due"]).days
            notify = r["supervisor"] or "admin"
            code = C.format_code(r["tracking_code"])
            msg = (f"举报件 {code} 的「{M.STAGES[r['stage']]}」环节已逾期 {days} 天（期限 {r['stage_due']}），"
                   f"承办人 {r['handler'] or '未指定'}")
            res = raise_condition(conn, Condition(
                rule=OVERDUE_RULE, cause_key=f"complaint:{r['complaint_id']}:{r['stage']}", severity="warning",
                message=msg, region=r["region_code"], level=float(days),
                details={"complaint": code, "stage": r["stage"], "due": r["stage_due"].isoformat(),
                         "handler": r["handler"], "notify": notify, "days_overdue": days}),
                int(now.timestamp()), notify=False)
            out.append({"complaint": code, "stage": r["stage"], "due": r["stage_due"].isoformat(),
                        "alert_id": res.alert_id, "notify": notify})
    return out
