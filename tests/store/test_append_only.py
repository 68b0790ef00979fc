"""Raw observations are append-only (issue 10, item 3): DELETE is refused on both backends, TRUNCATE on PostgreSQL
(the table and each monthly partition); the application's own PostgreSQL role owns nothing and cannot delete,
truncate or switch the triggers off; retention stays possible for the owner only."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from ecohub.cli.main import app as cli
from ecohub.domain.errors import InputError
from ecohub.store import registry as R
from ecohub.store.db import Store
from ecohub.store.roles import create_app_role, owned_objects
from ecohub.store.schema import observation
from ecohub.store.writer import ObservationWriter

T = int(datetime(2019, 1, 8, 4, tzinfo=UTC).timestamp())
T_LATER = int(datetime(2031, 5, 2, 4, tzinfo=UTC).timestamp())  # a month no partition exists for yet


def _write(store, t0=T, code="A"):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput(code, "air_station", "甲", 114.5, 38.0, "130100"))
        sid = R.SeriesResolver().get(c, R.site_index(c)[code][0], R.parameter_index(c)["pm25"], "hour")
    w = ObservationWriter(store, "import", "t")
    for i in range(3):
        w.add(sid, t0 + 3600 * i, 10.0 + i, "N")
    w.flush()
    return sid


def _count(store):
    with store.engine.connect() as c:
        return c.scalar(select(func.count()).select_from(observation))


@pytest.mark.parametrize("sql", ["DELETE FROM observation WHERE value > 10", "DELETE FROM observation"])
def test_delete_of_raw_rows_is_refused(store, sql):
    _write(store)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as c:
        c.execute(text(sql))
    assert _count(store) == 3


def _partition_of(store, t):
    with store.engine.connect() as c:
        return c.scalar(text("SELECT tableoid::regclass::text FROM observation WHERE time = :t"),
                        {"t": datetime.fromtimestamp(t, UTC)})


def test_postgres_truncate_is_refused_on_table_and_partitions(pg_store):
    _write(pg_store)
    part = _partition_of(pg_store, T)
    assert part == "observation_p201901"
    for target in ("observation", part):
        with pytest.raises(DBAPIError, match="append-only"), pg_store.engine.begin() as c:
            c.execute(text(f"TRUNCATE {target}"))
        with pytest.raises(DBAPIError, match="append-only"), pg_store.engine.begin() as c:
            c.execute(text(f"DELETE FROM {target}"))  # noqa: S608 - fixed table names
    assert _count(pg_store) == 3


def test_postgres_owner_retention_path_detach_and_drop(pg_store):
    """The documented retention path (docs/security.md): the owner detaches a month and drops it."""
    _write(pg_store)
    _write(pg_store, T_LATER, code="B")
    with pg_store.engine.begin() as c:
        c.execute(text("ALTER TABLE observation DETACH PARTITION observation_p201901"))
        c.execute(text("DROP TABLE observation_p201901"))
    assert _count(pg_store) == 3  # the 2031 rows stay


@pytest.fixture
def app_role(pg_store):
    name = f"ecohub_app_{uuid.uuid4().hex[:10]}"
    yield name
    admin = create_engine(pg_store.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if c.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}):
            c.execute(text(f'DROP OWNED BY "{name}"'))
            c.execute(text(f'DROP ROLE "{name}"'))
    admin.dispose()


def _as_role(pg_store, name) -> Store:
    return Store.open(make_url(pg_store.engine.url).set(username=name, password=None)
                      .render_as_string(hide_password=False))


def test_app_role_owns_nothing_and_cannot_remove_raw_data(pg_store, app_role):
    _write(pg_store)
    out = create_app_role(pg_store, app_role, password="S3cret-%:x'")
    assert out["created"] and out["owned"] == 0 and out["tables"] > 20
    assert create_app_role(pg_store, app_role)["created"] is False  # idempotent
    app = _as_role(pg_store, app_role)
    try:
        # the application works: writes a month that has no partition yet (created through the owner's function)
        _write(app, T_LATER, code="B")
        assert _count(app) == 6 and _partition_of(app, T_LATER) == "observation_p203105"
        with app.engine.connect() as c:
            assert owned_objects(c, app_role) == 0
        for sql, why in [
            ("DELETE FROM observation", "permission denied"),
            ("UPDATE observation SET value = 0", "permission denied"),
            ("TRUNCATE observation", "permission denied"),
            ("DELETE FROM observation_p203105", "permission denied"),  # the partition function revoked it
            ("TRUNCATE observation_p203105", "permission denied"),
            ("DELETE FROM audit_log", "permission denied"),
            ("ALTER TABLE observation DISABLE TRIGGER ALL", "must be owner"),
            ("ALTER TABLE observation_p203105 DISABLE TRIGGER ALL", "must be owner"),
            ("DROP TRIGGER observation_no_delete ON observation", "must be owner"),
            ("ALTER TABLE observation DETACH PARTITION observation_p201901", "must be owner"),
            ("SET session_replication_role = replica", "permission denied"),
            ("SELECT ecohub_observation_partition(2040, 13)", "out of range"),
        ]:
            with pytest.raises(DBAPIError, match=why), app.engine.begin() as c:
                c.execute(text(sql))
        assert _count(app) == 6
    finally:
        app.close()


def test_app_role_refuses_bad_names_and_sqlite(store):
    if store.is_postgres:
        with pytest.raises(InputError, match="app-role"):
            create_app_role(store, "Robert'); DROP TABLE site;--")
        with pytest.raises(InputError, match="differ"):
            create_app_role(store, store.engine.url.username)
    else:
        with pytest.raises(InputError, match="PostgreSQL"):
            create_app_role(store, "ecohub_app")


def test_cli_db_init_with_app_role(pg_store, app_role):
    url = pg_store.engine.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(cli, ["db", "init", "--database-url", url, "--app-role", app_role, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    assert out["role"] == app_role and out["owned"] == 0
    assert "owns nothing" in CliRunner().invoke(cli, ["db", "app-role", "--help"]).output
