"""exchange: HJ 212 forwarding destinations and their durable outbox; partners, their dataset subscriptions
and the exchange log (batches pushed and received, with counts and hashes)

Revision ID: 0017
Revises: 0004
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0017"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table('forward_destination',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=4), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('devices', sa.JSON(), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=True),
    sa.Column('mn_map', sa.JSON(), nullable=True),
    sa.Column('pw', sa.String(length=32), nullable=True),
    sa.Column('ack', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('last_ack_at', UTC(), nullable=True),
    sa.Column('last_sent_at', UTC(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sent', sa.Integer(), server_default='0', nullable=False),
    sa.Column('acked', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("mode IN ('original', 'reencode')", name=op.f('ck_forward_destination_mode')),
    sa.CheckConstraint('port BETWEEN 1 AND 65535', name=op.f('ck_forward_destination_port')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forward_destination')),
    sa.UniqueConstraint('name', name=op.f('uq_forward_destination_name'))
    )
    op.create_table('forward_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('destination_id', sa.Integer(), nullable=False),
    sa.Column('mn', sa.String(length=64), nullable=False),
    sa.Column('cn', sa.String(length=4), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('frame', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('sent_at', UTC(), nullable=True),
    sa.Column('acked_at', UTC(), nullable=True),
    sa.ForeignKeyConstraint(['destination_id'], ['forward_destination.id'], name=op.f('fk_forward_outbox_destination_id_forward_destination'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forward_outbox')),
    sa.UniqueConstraint('destination_id', 'mn', 'cn', 'ref', name=op.f('uq_forward_outbox_destination_id_mn_cn_ref'))
    )
    op.create_index('ix_forward_outbox_pending', 'forward_outbox', ['destination_id', 'status', 'id'], unique=False)
    op.create_table('partner',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('endpoint', sa.String(length=500), nullable=True),
    sa.Column('alg', sa.String(length=16), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=True),
    sa.Column('sign_private', sa.String(length=128), nullable=True),
    sa.Column('sign_public', sa.String(length=200), nullable=True),
    sa.Column('partner_public', sa.String(length=200), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('incoming', sa.JSON(), nullable=True),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.CheckConstraint("alg IN ('hmac-sha256', 'sm2')", name=op.f('ck_partner_alg')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_partner_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner')),
    sa.UniqueConstraint('key_id', name=op.f('uq_partner_key_id')),
    sa.UniqueConstraint('name', name=op.f('uq_partner_name'))
    )
    op.create_table('exchange_batch',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('hash_alg', sa.String(length=8), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('cursor', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_exchange_batch_partner_id_partner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_batch')),
    sa.UniqueConstraint('partner_id', 'direction', 'batch_id', name=op.f('uq_exchange_batch_partner_id_direction_batch_id'))
    )
    op.create_index('ix_exchange_batch_status', 'exchange_batch', ['direction', 'status'], unique=False)
    op.create_table('partner_subscription',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.String(length=100), nullable=True),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('pushed_at', UTC(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_partner_subscription_dataset_id_dataset')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_subscription_partner_id_partner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_subscription')),
    sa.UniqueConstraint('partner_id', 'dataset_id', name=op.f('uq_partner_subscription_partner_id_dataset_id'))
    )


def downgrade() -> None:
    op.drop_table("partner_subscription")
    op.drop_index("ix_exchange_batch_status", table_name="exchange_batch")
    op.drop_table("exchange_batch")
    op.drop_table("partner")
    op.drop_index("ix_forward_outbox_pending", table_name="forward_outbox")
    op.drop_table("forward_outbox")
    op.drop_table("forward_destination")
