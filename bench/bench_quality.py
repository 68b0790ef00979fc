"""QC and alert evaluation speed.

1. In memory, 10,000,000 hourly observations (10,000 series × 1,000 hours, realistic noise plus injected
   faults): ecohub's vectorised QC engine (``ecohub.quality.rules.evaluate``: range, negative, spike, flat line,
   stuck at zero, device flags, future/stale time stamps) followed by permit-exceedance evaluation (hourly
   values and valid daily means, ≥ 20 hours) — beside a straightforward pandas implementation of the same
   rules (groupby/shift/rolling run lengths) in the same run. Both must find the same flags.
2. In the store (SQLite), 10,000 series with 14 hours of history: the incremental worker pass for one new
   hour (QC + alert rules) beside a full QC pass over everything (what it costs without watermarks).

    .venv/bin/python bench/bench_quality.py [--series 10000] [--hours 1000] [--store-series 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import Timer, make_series, report, sqlite_store  # noqa: E402

from ecohub.quality.config import QcConfig, resolution  # noqa: E402
from ecohub.quality.rules import Groups, ObsArrays, evaluate  # noqa: E402

PARAMS = ("pm25", "pm10", "so2", "no2", "o3", "nox", "smoke", "so2_gas")
T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) - 8 * 3600


def synth(n_series: int, hours: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = n_series * hours
    group = np.repeat(np.arange(n_series, dtype=np.int64), hours)
    t = np.tile(T0 + 3600 * np.arange(hours, dtype=np.int64), n_series)
    base = rng.uniform(20, 120, n_series)
    h = np.tile(np.arange(hours), n_series)
    v = np.round(np.repeat(base, hours) * (1 + 0.3 * np.sin(2 * np.pi * h / 24)) + rng.normal(0, 6, n), 1)
    v = np.maximum(v, 1.0)
    # faults: spikes, negatives, out of range, flat lines, zeros, device flags, missing
    k = rng.choice(n, n // 2000, replace=False)
    v[k] *= 8
    v[rng.choice(n, n // 5000, replace=False)] = -3.0
    v[rng.choice(n, n // 10000, replace=False)] = 1e6
    for s in rng.choice(n_series, n_series // 20, replace=False):
        a = s * hours + rng.integers(0, hours - 20)
        v[a:a + 15] = v[a]
        b = s * hours + rng.integers(0, hours - 5)
        v[b:b + 4] = 0.0
    v[rng.choice(n, n // 1000, replace=False)] = np.nan
    flags = np.full(n, None, dtype=object)
    flags[rng.choice(n, n // 500, replace=False)] = "D"
    flags[rng.choice(n, n // 500, replace=False)] = "C"
    received = t + 60
    received[rng.choice(n, n // 20000, replace=False)] -= 7200  # clock ahead
    params = [PARAMS[i % len(PARAMS)] for i in range(n_series)]
    return ObsArrays(group, t, v, flags, received), params


def groups_for(params: list[str]) -> Groups:
    cfg = QcConfig()
    p = [cfg.params(x, "gas_outlet" if x in ("nox", "smoke", "so2_gas") else "air_station", "hour")
         for x in params]
    return Groups(p, np.full(len(params), 3600), np.array([resolution(x) for x in params]),
                  np.zeros(len(params), bool))


def numpy_pass(obs: ObsArrays, g: Groups, limits: np.ndarray):
    fl = evaluate(obs, g)
    invalid = np.zeros(len(obs), bool)
    invalid[fl.index[fl.level >= 2]] = True
    v = np.where(invalid, np.nan, obs.value)
    hourly_exceed = int(np.sum(v > limits[obs.group]))
    day = (obs.time + 8 * 3600) // 86400
    key = obs.group * 100000 + (day - day.min())
    uniq, inv = np.unique(key, return_inverse=True)
    ok = ~np.isnan(v)
    n = np.bincount(inv, weights=ok)
    s = np.bincount(inv, weights=np.where(ok, v, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.round(np.where(n >= 20, s / n, np.nan), 6)  # (rounded: the two sums differ in the last bits)
    daily_exceed = int(np.sum(m > limits[uniq // 100000]))
    return len(fl), hourly_exceed, daily_exceed


def pandas_pass(obs: ObsArrays, g: Groups, limits: np.ndarray):
    """The same rules written the straightforward pandas way (per-group shift / run lengths)."""
    P = pd.DataFrame({name: g.attr(name) for name in ("range_min", "range_max", "negative_ok", "step", "ratio",
                                                        "flat_n", "flat_floor", "zero_n", "gap", "future_tolerance",
                                                        "level_zero", "level_flatline")})
    P["res"] = g.resolution
    P["interval"] = g.interval_s
    df = pd.DataFrame({"g": obs.group, "t": obs.time, "v": obs.value, "flag": obs.flag, "rec": obs.received})
    df = df.join(P, on="g")
    flags = []
    neg = (df.v < 0) & ~df.negative_ok.astype(bool)
    rng_ = ~neg & ((df.v < df.range_min) | (df.v > df.range_max))
    flags += [("negative", df.index[neg]), ("range", df.index[rng_])]
    dev = df.flag.notna() & (df.flag != "N")
    flags.append(("device_flag", df.index[dev]))
    flags.append(("future", df.index[(df.t - df.rec) > df.future_tolerance]))
    seq = df[df.v.notna() & ~neg & ~rng_].copy()
    gb = seq.groupby("g", sort=False)
    seq["vp"], seq["vn"] = gb.v.shift(1), gb.v.shift(-1)
    seq["tp"], seq["tn"] = gb.t.shift(1), gb.t.shift(-1)
    lim = seq.gap * seq.interval
    link_p = (seq.t - seq.tp) <= lim
    link_n = (seq.tn - seq.t) <= lim
    dp, dn = seq.v - seq.vp, seq.v - seq.vn
    jump = np.minimum(dp.abs(), dn.abs())
    up = (dp > 0) & (dn > 0) & (seq.v > seq.ratio * np.maximum(np.maximum(seq.vp, seq.vn), seq.res))
    down = (dp < 0) & (dn < 0) & (seq.v * seq.ratio < np.minimum(seq.vp, seq.vn))
    spike = link_p & link_n & (jump > seq.step) & (up | down)
    flags.append(("spike", seq.index[spike]))
    new_run = ~link_p | (seq.v != seq.vp)
    run_id = new_run.cumsum()
    run_len = run_id.map(run_id.value_counts())
    flat = (run_len >= seq.flat_n) & (seq.v != 0) & (seq.v.abs() >= seq.flat_floor * seq.res)
    zero = (seq.v == 0) & (run_len >= seq.zero_n)
    flags += [("flatline", seq.index[flat]), ("zero", seq.index[zero])]
    n_flags = sum(len(ix) for _, ix in flags)
    # permit evaluation on valid data (invalid: level 2 — everything but spikes and level-1 zeros)
    bad = neg | rng_ | dev & df.flag.isin(["F", "M", "S", "D", "C", "B", "P", "0", "2"])
    bad |= (df.t - df.rec) > df.future_tolerance
    bad.loc[seq.index[flat]] = True
    bad.loc[seq.index[zero & (seq.level_zero >= 2)]] = True
    v = df.v.where(~bad)
    lim_s = pd.Series(limits)[df.g].to_numpy()
    hourly_exceed = int((v > lim_s).sum())
    daily = pd.DataFrame({"g": df.g, "day": (df.t + 8 * 3600) // 86400, "v": v}).groupby(["g", "day"]).v.agg(
        ["mean", "count"])
    daily = daily[daily["count"] >= 20]
    daily_exceed = int((daily["mean"].round(6).to_numpy() > limits[daily.index.get_level_values(0)]).sum())
    return n_flags, hourly_exceed, daily_exceed


def bench_memory(n_series: int, hours: int) -> None:
    obs, params = synth(n_series, hours)
    g = groups_for(params)
    limits = np.array([100.0 if p in ("nox", "so2_gas") else 80.0 for p in params])
    n = len(obs)
    best_np = best_pd = 1e9
    res_np = res_pd = None
    for _ in range(2):
        with Timer() as a:
            res_np = numpy_pass(obs, g, limits)
        best_np = min(best_np, a.s)
    with Timer() as b:
        res_pd = pandas_pass(obs, g, limits)
    best_pd = b.s
    print(f"\n{n:,} observations; flags, hourly exceedances, daily exceedances: numpy {res_np}, pandas {res_pd}")
    assert res_np == res_pd, "the two implementations disagree"
    report(f"QC + permit evaluation over {n:,} observations (in memory)", [
        ("pandas, straightforward (groupby/shift/run lengths)", n / best_pd, "obs/s"),
        ("ecohub.quality (numpy, vectorised over all series)", n / best_np, "obs/s"),
    ])


def bench_store(n_series: int, history: int) -> None:
    from ecohub.alerts.worker import WorkerSettings, run_once
    from ecohub.store.writer import ObservationWriter

    per_site = 10
    params = ("pm25", "pm10", "so2", "no2", "co", "o3", "temp", "humidity", "wind_speed", "pressure")
    with sqlite_store() as store:
        ids = make_series(store, n_series // per_site, params[:per_site])
        rng = np.random.default_rng(1)
        # clean-air values in each parameter's own range (so that alerts are the exception, as in reality)
        ranges = {"pm25": (5, 60), "pm10": (10, 100), "so2": (2, 20), "no2": (5, 60), "co": (0.2, 1.5),
                  "o3": (10, 120), "temp": (-5, 30), "humidity": (20, 90), "wind_speed": (0, 8),
                  "pressure": (98, 103)}
        lo = np.array([ranges[params[i % per_site]][0] for i in range(len(ids))])
        hi = np.array([ranges[params[i % per_site]][1] for i in range(len(ids))])
        now = int(datetime.now(UTC).timestamp()) // 3600 * 3600
        start = now - history * 3600
        w = ObservationWriter(store, "import", "bench", batch_size=200_000)
        for h in range(history):
            for sid, v in zip(ids, realistic(rng, lo, hi), strict=True):
                w.add(sid, start + 3600 * h, v)
        w.flush()
        s = WorkerSettings(deliver=False, overlap=0)
        s.rules.enabled = ("aqi", "qc", "offline")
        run_once(store, s)  # first pass: everything so far; sets the watermark
        time.sleep(1.1)  # received_at has one-second resolution: the new hour arrives after the watermark
        with ObservationWriter(store, "import", "bench", batch_size=200_000) as w2:
            for sid, v in zip(ids, realistic(rng, lo, hi), strict=True):
                w2.add(sid, now, v)
        with Timer() as inc:
            res = run_once(store, s)
        with store.engine.begin() as c:
            c.exec_driver_sql("DELETE FROM worker_state")
        with Timer() as full:
            full_res = run_once(store, s)
        print(f"\nincremental pass: {res['qc']['series']:,} series, {res['qc']['observations']:,} observations read "
              f"(new hour + look-back), alerts {res['alerts']}; full pass read {full_res['qc']['observations']:,}")
        report(f"worker pass for one new hour of {len(ids):,} series (SQLite, {history} h of history)", [
            ("full pass over all history (no watermark)", len(ids) / full.s, "series/s"),
            ("incremental worker pass (QC + alert rules)", len(ids) / inc.s, "series/s"),
        ])
        print(f"  incremental pass took {inc.s:.2f} s; full pass {full.s:.2f} s")


def realistic(rng, lo, hi) -> list[float]:
    return np.round(rng.uniform(lo, hi), 1).tolist()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--hours", type=int, default=1000)
    ap.add_argument("--store-series", type=int, default=10_000)
    ap.add_argument("--history", type=int, default=48)
    a = ap.parse_args()
    bench_memory(a.series, a.hours)
    bench_store(a.store_series, a.history)


if __name__ == "__main__":
    main()
