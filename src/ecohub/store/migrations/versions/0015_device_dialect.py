"""HJ 212 devices: per-device decoding profile (``device.dialect``: lenient or strict) and HJ 212-2025 SM4
variant (``device.sm4_variant``)

Revision ID: 0015
Revises: 0003
Create Date: 2026-12-04

Both nullable: NULL is the lenient default profile and the standard's SM4 text with detection of the others.
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("device", sa.Column("dialect", sa.String(length=16), nullable=True))
    op.add_column("device", sa.Column("sm4_variant", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device") as b:  # SQLite rebuilds the table
        b.drop_column("sm4_variant")
        b.drop_column("dialect")
