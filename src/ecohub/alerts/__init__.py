"""Alerts: rules → alert lifecycle (open → acknowledged → closed, de-duplicated per cause, escalation),
notifications (signed webhooks, e-mail, server-sent events) and subscriptions, and the scheduled worker.

See ``docs/quality-alerts.md``."""
