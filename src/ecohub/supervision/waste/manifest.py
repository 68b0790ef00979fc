"""Electronic hazardous-waste transfer manifests (危险废物电子转移联单) — the state machine, declared once here.

**States and actions** (:data:`TRANSITIONS`)::

    created ──approve──▶ approved ──dispatch──▶ dispatched ──receive──▶ received ──close──▶ closed
       │ └───────────────dispatch (same province only)──┘
       └──cancel──▶ cancelled ◀──cancel── approved

* ``create`` (the generator): code from the national list (unknown codes refused), tonnes, receiver. A transfer
  whose receiver is in another province is *cross-region* and must be **approved** by an officer before it may
  be dispatched (固体废物污染环境防治法 2020 art. 82: 跨省转移 needs the approval of the province of origin;
  《危险废物转移管理办法》 2021 ch. 3).
* ``dispatch`` (the generator, with transporter, vehicle, time): the receipt deadline is set (default
  :data:`RECEIPT_DAYS` days — our setting, UNCONFIRMED as a legal figure, docs/waste.md); the ledger records the
  shipment.
* ``receive`` (the receiver, with the received tonnes and time): the ledger records the receipt.
* ``close`` (the receiver or an officer).

Every transition is one compare-and-set ``UPDATE … WHERE id = ? AND version = ?`` plus one ``manifest_event``
(``seq`` = the new version, unique per manifest) and one audit row, in one write transaction: two clients
acting on one manifest at once cannot both succeed from the same state, and no step is lost or doubled — the
loser is told the state the winner left. An action not allowed from the current state is refused with the state
and the actions that are allowed.

**Alerts** (existing alert lifecycle, one per manifest and cause): ``waste_unlicensed`` — the receiver holds no
valid licence for the code (raised at create and at receipt; the manifest is not blocked: the platform records
and warns, the officer acts); ``waste_discrepancy`` — received tonnes differ from shipped by more than
:data:`TOLERANCE`; ``waste_overdue`` — dispatched and not received by the deadline (:func:`check_overdue`).
"""

from __future__ import annotations

import math
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ecohub.alerts.lifecycle import Condition, clear_condition, raise_condition
from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.timeutil import BEIJING
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import enterprise
from ecohub.store.schema_waste import manifest, manifest_event, waste_ledger
from ecohub.store.tx import write_tx
from ecohub.supervision.waste.codes import enterprise_id, known_code, licensed

#: state → {action: next state}; the one declaration of the workflow
TRANSITIONS: dict[str, dict[str, str]] = {
    "created": {"approve": "approved", "dispatch": "dispatched", "cancel": "cancelled"},
    "approved": {"dispatch": "dispatched", "cancel": "cancelled"},
    "dispatched": {"receive": "received"},
    "received": {"close": "closed"},
    "closed": {},
    "cancelled": {},
}
#: who may take each action (besides system/admin): the generator, the receiver, an officer of the region
ACTORS: dict[str, tuple[str, ...]] = {"approve": ("officer",), "dispatch": ("generator",),
                                      "receive": ("receiver",), "close": ("receiver", "officer"),
                                      "cancel": ("generator", "officer")}
OPEN_STATES = ("created", "approved", "dispatched", "received")
TOLERANCE = 0.05  # |received − shipped| / shipped beyond which a discrepancy alert is raised (our setting)
RECEIPT_DAYS = 5  # days after dispatch by which the receipt must be confirmed (our setting, UNCONFIRMED)


class IllegalTransition(InputError):
    """An action the manifest's state does not allow (field ``state``)."""


def _num(name: str, v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(name, v, "a number of tonnes") from None
    if not math.isfinite(f) or f <= 0:
        raise InputError(name, v, "a positive number of tonnes")
    return f


def _visible(scope: Scope):
    """Condition on ``manifest``: an enterprise sees what it generates or receives; an officer what a generator
    or receiver of his region does; public callers nothing."""
    if scope.full:
        return None
    if scope.role == "enterprise" and scope.enterprise_id is not None:
        return (manifest.c.generator_id == scope.enterprise_id) | (manifest.c.receiver_id == scope.enterprise_id)
    if scope.role == "officer":
        pre = region_prefix(scope.region_code) or "-"
        ids = select(enterprise.c.id).where(enterprise.c.region_code.startswith(pre, autoescape=True))
        return manifest.c.generator_id.in_(ids) | manifest.c.receiver_id.in_(ids)
    return manifest.c.id == -1


def _may(conn: Connection, scope: Scope, action: str, m) -> None:
    if scope.full or scope.role == "system":
        return
    roles = ("generator",) if action == "create" else ACTORS[action]
    if scope.role == "enterprise":
        if "generator" in roles and scope.enterprise_id == m["generator_id"]:
            return
        if "receiver" in roles and scope.enterprise_id == m["receiver_id"]:
            return
    if scope.role == "officer" and "officer" in roles:
        pre = region_prefix(scope.region_code) or "-"
        regions = conn.execute(select(enterprise.c.region_code).where(
            enterprise.c.id.in_([m["generator_id"], m["receiver_id"]]))).scalars().all()
        if any(r.startswith(pre) for r in regions):
            return
    raise PermissionError(f"{action} of a manifest is for the {' or '.join(roles)}")


def _event(conn: Connection, m_id: int, seq: int, frm: str | None, to: str, at: datetime, origin: Origin,
           number: str, detail: dict) -> None:
    conn.execute(manifest_event.insert().values(manifest_id=m_id, seq=seq, from_state=frm, to_state=to, at=at,
                                                actor=origin.actor, detail=detail))
    origin.record(conn, "write", f"manifest:{number}", {"change": f"manifest {frm or 'new'} → {to}", **detail})


def _alert(conn: Connection, rule: str, m: dict, severity: str, message: str, now: datetime, **details) -> None:
    raise_condition(conn, Condition(rule=rule, cause_key=f"{rule}:{m['number']}", severity=severity,
                                    message=message, details={"manifest": m["number"], "code": m["code"],
                                                              **details}), int(now.timestamp()))


def _unlicensed_check(conn: Connection, m: dict, on: datetime) -> bool:
    if licensed(conn, m["receiver_id"], m["code"], on.astimezone(BEIJING).date()):
        return False
    _alert(conn, "waste_unlicensed", m, "major", f"联单 {m['number']}: 接受单位无 {m['code']} 的有效经营许可证 "
           f"(receiver not licensed for {m['code']})", on)
    return True


def create(store: Store, scope: Scope, origin: Origin, *, generator: str, receiver: str, code: str, tonnes,
           now: datetime | None = None) -> dict:
    """Create a manifest (state ``created``). Unknown code, enterprise or quantity → :class:`InputError`."""
    now = now or datetime.now(UTC)
    qty = _num("tonnes", tonnes)
    with write_tx(store) as conn:
        c = known_code(conn, code)
        gid, greg = enterprise_id(conn, generator, "generator")
        rid, rreg = enterprise_id(conn, receiver, "receiver")
        if gid == rid:
            raise InputError("receiver", receiver, "the receiver must differ from the generator")
        m = {"generator_id": gid, "receiver_id": rid, "code": c["code"], "quantity_t": qty, "state": "created",
             "version": 1, "cross_region": greg[:2] != rreg[:2], "created_at": now, "updated_at": now,
             "number": "HW" + now.astimezone(BEIJING).strftime("%Y%m%d") + secrets.token_hex(4).upper()}
        _may(conn, scope, "create", m)
        m["id"] = conn.execute(manifest.insert().values(**m).returning(manifest.c.id)).scalar_one()
        _event(conn, m["id"], 1, None, "created", now, origin, m["number"],
               {"code": m["code"], "tonnes": qty, "cross_region": m["cross_region"]})
        m["receiver_licensed"] = not _unlicensed_check(conn, m, now)
    return _public(m)


def _public(m: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in m.items()}


def transition(store: Store, scope: Scope, origin: Origin, number: str, action: str, *, now: datetime | None = None,
               **fields) -> dict:
    """Take ``action`` on manifest ``number``; see the module doc. Raises :class:`IllegalTransition` (with the
    state and the allowed actions), :class:`InputError` for bad fields, :class:`NotFound`, PermissionError."""
    now = now or datetime.now(UTC)
    with write_tx(store) as conn:
        q = select(manifest).where(manifest.c.number == (number or "").strip().upper())
        cond = _visible(scope)
        if cond is not None:
            q = q.where(cond)
        row = conn.execute(q).mappings().first()
        if row is None:
            raise NotFound(f"manifest {number!r}")
        m = dict(row)
        allowed = TRANSITIONS[m["state"]]
        if action not in allowed:
            raise IllegalTransition("state", m["state"], f"cannot {action} manifest {m['number']}: it is "
                                    f"{m['state']}; allowed: {', '.join(allowed) or 'nothing (final state)'}")
        _may(conn, scope, action, m)
        new = allowed[action]
        values: dict = {"state": new, "version": m["version"] + 1, "updated_at": now}
        detail: dict = {}
        if action == "approve":
            if not m["cross_region"]:
                raise IllegalTransition("state", m["state"], "only a cross-province transfer needs approval")
            ref = (fields.get("approval_ref") or "").strip()
            if not ref:
                raise InputError("approval_ref", ref, "the approval's reference (批准文号) is required")
            values["approval_ref"] = detail["approval_ref"] = ref[:64]
        elif action == "dispatch":
            if m["cross_region"] and m["state"] != "approved":
                raise IllegalTransition("state", m["state"], f"manifest {m['number']} is a cross-province transfer: "
                                        "it must be approved before it is dispatched (固废法 art. 82)")
            for f in ("transporter", "vehicle"):
                if not (fields.get(f) or "").strip():
                    raise InputError(f, fields.get(f), "required to dispatch")
            at = fields.get("at") or now
            days = fields.get("deadline_days") or RECEIPT_DAYS
            values.update(transporter=fields["transporter"].strip()[:200], vehicle=fields["vehicle"].strip()[:32],
                          dispatched_at=at, deadline_at=at + timedelta(days=float(days)))
            detail = {"transporter": values["transporter"], "vehicle": values["vehicle"], "at": at.isoformat(),
                      "deadline": values["deadline_at"].isoformat()}
        elif action == "receive":
            qty = _num("tonnes", fields.get("tonnes"))
            at = fields.get("at") or now
            values.update(received_quantity_t=qty, received_at=at)
            detail = {"tonnes": qty, "at": at.isoformat()}
        elif action == "close":
            values["closed_at"] = now
        elif action == "cancel":
            reason = (fields.get("reason") or "").strip()
            if not reason:
                raise InputError("reason", reason, "a reason is required to cancel")
            detail["reason"] = reason[:500]
        done = conn.execute(update(manifest).where(manifest.c.id == m["id"], manifest.c.version == m["version"])
                            .values(**values)).rowcount
        if done != 1:  # another client moved it first (PostgreSQL: after our read); its step stands
            cur = conn.scalar(select(manifest.c.state).where(manifest.c.id == m["id"]))
            raise IllegalTransition("state", cur, f"manifest {m['number']} changed meanwhile (now {cur}); "
                                    "reload and retry")
        _event(conn, m["id"], values["version"], m["state"], new, now, origin, m["number"], detail)
        m.update(values)
        if action == "dispatch":
            conn.execute(waste_ledger.insert().values(enterprise_id=m["generator_id"], code=m["code"], kind="shipped",
                                                      quantity_t=m["quantity_t"], at=values["dispatched_at"],
                                                      manifest_id=m["id"], recorded_by=origin.actor))
        if action == "receive":
            conn.execute(waste_ledger.insert().values(enterprise_id=m["receiver_id"], code=m["code"], kind="received",
                                                      quantity_t=values["received_quantity_t"], at=values["received_at"],
                                                      manifest_id=m["id"], recorded_by=origin.actor))
            diff = (values["received_quantity_t"] - m["quantity_t"]) / m["quantity_t"]
            if abs(diff) > TOLERANCE:
                _alert(conn, "waste_discrepancy", m, "major",
                       f"联单 {m['number']}: 接收量 {values['received_quantity_t']:g} t 与转移量 {m['quantity_t']:g} t "
                       f"相差 {diff:+.1%} (> ±{TOLERANCE:.0%})", now, shipped_t=m["quantity_t"],
                       received_t=values["received_quantity_t"], difference=diff)
            clear_condition(conn, f"waste_overdue:{m['number']}", int(now.timestamp()), "received")
            _unlicensed_check(conn, m, values["received_at"])
    return _public(m)


def check_overdue(store: Store, now: datetime | None = None) -> list[str]:
    """Raise ``waste_overdue`` for every dispatched manifest past its receipt deadline; returns their numbers."""
    now = now or datetime.now(UTC)
    out = []
    with write_tx(store) as conn:
        for r in conn.execute(select(manifest).where(manifest.c.state == "dispatched",
                                                     manifest.c.deadline_at < now)).mappings():
            m = dict(r)
            _alert(conn, "waste_overdue", m, "major", f"联单 {m['number']}: 超过接收期限 {m['deadline_at']:%Y-%m-%d %H:%M} "
                   "UTC 仍未接收 (not received by its deadline)", now, deadline=m["deadline_at"].isoformat())
            out.append(m["number"])
    return out


def state_condition(state: str | None):
    """Condition on ``manifest`` for a state filter: one of the states, ``open`` (not closed or cancelled), or
    None (every state)."""
    if not state:
        return None
    if state == "open":
        return manifest.c.state.in_(OPEN_STATES)
    if state in TRANSITIONS:
        return manifest.c.state == state
    raise InputError("state", state, "open or one of " + ", ".join(TRANSITIONS))


def list_manifests(store: Store, scope: Scope, *, state: str | None = None, limit: int = 500) -> list[dict]:
    """Manifests the caller may see; ``state`` one of the states or ``open`` (not closed or cancelled)."""
    q = (select(manifest, enterprise.c.uscc.label("generator"))
         .select_from(manifest.join(enterprise, enterprise.c.id == manifest.c.generator_id))
         .order_by(manifest.c.created_at.desc(), manifest.c.id.desc()).limit(limit))
    for cond in (state_condition(state), _visible(scope)):
        if cond is not None:
            q = q.where(cond)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
        recv = dict(conn.execute(select(enterprise.c.id, enterprise.c.uscc).where(
            enterprise.c.id.in_({r["receiver_id"] for r in rows}))).all()) if rows else {}
    for r in rows:
        r["receiver"] = recv.get(r["receiver_id"])
    return [_public(r) for r in rows]


def manifest_events(store: Store, scope: Scope, number: str) -> list[dict]:
    q = select(manifest.c.id).where(manifest.c.number == (number or "").strip().upper())
    cond = _visible(scope)
    if cond is not None:
        q = q.where(cond)
    with store.engine.connect() as conn:
        mid = conn.scalar(q)
        if mid is None:
            raise NotFound(f"manifest {number!r}")
        return [_public(dict(r)) for r in conn.execute(
            select(manifest_event.c.seq, manifest_event.c.from_state, manifest_event.c.to_state, manifest_event.c.at,
                   manifest_event.c.actor, manifest_event.c.detail)
            .where(manifest_event.c.manifest_id == mid).order_by(manifest_event.c.seq)).mappings()]
