"""Notifications: signed webhooks to a real local receiver, e-mail to a real local SMTP server (aiosmtpd),
retries with back-off, a failing channel never blocking the others, public subscriptions (定制推送)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

from alerts_support import free_port

from ecohub.alerts.lifecycle import Condition, raise_condition
from ecohub.alerts.notify import (
    DeliveryPolicy,
    SmtpSettings,
    add_subscription,
    confirm_subscription,
    deliver_due,
    outbox_rows,
    unsubscribe,
    verify_signature,
)
from ecohub.store import registry as R

NOW = datetime.now(UTC).replace(microsecond=0)


def open_alert(store, key="permit:G1:nox:hour", rule="permit", severity="major", level=0.5, site_id=None):
    with store.engine.begin() as conn:
        return raise_condition(conn, Condition(rule, key, severity, f"{key} 超标", site_id=site_id, level=level,
                                               value=150.0), int(NOW.timestamp())).alert_id


def smtp_for(box) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=box.port, sender="alerts@ecohub.local", timeout=5)


def test_webhook_signed_and_email_delivered(sqlite_store, webhook, smtp_server):
    store = sqlite_store
    add_subscription(store, channel="webhook", target=webhook.url, secret="s3cret")
    add_subscription(store, channel="email", target="duty@example.org")
    aid = open_alert(store)
    res = deliver_due(store, smtp=smtp_for(smtp_server))
    assert res == {"sent": 2, "failed": 0, "dead": 0}
    headers, body = webhook.requests[0]
    assert verify_signature("s3cret", body, headers["x-ecohub-signature"])
    assert headers["x-ecohub-signature"].startswith("sha256=") and headers["x-ecohub-event"] == "opened"
    assert not verify_signature("wrong", body, headers["x-ecohub-signature"])
    assert json.loads(body)["alert"]["id"] == aid
    (env,) = smtp_server.messages
    assert env.rcpt_tos == ["duty@example.org"]
    msg = message_from_bytes(env.content)
    assert "permit" in str(make_header(decode_header(msg["Subject"])))
    assert deliver_due(store, smtp=smtp_for(smtp_server)) == {"sent": 0, "failed": 0, "dead": 0}  # nothing twice


def test_failing_channels_retry_with_backoff_and_never_block_the_others(sqlite_store, webhook, smtp_server):
    store = sqlite_store
    dead_url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    add_subscription(store, channel="webhook", target=dead_url)
    add_subscription(store, channel="email", target="ops@example.org")
    add_subscription(store, channel="webhook", target=webhook.url)
    open_alert(store)
    policy = DeliveryPolicy(timeout=2, base_delay=30, max_attempts=3)
    bad_smtp = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)
    res = deliver_due(store, policy=policy, smtp=bad_smtp)
    assert res == {"sent": 1, "failed": 2, "dead": 0}
    assert len(webhook.requests) == 1
    rows = {r["target"]: r for r in outbox_rows(store)}
    assert rows[webhook.url]["status"] == "sent"
    for t in (dead_url, "ops@example.org"):
        assert rows[t]["status"] == "pending" and rows[t]["attempts"] == 1 and rows[t]["last_error"]
        delay = (rows[t]["next_attempt_at"] - datetime.now(UTC)).total_seconds()
        assert 25 < delay <= 31
    # not due yet: nothing is tried
    assert deliver_due(store, policy=policy, smtp=smtp_for(smtp_server))["failed"] == 0
    # later: the e-mail server is back, the webhook still down → its back-off doubles
    later = datetime.now(UTC) + timedelta(seconds=40)
    assert deliver_due(store, later, policy=policy, smtp=smtp_for(smtp_server)) == {"sent": 1, "failed": 1, "dead": 0}
    row = {r["target"]: r for r in outbox_rows(store)}[dead_url]
    assert 55 < (row["next_attempt_at"] - datetime.now(UTC)).total_seconds() <= 61
    assert deliver_due(store, later + timedelta(seconds=120), policy=policy)["dead"] == 1
    assert {r["target"]: r["status"] for r in outbox_rows(store)}[dead_url] == "dead"


def test_webhook_answering_500_is_retried(sqlite_store, webhook):
    store = sqlite_store
    webhook.status = 500
    add_subscription(store, channel="webhook", target=webhook.url)
    open_alert(store)
    assert deliver_due(store)["failed"] == 1
    webhook.status = 200
    assert deliver_due(store, datetime.now(UTC) + timedelta(minutes=5))["sent"] == 1
    assert len(webhook.requests) == 2
    assert webhook.requests[0][0]["x-ecohub-delivery"] == webhook.requests[1][0]["x-ecohub-delivery"]


def test_public_subscription_station_city_level(store, webhook):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.45, 38.05, "130102"))
        sid = R.site_index(c)["1029A"][0]
    sub_station = add_subscription(store, channel="webhook", target=webhook.url + "?who=station", audience="public",
                                   site_code="1029A", min_level=5)
    sub_city = add_subscription(store, channel="webhook", target=webhook.url + "?who=city", audience="public",
                                region_prefix="1301", min_level=4)
    add_subscription(store, channel="webhook", target=webhook.url + "?who=other", audience="public",
                     region_prefix="1302", min_level=1, confirmed=True)
    # not confirmed yet: nothing queued
    open_alert(store, "aqi:1029A", rule="aqi", severity="warning", level=4, site_id=sid)
    assert outbox_rows(store) == []
    assert confirm_subscription(store, sub_station["token"]) and confirm_subscription(store, sub_city["token"])
    open_alert(store, "aqi:1029A:x", rule="aqi", severity="warning", level=4, site_id=sid)
    assert [r["target"] for r in outbox_rows(store)] == [webhook.url + "?who=city"]  # level 4 < station's 5
    open_alert(store, "aqi:1029A:y", rule="aqi", severity="major", level=5, site_id=sid)
    assert sorted(r["target"] for r in outbox_rows(store))[-2:] == [webhook.url + "?who=city",
                                                                    webhook.url + "?who=station"]
    # enterprise internals (permit details) are not in public payloads; permit alerts do not go to them
    open_alert(store, "permit:G:nox:hour", rule="permit", severity="critical", level=6, site_id=sid)
    assert all(r["payload"]["alert"]["rule"] == "aqi" for r in outbox_rows(store))
    assert all("details" not in r["payload"]["alert"] for r in outbox_rows(store))
    assert unsubscribe(store, sub_city["token"])
    n = len(outbox_rows(store))
    open_alert(store, "aqi:1029A:z", rule="aqi", severity="major", level=6, site_id=sid)
    assert [r["target"] for r in outbox_rows(store)[n:]] == [webhook.url + "?who=station"]
