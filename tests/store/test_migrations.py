"""Migrations create exactly the schema the code describes, on both backends; init is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from ecohub.store import migrate
from ecohub.store.all_tables import metadata
from ecohub.store.migrate import include_object


def test_migrated_schema_matches_metadata(store):
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == []
    assert migrate.current_revision(store.engine) == migrate.head_revision(store.engine)


def test_init_twice_changes_nothing(store):
    first = store.init()
    second = store.init()
    assert first == second and first["regions"] > 3000


def test_postgres_has_partitioning_and_postgis(pg_store):
    with pg_store.engine.connect() as c:
        strategy = c.scalar(text("SELECT partstrat FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                                 "WHERE c.relname = 'observation'"))
        assert strategy == "r"
        assert c.scalar(text("SELECT extname FROM pg_extension WHERE extname = 'postgis'")) == "postgis"
    cols = {c["name"] for c in inspect(pg_store.engine).get_columns("site")}
    assert "geom" in cols


def test_sqlite_is_wal_without_rowid_observations(sqlite_store):
    with sqlite_store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        sql = c.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'observation'").scalar()
    assert "WITHOUT ROWID" in sql.upper()
