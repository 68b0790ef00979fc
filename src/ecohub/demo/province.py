"""Load the demo province's registers: enterprises (fictional, marked 演示), air stations (CNEMC national
stations of 河北省), water sections (CNEMC automatic stations of 河北省, approximate positions), outlets and
their HJ 212 devices."""

from __future__ import annotations

import csv
from importlib import resources

from sqlalchemy import func, select

from ecohub.store import registry as R
from ecohub.store.db import Store
from ecohub.store.schema import site

DEMO_DEVICE_PASSWORD = "123456"  # demo only: the example PW of HJ 212-2017; documented in the README
PROVINCE = "130000"


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("ecohub.data.demo").joinpath(name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def is_loaded(store: Store) -> bool:
    with store.engine.connect() as conn:
        return bool(conn.scalar(select(func.count()).select_from(site).where(site.c.code.in_(
            [r["code"] for r in _rows("air_stations.csv")[:3]]))))


def load_registers(store: Store) -> dict[str, int]:
    """Create (or update) every demo site, enterprise and device. Idempotent."""
    counts = {"enterprises": 0, "air_stations": 0, "water_sections": 0, "outlets": 0, "devices": 0}
    with store.engine.begin() as conn:
        for r in _rows("enterprises.csv"):
            R.add_enterprise(conn, r["uscc"], r["name"], r["region"])
            counts["enterprises"] += 1
        for r in _rows("air_stations.csv"):
            R.upsert_site(conn, R.SiteInput(r["code"], "air_station", r["name"], float(r["lon"]), float(r["lat"]),
                                            r["region"], attrs={"city": r["city"], "network": "国控 national"}))
            counts["air_stations"] += 1
        for r in _rows("water_sections.csv"):
            attrs = {"basin": r["basin"], "official_class": r["official_class"] or None,
                     "position_approximate": r["position_approximate"] == "true"}
            # all 33 demo sections are rivers (岳城水库出口 is the river below the dam): the river limits give
            # every official class of the snapshot (see ecohub/data/README.md)
            R.upsert_site(conn, R.SiteInput(r["code"], "water_section", r["name"], float(r["lon"]), float(r["lat"]),
                                            r["region"], attrs=attrs, water_body=r.get("water_body") or "river"))
            counts["water_sections"] += 1
        for r in _rows("outlets.csv"):
            R.upsert_site(conn, R.SiteInput(r["code"], r["kind"], r["name"], float(r["lon"]), float(r["lat"]),
                                            r["region"], r["enterprise"],
                                            attrs={"demo": True, "key_unit": r.get("key_unit") == "true"}))
            counts["outlets"] += 1
            if r.get("mn"):
                R.add_device(conn, r["mn"], DEMO_DEVICE_PASSWORD, r["code"], "2017")
                counts["devices"] += 1
    counts.update(load_permits_and_targets(store))
    return counts


def load_permits_and_targets(store: Store) -> dict[str, int]:
    """Illustrative permit limits of the demo outlets and target class III for the demo sections (see
    ``ecohub/data/README.md``)."""
    from ecohub.alerts.permits import import_permits, set_section_target

    with resources.as_file(resources.files("ecohub.data.demo").joinpath("permits.csv")) as path:
        res = import_permits(store, path)
    if res.rejected:
        raise RuntimeError(f"demo permits.csv has rejected rows: {res.errors}")
    n = 0
    for r in _rows("water_sections.csv"):
        set_section_target(store, r["code"], "III", by="demo")
        n += 1
    return {"permit_limits": res.imported + res.updated, "section_targets": n}


def water_snapshot() -> list[dict[str, str]]:
    return _rows("water_sections.csv")
