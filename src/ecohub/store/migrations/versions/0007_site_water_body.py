"""site register: water-body type of surface-water sections (river / lake / reservoir)

Revision ID: 0007
Revises: 0002
Create Date: 2026-12-04

Adds ``site.water_body`` and moves the loose ``attrs.waterbody`` of earlier registers into it.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0002"
branch_labels = None
depends_on = None

_VALID = {"river", "lake", "reservoir"}


def upgrade() -> None:
    op.add_column("site", sa.Column("water_body", sa.String(length=16), nullable=True))
    conn = op.get_bind()
    site = sa.table("site", sa.column("id", sa.Integer), sa.column("attrs", sa.JSON),
                    sa.column("kind", sa.String), sa.column("water_body", sa.String))
    for sid, attrs in conn.execute(sa.select(site.c.id, site.c.attrs).where(site.c.kind == "water_section")).all():
        if isinstance(attrs, str):  # JSON stored as text by some drivers
            attrs = json.loads(attrs)
        wb = str((attrs or {}).get("waterbody") or "").strip().lower()
        if wb in _VALID:
            rest = {k: v for k, v in attrs.items() if k != "waterbody"} or None
            conn.execute(sa.update(site).where(site.c.id == sid).values(water_body=wb, attrs=rest))


def downgrade() -> None:
    with op.batch_alter_table("site") as b:  # SQLite rebuilds the table
        b.drop_column("water_body")
