"""identity (users, sessions, refresh tokens, api_key.user_id), append-only audit log, data catalogue

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

_MESSAGE = "audit_log is append-only"


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("failed_logins", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("locked_until", ecohub.store.types.UTCTime(), nullable=True),
        sa.Column("password_changed_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("disabled_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.Column("created_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'analyst', 'officer', 'enterprise', 'partner', 'public')",
                           name=op.f("ck_app_user_role")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], name=op.f("fk_app_user_enterprise_id_enterprise")),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"], name=op.f("fk_app_user_region_code_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("name", name=op.f("uq_app_user_name")),
    )
    op.create_table(
        "auth_session",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("expires_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("revoked_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=100), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_auth_session_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
    )
    op.create_index("ix_auth_session_user_id", "auth_session", ["user_id"], unique=False)
    op.create_table(
        "refresh_token",
        sa.Column("jti", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("issued_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("expires_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("used_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["auth_session.id"],
                                name=op.f("fk_refresh_token_session_id_auth_session")),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_refresh_token")),
    )
    op.create_index("ix_refresh_token_session_id", "refresh_token", ["session_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=True),
        sa.Column("path", sa.String(length=500), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"], unique=False)
    op.create_index("ix_audit_log_action", "audit_log", ["action"], unique=False)

    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_department", sa.String(length=200), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("update_frequency", sa.String(length=32), nullable=False),
        sa.Column("sharing_level", sa.String(length=16), nullable=False),
        sa.Column("open_level", sa.String(length=16), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("created_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("updated_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.CheckConstraint("sharing_level IN ('unconditional', 'conditional', 'none')",
                           name=op.f("ck_dataset_sharing_level")),
        sa.CheckConstraint("open_level IN ('open', 'conditional', 'closed')", name=op.f("ck_dataset_open_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("code", name=op.f("uq_dataset_code")),
    )
    op.create_table(
        "access_request",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("decided_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("expires_at", ecohub.store.types.UTCTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'refused', 'revoked')",
                           name=op.f("ck_access_request_status")),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_access_request_dataset_id_dataset")),
        sa.ForeignKeyConstraint(["decided_by"], ["app_user.id"], name=op.f("fk_access_request_decided_by_app_user")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_access_request_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_request")),
    )
    op.create_index("ix_access_request_dataset_user", "access_request", ["dataset_id", "user_id"], unique=False)
    op.create_table(
        "dataset_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_dataset_record_dataset_id_dataset")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_record")),
    )
    op.create_index("ix_dataset_record_dataset_id", "dataset_record", ["dataset_id"], unique=False)
    op.create_table(
        "export_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("masked_fields", sa.JSON(), nullable=False),
        sa.Column("wm_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", ecohub.store.types.UTCTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_export_record_dataset_id_dataset")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_export_record_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_record")),
    )

    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_api_key_user_id", ["user_id"], unique=False)
        batch_op.create_foreign_key(op.f("fk_api_key_user_id_app_user"), "app_user", ["user_id"], ["id"])

    # the audit log is append-only: the database itself refuses to change or delete a record
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION ecohub_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$")
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION ecohub_audit_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ecohub_audit_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END")
        op.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                   f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION ecohub_audit_append_only()")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_api_key_user_id_app_user"), type_="foreignkey")
        batch_op.drop_index("ix_api_key_user_id")
        batch_op.drop_column("user_id")
    op.drop_table("export_record")
    op.drop_index("ix_dataset_record_dataset_id", table_name="dataset_record")
    op.drop_table("dataset_record")
    op.drop_index("ix_access_request_dataset_user", table_name="access_request")
    op.drop_table("access_request")
    op.drop_table("dataset")
    op.drop_index("ix_audit_log_action", table_name="audit_log")
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_refresh_token_session_id", table_name="refresh_token")
    op.drop_table("refresh_token")
    op.drop_index("ix_auth_session_user_id", table_name="auth_session")
    op.drop_table("auth_session")
    op.drop_table("app_user")
