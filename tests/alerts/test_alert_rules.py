"""Each alert rule through the worker (both backends): series built to trigger it and series that must not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from alerts_support import make_outlet

from ecohub.alerts.permits import import_permits, set_section_target
from ecohub.alerts.service import list_alerts
from ecohub.alerts.worker import WorkerSettings, get_watermark, run_once
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
H = 3600


def series(store, code, params, interval="hour"):
    with store.engine.begin() as c:
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        return {p: res.get(c, idx[code][0], par[p], interval) for p in params}


def write(store, sid, values, start, step=H, flags=None, source="hj212"):
    with ObservationWriter(store, source) as w:
        for i, v in enumerate(values):
            w.add(sid, int(start + step * i), None if v is None else float(v), (flags or ["N"] * len(values))[i])


def once(store, **kw):
    return run_once(store, WorkerSettings(deliver=False), **kw)


def hours_ago(n):
    return int((NOW - timedelta(hours=n)).timestamp())


def permits(store, tmp_path, text):
    p = tmp_path / "permits.csv"
    p.write_text("site,parameter,limit,unit,period,converted_o2\n" + text, encoding="utf-8")
    return import_permits(store, p)


def noisy(n, mean, sd=0.08, seed=0):
    return np.round(mean * (1 + np.random.default_rng(seed).normal(0, sd, n)), 2)


def test_permit_hourly_on_converted_concentration(store, tmp_path):
    make_outlet(store)
    s = series(store, "GAS1", ("nox", "o2"))
    assert permits(store, tmp_path, "GAS1,nox,100,mg/m3,hour,9\n").imported == 1
    # measured 80 mg/m³ at 15 % O2 → converted 80 × 12/6 = 160 > 100, although the measured value is below
    write(store, s["nox"], noisy(6, 80), hours_ago(6))
    write(store, s["o2"], [15.0] * 6, hours_ago(6))
    res = once(store)
    assert res["alerts"]["opened"] == 1
    (a,) = list_alerts(store)
    assert (a["rule"], a["site"], a["parameter"], a["status"]) == ("permit", "GAS1", "nox", "open")
    assert a["details"]["converted"] and a["value"] > 100 and "折算" in a["message"]
    assert "氮氧化物" in a["message"] and "nox" not in a["message"]
    assert a["severity"] == "critical"  # 60 % over


def test_permit_not_triggered_by_normal_operation_or_invalid_data(store, tmp_path):
    make_outlet(store)
    s = series(store, "GAS1", ("nox", "o2"))
    permits(store, tmp_path, "GAS1,nox,100,mg/m3,hour,9\nGAS1,nox,80,mg/m3,day,9\n")
    write(store, s["nox"], noisy(30, 55, seed=2), hours_ago(30))
    write(store, s["o2"], noisy(30, 9, 0.03, seed=3), hours_ago(30))
    # an hour above the limit flagged by the device as calibration is not an exceedance
    write(store, s["nox"], [400.0], hours_ago(0) - 1800, flags=["C"])
    res = once(store)
    assert res["alerts"]["opened"] == 0 and list_alerts(store) == []


def test_permit_daily_mean_needs_20_valid_hours(store, tmp_path):
    make_outlet(store, "W1", "water_outlet")
    s = series(store, "W1", ("cod",))
    permits(store, tmp_path, "W1,cod,50,mg/L,day,\n")
    day0 = int((NOW.astimezone(UTC) - timedelta(days=3)).timestamp())
    day0 = (day0 + 8 * H) // 86400 * 86400 - 8 * H  # a Beijing midnight three days back
    write(store, s["cod"], noisy(19, 70, seed=9), day0, source="import")  # 19 valid hours: no valid daily mean
    assert once(store)["alerts"]["opened"] == 0
    write(store, s["cod"], [71.0, 69.5], day0 + 19 * H, source="import")  # 21 hours
    once(store)
    (a,) = list_alerts(store)
    assert a["rule"] == "permit" and "日均值" in a["message"] and a["details"]["valid_hours"] == 21


def test_aqi_level_at_a_station(store):
    with store.engine.begin() as c:
        for code in ("A1", "A2"):
            R.upsert_site(c, R.SiteInput(code, "air_station", f"监测站{code}", 114.5, 38.0, "130100"))
    hi = series(store, "A1", ("pm25", "pm10", "no2"))
    lo = series(store, "A2", ("pm25", "pm10", "no2"))
    t = hours_ago(1)
    for p, v in (("pm25", 180), ("pm10", 220), ("no2", 60)):
        write(store, hi[p], [v], t, source="import")
    for p, v in (("pm25", 35), ("pm10", 60), ("no2", 30)):
        write(store, lo[p], [v], t, source="import")
    once(store)
    (a,) = list_alerts(store)
    assert (a["rule"], a["site"], a["severity"]) == ("aqi", "A1", "major")  # PM2.5 180 → AQI 230, level V
    assert a["level"] == 5.0
    assert a["message"].startswith("监测站A1（A1） 小时AQI")  # the station by name (and code)
    # the next hour is clean: the alert clears (stays open until acknowledged)
    write(store, hi["pm25"], [20], t + H, source="import")
    write(store, hi["pm10"], [40], t + H, source="import")
    once(store)
    (a,) = list_alerts(store)
    assert a["status"] == "open" and not a["active"]


def test_water_class_worse_than_target(store):
    with store.engine.begin() as c:
        for code in ("W-A", "W-B"):
            R.upsert_site(c, R.SiteInput(code, "water_section", code, 114.5, 38.0, "130100"))
    set_section_target(store, "W-A", "III")
    set_section_target(store, "W-B", "III")
    a = series(store, "W-A", ("nh3n", "codmn", "do"))
    b = series(store, "W-B", ("nh3n", "codmn", "do"))
    t = hours_ago(2)
    for p, v in (("nh3n", 1.8), ("codmn", 5.0), ("do", 6.0)):  # NH3-N 1.8 → V
        write(store, a[p], [v], t, step=4 * H, source="import")
    for p, v in (("nh3n", 0.4), ("codmn", 3.5), ("do", 7.0)):  # II
        write(store, b[p], [v], t, step=4 * H, source="import")
    once(store)
    (al,) = list_alerts(store)
    assert (al["rule"], al["site"], al["level"], al["severity"]) == ("water_class", "W-A", 5.0, "major")
    assert "nh3n" in al["details"]["worst_items"]
    assert "氨氮" in al["message"] and "nh3n" not in al["message"]


def test_device_offline(store):
    make_outlet(store)
    make_outlet(store, "GAS2")
    with store.engine.begin() as c:
        R.add_device(c, "MN-ON", "123456", "GAS1")
        R.add_device(c, "MN-OFF", "123456", "GAS2")
    s1 = series(store, "GAS1", ("nox",))
    write(store, s1["nox"], [50.0], hours_ago(0))
    once(store)
    assert list_alerts(store) == []  # GAS1 just reported; GAS2's device was registered just now
    # two hours pass: GAS1's last data and GAS2's registration are now 2 h old (the clock is moved back in the
    # database, since received_at is the wall clock)
    with store.engine.begin() as c:
        old = datetime.now(UTC) - timedelta(hours=2)
        c.execute(sa_update("latest").values(received_at=old))
        c.execute(sa_update("device").values(created_at=old))
    once(store)
    keys = sorted((a["rule"], a["site"]) for a in list_alerts(store))
    assert keys == [("offline", "GAS1"), ("offline", "GAS2")]
    assert any("从未上报" in a["message"] for a in list_alerts(store))
    assert all(a["details"]["limit_minutes"] == 60 for a in list_alerts(store))
    # GAS1 reports again: its alert clears; GAS2's stays
    write(store, s1["nox"], [51.0], hours_ago(0) + 60)
    once(store)
    act = {a["site"]: bool(a["active"]) for a in list_alerts(store)}
    assert act == {"GAS1": False, "GAS2": True}


def sa_update(name):
    from ecohub.store.schema import device, latest

    return (latest if name == "latest" else device).update()


def test_qc_failure_alert(store):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("A1", "air_station", "A1", 114.5, 38.0, "130100"))
    s = series(store, "A1", ("pm10",))
    write(store, s["pm10"], [80 + i % 5 for i in range(10)] + [131.0] * 13, hours_ago(24), source="import")
    once(store)
    (a,) = list_alerts(store)
    assert a["rule"] == "qc" and a["parameter"] == "pm10" and a["details"]["rule"] == "flatline"
    # the Chinese text names things (issue 10 item 10): parameter and rule by name, not by code
    assert "可吸入颗粒物(PM10)" in a["message"] and "恒值规则" in a["message"]
    assert "flatline" not in a["message"] and "pm10" not in a["message"]


def test_suspicious_outlet_alert(store):
    make_outlet(store)
    make_outlet(store, "GAS2")
    s1 = series(store, "GAS1", ("nox",))["nox"]
    s2 = series(store, "GAS2", ("nox",))["nox"]
    a = noisy(24, 60, seed=5)
    write(store, s1, a, hours_ago(24))
    write(store, s2, a, hours_ago(24))  # GAS2 sends GAS1's numbers
    once(store)
    got = {x["site"]: x for x in list_alerts(store) if x["rule"] == "suspicious"}
    assert set(got) == {"GAS1", "GAS2"}
    inds = got["GAS2"]["details"]["indicators"]
    assert any(i["name"] == "copied" and i["evidence"]["copies"][0]["copy_of"] == "GAS1" for i in inds)
    assert "与其他排口数据雷同（氮氧化物）" in got["GAS2"]["message"] and "copied" not in got["GAS2"]["message"]


def test_incremental_watermark(store, tmp_path):
    make_outlet(store)
    s = series(store, "GAS1", ("nox",))
    permits(store, tmp_path, "GAS1,nox,100,mg/m3,hour,\n")
    write(store, s["nox"], noisy(5, 50), hours_ago(5))
    first = once(store)
    assert first["qc"]["series"] == 1 and get_watermark(store) is not None
    # later passes: only the overlap (300 s before the watermark) is read again, then nothing
    once(store, now=datetime.now(UTC) + timedelta(hours=1))
    third = once(store, now=datetime.now(UTC) + timedelta(hours=2))
    assert third["qc"]["series"] == 0 and third["qc"]["observations"] == 0
    assert third["alerts"]["opened"] == 0
