"""Commands ``ecohub forecast …``: rolling-origin backtests of a daily file, forecast issues from the store."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from ecohub.cli.common import DatabaseUrl, err_console, fail, print_json

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
BACKTEST_HELP = re.sub(r"(?<!\n)\n(?!\n)", " ", BACKTEST_HELP)  # paragraphs, not hard-wrapped lines


@forecast_app.command("backtest", help=BACKTEST_HELP)
def backtest_cmd(
    daily: Annotated[Path, typer.Option("--daily", help="The city's daily CSV file.")],
    test_from: Annotated[str, typer.Option("--test-from", help="First day forecast (YYYY-MM-DD).")] = "2021-01-01",
    test_to: Annotated[str | None, typer.Option("--test-to", help="Last day forecast (default: the file's last).")] = None,
    met: Annotated[Path | None, typer.Option("--met", help="Hourly or daily meteorology CSV (optional).")] = None,
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=3, help="Days ahead (1 = D+1).")] = 1,
    refit_days: Annotated[int, typer.Option("--refit-days", min=1, help="Refit the model every N days.")] = 30,
    persistence_weight: Annotated[str, typer.Option(
        "--persistence-weight", help="Blend the model's AQI with persistence: 'auto' = chosen for this city on the "
        "up to 2 years before --test-from (best exact level, grid 0…0.6), a number 0…1, or 0 for none.")] = "auto",
    json_out: Annotated[bool, typer.Option("--json", help="Print the scores as one JSON object (last line).")] = False,
) -> None:
    from ecohub.domain.errors import InputError
    from ecohub.forecast.backtest import backtest
    from ecohub.forecast.history import read_daily_file
    from ecohub.forecast.met import read_met_file
    from ecohub.forecast.model import NotEnoughHistory

    pw: float | str = persistence_weight.strip().lower()
    if pw != "auto":
        try:
            pw = float(pw)
            if not 0 <= pw <= 1:
                raise ValueError
        except ValueError:
            fail(f"--persistence-weight={persistence_weight!r}: 'auto' or a number 0…1")
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
        res = backtest(hist, start, horizon=horizon, met=m, refit_days=refit_days, test_to=end,
                       persistence_weight=pw)
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


def _me() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "cli"


@forecast_app.command("run")
def run_cmd(
    city: Annotated[str | None, typer.Option("--city", help="City division code (e.g. 120100); default: all "
                                             "cities with air stations.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="One air station instead of cities (its own "
                                             "history).")] = None,
    daily: Annotated[Path | None, typer.Option("--daily", help="Issue from this official daily file instead "
                                               "of the stored data (needs --city or --site).")] = None,
    met: Annotated[Path | None, typer.Option("--met", help="Meteorology file (hourly or daily CSV): observed "
                                             "and forecast weather up to D+3.")] = None,
    scheme: Annotated[str, typer.Option("--scheme", help="Warning grading: 2018 (four levels) or 2024 (three "
                                        "levels, UNCONFIRMED).")] = "2018",
    sites: Annotated[bool, typer.Option("--sites", help="Also one issue per air station of the cities (each "
                                        "station's own history), as the worker with ECOHUB_FORECAST_SITES=1.")]
    = False,
    stored_met: Annotated[bool, typer.Option("--stored-met/--no-stored-met", help="Use the stored meteorological "
                                             "series of the city/station when no --met file is given.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per city.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Issue D+1 … D+3 forecasts now and store them (each run is a new issue; none is ever overwritten).

    History: the stored hourly data (daily means with GB 3095 validity, city = mean of its stations, HJ 633
    daily AQI), the last two years. The model needs a year of daily AQI; with less, a persistence forecast is
    issued and labelled as such; with no AQI in the last days, none (the reason is printed)."""
    from ecohub.cli.common import open_store, print_rows
    from ecohub.domain.errors import InputError, NotFound
    from ecohub.forecast import service
    from ecohub.forecast.history import read_daily_file
    from ecohub.forecast.met import read_met_file

    try:
        hist = read_daily_file(daily) if daily is not None else None
        m = read_met_file(met) if met is not None else None
    except InputError as e:
        fail(str(e))
    store = open_store(database_url)
    try:
        out = service.run(store, city=city, site=site, scheme=scheme, daily=hist, met=m, created_by=_me(),
                          sites=sites, use_stored_met=stored_met)
    except (InputError, NotFound) as e:
        fail(str(e))

    def days(r: dict) -> str:
        return "  ".join(f"{d['day'][5:]} {int(d['aqi_low'])}–{int(d['aqi_high'])}" for d in r.get("days", []))

    print_rows(out, json_out, {"city": "target", "name": "name", "issued": "issued", "method":
                               lambda r: r.get("method", ""), "warning": lambda r: r.get("warning_color", ""),
                               "D+1 … D+3 (AQI range)": days, "met": lambda r: r.get("met_mode") or "",
                               "hours": lambda r: r.get("hours", ""), "note": lambda r: r.get("note") or r.get("reason")
                               or ""})


@forecast_app.command("list")
def list_cmd(
    city: Annotated[str | None, typer.Option("--city", help="City division code.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Air station code (station issues).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Newest issues shown.")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per issue.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """The stored issues of a city, newest first, with their days (AQI, range, level, primary pollutant)."""
    from ecohub.cli.common import open_store, print_rows
    from ecohub.forecast import service

    if bool(city) == bool(site):
        fail("give --city or --site (one of them)")
    store = open_store(database_url)
    rows = service.list_issues(store, city or site or "", limit=limit, kind="city" if city else "site")

    def days(r: dict) -> str:
        return "  ".join(f"{d['day'][5:]} {d.get('category_zh', '')} {int(d['aqi_low'])}–{int(d['aqi_high'])} "
                         f"{d.get('primary_pollutant') or ''}".strip() for d in r["days"])

    print_rows(rows, json_out, {"id": "id", "issued_at": "issued_at", "method": "method", "model": "model_version",
                                "inputs": lambda r: f"{r['inputs_from']} … {r['inputs_to']}",
                                "warning": lambda r: r["warning"]["color"], "days": days})


@forecast_app.command("verify")
def verify_cmd(
    city: Annotated[str | None, typer.Option("--city", help="One city (default: all).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="The report as one JSON object.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Recompute the observed daily AQI of the recent forecast days from the stored data, then print the
    running verification report (per lead: the stored forecasts beside persistence and climatology)."""
    from ecohub.cli.common import console, open_store
    from ecohub.forecast import service

    store = open_store(database_url)
    info = service.verify(store)
    rep = service.verification(store, target=city)
    if json_out:
        print_json(rep | {"verified": info})
        return
    from rich.table import Table

    t = Table("lead", "days", "level %", "±1 %", "MAE", "CSI>100 %", "persistence level %", "climatology level %",
              title="Forecast verification (stored issues)")
    for r in rep["leads"]:
        if not r.get("days"):
            t.add_row(f"D+{r['lead']}", "0", "", "", "", "", "", "")
            continue
        t.add_row(f"D+{r['lead']}", str(r["days"]), *(str(r.get(k)) for k in ("level_accuracy", "within_one_level",
                                                                             "aqi_mae", "csi_polluted")),
                  str(r["persistence"]["level_accuracy"]), str(r["climatology"]["level_accuracy"]))
    console.print(t)
