"""supervision: public complaints (12369-style) and their status history

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tracking_code", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("region_method", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("photo_path", sa.String(length=200), nullable=True),
        sa.Column("photo_type", sa.String(length=32), nullable=True),
        sa.Column("photo_size", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("possible_duplicates", sa.JSON(), nullable=True),
        sa.Column("submitted_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.CheckConstraint("category IN ('air', 'water', 'noise', 'waste', 'soil', 'radiation', 'other')",
                           name=op.f("ck_complaint_category")),
        sa.CheckConstraint("status IN ('received', 'accepted', 'rejected', 'handled', 'closed')",
                           name=op.f("ck_complaint_status")),
        sa.CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name=op.f("ck_complaint_position")),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"], name=op.f("fk_complaint_region_code_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_complaint_tracking_code")),
    )
    op.create_index("ix_complaint_region_code", "complaint", ["region_code"], unique=False)
    op.create_index("ix_complaint_status_submitted_at", "complaint", ["status", "submitted_at"], unique=False)
    op.create_index("ix_complaint_lat_lon", "complaint", ["lat", "lon"], unique=False)
    op.create_table(
        "complaint_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"],
                                name=op.f("fk_complaint_event_complaint_id_complaint")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_event")),
    )
    op.create_index("ix_complaint_event_complaint_id", "complaint_event", ["complaint_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_complaint_event_complaint_id", table_name="complaint_event")
    op.drop_table("complaint_event")
    op.drop_index("ix_complaint_lat_lon", table_name="complaint")
    op.drop_index("ix_complaint_status_submitted_at", table_name="complaint")
    op.drop_index("ix_complaint_region_code", table_name="complaint")
    op.drop_table("complaint")
