"""Water-body type in the site register (issue 10 item 4): column ``site.water_body`` (migration 0007), set by
``ecohub site add --water-body`` / ``site import``, used by the water class without a command-line switch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from ecohub.analytics import water_service
from ecohub.domain.errors import InputError
from ecohub.ingest.sites import import_sites
from ecohub.store import registry as R
from ecohub.store.queries import SYSTEM, sites
from ecohub.store.schema import site
from ecohub.store.writer import ObservationWriter

T = int(datetime(2026, 2, 4, 3, tzinfo=UTC).timestamp())


def _section(conn, code: str, water_body: str | None, attrs: dict | None = None) -> str:
    return R.upsert_site(conn, R.SiteInput(code, "water_section", code, 116.0, 39.0, "130100", attrs=attrs,
                                           water_body=water_body))


def test_register_column_and_validation(store):
    with store.engine.begin() as c:
        assert _section(c, "L1", "lake") == "created"
        assert _section(c, "R1", "水库") == "created"  # Chinese names accepted
        assert _section(c, "V1", None, attrs={"waterbody": "river", "basin": "海河流域"}) == "created"  # older form
        assert _section(c, "L1", None) == "unchanged"  # not given: kept
        assert _section(c, "L1", "reservoir") == "updated"
        with pytest.raises(InputError) as e:
            _section(c, "X1", "pond")
        assert e.value.field == "water_body" and "pond" in str(e.value)
        with pytest.raises(InputError, match="only a water_section"):
            R.upsert_site(c, R.SiteInput("A1", "air_station", "a", 116.0, 39.0, "130100", water_body="lake"))
        rows = dict(c.execute(select(site.c.code, site.c.water_body)).all())
    assert rows == {"L1": "reservoir", "R1": "reservoir", "V1": "river"}
    got = {s["code"]: (s["water_body"], s["attrs"]) for s in sites(store, scope=SYSTEM)}
    assert got["V1"] == ("river", {"basin": "海河流域"})  # moved out of attrs


def test_site_import_reads_water_body(store, tmp_path):
    f = tmp_path / "sites.csv"
    f.write_text("code,kind,name,lon,lat,region,water_body\n"
                 "S1,water_section,太湖某断面,120.2,31.2,130100,lake\n"
                 "S2,water_section,某河断面,116.1,39.1,130100,river\n"
                 "S3,water_section,坏,116.1,39.1,130100,sea\n", encoding="utf-8")
    s = import_sites(store, f)
    assert s.counts() == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert "water_body" in s.errors[0] and "'sea'" in s.errors[0]
    with store.engine.connect() as c:
        assert dict(c.execute(select(site.c.code, site.c.water_body)).all()) == {"S1": "lake", "S2": "river"}
        assert c.execute(text("SELECT count(*) FROM quarantine WHERE field = 'water_body'")).scalar() == 1


def test_site_add_cli_option(tmp_path):
    from ecohub.cli.main import app

    url = f"sqlite:///{tmp_path / 'e.db'}"
    res = CliRunner().invoke(app, ["site", "add", "WB1", "--kind", "water_section", "--name", "湖", "--lon", "116",
                                   "--lat", "39", "--region", "130100", "--water-body", "lake", "--database-url", url])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["site", "add", "WB2", "--kind", "water_section", "--name", "x", "--lon", "116",
                                   "--lat", "39", "--region", "130100", "--water-body", "sea", "--database-url", url])
    assert res.exit_code != 0 and "water_body" in res.output
    from ecohub.store.db import Store

    st = Store.open(url)
    assert [(s["code"], s["water_body"]) for s in sites(st, scope=SYSTEM)] == [("WB1", "lake")]
    st.close()


def test_water_class_uses_the_register(store):
    """The same readings (TP 0.1 mg/L): class II in a river (limit 0.1), IV in a lake or reservoir (0.05 < 0.1)."""
    with store.engine.begin() as c:
        for code, wb in (("RIV", "river"), ("LAK", "lake"), ("RES", "reservoir"), ("UNK", None)):
            _section(c, code, wb)
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {(s, p): res.get(c, idx[s][0], par[p], "hour") for s in ("RIV", "LAK", "RES", "UNK")
               for p in ("ph", "do", "nh3n", "tp", "codmn")}
    w = ObservationWriter(store, "import", "t")
    for (_s, p), sid in ids.items():
        w.add(sid, T, {"ph": 7.5, "do": 8.0, "nh3n": 0.1, "tp": 0.1, "codmn": 2.0}[p])
    w.flush()
    got = {r["site"]: (r["water_body"], r["label"]) for r in water_service.latest_classes(store, scope=SYSTEM)}
    assert got == {"RIV": ("river", "II"), "LAK": ("lake", "IV"), "RES": ("reservoir", "IV"), "UNK": (None, "II")}


def _engine(backend: str, tmp_path):
    import os
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    if backend == "sqlite":
        return create_engine(f"sqlite:///{tmp_path / 'm.db'}"), None
    pg = os.environ.get("ECOHUB_TEST_POSTGRES_URL")
    if not pg:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but ECOHUB_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set ECOHUB_TEST_POSTGRES_URL)")
    base = make_url(pg).set(drivername="postgresql+psycopg")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"ecohub_m7_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    return create_engine(base.set(database=name)), (admin, name)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migration_0007_moves_attrs_waterbody_into_the_column(backend, tmp_path):
    """A register written before 0007 (type in ``attrs.waterbody``) keeps its types after the upgrade."""
    from ecohub.store.migrate import upgrade

    eng, drop = _engine(backend, tmp_path)
    try:
        upgrade(eng, "0002")
        with eng.begin() as c:
            c.execute(text("INSERT INTO region (code, name, level) VALUES ('130000', '河北省', 1)"))
            for i, attrs in enumerate(('{"waterbody": "lake", "basin": "海河流域"}', '{"waterbody": "pond"}', None)):
                c.execute(text("INSERT INTO site (code, kind, name, lon, lat, region_code, attrs, created_at) "
                               "VALUES (:c, 'water_section', 'n', 116, 39, '130000', :a, :t)"),
                          {"c": f"M{i}", "a": attrs, "t": datetime(2026, 1, 1, tzinfo=UTC)})
        upgrade(eng, "0007")
        with eng.connect() as c:
            rows = {r[0]: (r[1], r[2]) for r in c.execute(text("SELECT code, water_body, attrs FROM site"))}
        import json

        got = {k: (wb, json.loads(a) if isinstance(a, str) else a) for k, (wb, a) in rows.items()}
        assert got == {"M0": ("lake", {"basin": "海河流域"}), "M1": (None, {"waterbody": "pond"}), "M2": (None, None)}
    finally:
        eng.dispose()
        if drop:
            admin, name = drop
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
