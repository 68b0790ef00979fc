"""forecast: issues (insert-only), per-day values with baselines, observations for verification

Revision ID: 0010
Revises: 0002
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0010"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table(
        "forecast_issue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target_kind", sa.String(length=8), nullable=False),
        sa.Column("target_code", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("issued_at", UTC(), nullable=False),
        sa.Column("issue_day", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("inputs_from", sa.Date(), nullable=True),
        sa.Column("inputs_to", sa.Date(), nullable=True),
        sa.Column("input_days", sa.Integer(), nullable=False),
        sa.Column("met_used", sa.Boolean(), nullable=False),
        sa.Column("warning_level", sa.SmallInteger(), nullable=False),
        sa.Column("warning_scheme", sa.String(length=8), nullable=False),
        sa.Column("warning_reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("target_kind IN ('city', 'site')", name=op.f("ck_forecast_issue_target_kind")),
        sa.CheckConstraint("method IN ('model', 'persistence')", name=op.f("ck_forecast_issue_method")),
        sa.CheckConstraint("warning_level BETWEEN 0 AND 4", name=op.f("ck_forecast_issue_warning_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_issue")),
        sa.UniqueConstraint("target_kind", "target_code", "issued_at",
                            name=op.f("uq_forecast_issue_target_kind_target_code_issued_at")),
    )
    op.create_index("ix_forecast_issue_target_issued", "forecast_issue", ["target_code", "issued_at"], unique=False)
    op.create_index("ix_forecast_issue_region_code", "forecast_issue", ["region_code"], unique=False)
    op.create_table(
        "forecast_day",
        sa.Column("issue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("lead", sa.SmallInteger(), nullable=False),
        sa.Column("aqi", sa.Float(), nullable=True),
        sa.Column("aqi_low", sa.Float(), nullable=True),
        sa.Column("aqi_high", sa.Float(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=True),
        sa.Column("primary_pollutant", sa.String(length=32), nullable=True),
        sa.Column("so2", sa.Float(), nullable=True),
        sa.Column("no2", sa.Float(), nullable=True),
        sa.Column("co", sa.Float(), nullable=True),
        sa.Column("o3_8h", sa.Float(), nullable=True),
        sa.Column("pm10", sa.Float(), nullable=True),
        sa.Column("pm25", sa.Float(), nullable=True),
        sa.Column("persistence_aqi", sa.Float(), nullable=True),
        sa.Column("climatology_aqi", sa.Float(), nullable=True),
        sa.Column("climatology_level", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint("lead BETWEEN 1 AND 3", name=op.f("ck_forecast_day_lead")),
        sa.ForeignKeyConstraint(["issue_id"], ["forecast_issue.id"],
                                name=op.f("fk_forecast_day_issue_id_forecast_issue")),
        sa.PrimaryKeyConstraint("issue_id", "day", name=op.f("pk_forecast_day")),
    )
    op.create_table(
        "forecast_observation",
        sa.Column("target_kind", sa.String(length=8), nullable=False),
        sa.Column("target_code", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("aqi", sa.Float(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=True),
        sa.Column("primary_pollutant", sa.String(length=32), nullable=True),
        sa.Column("computed_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("target_kind", "target_code", "day", name=op.f("pk_forecast_observation")),
    )


def downgrade() -> None:
    op.drop_table("forecast_observation")
    op.drop_table("forecast_day")
    op.drop_index("ix_forecast_issue_region_code", table_name="forecast_issue")
    op.drop_index("ix_forecast_issue_target_issued", table_name="forecast_issue")
    op.drop_table("forecast_issue")
