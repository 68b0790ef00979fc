"""The forecast store and its services: issue (insert-only), list, latest, verify, verification report.

Every issue is a new row of ``forecast_issue`` with its ``forecast_day`` rows, written in one transaction
that takes the write lock up front (``store.tx.write_tx``); nothing ever updates or deletes an issue, and a
second issue of the same target at the same instant is refused (unique key), so an earlier issue can always
be verified as it was published.

A city's daily history comes from the stored hourly observations through ``ecohub.analytics.aqi_service``
(daily means with GB 3095 validity, O3 daily max 8-h, city = mean of its stations, HJ 633 daily AQI by the
edition in force) — or from an official daily file given by the caller.

Forecasts of ambient air quality are open information (as the ambient data they come from): reading them
needs no scope; issuing and verifying are system tasks (CLI, worker) or for staff roles (API).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ecohub.analytics.aqi_service import MAX_DAYS, city_of, region_names, site_daily_values
from ecohub.domain.errors import InputError, NotFound
from ecohub.domain.timeutil import BEIJING
from ecohub.forecast.history import POLLUTANTS, DailyHistory, from_records
from ecohub.forecast.hourly import HourlyHistory, hourly_forecast
from ecohub.forecast.inputs import HISTORY_DAYS, stored_hourly, stored_met
from ecohub.forecast.issue import make_issue
from ecohub.forecast.met import DailyMet
from ecohub.forecast.model import ModelSettings
from ecohub.forecast.scores import scores
from ecohub.forecast.warning_levels import SCHEMES
from ecohub.standards import aqi_cn, hj663
from ecohub.store.db import Store
from ecohub.store.queries import SYSTEM, Scope
from ecohub.store.queries import sites as list_sites
from ecohub.store.schema_forecast import forecast_day, forecast_hour, forecast_issue, forecast_observation
from ecohub.store.tx import write_tx
from ecohub.store.types import inserted_id

VERIFY_DAYS = 40


def beijing_today(now: datetime) -> date:
    return now.astimezone(BEIJING).date()


# --- history from the store ---------------------------------------------------------------------------------
def cities(store: Store, *, scope: Scope | None = None) -> list[str]:
    """City codes that have air stations (visible to the scope)."""
    return sorted({city_of(s["region_code"]) for s in list_sites(store, kinds=["air_station"],
                                                                  scope=scope or SYSTEM)})


def city_daily(store: Store, city: str, d0: date, d1: date, *, site: str | None = None
               ) -> tuple[list[date], dict[str, np.ndarray]]:
    """City daily concentrations (mean of its stations' valid daily values) for d0 … d1 — or one station's
    (``site``) — through ``analytics.aqi_service.site_daily_values``."""
    n = (d1 - d0).days + 1
    dv = site_daily_values(store, d0, d1, scope=SYSTEM, region_code=None if site else city,
                           sites=[site] if site else (), max_days=max(n, MAX_DAYS))
    vals = {}
    for k in POLLUTANTS:
        v = dv.values[k]
        vals[k] = hj663.city_daily(v, axis=0) if v.shape[0] else np.full(len(dv.days), np.nan)
    return list(dv.days), vals


def daily_aqi(days: list[date], conc: dict[str, np.ndarray]) -> aqi_cn.AqiResult:
    """HJ 633 daily AQI of city daily values, edition in force on each day (day start, Beijing)."""
    times = np.array([np.datetime64(int(datetime(d.year, d.month, d.day, tzinfo=BEIJING).timestamp()), "s")
                      for d in days])
    return aqi_cn.aqi_daily(times=times, so2=conc["so2"], no2=conc["no2"], co=conc["co"], o3_8h=conc["o3_8h"],
                            pm10=conc["pm10"], pm25=conc["pm25"])


def city_history(store: Store, city: str, until: date, *, days: int = HISTORY_DAYS,
                 site: str | None = None) -> DailyHistory:
    """The city's (or one station's) daily history up to ``until`` from the stored hourly data. A day's AQI is
    kept only when it is publishable (HJ 633-2026 §5.3.1; under 2012 when all six pollutants are there, as the
    official files)."""
    d0 = until - timedelta(days=days - 1)
    dl, conc = city_daily(store, city, d0, until, site=site)
    res = daily_aqi(dl, conc)
    complete = res.missing == 0
    aqi = np.where(complete | ((res.edition == 2026) & res.publishable), res.aqi, np.nan)
    vals = {"aqi": list(aqi), **{k: list(v) for k, v in conc.items()}}
    return from_records([d.isoformat() for d in dl], vals, city)


# --- issuing ----------------------------------------------------------------------------------------------
def issue(store: Store, target_code: str, hist: DailyHistory, *, now: datetime | None = None,
          met: DailyMet | None = None, scheme: str = "2018", settings: ModelSettings | None = None,
          target_kind: str = "city", region_code: str | None = None, name: str | None = None,
          created_by: str = "system", hourly: HourlyHistory | None = None) -> dict:
    """Make and store one issue; returns its summary (``issued`` false with the reason when none is possible).
    ``hourly``: the target's hourly history — then the 72 hours of D+1 … D+3 are stored too
    (``forecast.hourly``)."""
    if scheme not in SCHEMES:
        raise InputError("scheme", scheme, "must be one of " + ", ".join(SCHEMES))
    if target_kind not in ("city", "site"):
        raise InputError("target_kind", target_kind, "must be city or site")
    when = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    d = beijing_today(when)
    res = make_issue(hist, np.datetime64(d.isoformat(), "D"), met=met, scheme=scheme, settings=settings)
    base = {"target": target_code, "kind": target_kind, "name": name or target_code, "issue_day": d.isoformat()}
    if not res.ok:
        return base | {"issued": False, "reason": res.reason}
    hours = hourly_forecast(hourly, res.days) if hourly is not None else []
    region = region_code or (target_code if target_kind == "city" else "")
    row = {
        "target_kind": target_kind, "target_code": target_code, "region_code": region[:6], "name": name,
        "issued_at": when, "issue_day": d, "model_version": res.model_version, "method": res.method,
        "inputs_from": _date(res.inputs.get("first_day")), "inputs_to": _date(res.origin_day),
        "input_days": int(res.inputs.get("days_with_aqi") or 0), "met_used": res.met_used,
        "warning_level": res.warning["level"], "warning_scheme": scheme, "warning_reason": res.warning["reason"],
        "details": {"inputs": res.inputs, "warning": res.warning, "note": res.reason or None,
                    "met_span": list(met.span() or []) if met is not None and res.met_used else None,
                    "met_source": met.source if met is not None and res.met_used else None,
                    "hours": len(hours)},
        "created_by": created_by[:100],
    }
    try:
        with write_tx(store) as conn:
            iid = inserted_id(conn.execute(insert(forecast_issue).values(**row)))
            conn.execute(insert(forecast_day), [
                {"issue_id": iid, **{k: v for k, v in dd.items() if k != "day"}, "day": _date(dd["day"])}
                for dd in res.days])
            if hours:
                conn.execute(insert(forecast_hour), [{"issue_id": iid, **hr} for hr in hours])
    except IntegrityError:
        raise InputError("issued_at", when.isoformat(), f"an issue of {target_code} at this instant exists; "
                         "issues are never overwritten — issue again later") from None
    return base | {"issued": True, "id": int(iid), "issued_at": when.isoformat(), "method": res.method,
                   "met_used": res.met_used, "met_mode": res.inputs.get("met_mode"), "hours": len(hours),
                   "warning": res.warning["level"], "warning_color": res.warning["color"],
                   "days": res.days, "note": res.reason or None}


def run(store: Store, *, city: str | None = None, now: datetime | None = None, scheme: str = "2018",
        settings: ModelSettings | None = None, history_days: int = HISTORY_DAYS,
        created_by: str = "system", daily: DailyHistory | None = None, met: DailyMet | None = None,
        site: str | None = None, sites: bool = False, use_stored_met: bool = True) -> list[dict]:
    """Issue forecasts for every city with air stations (or one ``city``), from the stored data — or from
    ``daily`` (an official daily file) for the one ``city`` given. ``sites``: also every air station of those
    cities (station issues, from each station's own history). Meteorology: ``met`` when given, else the stored
    met series of the city/station (:func:`stored_met`; ``use_stored_met=False`` turns that off)."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    today = beijing_today(when)

    def met_of(code: str, site_code: str | None = None) -> DailyMet | None:
        if met is not None or not use_stored_met:
            return met
        return stored_met(store, code, today, days=history_days, site=site_code)

    if site:
        st = list_sites(store, kinds=["air_station"], codes=[site], scope=SYSTEM)
        if not st:
            raise NotFound(f"air station {site} not found")
        hist = daily if daily is not None else city_history(store, "", today, days=history_days, site=site)
        return [issue(store, site, hist, now=when, met=met_of("", site), scheme=scheme, settings=settings,
                      target_kind="site", region_code=st[0]["region_code"], name=st[0]["name"],
                      created_by=created_by, hourly=stored_hourly(store, "", today, site=site))]
    if daily is not None and not city:
        raise InputError("city", city, "a daily file is the history of one city: give its code")
    codes = [city] if city else cities(store)
    if city and daily is None and city not in cities(store):
        raise NotFound(f"city {city} has no air station")
    names = region_names(store, codes)
    out = []
    for c in codes:
        hist = daily if daily is not None else city_history(store, c, today, days=history_days)
        out.append(issue(store, c, hist, now=when, met=met_of(c), scheme=scheme, settings=settings,
                         name=names.get(c, c), created_by=created_by, hourly=stored_hourly(store, c, today)))
    if sites and daily is None:
        for sd in list_sites(store, kinds=["air_station"], scope=SYSTEM):
            if city_of(sd["region_code"]) not in codes:
                continue
            hist = city_history(store, "", today, days=history_days, site=sd["code"])
            out.append(issue(store, sd["code"], hist, now=when, met=met_of("", sd["code"]), scheme=scheme,
                             settings=settings, target_kind="site", region_code=sd["region_code"],
                             name=sd["name"], created_by=created_by,
                             hourly=stored_hourly(store, "", today, site=sd["code"])))
    return out


def _date(v) -> date | None:
    if v is None:
        return None
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


# --- reading ----------------------------------------------------------------------------------------------
def _issue_dict(r, days: list) -> dict:
    d = dict(r)
    for k, v in list(d.items()):
        if isinstance(v, datetime):
            d[k] = v.isoformat()
        elif isinstance(v, date):
            d[k] = v.isoformat()
    d["warning"] = {"level": d.pop("warning_level"), "scheme": d.pop("warning_scheme"),
                    "reason": d.pop("warning_reason")}
    from ecohub.forecast.warning_levels import LEVELS

    d["warning"]["color"], d["warning"]["name_zh"], d["warning"]["name_en"] = LEVELS[d["warning"]["level"]]
    d["days"] = days
    return d


def _day_dict(r) -> dict:
    d = {k: v for k, v in dict(r).items() if k != "issue_id"}
    d["day"] = d["day"].isoformat()
    lv = d.get("level")
    if lv:
        row = aqi_cn.LEVELS[int(lv) - 1]
        d.update(level_roman=row[1], category_zh=row[2], category_en=row[3], color=row[4])
    return d


def _with_days(conn, issues: list) -> list[dict]:
    ids = [r["id"] for r in issues]
    by: dict[int, list] = defaultdict(list)
    if ids:
        for r in conn.execute(select(forecast_day).where(forecast_day.c.issue_id.in_(ids))
                              .order_by(forecast_day.c.issue_id, forecast_day.c.day)).mappings():
            by[r["issue_id"]].append(_day_dict(r))
    return [_issue_dict(r, by[r["id"]]) for r in issues]


def list_issues(store: Store, target: str, *, limit: int = 30, kind: str = "city") -> list[dict]:
    """The issues of one target, newest first (the history kept for verification)."""
    if not 1 <= limit <= 1000:
        raise InputError("limit", limit, "must be 1 … 1000")
    q = (select(forecast_issue).where(forecast_issue.c.target_kind == kind, forecast_issue.c.target_code == target)
         .order_by(forecast_issue.c.issued_at.desc(), forecast_issue.c.id.desc()).limit(limit))
    with store.engine.connect() as conn:
        return _with_days(conn, list(conn.execute(q).mappings()))


def latest(store: Store, *, target: str | None = None, kind: str = "city", region_prefix: str | None = None) -> list[dict]:
    """The newest issue of each target (or of one)."""
    mx = (select(forecast_issue.c.target_code, func.max(forecast_issue.c.issued_at).label("t"))
          .where(forecast_issue.c.target_kind == kind).group_by(forecast_issue.c.target_code))
    if target:
        mx = mx.where(forecast_issue.c.target_code == target)
    if region_prefix:
        mx = mx.where(forecast_issue.c.region_code.startswith(region_prefix, autoescape=True))
    sub = mx.subquery()
    q = (select(forecast_issue).join(sub, and_(sub.c.target_code == forecast_issue.c.target_code,
                                               sub.c.t == forecast_issue.c.issued_at))
         .where(forecast_issue.c.target_kind == kind).order_by(forecast_issue.c.target_code))
    with store.engine.connect() as conn:
        return _with_days(conn, list(conn.execute(q).mappings()))


def latest_hours(store: Store, target: str, *, kind: str = "city") -> dict:
    """The newest issue of a target with its hourly values (72 hours of D+1 … D+3; empty where the target had
    no hourly history)."""
    issues = latest(store, target=target, kind=kind)
    if not issues:
        return {"target": target, "kind": kind, "issue": None, "hours": []}
    iss = issues[0]
    with store.engine.connect() as conn:
        rows = conn.execute(select(forecast_hour).where(forecast_hour.c.issue_id == iss["id"])
                            .order_by(forecast_hour.c.time)).mappings().all()
    hours = []
    for r in rows:
        h = {k: v for k, v in dict(r).items() if k != "issue_id"}
        h["time"] = h["time"].astimezone(BEIJING).isoformat()
        if h.get("level"):
            row = aqi_cn.LEVELS[int(h["level"]) - 1]
            h.update(category_zh=row[2], category_en=row[3], color=row[4])
        hours.append(h)
    head = {k: iss[k] for k in ("id", "name", "issued_at", "issue_day", "method", "model_version")}
    return {"target": target, "kind": kind, "issue": head, "hours": hours}


# --- verification -----------------------------------------------------------------------------------------
def verify(store: Store, *, now: datetime | None = None, days_back: int = VERIFY_DAYS,
           histories: dict[str, DailyHistory] | None = None) -> dict:
    """Compute (again) the observed daily AQI of every forecast target day of the last ``days_back`` days up to
    yesterday, from the stored data (or the given histories), and keep it in ``forecast_observation``."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    yesterday = beijing_today(when) - timedelta(days=1)
    start = yesterday - timedelta(days=days_back - 1)
    with store.engine.connect() as conn:
        targets = conn.execute(
            select(forecast_issue.c.target_kind, forecast_issue.c.target_code).distinct()
            .select_from(forecast_issue.join(forecast_day, forecast_day.c.issue_id == forecast_issue.c.id))
            .where(forecast_day.c.day >= start, forecast_day.c.day <= yesterday)).all()
    done = 0
    for kind, code in targets:
        if histories and code in histories:
            h = histories[code]
            k0 = max(0, int((np.datetime64(start.isoformat()) - h.days[0]).astype(int)))
            k1 = int((np.datetime64(yesterday.isoformat()) - h.days[0]).astype(int)) + 1
            idx = np.arange(k0, min(k1, len(h)))
            days = [date.fromisoformat(str(x)) for x in h.days[idx]]
            aqi = h.aqi[idx]
            from ecohub.forecast.backtest import observed_primary

            prim = list(observed_primary(h, idx)) if idx.size else []
        else:
            dl, conc = city_daily(store, code, start, yesterday, site=code if kind == "site" else None)
            res = daily_aqi(dl, conc)
            complete = res.missing == 0
            days = dl
            aqi = np.where(complete | ((res.edition == 2026) & res.publishable), res.aqi, np.nan)
            prim = [str(p).replace("O3_8h", "O3") for p in res.primary_pollutant]
        rows = [{"target_kind": kind, "target_code": code, "day": dd,
                 "aqi": None if np.isnan(a) else float(a),
                 "level": None if np.isnan(a) else int(aqi_cn.level_of([a])[0]),
                 "primary_pollutant": (p or None) if not np.isnan(a) else None, "computed_at": when}
                for dd, a, p in zip(days, aqi, prim, strict=True)]
        if not rows:
            continue
        with write_tx(store) as conn:
            conn.execute(delete(forecast_observation).where(
                forecast_observation.c.target_kind == kind, forecast_observation.c.target_code == code,
                forecast_observation.c.day >= rows[0]["day"], forecast_observation.c.day <= rows[-1]["day"]))
            conn.execute(insert(forecast_observation), rows)
        done += sum(r["aqi"] is not None for r in rows)
    return {"targets": len(targets), "observed_days": done, "from": start.isoformat(), "to": yesterday.isoformat()}


def _pairs(store: Store, target: str | None, since: date | None, kind: str = "city") -> list[dict]:
    """Forecast days joined with their observations; of several issues of one target on one issue day only
    the last counts (a re-run replaces nothing, but is not scored twice)."""
    q = (select(forecast_issue.c.target_code, forecast_issue.c.issue_day, forecast_issue.c.issued_at,
                forecast_issue.c.method, forecast_day.c.day, forecast_day.c.lead, forecast_day.c.aqi,
                forecast_day.c.aqi_low, forecast_day.c.aqi_high, forecast_day.c.level,
                forecast_day.c.primary_pollutant, forecast_day.c.persistence_aqi, forecast_day.c.climatology_aqi,
                forecast_day.c.climatology_level, forecast_observation.c.aqi.label("obs_aqi"),
                forecast_observation.c.primary_pollutant.label("obs_primary"))
         .select_from(forecast_issue.join(forecast_day, forecast_day.c.issue_id == forecast_issue.c.id)
                      .join(forecast_observation, and_(
                          forecast_observation.c.target_kind == forecast_issue.c.target_kind,
                          forecast_observation.c.target_code == forecast_issue.c.target_code,
                          forecast_observation.c.day == forecast_day.c.day)))
         .where(forecast_issue.c.target_kind == kind, forecast_observation.c.aqi.is_not(None)))
    if target:
        q = q.where(forecast_issue.c.target_code == target)
    if since:
        q = q.where(forecast_day.c.day >= since)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    last: dict[tuple, datetime] = {}
    for r in rows:
        k = (r["target_code"], r["issue_day"])
        last[k] = max(last.get(k, r["issued_at"]), r["issued_at"])
    return [r for r in rows if r["issued_at"] == last[(r["target_code"], r["issue_day"])]]


def verification(store: Store, *, target: str | None = None, since: date | None = None, kind: str = "city") -> dict:
    """The running verification report: per lead, the scores of the stored forecasts and of the baselines
    stored beside them, over the days observed so far."""
    rows = _pairs(store, target, since, kind)
    leads: list[dict] = []
    out: dict = {"target": target, "since": since.isoformat() if since else None, "leads": leads}
    for lead in (1, 2, 3):
        rr = [r for r in rows if r["lead"] == lead]
        if not rr:
            leads.append({"lead": lead, "days": 0})
            continue

        def col(k, rows=rr):
            return np.array([np.nan if r[k] is None else float(r[k]) for r in rows])

        obs = col("obs_aqi")
        model = [r for r in rr if r["method"] == "model"]
        s = scores(col("aqi"), obs, fc_level=np.array([r["level"] or 0 for r in rr]), low=col("aqi_low"),
                   high=col("aqi_high"), fc_primary=[r["primary_pollutant"] or "" for r in rr],
                   obs_primary=[r["obs_primary"] or "" for r in rr])
        p = scores(col("persistence_aqi"), obs)
        cl = scores(col("climatology_aqi"), obs,
                    fc_level=np.array([r["climatology_level"] or 0 for r in rr]))
        keys = ("days", "level_accuracy", "within_one_level", "aqi_mae", "pod_polluted", "far_polluted",
                "csi_polluted")
        leads.append({"lead": lead, **{k: s.get(k) for k in keys}, "range_hit_rate": s.get("range_hit_rate"),
                             "primary_pollutant_accuracy": s.get("primary_pollutant_accuracy"),
                             "model_days": len(model),
                             "persistence": {k: p.get(k) for k in keys},
                             "climatology": {k: cl.get(k) for k in keys}})
    return out


def forecast_vs_observed(store: Store, target: str, *, days: int = 30, lead: int = 1,
                         now: datetime | None = None, kind: str = "city") -> list[dict]:
    """For a target's page: the last ``days`` days' D+``lead`` forecast (range, level) beside the observation."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    since = beijing_today(when) - timedelta(days=days)
    rows = [r for r in _pairs(store, target, since, kind) if r["lead"] == lead]
    return sorted(({"day": r["day"].isoformat(), "aqi": r["aqi"], "aqi_low": r["aqi_low"], "aqi_high": r["aqi_high"],
                    "level": r["level"], "observed_aqi": r["obs_aqi"],
                    "observed_level": int(aqi_cn.level_of([r["obs_aqi"]])[0])} for r in rows),
                  key=lambda x: x["day"])
