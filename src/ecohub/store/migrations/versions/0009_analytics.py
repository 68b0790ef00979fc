"""analytics: the maintained daily AQI of air stations and cities (aqi_daily)

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0009"
down_revision = "0005"  # the worker's watermark table (worker_state) keeps this table's progress
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table(
        "aqi_daily",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("so2", sa.Float(), nullable=True),
        sa.Column("no2", sa.Float(), nullable=True),
        sa.Column("co", sa.Float(), nullable=True),
        sa.Column("pm10", sa.Float(), nullable=True),
        sa.Column("pm25", sa.Float(), nullable=True),
        sa.Column("o3_8h", sa.Float(), nullable=True),
        sa.Column("aqi", sa.SmallInteger(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=True),
        sa.Column("primary_pollutant", sa.String(length=64), nullable=True),
        sa.Column("computed_at", UTC(), nullable=False),
        sa.CheckConstraint("kind IN ('site', 'city')", name=op.f("ck_aqi_daily_kind")),
        sa.PrimaryKeyConstraint("kind", "code", "day", name=op.f("pk_aqi_daily")),
    )
    op.create_index("ix_aqi_daily_day", "aqi_daily", ["day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_aqi_daily_day", table_name="aqi_daily")
    op.drop_table("aqi_daily")
