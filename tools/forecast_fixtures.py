"""Build the forecast test fixtures from ``../shared/data`` (run from the repository root; byte-stable output).

* ``tests/fixtures/forecast/tianjin_daily_2014-01-01_2022-05-31.csv`` — copied byte-for-byte from
  ``aqistudy_city_daily``.
* ``tests/fixtures/forecast/beijing_met_hourly_dongsi.csv.gz`` — the meteorological columns of the UCI Beijing
  Multi-Site file of the Dongsi site (year, month, day, hour, TEMP, PRES, DEWP, RAIN, wd, WSPM), unchanged.
* ``tests/fixtures/forecast/beijing_city_daily_uci.csv`` — a Beijing city daily file in the aqistudy layout,
  computed here with ``ecohub.standards`` from the 12 UCI sites' hourly concentrations: site daily means with
  ≥ 20 valid hours (GB 3095 Table 4), O3 daily max 8-h (``gb3095.daily_max_8h_o3``), city value = mean of the
  valid sites (``hj663.city_daily``), CO µg/m³ → mg/m³, values rounded (``hj663.round_stat``), daily AQI by
  HJ 633-2012 (``aqi_cn.aqi_daily``). Not an official AQI: UCI publishes no AQI (see that folder's README).
  The UCI hour ``h`` of a date is taken as h:00–h+1:00 of that date (the source does not state its label).
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import sys
from pathlib import Path

import numpy as np

from ecohub.standards import aqi_cn, gb3095, hj663

SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/data")
OUT = Path("tests/fixtures/forecast")
STATIONS = ("Aotizhongxin", "Changping", "Dingling", "Dongsi", "Guanyuan", "Gucheng", "Huairou", "Nongzhanguan",
            "Shunyi", "Tiantan", "Wanliu", "Wanshouxigong")
MET_COLS = ("year", "month", "day", "hour", "TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM")


def _uci(station: str) -> list[dict]:
    p = SHARED / "beijing_multisite_uci" / f"PRSA_Data_{station}_20130301-20170228.csv.gz"
    with gzip.open(p, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    src = SHARED / "aqistudy_city_daily" / "tianjin_daily_2014-01-01_2022-05-31.csv"
    shutil.copyfile(src, OUT / src.name)
    rows = {s: _uci(s) for s in STATIONS}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(MET_COLS)
    for r in rows["Dongsi"]:
        w.writerow([r[c] for c in MET_COLS])
    with open(OUT / "beijing_met_hourly_dongsi.csv.gz", "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
            g.write(buf.getvalue().encode())
    n = len(rows["Dongsi"])
    nd = n // 24

    def col(name: str) -> np.ndarray:
        out = np.full((len(STATIONS), n), np.nan)
        for i, s in enumerate(STATIONS):
            out[i] = [float(r[name]) if r[name] not in ("", "NA") else np.nan for r in rows[s]]
        return out

    site: dict[str, np.ndarray] = {}
    for key, name in (("so2", "SO2"), ("no2", "NO2"), ("co", "CO"), ("pm10", "PM10"), ("pm25", "PM2.5")):
        site[key] = gb3095.daily_mean(col(name).reshape(len(STATIONS), nd, 24))
    site["co"] = site["co"] / 1000.0  # µg/m³ → mg/m³
    o3 = col("O3")
    site["o3_8h"] = np.stack([gb3095.daily_max_8h_o3(o3[i])[0] for i in range(len(STATIONS))])
    city = {k: hj663.round_stat(hj663.city_daily(v, axis=0), k) for k, v in site.items()}
    res = aqi_cn.aqi_daily(edition=2012, **city)
    days = [f"{r['year']}-{int(r['month']):02d}-{int(r['day']):02d}" for r in rows["Dongsi"][::24]]
    with open(OUT / "beijing_city_daily_uci.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["aqi", "co", "no2", "o3", "pm10", "pm2_5", "quality", "rank", "so2", "time_point"])
        zh = res.category_zh

        def cell(v: float, co: bool = False) -> str:
            return "" if np.isnan(v) else (f"{v:.1f}" if co else str(int(v)))

        for j, d in enumerate(days):
            a = res.aqi[j]
            # HJ 633-2012 §5.1.1: a day with a missing pollutant is published with NA for it; the AQI is kept
            # only when all six are present, like the official files (no partial AQI)
            complete = all(not np.isnan(city[k][j]) for k in city)
            w.writerow([cell(a) if complete else "", cell(city["co"][j], True), cell(city["no2"][j]),
                        cell(city["o3_8h"][j]), cell(city["pm10"][j]), cell(city["pm25"][j]),
                        zh[j] if complete else "无", "", cell(city["so2"][j]), d])


if __name__ == "__main__":
    main()
