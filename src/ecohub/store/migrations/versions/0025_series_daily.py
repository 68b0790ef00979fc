"""series_daily: the maintained daily rollup of every series (count of non-null values, sum, min, max per series
and Beijing day), built by the worker's first pass after this migration (no watermark yet: readers roll up the
observations until then)

Revision ID: 0025
Revises: 0009
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0009"  # the analytics area's tables; the worker's watermark (worker_state) keeps its progress
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series_daily",
        sa.Column("series_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("vmin", sa.Float(), nullable=True),
        sa.Column("vmax", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("series_id", "day", name=op.f("pk_series_daily")),
        sqlite_with_rowid=False,  # SQLite: a series' days stored together, no second index
    )


def downgrade() -> None:
    op.drop_table("series_daily")
    op.execute("DELETE FROM worker_state WHERE name = 'series_daily'")  # the next pass builds it again
