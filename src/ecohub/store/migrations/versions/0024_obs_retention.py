"""obs_retention: batches of the raw-data chain some of whose rows retention dropped after they were in the
Parquet lake (``ecohub retention run``), so that ``ecohub data verify`` checks what is left

Revision ID: 0024
Revises: 0016
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "obs_retention",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.SmallInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("remaining_count", sa.Integer(), nullable=False),
        sa.Column("remaining_sm3", sa.String(length=64), nullable=False),
        sa.Column("run", sa.String(length=40), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "received_at", name="uq_obs_retention_source_received"),
    )


def downgrade() -> None:
    op.drop_table("obs_retention")
