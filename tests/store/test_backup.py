"""ecohub backup / restore: backup → wipe → restore gives back the same rows (counts and the hash of the raw
observations), on both backends; wrong files and non-empty targets are refused with a reason."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from ecohub.cli.main import app
from ecohub.store import registry as R
from ecohub.store.backup import BackupError, fingerprint, kind_of_file, restore
from ecohub.store.db import Store
from ecohub.store.writer import ObservationWriter

T0 = int(datetime(2026, 1, 31, 20, tzinfo=UTC).timestamp())


def _fill(store: Store) -> None:
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("B1", "air_station", "备份站", 114.5, 38.0, "130100"))
        site_id = R.site_index(c)["B1"][0]
        sid = R.SeriesResolver().get(c, site_id, R.parameter_index(c)["pm25"], "hour")
    w = ObservationWriter(store, "import", "t")
    for i in range(200):  # crosses a month boundary: two partitions on PostgreSQL
        w.add(sid, T0 + 3600 * i, float(i % 97), "N")
    w.flush()


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _wipe(store: Store) -> None:
    if store.is_postgres:
        with store.engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        path = store.engine.url.database
        store.close()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    store.engine.dispose()


def test_backup_wipe_restore_gives_back_the_same_data(store, tmp_path):
    _fill(store)
    before = fingerprint(store)
    assert before.counts["observation"] == 200
    out = tmp_path / "b.backup"
    r = CliRunner().invoke(app, ["backup", "-o", str(out), "--json", "--database-url", _url(store)])
    assert r.exit_code == 0, r.output
    printed = json.loads(r.output.strip().splitlines()[-1])
    assert printed["observation_sha256"] == before.observation_sha256
    assert kind_of_file(out) == ("postgresql" if store.is_postgres else "sqlite")

    _wipe(store)
    r = CliRunner().invoke(app, ["restore", str(out), "--json", "--database-url", _url(store)])
    assert r.exit_code == 0, r.output
    after = json.loads(r.output.strip().splitlines()[-1])
    assert after["observation_sha256"] == before.observation_sha256
    restored = Store.open(_url(store))
    try:
        now = fingerprint(restored)
        assert now.observation_sha256 == before.observation_sha256
        assert now.counts["observation"] == 200 and now.counts["site"] == before.counts["site"]
        # the restored database refuses changes to raw data as the original did
        with pytest.raises(Exception), restored.engine.begin() as c:  # noqa: B017 - either backend's error
            c.execute(text("UPDATE observation SET value = -1"))
    finally:
        restored.close()


def test_restore_refuses_a_database_with_data_and_the_other_backends_file(sqlite_store, tmp_path):
    _fill(sqlite_store)
    out = tmp_path / "b.db"
    r = CliRunner().invoke(app, ["backup", "-o", str(out), "--database-url", _url(sqlite_store)])
    assert r.exit_code == 0, r.output
    with pytest.raises(BackupError, match="holds data.*--force"):
        restore(sqlite_store, out)
    restore(sqlite_store, out, force=True)  # same content again: allowed with --force
    fake = tmp_path / "x.dump"
    fake.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    with pytest.raises(BackupError, match="postgresql backup; the target database is sqlite"):
        restore(sqlite_store, fake, force=True)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello")
    r = CliRunner().invoke(app, ["restore", str(junk), "--database-url", _url(sqlite_store)])
    assert r.exit_code == 2 and "not an ecohub backup" in r.output
