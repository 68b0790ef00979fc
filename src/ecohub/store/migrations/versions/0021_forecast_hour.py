"""forecast_hour: hourly values of an issue for the 72 hours of D+1 … D+3 (where hourly history exists)

Revision ID: 0021
Revises: 0010
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0021"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table(
        "forecast_hour",
        sa.Column("issue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("time", UTC(), nullable=False),
        sa.Column("lead_hour", sa.SmallInteger(), nullable=False),
        sa.Column("aqi", sa.Float(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=True),
        sa.Column("primary_pollutant", sa.String(length=32), nullable=True),
        sa.Column("so2", sa.Float(), nullable=True),
        sa.Column("no2", sa.Float(), nullable=True),
        sa.Column("co", sa.Float(), nullable=True),
        sa.Column("o3", sa.Float(), nullable=True),
        sa.Column("pm10", sa.Float(), nullable=True),
        sa.Column("pm25", sa.Float(), nullable=True),
        sa.CheckConstraint("lead_hour BETWEEN 1 AND 72", name=op.f("ck_forecast_hour_lead_hour")),
        sa.ForeignKeyConstraint(["issue_id"], ["forecast_issue.id"],
                                name=op.f("fk_forecast_hour_issue_id_forecast_issue")),
        sa.PrimaryKeyConstraint("issue_id", "time", name=op.f("pk_forecast_hour")),
    )


def downgrade() -> None:
    op.drop_table("forecast_hour")
