"""Evidence for the AQI input rounding (issue 10 item 1): how CNEMC rounds daily concentrations, and what
rounding changes in the daily AQI. Prints the figures recorded in docs/standards.md ("Input rounding").

Run: ``.venv/bin/python tools/aqi_rounding_evidence.py [DATA]`` where DATA is the shared real-data folder
(default ``../shared/data`` beside the repository) or ``tests/fixtures`` (the subsets in the repository;
the same layout under ``cnemc_station_hourly_2019/`` and ``aqistudy_city_daily/``).

1. CNEMC 2019 station data: every published 24-h value (``X_24h``) whose 24 hourly values are all present
   is compared with the mean of those hourly values; where the mean is an exact half (x.5), which way did
   CNEMC round? (half up / half to even / down). Also restricted to hour 0 (= the natural-day mean).
2. Station-days: the daily AQI (HJ 633-2012, 24-h tables; O3 = CNEMC's published daily max 8-h) from the
   unrounded daily means vs from CNEMC's published (rounded) daily values — the share of days that differ.
3. aqistudy Tianjin/Nanjing city daily: the published AQI recomputed from the published concentrations,
   without and with input rounding (the published concentrations are integers, CO one decimal).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ecohub.standards import aqi_cn  # noqa: E402

P24 = ("PM2.5", "PM10", "SO2", "NO2", "CO")
KEY = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co"}


def load_station_hours(folder: Path) -> pl.DataFrame:
    """Long CNEMC files → one row per (site, hour) with the hourly and published 24-h values; ``t`` = end of hour."""
    want = [*P24, *(p + "_24h" for p in P24), "O3_8h_24h"]
    frames = []
    for f in sorted(folder.rglob("sites_2019-*.csv.gz")):
        df = pl.read_csv(f, infer_schema=False).filter(pl.col("type").is_in(want))
        frames.append(df.unpivot(index=["date", "hour", "type"], variable_name="site", value_name="v")
                      .filter(pl.col("v").is_not_null()).with_columns(pl.lit(f.parent.name).alias("set")))
    long = pl.concat(frames).with_columns(pl.col("v").cast(pl.Float64), pl.col("hour").cast(pl.Int32))
    wide = long.pivot(on="type", index=["set", "date", "hour", "site"], values="v")
    t = pl.col("date").str.to_datetime("%Y%m%d") + pl.duration(hours=pl.col("hour"))
    return wide.with_columns(t.alias("t")).sort("set", "site", "t")


def halves(wide: pl.DataFrame) -> None:
    print("1. CNEMC published 24-h means at exact halves (24 hourly values present):")
    for p in P24:
        dec = 1 if p == "CO" else 0
        w = wide.select("set", "site", "t", "hour", p, p + "_24h").with_columns(
            pl.col(p).rolling_sum_by("t", window_size="24h").over("set", "site").alias("s"),
            pl.col(p).is_not_null().cast(pl.Int32).rolling_sum_by("t", window_size="24h").over("set", "site").alias("n"),
        ).filter((pl.col("n") == 24) & pl.col(p + "_24h").is_not_null())
        for label, ww in (("all hours", w), ("hour 0 = natural day", w.filter(pl.col("hour") == 0))):
            x = np.round(ww["s"].to_numpy() / 24 * 10**dec, 6)
            pub = np.round(ww[p + "_24h"].to_numpy() * 10**dec, 6)
            half = (x - np.floor(x)) == 0.5
            up, down, even = np.floor(x[half]) + 1, np.floor(x[half]), np.rint(x[half])
            print(f"   {p:6s} {label:21s} means {x.size:7d}; round-half-even equals published "
                  f"{np.mean(np.rint(x) == pub):.4%}, half-up {np.mean(np.floor(x + 0.5) == pub):.4%}; exact halves "
                  f"{half.sum():5d}: published even {np.sum(even == pub[half]):5d}, up {np.sum(up == pub[half]):5d}, "
                  f"down {np.sum(down == pub[half]):5d}")


def station_days(wide: pl.DataFrame) -> None:
    """Natural day D (Beijing) = hours ending 01 … 24; CNEMC's X_24h at hour 0 of D+1 is D's daily value."""
    day = (pl.col("t") - pl.duration(hours=1)).dt.date()
    hourly = wide.with_columns(day.alias("day"))
    agg = [pl.col(p).mean().alias(p) for p in P24] + [pl.col(p).count().alias("n_" + p) for p in P24]
    means = hourly.group_by("set", "site", "day").agg(agg)
    pub = hourly.filter(pl.col("hour") == 0).select(
        "set", "site", "day", *(pl.col(p + "_24h").alias("pub_" + p) for p in P24), pl.col("O3_8h_24h").alias("o3_8h"))
    j = means.join(pub, on=["set", "site", "day"])
    full = pl.all_horizontal([pl.col("n_" + p) == 24 for p in P24])
    j = j.filter(full & pl.all_horizontal([pl.col("pub_" + p).is_not_null() for p in P24])
                 & pl.col("o3_8h").is_not_null())
    o3 = j["o3_8h"].to_numpy()
    ref = aqi_cn.aqi_daily(**{KEY[p]: j["pub_" + p].to_numpy() for p in P24}, o3_8h=o3, edition=2012).aqi
    mine = aqi_cn.aqi_daily(**{KEY[p]: j[p].to_numpy() for p in P24}, o3_8h=o3, edition=2012).aqi
    unrounded = _unrounded_aqi({KEY[p]: j[p].to_numpy() for p in P24}, o3)
    print(f"2. station-days with all 24 hours of the five 24-h pollutants: {j.height}")
    print(f"   daily AQI equal to the AQI of CNEMC's published daily values: unrounded means (before) "
          f"{np.mean(unrounded == ref):.2%}, rounded half-even (after) {np.mean(mine == ref):.2%}")


def _unrounded_aqi(conc: dict[str, np.ndarray], o3_8h: np.ndarray) -> np.ndarray:
    """The daily AQI without input rounding (the behaviour before issue 10), from the IAQI formula directly."""
    bp = aqi_cn.BREAKPOINTS[2012]
    subs = [aqi_cn.ceil_index(np.interp(v, bp[k + "_24h"], aqi_cn.IAQI_POINTS[: bp[k + "_24h"].size]))
            for k, v in conc.items()]
    subs.append(aqi_cn.ceil_index(np.interp(o3_8h, bp["o3_8h"], aqi_cn.IAQI_POINTS[:6])))
    return np.fmax.reduce(np.stack(subs), axis=0)


def aqistudy(folder: Path) -> None:
    print("3. aqistudy city daily, AQI recomputed from the published concentrations (HJ 633-2012):")
    for f in sorted(folder.glob("*_daily_*.csv*")):
        df = pl.read_csv(f).filter(pl.col("quality") != "无").with_columns(
            pl.col("time_point").str.to_date().dt.year().alias("year"))
        conc = {"so2": df["so2"], "no2": df["no2"], "co": df["co"], "pm10": df["pm10"], "pm25": df["pm2_5"]}
        conc = {k: v.cast(pl.Float64).to_numpy() for k, v in conc.items()}
        o3 = df["o3"].cast(pl.Float64).to_numpy()
        before = _unrounded_aqi(conc, o3) == df["aqi"].to_numpy()
        after = aqi_cn.aqi_daily(**conc, o3_8h=o3, edition=2012).aqi == df["aqi"].to_numpy()
        frac = sum(int(np.sum(v != np.round(v, 1 if k == "co" else 0))) for k, v in conc.items())
        print(f"   {f.name}: {df.height} rated days, before {before.mean():.2%}, after {after.mean():.2%} "
              f"(concentrations not already rounded: {frac})")
        for y in sorted(set(df["year"].to_list())):
            m = (df["year"] == y).to_numpy()
            print(f"     {y}: before {before[m].sum()}/{m.sum()}, after {after[m].sum()}/{m.sum()}")


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data"
    wide = load_station_hours(data / "cnemc_station_hourly_2019")
    halves(wide)
    station_days(wide)
    aqistudy(data / "aqistudy_city_daily")


if __name__ == "__main__":
    main()
