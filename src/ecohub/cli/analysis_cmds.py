"""``ecohub trend`` (Mann–Kendall / Sen's slope per site and parameter) and ``ecohub surface`` (IDW / kriging)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, fail, open_store, print_json
from ecohub.domain.timeutil import BEIJING

TREND_HELP = """Trend of one site's parameter: Mann–Kendall test with Sen's slope.

--interval month (default): monthly means (days with ≥ 20 hours, months with ≥ 27 valid days, February 25;
GB 3095 Table 4) and the seasonal Kendall test (period 12), slope per year. --interval day: daily means and
the plain test, slope per day. Default period: the last 5 full years (month) or 365 days (day).
Prints trend (increasing | decreasing | no trend), p, z, Kendall's tau, S, Var(S), slope, intercept, valid
values; --json prints one JSON object with the series. Exit 1 when there are too few data."""


def _date(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--{name}: {text!r} is not a date (YYYY-MM-DD)")


def trend_cmd(site: Annotated[str, typer.Option(help="site code")],
              parameter: Annotated[str, typer.Option(help="parameter name, e.g. pm25")],
              interval: Annotated[str, typer.Option(help="month (seasonal test) or day")] = "month",
              from_: Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD, Beijing)")] = None,
              to: Annotated[str | None, typer.Option(help="last day (inclusive)")] = None,
              alpha: Annotated[float, typer.Option(help="significance level")] = 0.05,
              json_out: Annotated[bool, typer.Option("--json", help="one JSON object")] = False,
              database_url: DatabaseUrl = None):
    from ecohub.analytics import trends

    if interval not in ("month", "day"):
        fail(f"--interval: {interval!r} is not month or day")
    if not 0 < alpha < 1:
        fail(f"--alpha: {alpha} is not between 0 and 1")
    today = datetime.now(BEIJING).date()
    d1 = _date(to, "to") or (today.replace(day=1) - timedelta(days=1))
    d0 = _date(from_, "from") or (date(d1.year - 4, 1, 1) if interval == "month" else d1 - timedelta(days=364))
    store = open_store(database_url)
    try:
        res = trends.site_trend(store, site, parameter, d0, d1, interval=interval, alpha=alpha)
    except trends.NoData as e:
        fail(str(e), code=1)
    except ValueError as e:
        fail(str(e))
    if json_out:
        print_json(res)
        return
    for k in ("site", "name", "parameter", "interval", "from", "to", "valid", "trend", "p", "z", "tau", "s",
              "var_s", "slope", "slope_unit", "intercept"):
        v = res[k]
        console.print(f"{k:10} {v:.6g}" if isinstance(v, float) else f"{k:10} {v}", highlight=False)


SURFACE_HELP = """Interpolate a pollutant over the province for one hour or day: IDW or ordinary kriging.

--time: a Beijing hour (2026-11-05T08:00) → the stations' hourly values of that hour; a day (2026-11-05)
→ their daily means (≥ 20 hours). --method idw (power 2) or kriging (fitted variogram, spherical by
default). The grid covers the province boundary (--region, default the configured province) with --cells
cells on the longer side; cells outside the boundary are dropped. Output GeoJSON: one polygon per cell band
(contour classes of the HJ 633 IAQI breakpoints for PM2.5/PM10/…), with properties value_min, value_max,
color; plus metadata: method, stations, leave-one-out RMSE of IDW and of kriging."""


def surface_cmd(parameter: Annotated[str, typer.Option(help="pm25, pm10, so2, no2, co, o3")],
                time: Annotated[str, typer.Option(help="Beijing hour (YYYY-MM-DDTHH:MM) or day (YYYY-MM-DD)")],
                method: Annotated[str, typer.Option(help="idw or kriging")] = "idw",
                output: Annotated[Path, typer.Option("-o", "--output", help="output GeoJSON")] = Path("surface.geojson"),
                region: Annotated[str, typer.Option(help="province code (boundary for clipping)")] = "130000",
                cells: Annotated[int, typer.Option(help="grid cells on the longer side (≤ 1000)")] = 200,
                variogram: Annotated[str, typer.Option(help="kriging variogram model")] = "spherical",
                database_url: DatabaseUrl = None):
    from ecohub.analytics import surfaces

    store = open_store(database_url)
    try:
        res = surfaces.surface_from_store(store, parameter, time, method=method, region=region, cells=cells,
                                          variogram=variogram)
    except surfaces.NoData as e:
        fail(str(e), code=1)
    except ValueError as e:
        fail(str(e))
    output.write_text(json.dumps(res["geojson"], ensure_ascii=False), encoding="utf-8")
    meta = {k: v for k, v in res.items() if k != "geojson"}
    print_json(meta)


def register(app: typer.Typer) -> None:
    app.command("trend", help=TREND_HELP)(trend_cmd)
    app.command("surface", help=SURFACE_HELP)(surface_cmd)
