"""crypto (issue 19): the audit log as an SM3 hash chain (chain columns + the genesis anchor over the rows
before it), the raw-observation batch chain (``obs_batch``), encrypted complaint contact fields (SM4 values are
longer than the plaintext: ``phone``/``address`` become TEXT) with the phone's blind index

Revision ID: 0016
Revises: 0004, 0006
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = ("0004", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("chain_seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("row_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "obs_batch",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.SmallInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),  # epoch seconds, = observation.received_at
        sa.Column("seq", sa.BigInteger(), nullable=False),  # place in the source's chain, from 1
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("rows_sm3", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.UniqueConstraint("source_id", "received_at", name="uq_obs_batch_source_received"),
        sa.UniqueConstraint("source_id", "seq", name="uq_obs_batch_source_seq"),
    )
    with op.batch_alter_table("complaint") as b:  # SQLite rebuilds the table
        b.alter_column("phone", type_=sa.Text(), existing_type=sa.String(32), existing_nullable=True)
        b.alter_column("address", type_=sa.Text(), existing_type=sa.String(200), existing_nullable=True)
    op.add_column("complaint", sa.Column("phone_bidx", sa.String(length=64), nullable=True))
    op.create_index("ix_complaint_phone_bidx", "complaint", ["phone_bidx"])
    # the chain starts here: the genesis anchor covers the rows written before it
    from ecohub.store import audit_chain

    audit_chain.genesis(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_complaint_phone_bidx", "complaint")
    with op.batch_alter_table("complaint") as b:
        b.drop_column("phone_bidx")
    op.drop_table("obs_batch")
    with op.batch_alter_table("audit_log") as b:
        b.drop_column("row_hash")
        b.drop_column("prev_hash")
        b.drop_column("chain_seq")
