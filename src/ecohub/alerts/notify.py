"""Notifications: subscriptions (staff, escalation targets, public 定制推送), the outbox, and the sender.

* A new alert (or an escalation) writes one ``outbox`` row per matching subscription **in the same transaction**
  as the alert change — nothing is lost between the two, nothing is sent for a change that rolled back.
* :func:`deliver_due` sends what is due, all messages concurrently, each with its own timeout: a failing or
  slow channel never blocks the others. A failure schedules a retry with exponential back-off
  (``base × 2^(attempts−1)``, capped), and after ``max_attempts`` the message is ``dead`` (kept, with the error).
* Webhooks: ``POST`` of the JSON body with ``X-Ecohub-Signature: sha256=<hex HMAC-SHA256 of the body with the
  subscription's secret>``, ``X-Ecohub-Event``, ``X-Ecohub-Delivery`` (outbox id, for idempotent receivers) and
  ``X-Ecohub-Timestamp``.
* E-mail over SMTP (standard library): ``ECOHUB_SMTP_HOST``, ``ECOHUB_SMTP_PORT`` (25), ``ECOHUB_SMTP_FROM``,
  optional ``ECOHUB_SMTP_USER``/``ECOHUB_SMTP_PASSWORD`` and ``ECOHUB_SMTP_STARTTLS=1``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ecohub.domain.errors import InputError
from ecohub.store.db import Store
from ecohub.store.schema_alerts import outbox, subscription
from ecohub.store.tx import write_tx

PUBLIC_RULES = ("aqi", "water_class")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- subscriptions ----------------------------------------------------------------------------------------
def add_subscription(store: Store, *, channel: str, target: str, audience: str = "staff", secret: str | None = None,
                     name: str | None = None, rules: list[str] | None = None, min_severity: str = "info",
                     region_prefix: str | None = None, site_code: str | None = None, min_level: float | None = None,
                     confirmed: bool | None = None) -> dict:
    """Add a subscription. Staff and escalation subscriptions are confirmed at once; a public one (定制推送) is
    confirmed with its token (:func:`confirm_subscription`) and ends with :func:`unsubscribe`."""
    from ecohub.alerts.lifecycle import SEVERITY_RANK

    if channel not in ("webhook", "email"):
        raise InputError("channel", channel, "must be webhook or email")
    if audience not in ("staff", "escalation", "public"):
        raise InputError("audience", audience, "must be staff, escalation or public")
    target = (target or "").strip()
    if channel == "webhook" and not re.match(r"^https?://", target):
        raise InputError("target", target, "a webhook target is an http(s) URL")
    if channel == "email" and not _EMAIL.match(target):
        raise InputError("target", target, "not an e-mail address")
    if min_severity not in SEVERITY_RANK:
        raise InputError("min_severity", min_severity, "must be one of " + ", ".join(SEVERITY_RANK))
    if audience == "public":
        if not (site_code or region_prefix):
            raise InputError("station/city", None, "a public subscription names a station or a city")
        if rules is None:
            rules = list(PUBLIC_RULES)
    if region_prefix is not None and (not region_prefix.isdigit() or not 2 <= len(region_prefix) <= 6):
        raise InputError("region", region_prefix, "a region is a division code (prefix) of 2-6 digits")
    if channel == "webhook" and secret is None:
        secret = secrets.token_hex(32)
    token = secrets.token_urlsafe(24)
    values = dict(audience=audience, channel=channel, target=target, secret=secret, name=name, rules=rules,
                  min_severity=min_severity, region_prefix=region_prefix, site_code=site_code, min_level=min_level,
                  confirmed=(audience != "public") if confirmed is None else confirmed, active=True, token=token,
                  created_at=datetime.now(UTC))
    with write_tx(store) as conn:
        sid = conn.execute(insert(subscription).values(**values)).inserted_primary_key[0]
    return {"id": int(sid), **{k: v for k, v in values.items() if k != "created_at"}}


def confirm_subscription(store: Store, token: str) -> bool:
    with write_tx(store) as conn:
        return conn.execute(update(subscription).where(subscription.c.token == token).values(confirmed=True)).rowcount > 0


def unsubscribe(store: Store, token: str) -> bool:
    with write_tx(store) as conn:
        return conn.execute(update(subscription).where(subscription.c.token == token).values(active=False)).rowcount > 0


def _matches(sub, a: dict, event: str) -> bool:
    from ecohub.alerts.lifecycle import SEVERITY_RANK

    if not sub.active or not sub.confirmed:
        return False
    if event == "escalated":
        if sub.audience not in ("escalation", "staff"):
            return False
    elif sub.audience == "escalation":
        return False
    if sub.rules and a["rule"] not in sub.rules:
        return False
    if SEVERITY_RANK.get(a["severity"], 0) < SEVERITY_RANK.get(sub.min_severity, 0):
        return False
    if sub.site_code and sub.site_code != a.get("site"):
        return False
    if sub.region_prefix and not (a.get("region") or "").startswith(sub.region_prefix):
        return False
    if sub.audience == "public" and sub.min_level is not None:
        if a.get("level") is None or a["level"] < sub.min_level:
            return False
    return True


def payload_for(a: dict, event: str, audience: str) -> dict:
    keys = ("id", "rule", "site", "parameter", "severity", "status", "level", "value", "message", "opened_at",
            "last_seen_at", "period_time", "escalation_level")
    body = {"event": event, "alert": {k: a.get(k) for k in keys}}
    if audience != "public":
        body["alert"]["details"] = a.get("details")
    return body


def enqueue_for_alert(conn: Connection, alert_id: int, event: str, when: datetime) -> int:
    """Queue one message per matching subscription for an alert event (in the caller's transaction)."""
    from ecohub.alerts.service import get_alert

    a = get_alert(None, alert_id, conn)  # type: ignore[arg-type]
    subs = conn.execute(select(subscription).where(subscription.c.active.is_(True))).all()
    rows = []
    for s in subs:
        if _matches(s, a, event):
            rows.append({"subscription_id": s.id, "alert_id": alert_id, "event": event, "channel": s.channel,
                         "target": s.target, "payload": payload_for(a, event, s.audience), "status": "pending",
                         "attempts": 0, "next_attempt_at": when, "created_at": when})
    if rows:
        conn.execute(insert(outbox), rows)
    return len(rows)


# --- sending ----------------------------------------------------------------------------------------------
def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body), header or "")


@dataclass
class SmtpSettings:
    host: str | None = None
    port: int = 25
    sender: str = "ecohub@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls, s=None) -> SmtpSettings:
        """From the settings (``ECOHUB_SMTP_*``; :class:`ecohub.config.Settings`)."""
        from ecohub.config import settings

        s = s or settings()
        return cls(host=s.smtp_host, port=s.smtp_port, sender=s.smtp_from, user=s.smtp_user,
                   password=s.smtp_password.get_secret_value() if s.smtp_password else None, starttls=s.smtp_starttls)


@dataclass
class DeliveryPolicy:
    timeout: float = 10.0
    base_delay: float = 30.0  # seconds before the first retry
    max_delay: float = 6 * 3600.0
    max_attempts: int = 8

    def delay(self, attempts: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1))


def _subject(p: dict) -> str:
    a = p["alert"]
    tag = {"opened": "告警", "escalated": "告警升级"}.get(p["event"], p["event"])
    return f"[ecohub {tag}] {a.get('severity')} {a.get('rule')} {a.get('site') or ''} {a.get('parameter') or ''}".strip()


def _send_email(smtp: SmtpSettings, to: str, p: dict) -> None:
    if not smtp.host:
        raise RuntimeError("SMTP is not configured (ECOHUB_SMTP_HOST)")
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Subject"] = _subject(p)
    a = p["alert"]
    lines = [a.get("message") or "", "", f"alert #{a.get('id')} — {a.get('rule')} — severity {a.get('severity')}",
             f"opened {a.get('opened_at')}, last seen {a.get('last_seen_at')}", "",
             json.dumps(p, ensure_ascii=False, indent=2, default=str)]
    msg.set_content("\n".join(lines))
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as s:
        if smtp.starttls:
            s.starttls()
        if smtp.user:
            s.login(smtp.user, smtp.password or "")
        s.send_message(msg)


async def _send_webhook(client: httpx.AsyncClient, url: str, secret: str | None, p: dict, delivery: int,
                        timeout: float) -> None:
    body = json.dumps(p, ensure_ascii=False, default=str).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Ecohub-Event": p["event"],
               "X-Ecohub-Delivery": str(delivery), "X-Ecohub-Timestamp": str(int(datetime.now(UTC).timestamp())),
               "User-Agent": "ecohub-alerts"}
    if secret:
        headers["X-Ecohub-Signature"] = sign(secret, body)
    r = await client.post(url, content=body, headers=headers, timeout=timeout)
    if r.status_code >= 300:
        raise RuntimeError(f"webhook answered HTTP {r.status_code}")


async def _deliver(store: Store, now: datetime, policy: DeliveryPolicy, smtp: SmtpSettings, limit: int) -> dict:
    with store.engine.connect() as conn:
        due = conn.execute(
            select(outbox, subscription.c.secret).select_from(
                outbox.outerjoin(subscription, subscription.c.id == outbox.c.subscription_id))
            .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.id).limit(limit)).mappings().all()
    if not due:
        return {"sent": 0, "failed": 0, "dead": 0}

    async with httpx.AsyncClient(follow_redirects=False) as client:
        async def one(m) -> tuple[int, str | None]:
            try:
                if m["channel"] == "webhook":
                    await asyncio.wait_for(_send_webhook(client, m["target"], m["secret"], m["payload"], m["id"],
                                                         policy.timeout), policy.timeout + 1)
                else:
                    await asyncio.wait_for(asyncio.to_thread(_send_email, smtp, m["target"], m["payload"]),
                                           policy.timeout + 1)
                return m["id"], None
            except Exception as e:  # noqa: BLE001 — any failure of one channel is recorded, never raised
                return m["id"], f"{type(e).__name__}: {e}"[:1000] or type(e).__name__

        results = await asyncio.gather(*(one(m) for m in due))
    counts = {"sent": 0, "failed": 0, "dead": 0}
    by_id = {m["id"]: m for m in due}
    done = datetime.now(UTC)
    with write_tx(store) as conn:
        for mid, err in results:
            m = by_id[mid]
            attempts = m["attempts"] + 1
            if err is None:
                conn.execute(update(outbox).where(outbox.c.id == mid).values(
                    status="sent", attempts=attempts, sent_at=done, last_error=None))
                counts["sent"] += 1
            elif attempts >= policy.max_attempts:
                conn.execute(update(outbox).where(outbox.c.id == mid).values(
                    status="dead", attempts=attempts, last_error=err))
                counts["dead"] += 1
            else:
                conn.execute(update(outbox).where(outbox.c.id == mid).values(
                    attempts=attempts, last_error=err,
                    next_attempt_at=done + timedelta(seconds=policy.delay(attempts))))
                counts["failed"] += 1
    return counts


def deliver_due(store: Store, now: datetime | None = None, *, policy: DeliveryPolicy | None = None,
                smtp: SmtpSettings | None = None, limit: int = 500) -> dict:
    """Send every due message once (concurrently); returns counts {sent, failed, dead}."""
    coro = _deliver(store, now or datetime.now(UTC), policy or DeliveryPolicy(), smtp or SmtpSettings.from_env(), limit)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # called from inside an event loop (e.g. a test): run in a private loop on another thread
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()


def outbox_rows(store: Store, status: str | None = None) -> list[dict]:
    q = select(outbox).order_by(outbox.c.id)
    if status:
        q = q.where(outbox.c.status == status)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
