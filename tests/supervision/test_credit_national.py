"""The national 2013 indicator set (mee-2013-150): weights per area as confirmed, the band rule of indicator 1,
what the platform observes and what it does not (not assessed, renormalised, coverage stated), manual scores,
vetoes, and the service storing it as a new version beside ecohub-credit-v1 — with a complaint substantiated
through the loop counted among the facts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from permit_support import ENT, make_enterprise

from ecohub.domain.errors import InputError
from ecohub.store.audit import Origin
from ecohub.store.queries import SYSTEM, Scope
from ecohub.supervision import complaint_loop as L
from ecohub.supervision import complaints as C
from ecohub.supervision.cases import service as cases
from ecohub.supervision.credit import national2013 as N
from ecohub.supervision.credit import service


def test_weights_add_up_per_area_and_to_100():
    assert len(N.ITEMS) == 21 and [i.no for i in N.ITEMS] == list(range(1, 22))
    for area, (_, w) in N.AREAS.items():
        assert sum(i.weight for i in N.ITEMS if i.area == area) == w
    assert sum(w for _, w in N.AREAS.values()) == 100
    confirmed = {i.no: i.weight for i in N.ITEMS if i.confirmed}
    assert confirmed == {1: 15, 2: 5, 3: 5, 4: 4, 5: 2, 15: 10, 17: 15}


@pytest.mark.parametrize("rate, score", [(1.0, 100.0), (0.9, 80.0), (0.899, 78.8), (0.75, 50.0), (0.7, 39.2),
                                         (0.5, 0.0), (0.3, 0.0)])
def test_indicator_1_bands(rate, score):
    assert N.band_rate(rate) == score


def test_clean_enterprise_is_green_and_unobserved_items_are_not_assessed():
    r = N.rate({"outlets": 2, "exceedance_hours": 0, "permit_missing": 0})
    assert r.level == "green" and r.score == 100.0
    coverage = next(p for p in r.points if p["indicator"] == "coverage")
    assert coverage["fact"] == 15 + 4 + 5 + 15 + 4  # indicators 1, 8, 13, 17, 18
    assert sum(p.get("score", 0) is None for p in r.points) == 16


def test_a_penalty_and_exceedances_lower_the_level():
    # 1 752 exceeding hours of one outlet: 80 % compliance → 第2档 59.7; a decided case: indicator 17 → 0
    r = N.rate({"outlets": 1, "exceedance_hours": 1752, "cases_decided": 1, "substantiated_complaints": 1})
    by = {p["indicator"]: p for p in r.points}
    assert by["i1"]["score"] == 59.7 and by["i17"]["score"] == 0.0 and by["i18"]["score"] == 65.0
    assert r.score == round((59.7 * 15 + 100 * 4 + 100 * 5 + 0 * 15 + 65 * 4) / 43, 2)
    assert r.level == "red"  # 45.86 < 60
    manual = N.rate({"outlets": 1, "cases_decided": 1, "manual_scores": {"15": 100, "3": 90}})
    assert {p["indicator"]: p["basis"] for p in manual.points}["i15"] == "人工录入"
    assert N.rate({"outlets": 1, "monitoring_fraud_cases": 1}).level == "red"  # veto


def test_service_rates_with_the_national_method_and_counts_substantiated_complaints(store, tmp_path):
    make_enterprise(store, code=ENT, region="130105", outlets=(("N-GAS1", "gas_outlet"),))
    o = Origin("o", "officer")
    inp = C.ComplaintInput(category="air", description="工厂烟囱冒黑烟，持续两个小时以上", lon=114.4548, lat=38.0513)
    code = C.submit(store, inp, tmp_path, now=datetime(2026, 3, 1, tzinfo=UTC))["tracking_code"]
    L.advance(store, SYSTEM, o, code, "accepted", now=datetime(2026, 3, 2, tzinfo=UTC))
    n = cases.open_case(store, SYSTEM, o, uscc=ENT, violation="air_exceed", source_kind="complaint", source_ref=code,
                        discovered_on="2026-03-02", filed_on="2026-03-03")["number"]
    cases.advance(store, SYSTEM, o, n, on="2026-03-04")
    cases.add_penalty(store, SYSTEM, o, n, kind="fine", amount_yuan=100_000)
    cases.advance(store, SYSTEM, o, n, on="2026-03-05")
    cases.advance(store, SYSTEM, o, n, "decided", on="2026-03-06", waived=True, note="放弃听证")
    L.link(store, SYSTEM, o, code, case=n)
    v1 = service.rate(store, SYSTEM, o, 2026, uscc=ENT)[0]
    assert v1["facts"]["substantiated_complaints"] == 1 and v1["method"] == "ecohub-credit-v1"
    assert any(p["indicator"] == "substantiated_complaints" for p in v1["points"])
    nat = service.rate(store, SYSTEM, o, 2026, uscc=ENT, method_name="mee-2013-150")[0]
    assert nat["version"] == 2 and nat["method"] == "mee-2013-150" and nat["level"] in ("yellow", "red")
    assert {p["indicator"]: p.get("score") for p in nat["points"]}["i17"] == 0.0
    hist = service.history(store, Scope("officer", region_code="130100"), ENT)
    assert [h["method"] for h in hist] == ["mee-2013-150", "ecohub-credit-v1"]
    with pytest.raises(InputError) as e:
        service.rate(store, SYSTEM, o, 2026, uscc=ENT, method_name="nope")
    assert e.value.field == "method"
