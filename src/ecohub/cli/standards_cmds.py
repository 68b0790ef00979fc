"""Commands ``ecohub aqi`` and ``ecohub water-class``: CSV in, CSV out, through :mod:`ecohub.standards`.

All I/O of the standards lives here (the standards package is pure). Times are read as ISO-8601; a time
without an offset is Beijing time (UTC+8). A non-numeric, non-finite or negative cell is an error for its
row: the row is kept with empty results and the error (line, column, value) is reported on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer

from ecohub.domain.cells import neutralise_series
from ecohub.standards import aqi_cn, aqi_epa, eaqi, frames, gb3838

if TYPE_CHECKING:
    import polars as pl


def _load_polars() -> None:
    """Import polars on first use, so that ``--help`` and the rest of the command line start without it."""
    global pl
    import polars as pl


AQI_POLLUTANTS = ("so2", "no2", "co", "o3", "o3_8h", "pm10", "pm25", "so2_24h", "pm10_24h", "pm25_24h")
IAQI_COLUMNS = frames.IAQI_COLUMNS
WATER_ITEMS = gb3838.ALL_ITEMS
MAX_ERRORS_SHOWN = 50

AQI_HELP = """Compute the air quality index of every row of a CSV file.

Input columns (empty cell = missing; µg/m³, co in mg/m³):
- time: ISO-8601; a time without offset is Beijing time (UTC+8)
- site: passed through
- pm25, pm10, so2, no2, co, o3: hourly = 1-h means; daily = 24-h means, o3 = O3 daily max 1-h
- o3_8h: hourly = 8-h moving mean (--hourly-rule letter only); daily = O3 daily max 8-h
- so2_24h, pm10_24h, pm25_24h (optional; hourly HJ 633-2012 --hourly-rule letter): 24-h moving means

Output = the input columns, then:
- aqi: the index (integer); HJ 633 caps it at 500
- level: HJ 633 I … VI; EPA category 1 … 6; EAQI band 1 … 6
- category_zh, category_en: category names (优 … 严重污染 / Excellent … Severely polluted)
- color: official colour, #RRGGBB
- primary_pollutant: largest sub-index when AQI > 50, ties all named (O3_1h / O3_8h: which O3 value)
- over_standard: HJ 633-2012 pollutants with IAQI > 100 (empty under 2026, EPA, EAQI)
- iaqi_<pollutant>: sub-index of each pollutant column given (EAQI: its band)
- edition: hj633-2012, hj633-2026, epa-2024 or eaqi-2024
- missing: pollutants without a value
- publishable: HJ 633-2026 §5.3.1, true when nothing is missing or AQI > 100
- beyond_table: pollutants above the table top (IAQI capped) or under the SO2/O3 special rules
- error: the row's input errors (line, column, value); its results are left empty

--standard: hj633 (default) = edition in force at each row's time (2026 from 2026-03-01 00:00
Beijing time); hj633-2012 / hj633-2026 force one; epa = US EPA AQI (TAD 2024, converted to ppb/ppm
at 25 °C); eaqi = European AQI (2024 bands; aqi = CAMS-style continuous index).
A one-line summary is printed on stderr."""

WATER_HELP = """Classify surface water by GB 3838-2002 (single-factor evaluation, worst item wins).

Input columns (empty cell = missing):
- time, site: passed through
- ph, do, codmn, cod, bod5, nh3n, tp, tn, cu, zn, f, se, as, hg, cd, cr6, pb, cn, phenol, oil, las,
  sulfide (mg/L), fecal_coliform (count/L)
- waterbody or water_body (optional): river, lake or reservoir per row, overrides --waterbody

Output = the input columns, then:
- class: I, II, III, IV, V or 劣V, the worst class of the items of the national method (the 21 items
  other than water temperature, TN and fecal coliform); pH outside 6-9 is 劣V
- category_zh: 优 (I-II), 良好 (III), 轻度污染 (IV), 中度污染 (V), 重度污染 (劣V)
- worst_items: items at the section's class (when worse than I)
- exceeding_items: items worse than the target class
- class_<item>: class of each item given (TN only for lakes/reservoirs)
- multiple_<item>: exceedance multiple (C - S)/S against the target-class limit S, 0 when within;
  empty for pH and DO
- error: the row's input errors (line, column, value); its results are left empty
A one-line summary is printed on stderr."""


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code=2)


def _read_csv(path: Path) -> pl.DataFrame:
    _load_polars()
    try:
        df = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except Exception as exc:  # noqa: BLE001 - any reading failure is reported the same way
        _fail(f"cannot read {path}: {exc}")
    df = df.rename({c: c.strip().lstrip("\ufeff").lower() for c in df.columns})
    return df


def _parse_numbers(
    df: pl.DataFrame, columns: list[str]
) -> tuple[dict[str, np.ndarray], list[tuple[int, str, str, str]]]:
    """Parse numeric columns; errors as (row index, column, value, reason). Negative / non-finite = error."""
    values: dict[str, np.ndarray] = {}
    errors: list[tuple[int, str, str, str]] = []
    for col in columns:
        raw = df[col].str.strip_chars()
        raw = raw.replace("", None)
        num = raw.cast(pl.Float64, strict=False)
        arr = num.to_numpy().astype(float)
        not_num = (raw.is_not_null() & num.is_null()).to_numpy() | ~np.isfinite(
            np.where(np.isnan(arr), 0, arr)
        )
        neg = arr < 0
        for idx in np.flatnonzero(not_num | neg):
            reason = "negative value" if neg[idx] else "not a number"
            errors.append((int(idx), col, str(df[col][int(idx)]), reason))
        bad = not_num | neg
        arr[bad] = np.nan
        values[col] = arr
    return values, errors


def _parse_times(s: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """ISO-8601 text → UTC datetime64[ns]; a time without offset is Beijing time. Returns (times, bad)."""
    raw = s.str.strip_chars().replace("", None)
    off = raw.str.extract(r"(Z|[+-]\d{2}:?\d{2})$", 1)
    body = raw.str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "").str.replace("T", " ")
    parsed = None
    for fmt in ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"):  # fmt: skip
        p = body.str.to_datetime(format=fmt, strict=False, time_unit="ns")
        parsed = p if parsed is None else parsed.fill_null(p)
    assert parsed is not None
    sign = off.str.slice(0, 1)
    hh = off.str.slice(1, 2).cast(pl.Int64, strict=False)
    mm = off.str.replace(":", "").str.slice(3, 2).cast(pl.Int64, strict=False)
    minutes = hh * 60 + mm
    minutes = pl.select(
        pl.when(off == "Z")
        .then(0)
        .when(off.is_null())
        .then(480)
        .when(sign == "-")
        .then(-minutes)
        .otherwise(minutes)
    ).to_series()
    local = parsed.to_numpy().astype("datetime64[ns]")
    utc = local - minutes.to_numpy().astype("timedelta64[m]").astype("timedelta64[ns]")
    bad = (raw.is_not_null().to_numpy() & np.isnat(local)) | raw.is_null().to_numpy()
    utc[bad] = np.datetime64("NaT")
    return utc, bad


_int_series = frames.int_series


def _report(errors: list[tuple[int, str, str, str]]) -> None:
    for idx, col, val, reason in sorted(errors)[:MAX_ERRORS_SHOWN]:
        typer.echo(f"line {idx + 2}, column {col}: {val!r}: {reason}", err=True)
    if len(errors) > MAX_ERRORS_SHOWN:
        typer.echo(f"... and {len(errors) - MAX_ERRORS_SHOWN} more errors", err=True)


def _error_column(n: int, errors: list[tuple[int, str, str, str]]) -> tuple[pl.Series, np.ndarray]:
    msgs = np.full(n, "", dtype=object)
    for idx, col, val, reason in sorted(errors):
        msgs[idx] = (msgs[idx] + "; " if msgs[idx] else "") + f"{col}={val!r}: {reason}"
    bad = msgs != ""
    return pl.Series("error", msgs.astype(str)), bad


def _blank(s: pl.Series, bad: np.ndarray) -> pl.Series:
    if not bad.any():
        return s
    return s.scatter(np.flatnonzero(bad), None)


def _combine(df: pl.DataFrame, new: list[pl.Series]) -> pl.DataFrame:
    """Input columns then result columns; an input column with a result's name is kept as ``input_<name>``."""
    clash = {s.name for s in new} & set(df.columns)
    new = [s.replace("", None) if s.dtype == pl.String else s for s in new]  # empty cell, not ""
    return df.rename({c: f"input_{c}" for c in clash}).hstack(new)


def _write(out: pl.DataFrame, path: Path) -> None:
    try:
        out.select(neutralise_series(s) for s in out.iter_columns()).write_csv(path)
    except Exception as exc:  # noqa: BLE001
        _fail(f"cannot write {path}: {exc}")


def aqi_cmd(
    input_csv: Annotated[Path, typer.Argument(help="Input CSV (see the column list above).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output CSV.")],
    standard: Annotated[str, typer.Option(help="hj633 | hj633-2026 | hj633-2012 | epa | eaqi")] = "hj633",
    period: Annotated[str, typer.Option(help="hourly | daily (HJ 633 real-time or daily report)")] = "hourly",
    hourly_rule: Annotated[
        str, typer.Option(help="HJ 633-2012 hourly: cnemc (as published) | letter (Table 4 text)")
    ] = "cnemc",
) -> None:
    if standard not in ("hj633", "hj633-2026", "hj633-2012", "epa", "eaqi"):
        _fail(f"unknown --standard {standard!r}")
    if period not in ("hourly", "daily"):
        _fail(f"unknown --period {period!r}")
    if hourly_rule not in ("cnemc", "letter"):
        _fail(f"unknown --hourly-rule {hourly_rule!r}")
    df = _read_csv(input_csv)
    cols = [c for c in AQI_POLLUTANTS if c in df.columns]
    if not cols:
        _fail(f"{input_csv}: no pollutant column (expected any of {', '.join(AQI_POLLUTANTS[:7])})")
    n = df.height
    values, errors = _parse_numbers(df, cols)
    times = None
    if standard == "hj633":
        if "time" not in df.columns:
            _fail(
                f"{input_csv}: column 'time' is needed to choose the HJ 633 edition (or use --standard hj633-2012)"
            )
        times, bad_t = _parse_times(df["time"])
        errors += [
            (int(i), "time", str(df["time"][int(i)]), "not an ISO-8601 time") for i in np.flatnonzero(bad_t)
        ]
    err_col, bad = _error_column(n, errors)
    for v in values.values():
        v[bad] = np.nan
    g = values.get
    new: list[pl.Series]
    if standard.startswith("hj633"):
        edition = {"hj633-2012": 2012, "hj633-2026": 2026}.get(standard)
        r = aqi_cn.hj633_aqi(
            so2=g("so2"), no2=g("no2"), co=g("co"), o3=g("o3"), o3_8h=g("o3_8h"), pm10=g("pm10"), pm25=g("pm25"),
            so2_24h=g("so2_24h"), pm10_24h=g("pm10_24h"), pm25_24h=g("pm25_24h"),
            period=period, edition=edition, times=times if edition is None else None, hourly_rule=hourly_rule,
        )  # fmt: skip
        new = frames.hj633_columns(r, list(values))
        computed = ~np.isnan(r.aqi)
        summary_ed = (
            f"HJ 633-2012: {int(np.sum(r.edition == 2012))}, HJ 633-2026: {int(np.sum(r.edition == 2026))}"
        )
    elif standard == "epa":
        conv = aqi_epa
        e = aqi_epa.epa_aqi(
            o3_8h=None if g("o3_8h") is None else conv.ugm3_to_ppb(g("o3_8h"), "o3") / 1000.0,
            o3_1h=None if g("o3") is None else conv.ugm3_to_ppb(g("o3"), "o3") / 1000.0,
            pm25=g("pm25"), pm10=g("pm10"),
            co=None if g("co") is None else conv.mgm3_to_ppm(g("co"), "co"),
            so2=None if g("so2") is None else conv.ugm3_to_ppb(g("so2"), "so2"),
            so2_24h=None if g("so2_24h") is None else conv.ugm3_to_ppb(g("so2_24h"), "so2"),
            no2=None if g("no2") is None else conv.ugm3_to_ppb(g("no2"), "no2"),
        )  # fmt: skip
        sub_key = {
            "so2": "SO2",
            "no2": "NO2",
            "pm10": "PM10",
            "co": "CO",
            "o3": "O3",
            "o3_8h": "O3",
            "pm25": "PM2.5",
        }
        new = _generic(e["aqi"], e["level"].astype(str), e, "primary_pollutant")
        new[1] = pl.Series("level", np.where(e["level"] > 0, e["level"].astype(str), ""))
        new += [_int_series(f"iaqi_{s}", e[f"sub_{sub_key[s]}"]) for s in IAQI_COLUMNS if s in values]
        new += [pl.Series("edition", np.full(n, "epa-2024"))]
        computed = ~np.isnan(e["aqi"])
        summary_ed = "US EPA AQI (TAD 2024)"
    else:
        e = eaqi.european_aqi(pm25=g("pm25"), pm10=g("pm10"), no2=g("no2"), o3=g("o3"), so2=g("so2"))
        new = _generic(np.round(e["index"]), e["band"].astype(str), e, "worst_pollutant")
        new[1] = pl.Series("level", np.where(e["band"] > 0, e["band"].astype(str), ""))
        new += [_int_series(f"iaqi_{s}", e[f"band_{s}"].astype(float)) for s in ("so2", "no2", "o3", "pm10", "pm25")
                if s in values]  # fmt: skip
        new += [pl.Series("edition", np.full(n, "eaqi-2024"))]
        computed = e["band"] > 0
    new.append(err_col)
    if standard == "eaqi":
        summary_ed = "European AQI (2024 bands)"
    new = [s if s.name == "error" else _blank(s, bad) for s in new]
    _write(_combine(df, new), output)
    _report(errors)
    typer.echo(
        f"aqi: {n} rows, {int(computed.sum())} with an index, {int(bad.sum())} rows with errors "
        f"({len(errors)} cells), {n - int(computed.sum()) - int(bad.sum())} without any pollutant; "
        f"{summary_ed} -> {output}",
        err=True,
    )


def _generic(aqi: np.ndarray, level: np.ndarray, e: dict, primary_key: str) -> list[pl.Series]:
    n = aqi.size
    return [
        _int_series("aqi", aqi),
        pl.Series("level", level),
        pl.Series("category_zh", e["category_zh"].astype(str)),
        pl.Series("category_en", e["category_en"].astype(str)),
        pl.Series("color", e["color"].astype(str)),
        pl.Series("primary_pollutant", e[primary_key].astype(str)),
        pl.Series("over_standard", np.full(n, "")),
    ]


def _target(value: str) -> int:
    v = value.strip().upper()
    table = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
    if v not in table:
        _fail(f"--target-class must be I, II, III, IV or V, not {value!r}")
    return table[v]


def water_class_cmd(
    input_csv: Annotated[Path, typer.Argument(help="Input CSV (see the column list above).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output CSV.")],
    waterbody: Annotated[
        str, typer.Option(help="river | lake | reservoir (lake/reservoir: TP lake limits, TN classified)")
    ] = "river",
    target_class: Annotated[
        str, typer.Option(help="target (functional) class for the multiples: I … V")
    ] = "III",
) -> None:
    if waterbody not in ("river", "lake", "reservoir"):
        _fail(f"--waterbody must be river, lake or reservoir, not {waterbody!r}")
    waterbody = "lake" if waterbody == "reservoir" else waterbody
    target = _target(target_class)
    df = _read_csv(input_csv)
    cols = [c for c in WATER_ITEMS if c in df.columns]
    if not cols:
        _fail(f"{input_csv}: no GB 3838 item column (expected any of {', '.join(WATER_ITEMS)})")
    n = df.height
    values, errors = _parse_numbers(df, cols)
    lake: np.ndarray | bool = waterbody == "lake"
    if "water_body" in df.columns and "waterbody" not in df.columns:  # the site register's column name
        df = df.rename({"water_body": "waterbody"})
    if "waterbody" in df.columns:
        wb = df["waterbody"].str.strip_chars().str.to_lowercase().fill_null("")
        row_lake = wb.is_in(["lake", "reservoir", "湖", "库", "湖库", "湖泊", "水库"]).to_numpy()
        row_river = wb.is_in(["river", "河", "河流"]).to_numpy()
        unknown = ~(row_lake | row_river | (wb == "").to_numpy())
        errors += [(int(i), "waterbody", str(df["waterbody"][int(i)]), "expected river or lake")
                   for i in np.flatnonzero(unknown)]  # fmt: skip
        lake = np.where(row_lake, True, np.where(row_river, False, waterbody == "lake"))
    err_col, bad = _error_column(n, errors)
    for v in values.values():
        v[bad] = np.nan
    r = gb3838.water_quality_class(values, lake=lake, target_class=target)
    new = frames.water_class_columns(r, cols)
    new = [_blank(s, bad) for s in new] + [err_col]
    _write(_combine(df, new), output)
    _report(errors)
    classes = r["class"][~bad]
    counts = ", ".join(f"{gb3838.CLASS_LABELS[k]} {int(np.sum(classes == k))}" for k in range(1, 7))
    typer.echo(
        f"water-class: {n} rows, {int(np.sum(classes > 0))} classified ({counts}), {int(bad.sum())} rows with errors, "
        f"target class {gb3838.CLASS_LABELS[target]} exceeded by {int(np.sum(classes > target))} -> {output}",
        err=True,
    )


def register(app: typer.Typer) -> None:
    """Add the commands ``aqi`` and ``water-class`` to ``app``."""
    app.command("aqi", help=AQI_HELP)(aqi_cmd)
    app.command("water-class", help=WATER_HELP)(water_class_cmd)
