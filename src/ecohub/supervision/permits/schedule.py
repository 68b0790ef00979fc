"""The permit jobs of the worker (``ecohub worker``, :func:`run_due` every pass):

* the hourly emissions rollup (:func:`ecohub.supervision.permits.rollup.maintain`) — every pass;
* when due (every ``ECOHUB_SUPERVISION_CHECK_EVERY`` seconds, default one hour; state in ``worker_state`` row
  ``permit_checks``): the tonnage check of the current Beijing year (rule ``permit_tonnage``, 80 % / 100 %,
  :func:`~ecohub.supervision.permits.emissions.check_tonnage`), overdue execution reports (rule
  ``permit_report_overdue``) and missing manual monitoring reports of the self-monitoring plan (rule
  ``monitoring_report_missing``).

**Execution-report deadlines** (``docs/permits.md``): the report of a month, quarter or year is due by the 15th of
the month after the period (HJ 944-2018 and the industry technical specifications as quoted by the permit pages,
e.g. the thermal-power specification: annual by 15 January, quarterly by the 15th of the next quarter's first
month, monthly by the 15th of the next month — the permit itself may set other dates: UNCONFIRMED per industry).
A period in which the permit was held for less than 10 days (month), one month (quarter) or three months (year)
needs no report. Which kinds a permit requires is written on the permit (its 副本); we do not store it, and use
the category: ``key`` (重点管理) annual + quarterly, ``simplified`` (简化管理) annual, ``registration`` none
(ours, UNCONFIRMED per industry). An alert is cleared when the report is submitted.

**Manual monitoring**: an interval of the plan (month, quarter, …) that ended more than
:data:`MANUAL_GRACE_DAYS` days ago without a filed result raises ``monitoring_report_missing`` (one per plan row ×
interval); the grace for the laboratory is ours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from ecohub.alerts.lifecycle import Condition, clear_condition, raise_condition
from ecohub.domain.timeutil import BEIJING
from ecohub.store.db import Store
from ecohub.store.queries import Scope
from ecohub.store.schema import enterprise
from ecohub.store.schema_permits import permit, permit_report
from ecohub.store.tx import write_tx
from ecohub.supervision.permits import rollup
from ecohub.supervision.permits.emissions import check_tonnage
from ecohub.supervision.permits.register import permit_detail
from ecohub.supervision.permits.reports import plan_completeness
from ecohub.supervision.schedule import due_checks

CHECKS = "permit_checks"
DEADLINE_DAY = 15
REQUIRED = {"key": ("year", "quarter"), "simplified": ("year",), "registration": ()}
MIN_HELD_DAYS = {"month": 10, "quarter": 30, "year": 90}
MANUAL_GRACE_DAYS = 15
LOOKBACK_DAYS = 400  # periods older than this are not chased again


def _periods(kind: str, a: date, b: date) -> list[tuple[str, date, date]]:
    """(period label, first day, day after) of every ``kind`` period that ends on or before ``b`` and after ``a``."""
    out: list[tuple[str, date, date]] = []
    y, m = a.year, 1 if kind == "year" else (a.month - 1) // 3 * 3 + 1 if kind == "quarter" else a.month
    step = {"month": 1, "quarter": 3, "year": 12}[kind]
    while True:
        first = date(y, m, 1)
        m2, y2 = m + step, y
        while m2 > 12:
            m2, y2 = m2 - 12, y2 + 1
        after = date(y2, m2, 1)
        if after > b:
            return out
        label = f"{y}" if kind == "year" else f"{y}-Q{(m - 1) // 3 + 1}" if kind == "quarter" else f"{y}-{m:02d}"
        out.append((label, first, after))
        y, m = y2, m2


def report_deadline(after: date) -> date:
    """The 15th of the month after the period (``after`` = the period's first day after it)."""
    return after.replace(day=DEADLINE_DAY)


def _required(p, filed: set, today: date):
    """(kind, period, deadline, filed) of every report the permit ``p`` requires for periods ended in the
    lookback window (held long enough)."""
    since = today - timedelta(days=LOOKBACK_DAYS)
    for kind in REQUIRED.get(p.category, ()):
        for label, first, after in _periods(kind, max(since, p.valid_from), today):
            held = (min(after, p.valid_to + timedelta(days=1)) - max(first, p.valid_from)).days
            if held >= MIN_HELD_DAYS[kind] or (p.id, kind, label) in filed:
                yield kind, label, report_deadline(after), (p.id, kind, label) in filed


def _permit_rows(conn, number: str | None = None) -> list:
    q = (select(permit.c.id, permit.c.number, permit.c.category, permit.c.valid_from, permit.c.valid_to,
                enterprise.c.uscc, enterprise.c.region_code)
         .select_from(permit.join(enterprise, enterprise.c.id == permit.c.enterprise_id))
         .where(permit.c.status == "valid"))
    if number is not None:
        q = q.where(permit.c.number == number)
    return list(conn.execute(q))


def _filed(conn) -> set:
    return {(r.permit_id, r.kind, r.period) for r in conn.execute(
        select(permit_report.c.permit_id, permit_report.c.kind, permit_report.c.period))}


def due_reports(store: Store, scope: Scope, number: str, now: datetime | None = None) -> list[dict]:
    """The execution reports a permit requires for its ended periods that were not submitted: kind, period,
    deadline, overdue — what the enterprise's page lists as "to submit". Scope as the permit itself."""
    d = permit_detail(store, scope, number)  # NotFound outside the caller's scope
    today = (now or datetime.now(UTC)).astimezone(BEIJING).date()
    with store.engine.connect() as conn:
        rows = _permit_rows(conn, d["number"])
        filed = _filed(conn)
    out = [{"kind": k, "period": label, "deadline": str(dl), "overdue": today > dl}
           for p in rows for k, label, dl, done in _required(p, filed, today) if not done]
    return sorted(out, key=lambda r: (r["deadline"], r["kind"]))


def check_reports(store: Store, now: datetime) -> list[str]:
    """Raise ``permit_report_overdue`` for every required execution report not submitted by its deadline; clear
    the alert of a report that has been submitted. Returns the cause keys raised."""
    today = now.astimezone(BEIJING).date()
    with store.engine.connect() as conn:
        ps = _permit_rows(conn)
        filed = _filed(conn)
    raised: list[str] = []
    ts = int(now.timestamp())
    with write_tx(store) as conn:
        for p in ps:
            for kind, label, deadline, done in _required(p, filed, today):
                key = f"permit_report_overdue:{p.number}:{kind}:{label}"
                if done:
                    clear_condition(conn, key, ts, "report submitted")
                    continue
                if today <= deadline:
                    continue
                raise_condition(conn, Condition(
                    rule="permit_report_overdue", cause_key=key, severity="warning", region=p.region_code,
                    message=f"排污许可证 {p.number}: {label} 执行报告逾期未提交（期限 {deadline}） — "
                            f"the {kind} execution report {label} was due by {deadline}",
                    details={"permit": p.number, "enterprise": p.uscc, "kind": kind, "period": label,
                             "deadline": str(deadline)}), ts)
                raised.append(key)
    return raised


def check_monitoring(store: Store, now: datetime) -> list[str]:
    """Raise ``monitoring_report_missing`` for every manual-monitoring interval of a plan that ended more than
    :data:`MANUAL_GRACE_DAYS` days ago without a filed result. Returns the cause keys raised."""
    today = now.astimezone(BEIJING).date()
    cut = today - timedelta(days=MANUAL_GRACE_DAYS)
    with store.engine.connect() as conn:
        ps = conn.execute(select(permit.c.id, permit.c.number, permit.c.valid_from, enterprise.c.region_code)
                          .select_from(permit.join(enterprise, enterprise.c.id == permit.c.enterprise_id))
                          .where(permit.c.status == "valid")).all()
    raised: list[str] = []
    ts = int(now.timestamp())
    for p in ps:
        a0 = max(p.valid_from, date(today.year - 1, 1, 1))
        a = datetime(a0.year, a0.month, 1, tzinfo=BEIJING)
        b = datetime(cut.year, cut.month, cut.day, tzinfo=BEIJING)
        if b <= a:
            continue
        found = [f for f in plan_completeness(store, p.id, a, b)["findings"] if date.fromisoformat(f["end"]) <= cut]
        if not found:
            continue
        with write_tx(store) as conn:
            for f in found:
                key = f"monitoring_report_missing:{p.number}:{f['site']}:{f['parameter']}:{f['start']}"
                raise_condition(conn, Condition(
                    rule="monitoring_report_missing", cause_key=key, severity="warning", site=f["site"],
                    region=p.region_code, parameter=f["parameter"],
                    message=f"排污许可证 {p.number}: {f['site']} {f['parameter']} 手工监测 {f['start']} … {f['end']} "
                            "无监测报告 — no manual monitoring result filed for this interval of the plan",
                    details={"permit": p.number, **f}), ts)
                raised.append(key)
    return raised


def run_due(store: Store, now: datetime | None = None, *, every: int = 3600) -> dict:
    """The permit jobs of one worker pass (module doc)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    out: dict = {"emission_rollup": rollup.maintain(store, now=now)}
    if due_checks(store, CHECKS, now, every):
        year = now.astimezone(BEIJING).year
        out["tonnage"] = len(check_tonnage(store, year, as_of=now))
        out["reports_overdue"] = len(check_reports(store, now))
        out["monitoring_missing"] = len(check_monitoring(store, now))
    return out
