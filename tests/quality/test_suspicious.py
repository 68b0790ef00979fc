"""Suspicious-data indicators: series built to trigger each, and normal plant variability that must not."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from ecohub.quality import suspicious as S
from ecohub.quality.outlets import suspicious_report
from ecohub.quality.qc import run_qc
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter

T0 = int(datetime(2024, 5, 1, tzinfo=UTC).timestamp()) - 8 * 3600
H = 3600


def plant(n=72, mean=60.0, seed=0):
    """Normal NOx of a boiler: load cycle + noise (CV ≈ 0.15), two decimals."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.round(mean * (1 + 0.12 * np.sin(2 * np.pi * t / 24)) + rng.normal(0, 5, n), 2)


def times(n, start=T0):
    return start + H * np.arange(n, dtype=np.int64)


def test_normal_plant_scores_zero():
    v = plant()
    t = times(v.size)
    inds = [S.near_limit("nox", v, 100.0), S.low_variance("nox", v), S.level_shift("nox", t, v),
            S.o2_inconsistent("nox", v, 9 + np.random.default_rng(1).normal(0, 0.4, v.size), 9.0)]
    inds += list(S.copied({"A": (t, v), "B": (t, plant(seed=7))}, "nox", 0.01).values())
    assert [i.score for i in inds] == [0.0] * len(inds)
    assert S.combine(inds) == 0.0


def test_held_just_below_the_limit():
    rng = np.random.default_rng(3)
    v = np.round(rng.uniform(92, 99.5, 48), 2)  # limit 100: always 92–99.5
    ind = S.near_limit("nox", v, 100.0)
    assert ind.score == 1.0
    assert ind.evidence["share_in_band"] > 0.7 and ind.evidence["share_above_limit"] == 0
    # the same values against a limit of 200 are not "near the limit"
    assert S.near_limit("nox", v, 200.0).score == 0.0


def test_near_zero_variance_while_running():
    v = 45 + np.round(np.random.default_rng(2).normal(0, 0.05, 48), 2)
    ind = S.low_variance("nox", v)
    assert ind.score == 1.0 and ind.evidence["cv"] < 0.01
    # plant stopped (flow 0): those hours do not count
    running = np.zeros(48, bool)
    running[:6] = True
    assert S.low_variance("nox", v, running).score == 0.0


def test_copied_day_from_another_outlet_and_from_another_day():
    a = plant(48, seed=1)
    b = plant(48, seed=2)
    b[24:48] = a[0:24]  # B's second day is A's first day
    t = times(48)
    res = S.copied({"A": (t, a), "B": (t, b)}, "nox", 0.01)
    assert res["B"].score == 1.0 and res["A"].score == 1.0
    ev = res["B"].evidence
    assert ev["longest_hours"] == 24 and ev["copies"][0]["copy_of"] == "A"
    c = plant(72, seed=4)
    c[48:60] = c[0:12]  # one outlet repeating its own morning two days later
    assert S.copied({"C": (times(72), c)}, "nox", 0.01)["C"].score == 1.0


def test_sudden_level_shift_down():
    v = np.r_[plant(36, 80, seed=5), plant(36, 20, seed=6) * 0.25 + 15]
    ind = S.level_shift("nox", times(v.size), v)
    assert ind.score == 0.6 and ind.evidence["direction"] == "down"
    assert ind.evidence["at"] == T0 + 36 * H


def test_converted_concentration_inconsistent_with_o2():
    c = plant(48)
    o2 = 10 + np.random.default_rng(8).normal(0, 0.5, 48)
    honest = c * (21 - 9) / (21 - o2)
    assert S.o2_inconsistent("nox", c, o2, 9.0, honest).score == 0.0
    faked = honest * 0.7  # reported converted values 30 % below what the O2 reading gives
    ind = S.o2_inconsistent("nox", c, o2, 9.0, faked)
    assert ind.score == 1.0 and ind.evidence["share_inconsistent"] == 1.0
    frozen = S.o2_inconsistent("nox", c, np.full(48, 8.0), 9.0)
    assert frozen.score == 0.7 and frozen.evidence["o2_frozen"] is True


def test_suspicious_report_per_outlet_with_evidence(store):
    uscc = "91350100M000100Y43"
    with store.engine.begin() as c:
        R.add_enterprise(c, uscc, "示例公司", "130100")
        for code in ("G1", "G2"):
            R.upsert_site(c, R.SiteInput(code, "gas_outlet", code, 114.7, 38.1, "130100", uscc))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        s1 = res.get(c, idx["G1"][0], par["nox"], "hour")
        s2 = res.get(c, idx["G2"][0], par["nox"], "hour")
    a = plant(48, seed=1)
    b = plant(48, seed=2)
    b[24:] = a[:24]
    with ObservationWriter(store, "import") as w:
        for i in range(48):
            w.add(s1, int(T0 + H * i), float(a[i]), "N")
            w.add(s2, int(T0 + H * i), float(b[i]), "N")
    run_qc(store, None, datetime.now(UTC))
    with store.engine.connect() as c:
        rep = suspicious_report(c, T0, T0 + 48 * H)
    assert rep["G2"]["score"] >= 0.6
    names = {i["name"] for i in rep["G2"]["indicators"]}
    assert "copied" in names
    copied = next(i for i in rep["G2"]["indicators"] if i["name"] == "copied")
    assert copied["evidence"]["copies"][0]["copy_of"] == "G1"
