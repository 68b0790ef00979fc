"""Commands of data quality and alerts: ``worker``, ``alerts …``, ``permit import``, ``section target``,
``quality …``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecohub.cli.common import (
    DatabaseUrl,
    actor_name,
    audit,
    console,
    err_console,
    fail,
    open_store,
    origin,
    print_json,
)
from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.timeutil import epoch_to_iso, parse_time


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_cmd)
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(permit_app, name="permit")
    app.add_typer(section_app, name="section")
    app.add_typer(quality_app, name="quality")


def _me() -> str:
    return actor_name()


# --- worker ----------------------------------------------------------------------------------------------
def worker_cmd(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 60.0,
    no_deliver: Annotated[bool, typer.Option("--no-deliver", help="Do not send notifications.")] = False,
    reports: Annotated[bool, typer.Option(help="Generate the due monthly/annual reports of ECOHUB_REPORT_REGIONS "
                                               "(from the 3rd of the month, Beijing time; each issue once).")] = True,
    metrics_port: Annotated[int, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics (pass "
                                                   "times, passes, failed passes, alert events) and readiness "
                                                   "on /readyz (database); 0: none.")] = 0,
    database_url: DatabaseUrl = None,
) -> None:
    """Run QC, valid period means and alert rules over what arrived since the last run, escalate overdue
    alerts, keep the hourly emissions rollup, run the permit and hazardous-waste checks when due (tonnage 80 %/100 %,
    overdue execution and manual monitoring reports, waste storage and manifest deadlines; every
    ECOHUB_SUPERVISION_CHECK_EVERY seconds) and deliver notifications — every --interval seconds, or once with --once (prints a JSON summary).
    With --reports (default) each pass also generates the reports that are due and not yet kept.
    Once a day at ECOHUB_FORECAST_AT (Beijing, default 16:00) it also issues the air-quality forecasts and
    re-verifies the previous issues (ECOHUB_FORECAST_ENABLED=0 turns that off)."""
    from ecohub.alerts.worker import WorkerSettings, run_forever, run_once
    from ecohub.forecast.schedule import ForecastSchedule, run_scheduled

    store = open_store(database_url)
    settings = WorkerSettings(deliver=not no_deliver, jobs=supervision_jobs())
    try:
        schedule = ForecastSchedule.from_env()
    except InputError as e:
        fail(str(e))

    def forecast_pass() -> dict | None:
        return run_scheduled(store, schedule)

    def with_reports(res: dict) -> dict:
        if reports:
            from ecohub.reports.schedule import run_due

            res["reports"] = run_due(store)
        return res

    if once:
        extra = forecast_pass()
        res = run_once(store, settings)
        if extra is not None:
            res["forecast"] = extra
        print_json(with_reports(res))
        return
    from ecohub.logs import setup as setup_logging

    setup_logging("info")
    err_console.print(f"worker: a pass every {interval:g} s, forecasts daily at {schedule.at} Beijing "
                      f"({'on' if schedule.enabled else 'off'}) (Ctrl-C stops)")
    metrics = None
    if metrics_port:
        from ecohub.alerts.metrics import WorkerMetrics
        from ecohub.bus.metrics import readiness, serve

        metrics = WorkerMetrics()
        serve(metrics_port, metrics.registry, ready=lambda: readiness(store, None))

    def on_pass(res: dict) -> None:
        if metrics is not None:
            metrics.observe(res)
        print_json(with_reports(res))

    try:
        run_forever(store, interval, settings, on_pass=on_pass, before_pass=forecast_pass,
                    on_error=metrics.failed if metrics is not None else None)
    except KeyboardInterrupt:
        err_console.print("worker stopped")


def supervision_jobs() -> tuple:
    """The supervision jobs of every worker pass: the permit jobs (hourly emissions rollup; when due the tonnage,
    overdue execution-report and manual-monitoring checks), the hazardous-waste checks (storage duration,
    manifests not received in time) and the deadlines of cases and complaints — every
    ECOHUB_SUPERVISION_CHECK_EVERY seconds."""
    from ecohub.config import settings
    from ecohub.supervision.permits import schedule as permit_jobs
    from ecohub.supervision.waste import schedule as waste_jobs

    every = settings().supervision_check_every
    return (("permits", lambda store, now: permit_jobs.run_due(store, now, every=every)),
            ("waste", lambda store, now: waste_jobs.run_due(store, now, every=every)),
            ("deadlines", lambda store, now: deadline_checks(store, now, every=every)))


def deadline_checks(store, now, *, every: int) -> dict:
    """When due (state ``worker_state`` row ``deadline_checks``): overdue case steps (``case_overdue``) and overdue
    complaint stages (``complaint_overdue``), each alert addressed to the supervisor; the numbers raised."""
    from ecohub.supervision import complaint_loop
    from ecohub.supervision.cases import service as case_service
    from ecohub.supervision.schedule import due_checks

    if not due_checks(store, "deadline_checks", now, every):
        return {}
    return {"cases": len(case_service.check_overdue(store, now=now)),
            "complaints": len(complaint_loop.check_overdue(store, now=now))}


# --- alerts ----------------------------------------------------------------------------------------------
alerts_app = typer.Typer(help="Alerts: list, acknowledge, close; subscriptions (staff and public).",
                         no_args_is_help=True)


@alerts_app.command("list")
def alerts_list(
    status: Annotated[str | None, typer.Option(help="open | acknowledged | closed")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule (permit, aqi, water_class, offline, qc, "
                                                  "suspicious).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (newest first).")] = 1000,
    json_out: Annotated[bool, typer.Option("--json", help="JSON lines: id, rule, site, parameter, severity, status, "
                                                          "opened_at, last_seen_at, message.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List alerts, newest first."""
    from ecohub.alerts.service import contract_view, list_alerts

    store = open_store(database_url)
    try:
        rows = list_alerts(store, status, site_code=site, rule=rule, limit=limit)
    except InputError as e:
        fail(str(e))
    if json_out:
        for a in rows:
            print_json(contract_view(a))
        return
    t = Table("id", "rule", "site", "parameter", "severity", "status", "active", "opened", "last seen", "message")
    for a in rows:
        t.add_row(str(a["id"]), a["rule"], a["site"] or "", a["parameter"] or "", a["severity"], a["status"],
                  "yes" if a["active"] else "cleared", _bj(a["opened_at"]), _bj(a["last_seen_at"]), a["message"])
    console.print(t)


def _bj(iso: str | None) -> str:
    if not iso:
        return ""
    from datetime import datetime

    return epoch_to_iso(int(datetime.fromisoformat(iso).timestamp()))[:16].replace("T", " ")


@alerts_app.command("show")
def alerts_show(alert_id: Annotated[int, typer.Argument(metavar="ID")], database_url: DatabaseUrl = None) -> None:
    """One alert with its history (JSON)."""
    from ecohub.alerts.service import get_alert

    store = open_store(database_url)
    try:
        print_json(get_alert(store, alert_id))
    except NotFound as e:
        fail(str(e))


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[int, typer.Argument(metavar="ID")],
    by: Annotated[str | None, typer.Option(help="Who acknowledges (default: the login name).")] = None,
    note: Annotated[str | None, typer.Option(help="A note kept in the alert's history.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Acknowledge an alert (open → acknowledged; who and when are recorded)."""
    from ecohub.alerts.service import acknowledge

    store = open_store(database_url)
    try:
        a = acknowledge(store, alert_id, by or _me(), note, origin=origin("alerts ack"))
    except (InputError, NotFound) as e:
        fail(str(e))
    console.print(f"alert {a['id']} acknowledged by {a['acknowledged_by']} at {_bj(a['acknowledged_at'])}")


@alerts_app.command("close")
def alerts_close(
    alert_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why the alert is closed (kept in its history).")],
    by: Annotated[str | None, typer.Option(help="Who closes (default: the login name).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Close an alert with a reason."""
    from ecohub.alerts.service import close

    store = open_store(database_url)
    try:
        a = close(store, alert_id, by or _me(), reason, origin=origin("alerts close"))
    except (InputError, NotFound) as e:
        fail(str(e))
    console.print(f"alert {a['id']} closed by {a['closed_by']}: {a['close_reason']}")


@alerts_app.command("subscribe")
def alerts_subscribe(
    webhook: Annotated[str | None, typer.Option(help="Webhook URL (signed with HMAC-SHA256).")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address (SMTP: ECOHUB_SMTP_HOST …).")] = None,
    secret: Annotated[str | None, typer.Option(help="Webhook HMAC secret (default: generated and printed).")] = None,
    public: Annotated[bool, typer.Option("--public", help="A public subscription (定制推送) to a station or city.")] = False,
    escalation: Annotated[bool, typer.Option("--escalation", help="Receive escalations only.")] = False,
    station: Annotated[str | None, typer.Option(help="A station (site code).")] = None,
    city: Annotated[str | None, typer.Option(help="A city or county: division code (prefix).")] = None,
    level: Annotated[float | None, typer.Option(help="Public: minimum AQI level (1-6) or water class (1-6).")] = None,
    rules: Annotated[str | None, typer.Option(help="Comma-separated rules (default: all; public: aqi,water_class).")] = None,
    min_severity: Annotated[str, typer.Option(help="info | warning | major | critical")] = "info",
    name: Annotated[str | None, typer.Option(help="A label.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a subscription: staff (default), escalation target, or public (--public; confirmed by its token)."""
    from ecohub.alerts.notify import add_subscription

    if bool(webhook) == bool(email):
        fail("give exactly one of --webhook URL or --email ADDRESS")
    store = open_store(database_url)
    try:
        s = add_subscription(
            store, channel="webhook" if webhook else "email", target=webhook or email or "",
            audience="public" if public else ("escalation" if escalation else "staff"), secret=secret, name=name,
            rules=[r.strip() for r in rules.split(",") if r.strip()] if rules else None, min_severity=min_severity,
            region_prefix=city, site_code=station, min_level=level)
    except InputError as e:
        fail(str(e))
    audit(store, "alerts subscribe", "write", f"subscription:{s['id']}", {  # never the secret or the token
        "change": "create", "audience": s["audience"], "channel": s["channel"], "target": s["target"]})
    print_json({k: s[k] for k in ("id", "audience", "channel", "target", "secret", "confirmed", "token")})


@alerts_app.command("confirm")
def alerts_confirm(token: str, database_url: DatabaseUrl = None) -> None:
    """Confirm a public subscription with its token."""
    from ecohub.alerts.notify import confirm_subscription

    store = open_store(database_url)
    if not confirm_subscription(store, token):
        fail("no subscription with this token")
    audit(store, "alerts confirm", "write", "subscription", {"change": "confirm"})
    console.print("subscription confirmed")


@alerts_app.command("unsubscribe")
def alerts_unsubscribe(token: str, database_url: DatabaseUrl = None) -> None:
    """End a subscription with its token."""
    from ecohub.alerts.notify import unsubscribe

    store = open_store(database_url)
    if not unsubscribe(store, token):
        fail("no subscription with this token")
    audit(store, "alerts unsubscribe", "write", "subscription", {"change": "unsubscribe"})
    console.print("unsubscribed")


@alerts_app.command("deliver")
def alerts_deliver(database_url: DatabaseUrl = None) -> None:
    """Send the notifications that are due now (the worker does this every pass)."""
    from ecohub.alerts.notify import deliver_due

    store = open_store(database_url)
    res = deliver_due(store)
    audit(store, "alerts deliver", "write", "outbox", {"change": "deliver", "result": res})
    print_json(res)


# --- permits and section targets -------------------------------------------------------------------------
permit_app = typer.Typer(help="Permit limits of outlets (排污许可限值).", no_args_is_help=True)


@permit_app.command("import")
def permit_import(
    file: Annotated[str, typer.Argument(metavar="FILE.csv", help="Columns site,parameter,limit,unit,period"
                                                               "[,converted_o2].")],
    json_out: Annotated[bool, typer.Option("--json", help="JSON lines: each rejected row, then the counts.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Import permit limits. Bad rows are rejected with line, field and value (kept in the quarantine); good rows
    are stored. Exit 0 when the file was read, 2 when it cannot be read."""
    from ecohub.alerts.permits import import_permits

    store = open_store(database_url)
    try:
        res = import_permits(store, file)
    except InputError as e:
        fail(str(e))
    audit(store, "permit import", "write", f"file:{Path(file).name}", {
        "change": "permit import", "imported": res.imported, "updated": res.updated, "rejected": res.rejected})
    if json_out:
        for e in res.errors:
            print_json({"rejected": e})
        print_json(res.as_dict())
        return
    for e in res.errors:
        err_console.print(f"line {e['line']}: {e['field']}={e['value']!r}: {e['reason']}", highlight=False)
    console.print(f"permit limits: {res.imported} imported, {res.updated} updated, {res.rejected} rejected")


section_app = typer.Typer(help="Surface-water sections (断面).", no_args_is_help=True)


@section_app.command("target")
def section_target_cmd(
    site: Annotated[str, typer.Argument(metavar="SITE")],
    water_class: Annotated[str, typer.Option("--class", help="Target class I, II, III, IV or V (水质目标).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Set a water section's target class."""
    from ecohub.alerts.permits import set_section_target

    store = open_store(database_url)
    try:
        c = set_section_target(store, site, water_class, by=_me())
    except InputError as e:
        fail(str(e))
    audit(store, "section target", "write", f"site:{site}", {"change": "target class", "class": c})
    console.print(f"{site}: target class {['', 'I', 'II', 'III', 'IV', 'V'][c]}")


# --- quality ---------------------------------------------------------------------------------------------
quality_app = typer.Typer(help="Data quality: completeness, flags, missing periods, suspicious data.",
                          no_args_is_help=True)


def _range(start: str, end: str) -> tuple[int, int]:
    try:
        a = int(parse_time(start, "from").timestamp())
        b = int(parse_time(end, "to").timestamp())
    except InputError as e:
        fail(str(e))
    if b <= a:
        fail(f"to={end!r}: must be after from={start!r}")
    return a, b


@quality_app.command("report")
def quality_report(
    site: Annotated[str, typer.Option(help="Site code.")],
    start: Annotated[str, typer.Option("--from", help="Start (ISO-8601; no offset = Beijing time).")],
    end: Annotated[str, typer.Option("--to", help="End, exclusive.")],
    by: Annotated[str, typer.Option(help="day | month")] = "day",
    json_out: Annotated[bool, typer.Option("--json", help="JSON lines, one per series and period.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Completeness (transmission rate, effective-data rate, effective transmission rate) and QC flags per
    series and day (or month)."""
    from ecohub.quality.completeness import completeness, site_summary

    if by not in ("day", "month"):
        fail(f"by={by!r}: must be day or month")
    a, b = _range(start, end)
    store = open_store(database_url)
    with store.engine.connect() as conn:
        from sqlalchemy import select

        from ecohub.store.schema import site as site_t

        if conn.scalar(select(site_t.c.id).where(site_t.c.code == site)) is None:
            fail(f"site={site!r}: unknown site code")
        rows = completeness(conn, [site], a, b, by=by)
    if json_out:
        for r in rows:
            print_json(r.as_dict())
        for s in site_summary(rows):
            print_json({"summary": True, **s})
        return
    t = Table("period", "parameter", "interval", "expected", "received", "valid", "传输率", "有效率", "有效传输率",
              "flags")
    pct = lambda x: "" if x is None else f"{100 * x:.1f}%"  # noqa: E731
    for r in rows:
        t.add_row(r.period, r.parameter, r.interval, "" if r.expected is None else str(r.expected), str(r.received),
                  str(r.valid), pct(r.transmission_rate), pct(r.effective_rate), pct(r.effective_transmission_rate),
                  ", ".join(f"{k} {v}" for k, v in sorted(r.flags.items())))
    console.print(t)
    for s in site_summary(rows):
        console.print(f"{s['site']} {s['period']}: 传输率 {pct(s['transmission_rate'])}, 有效率 "
                      f"{pct(s['effective_rate'])}, 有效传输率 {pct(s['effective_transmission_rate'])}")


@quality_app.command("missing")
def quality_missing(
    site: Annotated[str, typer.Option(help="Site code.")],
    start: Annotated[str, typer.Option("--from")],
    end: Annotated[str, typer.Option("--to")],
    parameter: Annotated[str | None, typer.Option(help="Only this parameter.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Missing periods (runs of empty slots) per series, as JSON lines — input for HJ 212 back-fill requests."""
    from ecohub.quality.completeness import missing_periods

    a, b = _range(start, end)
    store = open_store(database_url)
    with store.engine.connect() as conn:
        for m in missing_periods(conn, site, a, b, parameter=parameter):
            print_json({**m, "start": epoch_to_iso(m["start"]), "end": epoch_to_iso(m["end"])})


@quality_app.command("suspicious")
def quality_suspicious(
    start: Annotated[str, typer.Option("--from")],
    end: Annotated[str, typer.Option("--to")],
    site: Annotated[str | None, typer.Option(help="Only this outlet.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Suspicious-data indicators and score per outlet, with the evidence (JSON lines)."""
    from sqlalchemy import select

    from ecohub.quality.outlets import suspicious_report
    from ecohub.store.schema import site as site_t

    a, b = _range(start, end)
    store = open_store(database_url)
    with store.engine.connect() as conn:
        ids = None
        if site:
            sid = conn.scalar(select(site_t.c.id).where(site_t.c.code == site))
            if sid is None:
                fail(f"site={site!r}: unknown site code")
            ids = [sid]
        for _code, r in sorted(suspicious_report(conn, a, b, ids).items()):
            print_json(r)


@quality_app.command("rule")
def quality_rule(
    rule: Annotated[str, typer.Argument(help="range, negative, spike, flatline, zero, device_flag, future, stale")],
    params: Annotated[str, typer.Option(help='JSON, e.g. \'{"max": 800}\' or \'{"flat_n": 6}\' or \'{"level": 1}\'')] = "{}",
    parameter: Annotated[str, typer.Option(help="Only this parameter (default: all).")] = "",
    kind: Annotated[str, typer.Option(help="Only this site kind (default: all).")] = "",
    disable: Annotated[bool, typer.Option("--disable", help="Switch the rule off here.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Configure a QC rule for a parameter and/or site kind (overrides the built-in defaults)."""
    from ecohub.quality.config import set_rule

    try:
        p = json.loads(params)
        if not isinstance(p, dict):
            raise ValueError
    except ValueError:
        fail(f"params={params!r}: must be a JSON object")
    store = open_store(database_url)
    try:
        with store.engine.begin() as conn:
            set_rule(conn, rule, p, parameter, kind, enabled=not disable)
            origin("quality rule").record(conn, "write", f"qc_rule:{rule}", {
                "params": p, "parameter": parameter, "kind": kind, "enabled": not disable})
    except InputError as e:
        fail(str(e))
    console.print(f"rule {rule} set for parameter {parameter or '*'} kind {kind or '*'}")
