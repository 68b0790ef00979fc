"""polars DataFrame API over the array functions (pure: DataFrame in, DataFrame out; no I/O).

Column conventions are those of the command line (``ecohub aqi`` / ``ecohub water-class``): pollutant
columns ``so2, no2, co, o3, o3_8h, pm10, pm25`` (+ ``so2_24h, pm10_24h, pm25_24h``), µg/m³, CO mg/m³;
GB 3838 item columns as in :data:`ecohub.standards.gb3838.ALL_ITEMS`. Null = missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # polars is imported in each function: what never builds a frame starts without it
    import polars as pl

from . import aqi_cn, gb3838

AQI_INPUTS = ("so2", "no2", "co", "o3", "o3_8h", "pm10", "pm25", "so2_24h", "pm10_24h", "pm25_24h")
IAQI_COLUMNS = ("so2", "no2", "pm10", "co", "o3", "o3_8h", "pm25")


def int_series(name: str, a: np.ndarray) -> pl.Series:
    """Float array with NaN → Int64 Series with nulls."""
    import polars as pl

    return pl.Series(name, a, dtype=pl.Float64).fill_nan(None).cast(pl.Int64)


def _str(name: str, a: np.ndarray) -> pl.Series:
    import polars as pl

    return pl.Series(name, a.astype(str)).replace("", None)


def hj633_columns(r: aqi_cn.AqiResult, iaqi_slots: Any = IAQI_COLUMNS) -> list[pl.Series]:
    """Result columns of an :class:`~ecohub.standards.aqi_cn.AqiResult` (names of the CLI contract)."""
    import polars as pl

    edition = np.where(r.edition == 2026, "hj633-2026", np.where(r.edition == 2012, "hj633-2012", ""))
    cols = [
        int_series("aqi", r.aqi),
        _str("level", r.level_roman),
        _str("category_zh", r.category_zh),
        _str("category_en", r.category_en),
        _str("color", r.color),
        _str("primary_pollutant", r.primary_pollutant),
        _str("over_standard", r.over_standard_pollutants),
    ]
    cols += [int_series(f"iaqi_{s}", r.iaqi[s]) for s in IAQI_COLUMNS if s in iaqi_slots]
    cols += [
        _str("edition", edition),
        _str("missing", r.missing_pollutants),
        pl.Series("publishable", r.publishable),
        _str("beyond_table", r.beyond_table),
    ]
    return cols


def hj633_frame(df: pl.DataFrame, *, period: str = "hourly", edition: int | None = None, time_col: str = "time",
                hourly_rule: str = "cnemc") -> pl.DataFrame:  # fmt: skip
    """HJ 633 AQI of every row of ``df``; returns ``df`` with the result columns appended.

    ``edition=None`` takes the edition in force at ``df[time_col]`` (a polars Datetime; a naive column is
    taken as UTC). See :func:`ecohub.standards.aqi_cn.hj633_aqi` for the rules.
    """
    import polars as pl

    values = {c: df[c].cast(pl.Float64).fill_null(np.nan).to_numpy() for c in AQI_INPUTS if c in df.columns}
    times = df[time_col] if edition is None else None
    r = aqi_cn.hj633_aqi(**values, period=period, edition=edition, times=times, hourly_rule=hourly_rule)
    return df.hstack(hj633_columns(r, [c for c in values if c in IAQI_COLUMNS]))


def water_class_columns(r: dict[str, np.ndarray], items: Any) -> list[pl.Series]:
    """Result columns of :func:`ecohub.standards.gb3838.water_quality_class` (names of the CLI contract)."""
    import polars as pl

    cols = [
        _str("class", gb3838.CLASS_LABELS[r["class"]]),
        _str("category_zh", r["category_zh"]),
        _str("worst_items", r["worst_items"]),
        _str("exceeding_items", r["exceeding_items"]),
    ]
    for c in items:
        cols.append(_str(f"class_{c}", gb3838.CLASS_LABELS[r[f"class_{c}"]]))
        cols.append(pl.Series(f"multiple_{c}", np.round(r[f"multiple_{c}"], 4)).fill_nan(None))
    return cols


def water_class_frame(df: pl.DataFrame, *, lake: Any = False, target_class: int = 3) -> pl.DataFrame:
    """GB 3838-2002 class of every row of ``df`` (item columns, mg/L); returns ``df`` plus the result columns."""
    import polars as pl

    items = [c for c in gb3838.ALL_ITEMS if c in df.columns]
    values = {c: df[c].cast(pl.Float64).fill_null(np.nan).to_numpy() for c in items}
    r = gb3838.water_quality_class(values, lake=lake, target_class=target_class)
    return df.hstack(water_class_columns(r, items))
