"""Commands ``ecohub forecast …``: rolling-origin backtests of a daily file, forecast issues from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from ecohub.cli.common import err_console, fail, print_json

forecast_app = typer.Typer(
    help="Air-quality forecasts (D+1 … D+3): backtest against persistence and climatology, issue, list, verify.",
    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(forecast_app, name="forecast")


BACKTEST_HELP = """Rolling-origin backtest of the daily AQI forecast on a city's official daily file.

Input: a CSV in the layout of the aqistudy/CNEMC city daily files, columns
aqi,co,no2,o3,pm10,pm2_5,quality,rank,so2,time_point (o3 = O3 daily max 8-h; co mg/m³; a zero or
empty value is missing, not zero). Gaps, duplicated or out-of-order days and bad cells are reported
and the good data kept.

The model is trained on the days before --test-from and every later day is forecast from the days
before it (D+1 by default; the model is refitted every --refit-days). Persistence (the last observed
day) and climatology (the most frequent level of the same calendar period, ±15 days, in the years
before) are scored on the same days.

Scores: exact level accuracy, ±1 level, AQI MAE, range hit rate, and for polluted days (AQI > 100)
POD, FAR, CSI (percentages 0–100). --json prints one JSON object last.

--met FILE adds meteorology (hourly or daily CSV: temp, dewp/rh, pres, rain, wspm, wd, blh): the
observed weather of the target day is used as a perfect forecast — an upper bound of what a real
weather forecast would give."""


@forecast_app.command("backtest", help=BACKTEST_HELP)
def backtest_cmd(
    daily: Annotated[Path, typer.Option("--daily", help="The city's daily CSV file.")],
    test_from: Annotated[str, typer.Option("--test-from", help="First day forecast (YYYY-MM-DD).")] = "2021-01-01",
    test_to: Annotated[str | None, typer.Option("--test-to", help="Last day forecast (default: the file's last).")] = None,
    met: Annotated[Path | None, typer.Option("--met", help="Hourly or daily meteorology CSV (optional).")] = None,
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=3, help="Days ahead (1 = D+1).")] = 1,
    refit_days: Annotated[int, typer.Option("--refit-days", min=1, help="Refit the model every N days.")] = 30,
    json_out: Annotated[bool, typer.Option("--json", help="Print the scores as one JSON object (last line).")] = False,
) -> None:
    from ecohub.domain.errors import InputError
    from ecohub.forecast.backtest import backtest
    from ecohub.forecast.history import read_daily_file
    from ecohub.forecast.met import read_met_file
    from ecohub.forecast.model import NotEnoughHistory

    try:
        start = np.datetime64(test_from.strip(), "D")
        if len(test_from.strip()) != 10:
            raise ValueError
    except ValueError:
        fail(f"--test-from={test_from!r}: not a date YYYY-MM-DD")
    end = None
    if test_to is not None:
        try:
            end = np.datetime64(test_to.strip(), "D")
        except ValueError:
            fail(f"--test-to={test_to!r}: not a date YYYY-MM-DD")
    try:
        hist = read_daily_file(daily)
        m = read_met_file(met) if met is not None else None
    except InputError as e:
        fail(str(e))
    shown = hist.problems[:20]
    for p in shown:
        err_console.print(f"warning: {daily.name}: {p}", highlight=False, soft_wrap=True)
    if len(hist.problems) > len(shown):
        err_console.print(f"warning: … and {len(hist.problems) - len(shown)} more problem(s)")
    if m is not None:
        for p in m.problems[:20]:
            err_console.print(f"warning: {met.name}: {p}", highlight=False, soft_wrap=True)
        span = m.span()
        err_console.print(f"meteorology: {m.kind} file, days {span[0]} … {span[1]} (observed weather used as a "
                          "perfect forecast)", highlight=False)
    s = hist.summary()
    err_console.print(f"history: {s['first_day']} … {s['last_day']}, {s['days_with_aqi']} days with AQI, "
                      f"{s['missing_days']} missing", highlight=False)
    try:
        res = backtest(hist, start, horizon=horizon, met=m, refit_days=refit_days, test_to=end)
    except NotEnoughHistory as e:
        fail(f"{daily.name}: {e}")
    r = res.summary
    if json_out:
        print_json(r)
        return
    from rich.table import Table

    from ecohub.cli.common import console

    t = Table("score", "forecast", "persistence", "climatology",
              title=f"D+{horizon} backtest {r['test_from']} … {r['test_to']} ({r['days']} days)")

    def f(v) -> str:
        return "–" if v is None else f"{v:g}"

    for key, label in (("level_accuracy", "exact level %"), ("within_one_level", "±1 level %"),
                       ("aqi_mae", "AQI MAE"), ("pod_polluted", "POD AQI>100 %"),
                       ("far_polluted", "FAR AQI>100 %"), ("csi_polluted", "CSI AQI>100 %")):
        t.add_row(label, f(r[key]), f(r["persistence"][key]), f(r["climatology"][key]))
    t.add_row("range hit %", f(r["range_hit_rate"]), "", "")
    t.add_row("primary pollutant %", f(r["primary_pollutant_accuracy"]), "", "")
    console.print(t)
