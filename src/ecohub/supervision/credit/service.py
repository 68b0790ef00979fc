"""Credit ratings from the platform's own facts, versioned; the blacklist (严重失信) with credit repair.

Facts of an enterprise and year (each rating stores them, with the points and vetoes they gave):

* ``exceedance_hours`` — hours the enterprise's outlets exceeded their permit limits: the sum of
  ``occurrences`` of its ``permit`` alerts opened in the year (the permit rule updates one alert per outlet and
  pollutant each exceeding hour);
* ``suspicious_findings`` / ``offline_findings`` — its ``suspicious`` / ``offline`` alerts opened in the year;
* ``cases_decided``, ``fines_10k_yuan`` — its enforcement cases decided in the year and their amounts;
  ``monitoring_fraud_cases``, ``daily_fine_cases`` — decided cases for data fraud / with a daily penalty (vetoes);
* ``tonnage_exceeded`` — a ``permit_tonnage`` alert of the year whose emitted tonnage reached the permitted;
* ``permit_missing`` — no permit of the enterprise valid on 31 December (or today) of the year;
* ``substantiated_complaints`` — complaints the loop linked to a case of the enterprise decided in the year;
* ``outlets`` — the enterprise's outlets (sites of an ``…outlet`` kind; the national method's compliance rate).

Ratings are only ever added (``version`` 1, 2, … per enterprise and year). A red rating from a veto puts the
enterprise on the blacklist (one open entry at a time) with the reason; repair: the enterprise applies with a
statement, the conditions are checked (every case closed, every fine paid, at least
:data:`REPAIR_MIN_DAYS` days listed), an officer approves or refuses; approval restores it on a date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection

from ecohub.domain.errors import InputError, NotFound
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope, region_prefix
from ecohub.store.schema import enterprise, site
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_enforcement import credit_blacklist, credit_rating, enf_case, enf_penalty
from ecohub.store.schema_permits import permit
from ecohub.store.schema_supervision import complaint_handling
from ecohub.store.tx import write_tx
from ecohub.supervision.credit import method, national2013

DECIDED = ("decided", "executing", "closed")
WRITERS = ("system", "admin", "officer")
STAFF = ("system", "admin", "analyst", "officer")
REPAIR_MIN_DAYS = 180  # UNCONFIRMED: provincial measures differ (docs/credit.md)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def facts(conn: Connection, enterprise_id: int, uscc: str, year: int, *, today: date | None = None) -> dict:
    start, end = _year_bounds(year)
    sites = select(site.c.id).where(site.c.enterprise_id == enterprise_id).scalar_subquery()
    in_year = and_(alert.c.opened_at >= start, alert.c.opened_at < end, alert.c.site_id.in_(sites))
    exceed = conn.scalar(select(func.coalesce(func.sum(alert.c.occurrences), 0)).where(in_year, alert.c.rule == "permit"))
    susp = conn.scalar(select(func.count()).select_from(alert).where(in_year, alert.c.rule == "suspicious"))
    off = conn.scalar(select(func.count()).select_from(alert).where(in_year, alert.c.rule == "offline"))
    cases = conn.execute(select(enf_case.c.id, enf_case.c.number, enf_case.c.violation).where(
        enf_case.c.enterprise_id == enterprise_id, enf_case.c.state.in_(DECIDED),
        enf_case.c.decided_on >= date(year, 1, 1), enf_case.c.decided_on <= date(year, 12, 31))).all()
    ids = [c.id for c in cases]
    pens = conn.execute(select(enf_penalty.c.case_id, enf_penalty.c.kind, enf_penalty.c.amount_yuan)
                        .where(enf_penalty.c.case_id.in_(ids))).all() if ids else []
    ton = conn.execute(select(alert.c.value, alert.c.level).where(
        alert.c.rule == "permit_tonnage", alert.c.cause_key.like(f"permit_tonnage:{uscc}:%:{year}"))).all()
    # a complaint is substantiated when the loop linked it to a case of the enterprise decided in the year
    subst = conn.scalar(select(func.count()).select_from(complaint_handling).where(
        complaint_handling.c.case_id.in_(ids))) if ids else 0
    outlets = conn.scalar(select(func.count()).select_from(site).where(site.c.enterprise_id == enterprise_id,
                                                                       site.c.kind.like("%outlet")))
    day = min(date(year, 12, 31), today or date(year, 12, 31))
    valid = conn.scalar(select(func.count()).select_from(permit).where(
        permit.c.enterprise_id == enterprise_id, permit.c.valid_from <= day, permit.c.valid_to >= day,
        permit.c.status == "valid"))
    return {
        "exceedance_hours": int(exceed or 0), "suspicious_findings": int(susp or 0), "offline_findings": int(off or 0),
        "cases_decided": len(cases), "cases": [c.number for c in cases],
        "fines_10k_yuan": round(sum(p.amount_yuan or 0 for p in pens) / 10_000, 2),
        "monitoring_fraud_cases": sum(c.violation == "monitoring_fraud" for c in cases),
        "daily_fine_cases": len({p.case_id for p in pens if p.kind == "daily_fine"}),
        "tonnage_exceeded": sum(1 for v, lv in ton if v is not None and lv and v >= lv),
        "permit_missing": 0 if valid else 1,
        "substantiated_complaints": int(subst or 0), "outlets": int(outlets or 0),
    }


def _cond(scope: Scope):
    if scope.role in ("system", "admin", "analyst"):
        return None
    if scope.role == "officer" and scope.region_code:
        return enterprise.c.region_code.startswith(region_prefix(scope.region_code), autoescape=True)
    if scope.role == "enterprise" and scope.enterprise_id is not None:
        return enterprise.c.id == scope.enterprise_id
    raise PermissionError("credit details are visible to staff and to the enterprise concerned; the public sees "
                          "levels (public_levels)")


METHODS = {method.METHOD: method.rate, national2013.METHOD: national2013.rate}


def rate(store: Store, scope: Scope, origin: Origin, year: int, *, uscc: str | None = None,
         today: date | None = None, now: datetime | None = None, method_name: str = method.METHOD) -> list[dict]:
    """Rate the enterprises (one, or all visible) for ``year``: a new version each time, never overwritten.
    ``method_name``: ``ecohub-credit-v1`` (deductions over platform facts) or ``mee-2013-150`` (the national
    2013 indicator set, docs/credit.md)."""
    if method_name not in METHODS:
        raise InputError("method", method_name, "one of " + ", ".join(METHODS))
    if scope.role not in WRITERS:
        raise PermissionError(f"role {scope.role!r} may not rate enterprises")
    if not 2000 <= int(year) <= 2100:
        raise InputError("year", year, "not a plausible year")
    now = now or datetime.now(UTC)
    out = []
    with write_tx(store) as conn:
        q = select(enterprise.c.id, enterprise.c.uscc, enterprise.c.name).order_by(enterprise.c.uscc)
        cond = _cond(scope)
        if cond is not None:
            q = q.where(cond)
        if uscc:
            q = q.where(enterprise.c.uscc == uscc)
        ents = conn.execute(q).all()
        if uscc and not ents:
            raise InputError("enterprise", uscc, "no registered enterprise with this USCC (or outside your region)")
        for e in ents:
            f = facts(conn, e.id, e.uscc, year, today=today)
            r = METHODS[method_name](f)
            ver = int(conn.scalar(select(func.coalesce(func.max(credit_rating.c.version), 0)).where(
                credit_rating.c.enterprise_id == e.id, credit_rating.c.year == year))) + 1
            rid = conn.execute(insert(credit_rating).values(
                enterprise_id=e.id, year=year, version=ver, level=r.level, score=r.score, facts=f, points=r.points,
                vetoes=r.vetoes, method=method_name, computed_at=now, computed_by=origin.actor,
            ).returning(credit_rating.c.id)).scalar_one()
            listed = None
            if r.vetoes:
                listed = _blacklist(conn, e.id, rid, "; ".join(v["reason"] for v in r.vetoes),
                                    (today or now.date()), now)
            origin.record(conn, "credit_rate", f"enterprise:{e.uscc}", {"year": year, "version": ver,
                                                                         "level": r.level, "score": r.score})
            out.append({"enterprise_uscc": e.uscc, "enterprise_name": e.name, "year": year, "version": ver,
                        "level": r.level, "level_name": method.LEVELS[r.level], "score": r.score, "facts": f,
                        "points": r.points, "vetoes": r.vetoes, "method": method_name, "blacklisted": listed})
    return out


def _blacklist(conn: Connection, enterprise_id: int, rating_id: int, reason: str, on: date, now: datetime) -> int:
    open_ = conn.scalar(select(credit_blacklist.c.id).where(credit_blacklist.c.enterprise_id == enterprise_id,
                                                            credit_blacklist.c.status.in_(("listed", "applied"))))
    if open_ is not None:
        return int(open_)
    return conn.execute(insert(credit_blacklist).values(
        enterprise_id=enterprise_id, start_on=on, reason=reason, rating_id=rating_id, status="listed",
        updated_at=now).returning(credit_blacklist.c.id)).scalar_one()


def history(store: Store, scope: Scope, uscc: str) -> list[dict]:
    """Every version of every year of an enterprise's ratings, newest first."""
    q = (select(credit_rating, enterprise.c.uscc, enterprise.c.name).join(enterprise, enterprise.c.id ==
                                                                           credit_rating.c.enterprise_id)
         .where(enterprise.c.uscc == uscc).order_by(credit_rating.c.year.desc(), credit_rating.c.version.desc()))
    cond = _cond(scope)
    if cond is not None:
        q = q.where(cond)
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()}
            | {"level_name": method.LEVELS[r["level"]]} for r in rows]


def public_levels(store: Store, year: int) -> list[dict]:
    """The latest version per enterprise of ``year``: name, USCC, level (公开) — no facts."""
    latest = (select(credit_rating.c.enterprise_id, func.max(credit_rating.c.version).label("v"))
              .where(credit_rating.c.year == year).group_by(credit_rating.c.enterprise_id).subquery())
    q = (select(enterprise.c.uscc, enterprise.c.name, enterprise.c.region_code, credit_rating.c.level,
                credit_rating.c.version)
         .join(latest, and_(latest.c.enterprise_id == credit_rating.c.enterprise_id,
                            latest.c.v == credit_rating.c.version))
         .join(enterprise, enterprise.c.id == credit_rating.c.enterprise_id)
         .where(credit_rating.c.year == year).order_by(enterprise.c.uscc))
    with store.engine.connect() as conn:
        return [dict(r) | {"level_name": method.LEVELS[r.level], "year": year} for r in conn.execute(q).mappings()]


def blacklist(store: Store, *, include_restored: bool = False) -> list[dict]:
    """The blacklist (public): enterprise, start date, reason, status, restored date."""
    q = (select(credit_blacklist.c.id, enterprise.c.uscc, enterprise.c.name, credit_blacklist.c.start_on,
                credit_blacklist.c.reason, credit_blacklist.c.status, credit_blacklist.c.restored_on)
         .join(enterprise, enterprise.c.id == credit_blacklist.c.enterprise_id).order_by(credit_blacklist.c.id))
    if not include_restored:
        q = q.where(credit_blacklist.c.status.in_(("listed", "applied", "refused")))
    with store.engine.connect() as conn:
        return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in dict(r).items()}
                for r in conn.execute(q).mappings()]


def _entry(conn: Connection, entry_id: int):
    e = conn.execute(select(credit_blacklist).where(credit_blacklist.c.id == entry_id)).mappings().first()
    if e is None:
        raise NotFound(f"blacklist entry {entry_id} not found")
    return e


def apply_repair(store: Store, scope: Scope, origin: Origin, entry_id: int, statement: str, *,
                 on: date | None = None, now: datetime | None = None) -> dict:
    """The enterprise (or staff for it) applies for credit repair (信用修复) with a statement of what was done."""
    now = now or datetime.now(UTC)
    on = on or now.date()
    if not (statement or "").strip():
        raise InputError("statement", statement, "an application states what was corrected")
    with write_tx(store) as conn:
        e = _entry(conn, entry_id)
        if not (scope.role in WRITERS or (scope.role == "enterprise" and scope.enterprise_id == e["enterprise_id"])):
            raise PermissionError("only the enterprise concerned or staff may apply for its credit repair")
        if e["status"] not in ("listed", "refused"):
            raise InputError("status", e["status"], "an application is possible while listed (or after a refusal)")
        if on < e["start_on"]:
            raise InputError("on", on.isoformat(), f"is before the listing ({e['start_on']})")
        conn.execute(update(credit_blacklist).where(credit_blacklist.c.id == entry_id).values(
            status="applied", repair_applied_on=on, repair_statement=statement, updated_at=now))
        origin.record(conn, "credit_repair_apply", f"blacklist:{entry_id}", {"on": on.isoformat()})
    return repair_conditions(store, entry_id, on=on)


def repair_conditions(store: Store, entry_id: int, *, on: date | None = None) -> dict:
    """The conditions of repair and whether each holds."""
    on = on or datetime.now(UTC).date()
    with store.engine.connect() as conn:
        e = _entry(conn, entry_id)
        open_cases = conn.scalar(select(func.count()).select_from(enf_case).where(
            enf_case.c.enterprise_id == e["enterprise_id"], enf_case.c.state.notin_(("closed", "not_filed",
                                                                                      "revoked"))))
        unpaid = conn.scalar(select(func.count()).select_from(enf_penalty.join(enf_case)).where(
            enf_case.c.enterprise_id == e["enterprise_id"], enf_penalty.c.kind.in_(("fine", "daily_fine")),
            enf_penalty.c.paid_on.is_(None), enf_case.c.state.in_(DECIDED)))
    days = (on - e["start_on"]).days
    conds = [{"condition": "every case closed", "holds": not open_cases, "fact": int(open_cases)},
             {"condition": "every fine paid", "holds": not unpaid, "fact": int(unpaid)},
             {"condition": f"listed at least {REPAIR_MIN_DAYS} days", "holds": days >= REPAIR_MIN_DAYS, "fact": days}]
    return {"entry": entry_id, "status": e["status"], "conditions": conds, "all_hold": all(c["holds"] for c in conds)}


def decide_repair(store: Store, scope: Scope, origin: Origin, entry_id: int, approve: bool, *,
                  on: date | None = None, note: str | None = None, now: datetime | None = None) -> dict:
    """Approve (restored on ``on``) or refuse an application; approval needs every condition to hold."""
    now = now or datetime.now(UTC)
    on = on or now.date()
    if scope.role not in WRITERS:
        raise PermissionError(f"role {scope.role!r} may not decide credit repair")
    check = repair_conditions(store, entry_id, on=on)
    with write_tx(store) as conn:
        e = _entry(conn, entry_id)
        if e["status"] != "applied":
            raise InputError("status", e["status"], "only an application can be decided")
        if approve and not check["all_hold"]:
            failing = [c["condition"] for c in check["conditions"] if not c["holds"]]
            raise InputError("conditions", failing, "credit repair conditions not met: " + "; ".join(failing))
        vals = {"status": "restored" if approve else "refused", "decided_by": origin.actor,
                "repair_conditions": check["conditions"], "updated_at": now}
        if approve:
            vals["restored_on"] = on
        conn.execute(update(credit_blacklist).where(credit_blacklist.c.id == entry_id).values(**vals))
        origin.record(conn, "credit_repair_decide", f"blacklist:{entry_id}",
                      {"approve": approve, "on": on.isoformat(), "note": note})
    return repair_conditions(store, entry_id, on=on)
