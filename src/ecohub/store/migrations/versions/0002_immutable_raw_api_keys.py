"""raw observations immutable (database trigger); API keys for machine clients

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_MESSAGE = "observation rows are immutable: record a correction instead"


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("created_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("expires_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.Column("revoked_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.Column("last_used_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ecohub_observation_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$"
        )
        op.execute("CREATE TRIGGER observation_immutable BEFORE UPDATE ON observation "
                   "FOR EACH ROW EXECUTE FUNCTION ecohub_observation_immutable()")
    else:
        op.execute("CREATE TRIGGER observation_immutable BEFORE UPDATE ON observation "
                   f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER observation_immutable ON observation")
        op.execute("DROP FUNCTION ecohub_observation_immutable()")
    else:
        op.execute("DROP TRIGGER observation_immutable")
    op.drop_table("api_key")
