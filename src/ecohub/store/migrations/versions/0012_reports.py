"""reports: generated report issues (file and JSON sidecar, kept) and soil samples with their classes

Revision ID: 0012
Revises: 0002
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import ecohub.store.types

revision = "0012"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTC = ecohub.store.types.UTCTime
    op.create_table(
        "report_issue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("kind IN ('monthly', 'annual')", name=op.f("ck_report_issue_kind")),
        sa.CheckConstraint("format IN ('docx', 'pdf')", name=op.f("ck_report_issue_format")),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"], name=op.f("fk_report_issue_region_code_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_issue")),
    )
    op.create_index("ix_report_issue_region_period", "report_issue", ["region_code", "period"], unique=False)
    op.create_table(
        "soil_sample",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("sampled_at", UTC(), nullable=False),
        sa.Column("land_use", sa.String(length=16), nullable=False),
        sa.Column("ph", sa.Float(), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("worst", sa.String(length=20), nullable=True),
        sa.Column("standard", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_soil_sample_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_soil_sample")),
    )
    op.create_index("ix_soil_sample_site_id", "soil_sample", ["site_id", "sampled_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_soil_sample_site_id", table_name="soil_sample")
    op.drop_table("soil_sample")
    op.drop_index("ix_report_issue_region_period", table_name="report_issue")
    op.drop_table("report_issue")
