"""Schema migrations (Alembic), driven from code: no ``alembic.ini`` needed.

``ecohub db init`` and ``ecohub db upgrade`` both bring a database to the newest revision; ``init``
also loads the reference data (regions, parameters). Running either twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


# Objects that exist only on PostgreSQL and are created by hand in the migrations (PostGIS column, monthly
# partitions of ``observation``) are not part of ``metadata``; comparisons leave them out.
_PG_ONLY_COLUMNS = {("site", "geom"), ("redline", "geom"), ("redline_patch", "geom"), ("risk_source", "geom"),
                    ("receptor", "geom"), ("incident", "geom")}
_PG_ONLY_INDEXES = ("ix_site_geom", "ix_redline_geom", "ix_redline_patch_geom", "ix_risk_source_geom",
                    "ix_receptor_geom", "ix_incident_geom")


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "column" and (obj.table.name, name) in _PG_ONLY_COLUMNS:
        return False
    if type_ == "table" and reflected and compare_to is None and (
        name.startswith("observation_p") or name == "spatial_ref_sys"
    ):
        return False
    if type_ == "index" and name and name.startswith(_PG_ONLY_INDEXES):
        return False
    return True


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply migrations up to every head. Areas of the code add their migrations as branches from a common
    revision (each area owns its tables); merge revisions join them from time to time. "heads" upgrades all."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The database's revision(s), sorted and joined with '+' when there are several heads; None if empty."""
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return "+".join(sorted(heads)) if heads else None


def head_revision(engine: Engine) -> str | None:
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    return "+".join(sorted(heads)) if heads else None
