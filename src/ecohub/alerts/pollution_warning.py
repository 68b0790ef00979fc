"""Rule ``pollution_warning``: heavy-pollution weather warnings (重污染天气预警) per city, as alerts.

The forecast package grades every issue (``forecast_issue.warning_level``: 0 none, 1 blue, 2 yellow, 3 orange,
4 red, by the scheme in force — docs/forecast.md); this rule turns the **latest issue of each city** into the
alert lifecycle, once per issue:

| change (previous → latest issue) | what happens to the alert ``pollution_warning:<city>`` |
|---|---|
| none → level ≥ 1 | **issue**: alert opened (notifications queued as for any new alert) |
| level → higher level | **upgrade**: severity raised, event ``upgraded`` (and ``severity``) |
| level → lower level ≥ 1 | **downgrade**: level and severity lowered, event ``downgraded`` |
| level ≥ 1 → none | **lift**: condition cleared (an acknowledged alert is closed by the system), event ``cleared`` |

Severity by level: blue ``info``, yellow ``warning``, orange ``major``, red ``critical``. The alert's
``details`` keep the issue id, scheme, reason and the AQI sequence graded; an issue already applied is not
applied again (re-running the worker changes nothing).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from ecohub.alerts.lifecycle import Condition, _event, clear_condition, raise_condition
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_forecast import forecast_issue

RULE = "pollution_warning"
SEVERITY = {1: "info", 2: "warning", 3: "major", 4: "critical"}
NAMES = {1: ("蓝色预警", "blue"), 2: ("黄色预警", "yellow"), 3: ("橙色预警", "orange"), 4: ("红色预警", "red")}


def cause_key(city: str) -> str:
    return f"{RULE}:{city}"


def _latest_issues(conn: Connection) -> list:
    mx = (select(forecast_issue.c.target_code, func.max(forecast_issue.c.issued_at).label("t"))
          .where(forecast_issue.c.target_kind == "city").group_by(forecast_issue.c.target_code).subquery())
    return list(conn.execute(
        select(forecast_issue.c.id, forecast_issue.c.target_code, forecast_issue.c.name, forecast_issue.c.issued_at,
               forecast_issue.c.issue_day, forecast_issue.c.warning_level, forecast_issue.c.warning_scheme,
               forecast_issue.c.warning_reason, forecast_issue.c.details)
        .join(mx, (mx.c.target_code == forecast_issue.c.target_code) & (mx.c.t == forecast_issue.c.issued_at))
        .order_by(forecast_issue.c.target_code)).mappings())


def apply_warnings(conn: Connection, now: int) -> dict:
    """Apply the latest issue of every city to its warning alert (in the caller's write transaction)."""
    counts = {"issue": 0, "upgrade": 0, "downgrade": 0, "lift": 0, "unchanged": 0}
    when = datetime.fromtimestamp(now, UTC)
    for iss in _latest_issues(conn):
        key = cause_key(iss["target_code"])
        cur = conn.execute(select(alert.c.id, alert.c.level, alert.c.active, alert.c.details).where(
            alert.c.cause_key == key, alert.c.status != "closed")).first()
        applied = (cur.details or {}).get("issue_id") if cur is not None else None
        if applied == iss["id"]:
            counts["unchanged"] += 1
            continue
        new = int(iss["warning_level"])
        old = int(cur.level) if cur is not None and cur.active and cur.level is not None else 0
        if new == 0:
            if old > 0 and clear_condition(conn, key, now, f"warning lifted by forecast issue {iss['id']} "
                                                            f"({iss['issue_day']})") is not None:
                counts["lift"] += 1
            else:
                counts["unchanged"] += 1
            continue
        zh, color = NAMES[new]
        name = iss["name"] or iss["target_code"]
        seq = ((iss["details"] or {}).get("warning") or {}).get("sequence") or []
        peak = max((s["aqi"] for s in seq if s.get("aqi") is not None), default=None)
        msg = (f"{name} 重污染天气{zh}（{iss['warning_scheme']} 分级）：{iss['warning_reason']}；"
               f"预报发布 {iss['issue_day']}")
        details = {"issue_id": iss["id"], "city": iss["target_code"], "scheme": iss["warning_scheme"],
                   "color": color, "reason": iss["warning_reason"], "sequence": seq}
        c = Condition(RULE, key, SEVERITY[new], msg, None, None, iss["target_code"], level=float(new),
                      value=peak, period_time=now, details=details)
        if old == 0 or new > old:
            out = raise_condition(conn, c, now)
            if old == 0:
                counts["issue"] += 1
            else:
                counts["upgrade"] += 1
                _event(conn, out.alert_id, "upgraded", when, "system", f"{NAMES[old][1]} → {color}")
        elif new < old and cur is not None:  # old > 0: there is an active alert
            import json

            conn.execute(update(alert).where(alert.c.id == cur.id).values(
                level=float(new), severity=SEVERITY[new], message=msg, value=peak,
                details=json.loads(json.dumps(details, default=str)), last_seen_at=when))
            _event(conn, cur.id, "downgraded", when, "system", f"{NAMES[old][1]} → {color}")
            counts["downgrade"] += 1
        else:  # same level, a newer issue: keep the alert, record the issue
            raise_condition(conn, c, now)
            counts["unchanged"] += 1
    return counts
