"""Enforcement cases for a caller: open, advance, close, penalties, lists, the timeline, overdue alerts.

Every function takes the store and the caller's :class:`~ecohub.store.queries.Scope`; writes take an
:class:`~ecohub.store.audit.Origin` and run in one :func:`~ecohub.store.tx.write_tx` (the step, its event and its
audit row are saved together or not at all). Who may do what:

* read — admins/analysts/system every case; officers the cases of their region (city → counties); an enterprise
  its own cases; anyone else nothing (:class:`PermissionError`).
* write — system, admins, and officers of the case's region.
* public — :func:`public_penalties`: decided cases (处罚决定 and later) with what disclosure allows (number,
  enterprise name and USCC, violation, legal basis, penalty, decision date) — no owner, notes or evidence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection

from ecohub.alerts.lifecycle import Condition, clear_condition, raise_condition
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import enterprise
from ecohub.store.schema_enforcement import SOURCE_KINDS, enf_case, enf_case_event, enf_document, enf_penalty
from ecohub.store.tx import write_tx
from ecohub.supervision import workdays
from ecohub.supervision.cases import legal, machine, penalties

READ_ALL = ("system", "admin", "analyst")
WRITERS = ("system", "admin", "officer")
PUBLIC_STATES = ("decided", "executing", "closed")
OVERDUE_RULE = "case_overdue"


class IllegalStep(InputError):
    """A transition the procedure does not declare (the API answers 409 with the reason)."""


def _date(name: str, value: date | str | None, default: date | None = None) -> date:
    if value is None or value == "":
        if default is None:
            raise InputError(name, value, "a date (YYYY-MM-DD) is required")
        return default
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(name, value, "not a date (YYYY-MM-DD)") from None


def _cond(scope: Scope):
    if scope.role in READ_ALL:
        return None
    if scope.role == "officer" and scope.region_code:
        return enf_case.c.region_code.startswith(region_prefix(scope.region_code), autoescape=True)
    if scope.role == "enterprise" and scope.enterprise_id is not None:
        return enf_case.c.enterprise_id == scope.enterprise_id
    raise PermissionError("enforcement cases are visible to staff and to the enterprise concerned only")


def _may_write(scope: Scope, region_code: str) -> None:
    if scope.role not in WRITERS:
        raise PermissionError(f"role {scope.role!r} may not act on enforcement cases")
    if scope.role == "officer" and not (scope.region_code and region_code.startswith(region_prefix(scope.region_code))):
        raise PermissionError(f"region {region_code} is outside the officer's region {scope.region_code}")


def _find(conn: Connection, ref: int | str, scope: Scope, *, lock: bool = False):
    q = select(enf_case)
    by_id = str(ref).isdigit() and len(str(ref)) <= 9
    q = q.where(enf_case.c.id == int(ref)) if by_id else q.where(enf_case.c.number == str(ref))
    cond = _cond(scope)
    if cond is not None:
        q = q.where(cond)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"case {ref} not found (or not visible to you)")
    return row


def _event(conn: Connection, case_id: int, frm: str | None, to: str, on: date, origin: Origin, note: str | None,
           detail: dict | None, now: datetime) -> None:
    conn.execute(insert(enf_case_event).values(case_id=case_id, from_state=frm, to_state=to, at=now, on_date=on,
                                               actor=origin.actor, note=note, detail=detail))


def open_case(store: Store, scope: Scope, origin: Origin, *, uscc: str, violation: str, title: str | None = None,
              source_kind: str = "other", source_ref: str | None = None, discovered_on: date | str | None = None,
              filed_on: date | str | None = None, pending: bool = False, owner: str | None = None,
              supervisor: str | None = None, legal_table: str | None = None, today: date | None = None,
              now: datetime | None = None) -> dict:
    """A new case: recorded as a clue (线索) and, unless ``pending``, filed (立案) on ``filed_on`` at once — two
    audited steps. The violation must be in the legal-basis table."""
    now = now or datetime.now(UTC)
    today = today or now.date()
    basis = legal.basis(violation, legal_table)
    if source_kind not in SOURCE_KINDS:
        raise InputError("source_kind", source_kind, "must be one of " + ", ".join(SOURCE_KINDS))
    disc = _date("discovered_on", discovered_on, today)
    if disc > today:
        raise InputError("discovered_on", disc.isoformat(), "is in the future")
    filed = None if pending else _date("filed_on", filed_on, today)
    if filed is not None and not disc <= filed <= today:
        raise InputError("filed_on", filed.isoformat(), f"must lie between discovery ({disc}) and today ({today})")
    owner = (owner or origin.actor or "").strip()
    if not owner:
        raise InputError("owner", owner, "a case needs an owner (承办人)")
    with write_tx(store) as conn:
        ent = conn.execute(select(enterprise.c.id, enterprise.c.region_code, enterprise.c.name)
                           .where(enterprise.c.uscc == uscc)).first()
        if ent is None:
            raise InputError("enterprise", uscc, "no registered enterprise with this USCC")
        _may_write(scope, ent.region_code)
        year = (filed or disc).year
        prefix = f"{ent.region_code}-{year}-"
        seq = conn.scalar(select(func.count()).select_from(enf_case).where(enf_case.c.number.startswith(prefix)))
        number = f"{prefix}{int(seq or 0) + 1:04d}"
        cid = conn.execute(insert(enf_case).values(
            number=number, enterprise_id=ent.id, region_code=ent.region_code, title=(title or basis["name"])[:200],
            violation=violation, legal_basis=basis, source_kind=source_kind, source_ref=source_ref,
            discovered_on=disc, state="clue", state_since=now,
            state_due=machine.due("clue", discovered_on=disc, on=disc, decision_due=None),
            owner=owner[:100], supervisor=(supervisor or None), opened_at=now, updated_at=now,
        ).returning(enf_case.c.id)).scalar_one()
        _event(conn, cid, None, "clue", disc, origin, title, {"source": source_kind, "ref": source_ref}, now)
        origin.record(conn, "case_open", f"case:{number}", {"enterprise": uscc, "violation": violation,
                                                            "source": source_kind, "ref": source_ref})
        if filed is not None:
            _transition(conn, _find(conn, cid, scope), "filed", filed, origin, None, False, today, now)
    return get_case(store, scope, number)


def _transition(conn: Connection, case, to: str, on: date, origin: Origin, note: str | None, waived: bool,
                today: date, now: datetime) -> dict:
    frm = case["state"]
    why = machine.refusal(frm, to)
    if why:
        raise IllegalStep("to", to, why)
    step = machine.TRANSITIONS[(frm, to)]
    if on > today:
        raise InputError("on", on.isoformat(), "is in the future")
    last = conn.scalar(select(func.max(enf_case_event.c.on_date)).where(enf_case_event.c.case_id == case["id"]))
    if last is not None and on < last:
        raise InputError("on", on.isoformat(), f"is before the case's previous step ({last.isoformat()})")
    if step.reason and not (note or "").strip():
        raise InputError("reason", note, f"{step.name} needs a reason")
    pens = conn.execute(select(enf_penalty).where(enf_penalty.c.case_id == case["id"])).mappings().all()
    if step.needs_penalty and not pens:
        raise InputError("penalty", None, f"{step.name} needs at least one proposed penalty (case penalty add)")
    if step.within_window and case["state_due"] is not None and on > case["state_due"]:
        raise InputError("on", on.isoformat(), f"the hearing request window closed on {case['state_due']} "
                         f"({machine.HEARING_REQUEST_WORKDAYS} working days after the notice)")
    if step.hearing_window and not waived and case["state_due"] is not None and on <= case["state_due"]:
        raise InputError("on", on.isoformat(), f"the party may still request a hearing until {case['state_due']} "
                         "(行政处罚法 art. 64); decide after it, or record the party's written waiver (--waived)")
    if step.needs_paid:
        unpaid = [p["id"] for p in pens if p["kind"] in penalties.AMOUNT_KINDS and p["paid_on"] is None]
        if unpaid and not (note or "").strip():
            raise InputError("penalty", unpaid, "fines not paid: record payment (case penalty paid) or say in the "
                             "note how the decision was enforced (e.g. 申请法院强制执行)")
    values: dict = {"state": to, "state_since": now, "updated_at": now}
    decision_due = case["decision_due"]
    if to == "filed":
        values["filed_on"] = on
        decision_due = values["decision_due"] = machine.decision_deadline(on)
    elif to == "notified":
        values["notified_on"] = on
    elif to == "decided":
        values["decided_on"] = on
        values["published"] = True
    elif to == "executing":
        values["served_on"] = on
    if step.reason:
        values["reason"] = note
    values["state_due"] = machine.due(to, discovered_on=case["discovered_on"], on=on, decision_due=decision_due)
    conn.execute(update(enf_case).where(enf_case.c.id == case["id"]).values(**values))
    detail = {"from": frm, "to": to, "on": on.isoformat(), "due": values["state_due"] and values["state_due"].isoformat()}
    if workdays.provisional(values["state_due"]) or workdays.provisional(decision_due):
        detail["due_provisional"] = ("beyond the shipped holiday calendar (to "
                                     f"{workdays.coverage()[1]}): weekends only")
    if waived:
        detail["hearing_waived"] = True
    _event(conn, case["id"], frm, to, on, origin, note, detail, now)
    origin.record(conn, "case_transition", f"case:{case['number']}", detail)
    clear_condition(conn, f"case:{case['id']}:{frm}", int(now.timestamp()), f"step done: {step.name}")
    return detail


def advance(store: Store, scope: Scope, origin: Origin, ref: int | str, to: str | None = None, *,
            on: date | str | None = None, note: str | None = None, waived: bool = False, today: date | None = None,
            now: datetime | None = None) -> dict:
    """Move a case one step (to ``to``, or the main line's next state); refused with the reason when the
    procedure does not allow it."""
    now = now or datetime.now(UTC)
    today = today or now.date()
    when = _date("on", on, today)
    with write_tx(store) as conn:
        case = _find(conn, ref, scope, lock=True)
        _may_write(scope, case["region_code"])
        target = to or machine.NEXT.get(case["state"])
        if target is None:
            raise IllegalStep("to", None, machine.refusal(case["state"], "closed") or "no next step")
        _transition(conn, case, target, when, origin, note, waived, today, now)
    return get_case(store, scope, case["number"])


def close(store: Store, scope: Scope, origin: Origin, ref: int | str, *, reason: str | None = None,
          on: date | str | None = None, today: date | None = None, now: datetime | None = None) -> dict:
    """结案 after execution; 不予立案 of a clue; 撤销 of an open case (a reason is required for both)."""
    with write_tx(store) as conn:
        state = _find(conn, ref, scope)["state"]
    target = machine.CLOSE.get(state)
    if target is None:
        raise IllegalStep("state", state, machine.refusal(state, "closed") or "cannot be closed now")
    return advance(store, scope, origin, ref, target, on=on, note=reason, today=today, now=now)


def add_penalty(store: Store, scope: Scope, origin: Origin, ref: int | str, *, kind: str,
                amount_yuan: float | None = None, base_yuan: float | None = None, served_on: date | str | None = None,
                recheck_on: date | str | None = None, note: str | None = None, now: datetime | None = None) -> dict:
    """Propose a penalty (before the decision). A fine must lie within its legal basis' range; a daily continuous
    penalty (``daily_fine``) is computed from the base amount and the dates (:func:`penalties.daily_fine`) and
    only where the legal basis allows it."""
    now = now or datetime.now(UTC)
    penalties.check_kind(kind)
    values: dict = {"kind": kind, "note": note, "created_at": now}
    with write_tx(store) as conn:
        case = _find(conn, ref, scope, lock=True)
        _may_write(scope, case["region_code"])
        if case["state"] not in ("investigating", "notified", "hearing"):
            raise InputError("state", case["state"], "penalties are proposed during investigation, notice or "
                             "hearing, before the decision")
        basis = case["legal_basis"]
        if kind == "fine":
            values["amount_yuan"] = penalties.check_fine(amount_yuan, basis)
        elif kind == "daily_fine":
            if not basis.get("daily_fine"):
                raise InputError("kind", kind, f"{basis['penalty_basis']} does not allow a daily continuous penalty")
            d = penalties.daily_fine(penalties.check_fine(base_yuan, basis), _date("served_on", served_on),
                                     _date("recheck_on", recheck_on))
            values.update(amount_yuan=d.amount_yuan, base_yuan=d.base_yuan, from_date=d.from_date,
                          to_date=d.to_date, days=d.days)
        elif kind == "confiscation":
            if amount_yuan is None or amount_yuan < 0:
                raise InputError("amount_yuan", amount_yuan, "confiscation needs the amount (yuan)")
            values["amount_yuan"] = float(amount_yuan)
        pid = conn.execute(insert(enf_penalty).values(case_id=case["id"], **values)
                           .returning(enf_penalty.c.id)).scalar_one()
        detail = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if k != "created_at"}
        origin.record(conn, "case_penalty", f"case:{case['number']}", {"penalty": pid, **detail})
    return get_case(store, scope, case["number"])


def mark_paid(store: Store, scope: Scope, origin: Origin, ref: int | str, penalty_id: int, *,
              paid_on: date | str | None = None, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    paid = _date("paid_on", paid_on, now.date())
    with write_tx(store) as conn:
        case = _find(conn, ref, scope, lock=True)
        _may_write(scope, case["region_code"])
        if case["state"] != "executing":
            raise InputError("state", case["state"], "payment is recorded while the decision is executed")
        if case["served_on"] and paid < case["served_on"]:
            raise InputError("paid_on", paid.isoformat(), f"is before the decision was served ({case['served_on']})")
        n = conn.execute(update(enf_penalty).where(enf_penalty.c.id == penalty_id,
                                                   enf_penalty.c.case_id == case["id"]).values(paid_on=paid)).rowcount
        if not n:
            raise NotFound(f"penalty {penalty_id} of case {case['number']} not found")
        origin.record(conn, "case_penalty_paid", f"case:{case['number']}", {"penalty": penalty_id,
                                                                            "paid_on": paid.isoformat()})
    return get_case(store, scope, case["number"])


def _iso(v):
    return v.isoformat() if isinstance(v, date | datetime) else v


def _row(r, names: dict[int, tuple[str, str]] | None = None, *, today: date | None = None) -> dict:
    d = {k: _iso(v) for k, v in dict(r).items()}
    d["state_name"] = machine.STATES[r["state"]]
    if names is not None and r["enterprise_id"] in names:
        d["enterprise_uscc"], d["enterprise_name"] = names[r["enterprise_id"]]
    if today is not None:
        d["overdue"] = bool(r["state_due"] and r["state"] in machine.OPEN and r["state_due"] < today)
    return d


def _names(conn: Connection, ids) -> dict[int, tuple[str, str]]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {r.id: (r.uscc, r.name) for r in conn.execute(
        select(enterprise.c.id, enterprise.c.uscc, enterprise.c.name).where(enterprise.c.id.in_(ids)))}


def list_cases(store: Store, scope: Scope, *, overdue: bool = False, state: str | None = None,
               enterprise_id: int | None = None, today: date | None = None, limit: int = 500) -> list[dict]:
    today = today or datetime.now(UTC).date()
    q = select(enf_case).order_by(enf_case.c.state_due, enf_case.c.id).limit(limit)
    cond = _cond(scope)
    if cond is not None:
        q = q.where(cond)
    if state:
        if state not in machine.STATES:
            raise InputError("state", state, "must be one of " + ", ".join(machine.STATES))
        q = q.where(enf_case.c.state == state)
    if enterprise_id is not None:
        q = q.where(enf_case.c.enterprise_id == enterprise_id)
    if overdue:
        q = q.where(enf_case.c.state.in_(machine.OPEN), enf_case.c.state_due < today)
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
        names = _names(conn, [r["enterprise_id"] for r in rows])
    return [_row(r, names, today=today) for r in rows]


def get_case(store: Store, scope: Scope, ref: int | str, *, today: date | None = None) -> dict:
    """The case with its timeline (every step: from, to, date, who, note), penalties and documents."""
    today = today or datetime.now(UTC).date()
    with store.engine.connect() as conn:
        r = _find(conn, ref, scope)
        out = _row(r, _names(conn, [r["enterprise_id"]]), today=today)
        out["timeline"] = [{k: _iso(v) for k, v in dict(e).items()} | {"to_name": machine.STATES[e["to_state"]]}
                           for e in conn.execute(select(enf_case_event).where(enf_case_event.c.case_id == r["id"])
                                                 .order_by(enf_case_event.c.id)).mappings()]
        out["penalties"] = [{k: _iso(v) for k, v in dict(p).items()} for p in conn.execute(
            select(enf_penalty).where(enf_penalty.c.case_id == r["id"]).order_by(enf_penalty.c.id)).mappings()]
        out["documents"] = [{k: _iso(v) for k, v in dict(d).items()} for d in conn.execute(
            select(enf_document.c.id, enf_document.c.kind, enf_document.c.filename, enf_document.c.sha256,
                   enf_document.c.size, enf_document.c.created_at).where(enf_document.c.case_id == r["id"])
            .order_by(enf_document.c.id)).mappings()]
    out["allowed"] = machine.allowed(r["state"])
    out["penalty_total_yuan"] = round(sum(p["amount_yuan"] or 0 for p in out["penalties"]), 2)
    return out


def public_penalties(store: Store, *, region_code: str | None = None, limit: int = 200) -> list[dict]:
    """Penalty decisions as published (行政处罚信息公开): decided cases only, no personal data or notes."""
    q = (select(enf_case.c.id, enf_case.c.number, enf_case.c.region_code, enf_case.c.violation,
                enf_case.c.legal_basis, enf_case.c.decided_on, enf_case.c.state, enterprise.c.uscc, enterprise.c.name)
         .join(enterprise, enterprise.c.id == enf_case.c.enterprise_id)
         .where(enf_case.c.state.in_(PUBLIC_STATES), enf_case.c.published.is_(True))
         .order_by(enf_case.c.decided_on.desc(), enf_case.c.id.desc()).limit(limit))
    if region_code:
        q = q.where(enf_case.c.region_code.startswith(region_prefix(region_code), autoescape=True))
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
        pens: dict[int, list] = {}
        if rows:
            for p in conn.execute(select(enf_penalty.c.case_id, enf_penalty.c.kind, enf_penalty.c.amount_yuan,
                                         enf_penalty.c.days).where(enf_penalty.c.case_id.in_([r["id"] for r in rows]))
                                  .order_by(enf_penalty.c.id)).mappings():
                pens.setdefault(p["case_id"], []).append(dict(p) | {"case_id": None})
    return [{"number": r["number"], "region_code": r["region_code"], "enterprise_uscc": r["uscc"],
             "enterprise_name": r["name"], "violation": r["legal_basis"]["name"],
             "violates": r["legal_basis"]["violates"], "penalty_basis": r["legal_basis"]["penalty_basis"],
             "decided_on": _iso(r["decided_on"]),
             "penalties": [{"kind": p["kind"], "amount_yuan": p["amount_yuan"], "days": p["days"]}
                           for p in pens.get(r["id"], [])]} for r in rows]


def check_overdue(store: Store, *, today: date | None = None, now: datetime | None = None) -> list[dict]:
    """Raise a ``case_overdue`` alert for every open case whose current step is past its deadline, addressed to
    the case owner's supervisor (``details.notify``); the alert clears when the step is done."""
    now = now or datetime.now(UTC)
    today = today or now.date()
    raised = []
    with write_tx(store) as conn:
        rows = conn.execute(select(enf_case).where(and_(enf_case.c.state.in_(machine.OPEN),
                                                        enf_case.c.state_due < today))).mappings().all()
        for r in rows:
            days = (today - r["state_due"]).days
            msg = (f"执法案件 {r['number']} 的「{machine.STATES[r['state']]}」环节已逾期 {days} 天"
                   f"（期限 {r['state_due']}），承办人 {r['owner']}")
            out = raise_condition(conn, Condition(
                rule=OVERDUE_RULE, cause_key=f"case:{r['id']}:{r['state']}", severity="warning", message=msg,
                region=r["region_code"], level=float(days),
                details={"case": r["number"], "state": r["state"], "due": r["state_due"].isoformat(),
                         "owner": r["owner"], "notify": r["supervisor"] or "admin", "days_overdue": days}),
                int(now.timestamp()), notify=False)
            raised.append({"case": r["number"], "state": r["state"], "due": r["state_due"].isoformat(),
                           "alert_id": out.alert_id, "notify": r["supervisor"] or "admin"})
    return raised
