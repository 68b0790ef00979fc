"""HJ 212 gateway: device events (status, running time, boot, auth failures, online/offline) and the
platform → device command queue.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mn", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cn", sa.String(length=4), nullable=True),
        sa.Column("ref", sa.String(length=32), nullable=True),
        sa.Column("time", ecohub.store.types.UTCTime(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("peer", sa.String(length=64), nullable=True),
        sa.Column("received_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_device_event_device_id_device")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_event")),
        sa.UniqueConstraint("mn", "cn", "ref", name=op.f("uq_device_event_mn_cn_ref")),
    )
    with op.batch_alter_table("device_event", schema=None) as batch_op:
        batch_op.create_index("ix_device_event_mn_received_at", ["mn", "received_at"], unique=False)
        batch_op.create_index("ix_device_event_kind_received_at", ["kind", "received_at"], unique=False)

    op.create_table(
        "device_command",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mn", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cn", sa.String(length=4), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("qn", sa.String(length=20), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("sent_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.Column("finished_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'accepted', 'refused', 'done', 'failed', 'timeout', 'cancelled')",
            name=op.f("ck_device_command_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_command")),
    )
    with op.batch_alter_table("device_command", schema=None) as batch_op:
        batch_op.create_index("ix_device_command_status_mn", ["status", "mn"], unique=False)
        batch_op.create_index("ix_device_command_mn_created_at", ["mn", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("device_command", schema=None) as batch_op:
        batch_op.drop_index("ix_device_command_mn_created_at")
        batch_op.drop_index("ix_device_command_status_mn")
    op.drop_table("device_command")
    with op.batch_alter_table("device_event", schema=None) as batch_op:
        batch_op.drop_index("ix_device_event_kind_received_at")
        batch_op.drop_index("ix_device_event_mn_received_at")
    op.drop_table("device_event")
