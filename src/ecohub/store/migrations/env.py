"""Alembic environment: runs against the connection handed over by ``ecohub.store.migrate``."""

from __future__ import annotations

from alembic import context

from ecohub.store.schema import metadata

# Objects that exist only on PostgreSQL and are created by hand in the migrations (PostGIS column,
# monthly partitions of ``observation``) are not part of ``metadata``.
_PG_ONLY_COLUMNS = {("site", "geom")}


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "column" and (obj.table.name, name) in _PG_ONLY_COLUMNS:
        return False
    if type_ == "table" and reflected and compare_to is None and (
        name.startswith("observation_p") or name in {"spatial_ref_sys"}
    ):
        return False
    if type_ == "index" and name and name.startswith("ix_site_geom"):
        return False
    return True


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
