"""Shared fixtures: a fresh store on SQLite and, when ECOHUB_TEST_POSTGRES_URL is set, on PostgreSQL + PostGIS.

PostgreSQL tests run in a database created per test from a migrated template (fast). In CI (CI=true) the
variable must be set: a PostgreSQL test that would skip there fails instead.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ecohub.store.db import Store

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"  # real-data subsets (README per folder); tests never read outside the repo
PG_URL = os.environ.get("ECOHUB_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_TEMPLATE = f"ecohub_tmpl_{os.getpid()}"


def _admin_engine():
    return create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg", database="postgres"),
                         isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template():
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but ECOHUB_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI")
        pytest.skip("PostgreSQL not configured (set ECOHUB_TEST_POSTGRES_URL)")
    admin = _admin_engine()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{_TEMPLATE}"'))
        c.execute(text(f'CREATE DATABASE "{_TEMPLATE}"'))
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=_TEMPLATE)
    s = Store.open(url.render_as_string(hide_password=False))
    s.init()
    s.close()
    yield url
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_store(pg_template):
    name = f"ecohub_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE}"'))
    s = Store.open(pg_template.set(database=name).render_as_string(hide_password=False))
    yield s
    s.close()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("tmpl") / "template.db"
    s = Store.open(f"sqlite:///{p}")
    s.init()
    with s.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    return p


@pytest.fixture
def sqlite_store(sqlite_template, tmp_path):
    p = tmp_path / "ecohub.db"
    p.write_bytes(sqlite_template.read_bytes())
    s = Store.open(f"sqlite:///{p}")
    yield s
    s.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request) -> Store:
    """The same test on both backends."""
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "pg_store")


@pytest.fixture(scope="session")
def mqtt_broker() -> str:
    """The test MQTT broker (ECOHUB_TEST_MQTT_URL, e.g. mqtt://127.0.0.1:1883): skipped where none is configured
    outside CI, a failure in CI or when it does not answer."""
    import socket

    from ecohub.ingest.mqtt import parse_broker_url

    url = os.environ.get("ECOHUB_TEST_MQTT_URL")
    if not url:
        if IN_CI:
            pytest.fail("CI=true but ECOHUB_TEST_MQTT_URL is not set: the MQTT tests must run in CI")
        pytest.skip("MQTT broker not configured (set ECOHUB_TEST_MQTT_URL=mqtt://127.0.0.1:1883)")
    b = parse_broker_url(url)
    try:
        socket.create_connection((b.host, b.port), timeout=3).close()
    except OSError as e:
        pytest.fail(f"ECOHUB_TEST_MQTT_URL={url}: broker not reachable ({e})")
    return url
