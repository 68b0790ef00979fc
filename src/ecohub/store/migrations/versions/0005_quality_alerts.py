"""quality control and alerts: QC flags and settings, worker watermarks, permits, section targets, alerts
(one open alert per cause by a partial unique index), alert history, subscriptions, notification outbox;
an index on observation.received_at for incremental runs.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table(
        "qc_flag",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("time", UTC(), nullable=False),
        sa.Column("source_id", sa.SmallInteger(), nullable=False),
        sa.Column("rule", sa.String(length=24), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "time", "source_id", "rule", name=op.f("pk_qc_flag")),
    )
    op.create_table(
        "qc_setting",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=24), nullable=False),
        sa.Column("parameter", sa.String(length=32), server_default="", nullable=False),
        sa.Column("site_kind", sa.String(length=32), server_default="", nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qc_setting")),
        sa.UniqueConstraint("rule", "parameter", "site_kind", name=op.f("uq_qc_setting_rule_parameter_site_kind")),
    )
    op.create_table(
        "worker_state",
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("watermark", UTC(), nullable=True),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("info", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_state")),
    )
    op.create_index("ix_observation_received_at", "observation", ["received_at"], unique=False)

    op.create_table(
        "permit_limit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("parameter_id", sa.SmallInteger(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("limit_value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("converted_o2", sa.Float(), nullable=True),
        sa.Column("origin", sa.String(length=500), nullable=True),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.CheckConstraint("limit_value > 0", name=op.f("ck_permit_limit_limit_positive")),
        sa.CheckConstraint("period IN ('hour', 'day')", name=op.f("ck_permit_limit_period")),
        sa.ForeignKeyConstraint(["parameter_id"], ["parameter.id"], name=op.f("fk_permit_limit_parameter_id_parameter")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_permit_limit_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_limit")),
        sa.UniqueConstraint("site_id", "parameter_id", "period", name=op.f("uq_permit_limit_site_id_parameter_id_period")),
    )
    op.create_table(
        "section_target",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("target_class", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("target_class BETWEEN 1 AND 5", name=op.f("ck_section_target_target_class")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_section_target_site_id_site")),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_section_target")),
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("cause_key", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("parameter_id", sa.SmallInteger(), nullable=True),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("level", sa.Float(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("period_time", UTC(), nullable=True),
        sa.Column("opened_at", UTC(), nullable=False),
        sa.Column("last_seen_at", UTC(), nullable=False),
        sa.Column("occurrences", sa.Integer(), server_default="1", nullable=False),
        sa.Column("cleared_at", UTC(), nullable=True),
        sa.Column("acknowledged_at", UTC(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", UTC(), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("escalation_level", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("escalated_at", UTC(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'acknowledged', 'closed')", name=op.f("ck_alert_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index("ux_alert_open_cause", "alert", ["cause_key"], unique=True,
                    sqlite_where=sa.text("status != 'closed'"), postgresql_where=sa.text("status != 'closed'"))
    op.create_index("ix_alert_status", "alert", ["status", "opened_at"], unique=False)
    op.create_index("ix_alert_site_id", "alert", ["site_id"], unique=False)
    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"], name=op.f("fk_alert_event_alert_id_alert")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_event")),
    )
    op.create_index("ix_alert_event_alert_id", "alert_event", ["alert_id"], unique=False)
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("audience", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=True),
        sa.Column("min_severity", sa.String(length=12), server_default="info", nullable=False),
        sa.Column("region_prefix", sa.String(length=6), nullable=True),
        sa.Column("site_code", sa.String(length=64), nullable=True),
        sa.Column("min_level", sa.Float(), nullable=True),
        sa.Column("confirmed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.CheckConstraint("audience IN ('staff', 'escalation', 'public')", name=op.f("ck_subscription_audience")),
        sa.CheckConstraint("channel IN ('webhook', 'email')", name=op.f("ck_subscription_channel")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("token", name=op.f("uq_subscription_token")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="pending", nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("sent_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscription.id"],
                                name=op.f("fk_outbox_subscription_id_subscription")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("subscription")
    op.drop_index("ix_alert_event_alert_id", table_name="alert_event")
    op.drop_table("alert_event")
    op.drop_index("ix_alert_site_id", table_name="alert")
    op.drop_index("ix_alert_status", table_name="alert")
    op.drop_index("ux_alert_open_cause", table_name="alert")
    op.drop_table("alert")
    op.drop_table("section_target")
    op.drop_table("permit_limit")
    op.drop_index("ix_observation_received_at", table_name="observation")
    op.drop_table("worker_state")
    op.drop_table("qc_setting")
    op.drop_table("qc_flag")
