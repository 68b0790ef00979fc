"""Alert rules: each looks at what arrived (the series touched since the last run) and returns the conditions
present and the causes it evaluated and found absent (to clear).

| rule | cause key | condition | severity |
|---|---|---|---|
| ``permit`` | ``permit:<site>:<parameter>:<period>`` | a valid period mean (converted where the permit says so) above the permit limit | major; critical from 50 % over (超标 0.5 倍) |
| ``aqi`` | ``aqi:<site>`` | the station's hourly AQI level ≥ ``aqi_min_level`` (default 4, 中度污染) | level 4 warning, 5 major, 6 critical |
| ``water_class`` | ``water:<site>`` | the section's GB 3838 class worse than its target (``section_target``) | 1 class worse warning, 2+ major, 劣V critical |
| ``offline`` | ``offline:<device MN>`` | no data from a registered device for ``offline_minutes`` (default 60) | major |
| ``qc`` | ``qc:<site>:<parameter>:<rule>`` | ≥ ``qc_min_flags`` invalid QC flags of one rule in the last 24 h | warning |
| ``pollution_warning`` | ``pollution_warning:<city>`` | the latest forecast issue's heavy-pollution warning level ≥ 1 (issue, upgrade, downgrade, lift: ``alerts.pollution_warning``) | blue info, yellow warning, orange major, red critical |
| ``suspicious`` | ``suspicious:<site>`` | an outlet's suspicious-data score ≥ threshold (0.6) over the last 24 h | major |
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ecohub.alerts import texts as T
from ecohub.alerts.lifecycle import Condition
from ecohub.domain.parameters import BY_NAME
from ecohub.quality import store_io as io
from ecohub.quality.outlets import outlet_hourly, permit_values, permits, suspicious_report
from ecohub.quality.suspicious import SuspiciousParams
from ecohub.quality.valid import load_series
from ecohub.standards import aqi_cn, gb3838

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "劣V"}
AQI_POLLUTANTS = ("so2", "no2", "co", "o3", "pm10", "pm25")


@dataclass
class RuleSettings:
    aqi_min_level: int = 4
    offline_minutes: dict = field(default_factory=lambda: {"default": 60})
    qc_min_flags: int = 3
    qc_rules: tuple = ("range", "negative", "flatline", "zero", "future")
    suspicious: SuspiciousParams = field(default_factory=SuspiciousParams)
    enabled: tuple = ("permit", "aqi", "water_class", "offline", "qc", "suspicious", "radiation",
                      "pollution_warning")


@dataclass
class Findings:
    conditions: list[Condition] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)

    def extend(self, other: Findings) -> None:
        self.conditions += other.conditions
        self.cleared += other.cleared


def _bj(t: int) -> str:
    from ecohub.domain.timeutil import epoch_to_iso

    return epoch_to_iso(int(t))[:16].replace("T", " ")


# --- permit-limit exceedance ------------------------------------------------------------------------------
def permit_rule(conn: Connection, touched: dict[int, tuple[int, int]], meta: dict[int, dict]) -> Findings:
    f = Findings()
    sites: dict[int, list[int]] = {}
    for sid, (t0, t1) in touched.items():
        m = meta.get(sid)
        if m and m["kind"] in ("gas_outlet", "water_outlet"):
            sites.setdefault(m["site_id"], [t0, t1])
            sites[m["site_id"]] = [min(sites[m["site_id"]][0], t0), max(sites[m["site_id"]][1], t1)]
    plist = permits(conn, list(sites))
    if not plist:
        return f
    lo = min(v[0] for v in sites.values())
    hi = max(v[1] for v in sites.values())
    start = int((lo + 8 * 3600) // 86400 * 86400 - 8 * 3600)  # the Beijing day of the earliest new value
    end = int((hi + 8 * 3600) // 86400 * 86400 - 8 * 3600 + 86400)
    hourly = outlet_hourly(conn, list(sites), start, end, {p.parameter for p in plist} | {"o2"})
    codes = {m["site_id"]: (m["site"], m["region"]) for m in meta.values()}
    names = {m["site_id"]: m.get("site_name") for m in meta.values()}
    for p in plist:
        t, v, info = permit_values(p, hourly.get(p.site_id, {}))
        key = f"permit:{p.site}:{p.parameter}:{p.period}"
        ok = ~np.isnan(v)
        if not ok.any():
            continue
        exceed = ok & (v > p.limit)
        last_valid = int(t[ok][-1])
        if exceed.any():
            k = int(np.flatnonzero(exceed)[-1])
            mult = (v[k] - p.limit) / p.limit
            kind = "折算浓度" if info.get("converted") else "实测浓度"
            per = "小时均值" if p.period == "hour" else "日均值"
            unit = p.unit or (BY_NAME[p.parameter].unit if p.parameter in BY_NAME else "")
            msg = (f"{T.site_zh(p.site, names.get(p.site_id))} {T.param_zh(p.parameter)} {kind}{per} {v[k]:.4g} {unit}"
                   f" > 许可限值 {p.limit:g} {unit}"
                   f"（超标 {mult:.2f} 倍），{_bj(t[k])}")
            f.conditions.append(Condition(
                "permit", key, "critical" if mult >= 0.5 else "major", msg, p.site_id, p.site,
                codes.get(p.site_id, (p.site, None))[1], p.parameter_id, p.parameter, level=round(float(mult), 4),
                value=float(v[k]), period_time=int(t[k]),
                details={"limit": p.limit, "unit": unit, "period": p.period, "multiple": round(float(mult), 4),
                         "exceeding_periods": int(exceed.sum()), "evaluated_periods": int(ok.sum()), **info,
                         "valid_hours": info.get("valid_hours", {}).get(int(t[k])) if p.period == "day" else None}))
            if last_valid > int(t[k]):
                # the newest valid period is within the limit again: the exceedance is recorded (the alert is
                # opened or updated) and then cleared — it still waits for acknowledgement
                f.cleared.append(key)
        else:
            f.cleared.append(key)
    return f


# --- ambient thresholds -----------------------------------------------------------------------------------
def aqi_rule(conn: Connection, touched, meta, settings: RuleSettings) -> Findings:
    f = Findings()
    stations: dict[int, int] = {}
    for sid, (_t0, t1) in touched.items():
        m = meta.get(sid)
        if m and m["kind"] in ("air_station", "micro_station") and m["parameter"] in AQI_POLLUTANTS \
                and m["interval"] == "hour":
            stations[m["site_id"]] = max(stations.get(m["site_id"], 0), t1)
    if not stations:
        return f
    ids = [int(r[0]) for r in conn.execute(text(
        "SELECT r.id FROM series r JOIN parameter p ON p.id = r.parameter_id WHERE r.interval = 'hour' AND "  # noqa: S608 (integer ids and fixed names only)
        f"r.site_id IN ({', '.join(str(s) for s in stations)}) AND p.name IN "
        f"({', '.join(repr(p) for p in AQI_POLLUTANTS)})"))]
    m2 = io.series_meta(conn, ids)
    data = load_series(conn, {s: (stations[m2[s]["site_id"]], stations[m2[s]["site_id"]] + 1) for s in m2})
    by_site: dict[int, dict[str, float]] = {}
    for s, mm in m2.items():
        sv = data.get(s)
        if sv is not None and sv.time.size:
            by_site.setdefault(mm["site_id"], {})[mm["parameter"]] = float(sv.valid_values[-1])
    codes = {m["site_id"]: (m["site"], m["region"]) for m in m2.values()}
    names = {m["site_id"]: m.get("site_name") for m in m2.values()}
    site_ids = sorted(by_site)
    if not site_ids:
        return f
    arrays = {p: np.array([by_site[s].get(p, np.nan) for s in site_ids]) for p in AQI_POLLUTANTS}
    times = np.array([stations[s] for s in site_ids], dtype="datetime64[s]")
    res = aqi_cn.aqi_hourly(**arrays, times=times)
    for i, s in enumerate(site_ids):
        code, region = codes[s]
        key = f"aqi:{code}"
        lvl = int(res.level[i])
        if lvl >= settings.aqi_min_level:
            sev = {4: "warning", 5: "major"}.get(lvl, "critical")
            primary = res.primary_pollutant[i] if hasattr(res, "primary_pollutant") else ""
            msg = f"{T.site_zh(code, names.get(s))} 小时AQI {res.aqi[i]:.0f}（{ROMAN.get(lvl, lvl)}级），首要污染物 {primary}，{_bj(stations[s])}"
            f.conditions.append(Condition("aqi", key, sev, msg, s, code, region, None, None, level=float(lvl),
                                          value=float(res.aqi[i]), period_time=int(stations[s]),
                                          details={"aqi": float(res.aqi[i]), "level": lvl, "primary": primary,
                                                   "concentrations": {p: by_site[s].get(p) for p in AQI_POLLUTANTS}}))
        elif lvl > 0:
            f.cleared.append(key)
    return f


def water_rule(conn: Connection, touched, meta) -> Findings:
    f = Findings()
    sections: dict[int, int] = {}
    for sid, (_t0, t1) in touched.items():
        m = meta.get(sid)
        if m and m["kind"] == "water_section" and m["parameter"] in gb3838.ALL_ITEMS:
            sections[m["site_id"]] = max(sections.get(m["site_id"], 0), t1)
    if not sections:
        return f
    targets = {int(r[0]): int(r[1]) for r in conn.execute(text(
        f"SELECT site_id, target_class FROM section_target WHERE site_id IN ({', '.join(map(str, sections))})"))}  # noqa: S608 (integer ids and fixed names only)
    if not targets:
        return f
    ids = [int(r[0]) for r in conn.execute(text(
        f"SELECT r.id FROM series r WHERE r.site_id IN ({', '.join(map(str, targets))})"))]  # noqa: S608 (integer ids and fixed names only)
    m2 = {k: v for k, v in io.series_meta(conn, ids).items() if v["parameter"] in gb3838.ALL_ITEMS}
    # the latest valid value of each item within the day before the newest new value
    data = load_series(conn, {s: (sections[v["site_id"]] - 86400, sections[v["site_id"]] + 1) for s, v in m2.items()})
    items: dict[int, dict[str, float]] = {}
    for s, mm in m2.items():
        sv = data.get(s)
        if sv is not None:
            vv = sv.valid_values[~np.isnan(sv.valid_values)]
            if vv.size:
                items.setdefault(mm["site_id"], {})[mm["parameter"]] = float(vv[-1])
    codes = {m["site_id"]: (m["site"], m["region"]) for m in m2.values()}
    names = {m["site_id"]: m.get("site_name") for m in m2.values()}
    for site_id, target in targets.items():
        if site_id not in items:
            continue
        code, region = codes[site_id]
        lake = False
        res = gb3838.water_quality_class({k: [v] for k, v in items[site_id].items()}, lake=lake,
                                         target_class=target)
        cls = int(res["class"][0])
        key = f"water:{code}"
        if cls > target:
            diff = cls - target
            sev = "critical" if cls == 6 else ("major" if diff >= 2 else "warning")
            worst = str(res["worst_items"][0])
            msg = (f"{T.site_zh(code, names.get(site_id))} 水质 {ROMAN[cls]} 类，劣于目标 {ROMAN[target]} 类"
                   f"（定类项目 {T.params_zh(worst)}），{_bj(sections[site_id])}")
            f.conditions.append(Condition("water_class", key, sev, msg, site_id, code, region, None, None,
                                          level=float(cls), value=float(cls), period_time=int(sections[site_id]),
                                          details={"class": cls, "target": target, "worst_items": worst,
                                                   "values": items[site_id]}))
        elif cls > 0:
            f.cleared.append(key)
    return f


# --- device offline ---------------------------------------------------------------------------------------
def offline_rule(conn: Connection, now: int, settings: RuleSettings) -> Findings:
    f = Findings()
    rows = conn.execute(text(
        f"SELECT d.mn, s.id, s.code, s.kind, s.region_code, {io.ep(conn, 'd.created_at')}, "  # noqa: S608 (integer ids and fixed names only)
        f"(SELECT {io.ep(conn, 'MAX(l.received_at)')} FROM latest l JOIN series r ON r.id = l.series_id "
        "WHERE r.site_id = s.id), s.name FROM device d JOIN site s ON s.id = d.site_id")).all()
    for mn, site_id, code, kind, region, created, last, name in rows:
        limit = settings.offline_minutes.get(kind, settings.offline_minutes.get("default", 60)) * 60
        ref = int(last) if last is not None else int(created)
        key = f"offline:{mn}"
        if now - ref > limit:
            mins = (now - ref) // 60
            where = T.site_zh(code, name)
            msg = (f"{where} 设备 {mn} 已 {mins} 分钟无数据" if last is not None
                   else f"{where} 设备 {mn} 登记后 {mins} 分钟从未上报数据")
            f.conditions.append(Condition("offline", key, "major", msg, site_id, code, region, level=float(mins),
                                          value=float(mins), details={"mn": mn, "last_received": last,
                                                                      "limit_minutes": limit // 60}))
        else:
            f.cleared.append(key)
    return f


# --- QC failures ------------------------------------------------------------------------------------------
def qc_rule(conn: Connection, touched, meta, now: int, settings: RuleSettings) -> Findings:
    f = Findings()
    if not touched:
        return f
    since = now - 86400
    ids = ", ".join(str(s) for s in touched)
    rules = ", ".join(f"'{r}'" for r in settings.qc_rules)
    counts = {(int(r[0]), r[1]): (int(r[2]), int(r[3])) for r in conn.execute(text(
        f"SELECT series_id, rule, COUNT(*), {io.ep(conn, 'MAX(time)')} FROM qc_flag WHERE level >= 2 AND "  # noqa: S608
        f"series_id IN ({ids}) AND rule IN ({rules}) AND time >= {io.ts(conn, 's')} GROUP BY series_id, rule"),
        {"s": since})}
    for sid in touched:
        m = meta.get(sid)
        if m is None:
            continue
        for rule in settings.qc_rules:
            key = f"qc:{m['site']}:{m['parameter']}:{m['interval']}:{rule}"
            n, last = counts.get((sid, rule), (0, None))
            if n >= settings.qc_min_flags:
                msg = (f"{T.site_zh(m['site'], m.get('site_name'))} {T.param_zh(m['parameter'])} 质控未通过："
                       f"{T.qc_rule_zh(rule)}规则 24 小时内 {n} 个无效数据，最近 {_bj(last)}")
                f.conditions.append(Condition("qc", key, "warning", msg, m["site_id"], m["site"], m["region"],
                                              m["parameter_id"], m["parameter"], level=float(n), value=float(n),
                                              period_time=last, details={"rule": rule, "flags_24h": n}))
            else:
                f.cleared.append(key)
    return f


# --- suspicious data --------------------------------------------------------------------------------------
def suspicious_rule(conn: Connection, touched, meta, settings: RuleSettings) -> Findings:
    f = Findings()
    sites: dict[int, int] = {}
    for sid, (_t0, t1) in touched.items():
        m = meta.get(sid)
        if m and m["kind"] in ("gas_outlet", "water_outlet"):
            sites[m["site_id"]] = max(sites.get(m["site_id"], 0), t1)
    if not sites:
        return f
    end = max(sites.values()) + 3600
    rep = suspicious_report(conn, end - 86400, end, list(sites), settings.suspicious)
    codes = {m["site_id"]: (m["site"], m["region"]) for m in meta.values()}
    names = {m["site"]: m.get("site_name") for m in meta.values()}
    by_code = {v[0]: (k, v[1]) for k, v in codes.items()}
    for code, r in rep.items():
        site_id, region = by_code.get(code, (None, None))
        key = f"suspicious:{code}"
        if r["score"] >= settings.suspicious.threshold:
            found = "，".join(sorted({f"{T.indicator_zh(i['name'])}（{T.param_zh(i['parameter'])}）"
                                     for i in r["indicators"]}))
            msg = f"{T.site_zh(code, names.get(code))} 疑似数据异常（可疑度 {r['score']:.2f}）：{found}，需核查"
            f.conditions.append(Condition("suspicious", key, "major", msg, site_id, code, region,
                                          level=r["score"], value=r["score"], period_time=end - 3600,
                                          details={"score": r["score"], "indicators": r["indicators"],
                                                   "window": [end - 86400, end]}))
        else:
            f.cleared.append(key)
    return f
