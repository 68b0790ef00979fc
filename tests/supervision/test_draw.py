"""The random draw (双随机): a specified algorithm — reproducible across runs and backends, ratios and avoidance
rules holding over 1,000 simulated draws, a period never drawn twice, verification, publication, scope."""

from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest
from permit_support import uscc
from sqlalchemy import func, select
from typer.testing import CliRunner

from ecohub.domain.errors import InputError
from ecohub.store import registry as R
from ecohub.store.audit import Origin
from ecohub.store.queries import SYSTEM, Scope
from ecohub.store.schema_enforcement import insp_draw
from ecohub.supervision.inspect import draw as algo
from ecohub.supervision.inspect import service

ORIG = Origin("admin", "admin")


def _directory(rng: random.Random, n_obj: int, n_insp: int):
    cities = ["1301", "1302"]
    objs = [algo.Obj(f"U{i:05d}", rng.choice(["key", "general", "special"]), rng.choice(cities) + "02")
            for i in range(n_obj)]
    insps = []
    for j in range(n_insp):
        linked = tuple(o.uscc for o in rng.sample(objs, k=min(len(objs), rng.randint(0, 4))))
        insps.append(algo.Inspector(f"I{j:03d}", rng.choice(cities) + "00", linked))
    return objs, insps


def test_ratios_and_avoidance_hold_over_1000_draws():
    rng = random.Random(20261204)  # generates the test directories only; the draw has its own stream
    for k in range(1000):
        objs, insps = _directory(rng, rng.randint(5, 40), rng.randint(8, 16))
        ratios = {"key": rng.choice([0.2, 0.25, 1.0]), "general": rng.choice([0.0, 0.05, 0.1]),
                  "special": rng.choice([0.5, 0.3])}
        local = k % 2 == 0
        try:
            res = algo.run(objs, insps, seed=f"s{k}", period="2026-12", scope="000000", ratios=ratios,
                           rules={"local": local})
        except InputError as e:  # refused only when an object really lacks two eligible inspectors
            assert "fewer than two eligible" in str(e)
            bad = e.value
            o = next(o for o in objs if o.uscc == bad)
            ok = [i for i in insps if bad not in i.linked and (not local or i.region_code[:4] == o.region_code[:4])]
            assert len(ok) < 2
            continue
        by = {o.uscc: o for o in objs}
        counts = Counter(o.category for o in objs)
        got = Counter(r["category"] for r in res)
        for cat, n in counts.items():
            assert got[cat] == (min(n, math.ceil(ratios[cat] * n - 1e-9)) if ratios[cat] > 0 else 0)
        assert len({r["enterprise"] for r in res}) == len(res)
        insp_by = {i.code: i for i in insps}
        for r in res:
            a, b = r["inspectors"]
            assert a != b
            for code in (a, b):
                assert r["enterprise"] not in insp_by[code].linked
                if local:
                    assert insp_by[code].region_code[:4] == by[r["enterprise"]].region_code[:4]
        # the same inputs and seed: the same result
        again = algo.run(list(reversed(objs)), list(reversed(insps)), seed=f"s{k}", period="2026-12",
                         scope="000000", ratios=ratios, rules={"local": local})
        assert again == res


def test_the_stream_is_specified():
    """Golden values of ecohub-draw-v1: a change of the algorithm shows here (and needs a new version name)."""
    s = algo.Stream("42", "2026-12", "000000")
    first = [s.below(10) for _ in range(8)]
    objs = [algo.Obj(f"U{i}", "key", "130102") for i in range(10)]
    insps = [algo.Inspector(f"I{j}", "130100") for j in range(4)]
    res = algo.run(objs, insps, seed="42", period="2026-12", scope="000000", ratios={"key": 0.3})
    assert len(res) == 3
    assert first == [s2 for s2 in _reference_below("42", "2026-12", "000000", 8, 10)]
    assert algo.run(objs, insps, seed="43", period="2026-12", scope="000000", ratios={"key": 0.3}) != res


def _reference_below(seed: str, period: str, scope: str, n: int, m: int) -> list[int]:
    """An independent re-implementation of step 1 from the module's text (not its code)."""
    import hashlib

    key = f"ecohub-draw-v1|{seed}|{period}|{scope}".encode()
    data = b"".join(hashlib.sha256(key + i.to_bytes(8, "big")).digest() for i in range(8))
    words = [int.from_bytes(data[i:i + 8], "big") for i in range(0, len(data), 8)]
    limit = 2**64 - (2**64 % m)
    return [w % m for w in words if w < limit][:n]


def test_bad_input():
    objs = [algo.Obj("U1", "key", "130102")]
    with pytest.raises(InputError, match="ratio"):
        algo.run(objs, [], seed="1", period="2026-12", scope="0", ratios={"key": 1.5})
    with pytest.raises(InputError, match="no ratio for categories"):
        algo.run(objs, [], seed="1", period="2026-12", scope="0", ratios={"general": 0.5})
    with pytest.raises(InputError, match="seed"):
        algo.run(objs, [], seed=" ", period="2026-12", scope="0", ratios={"key": 0.5})


@pytest.fixture
def directory(store):
    ents = [uscc(f"9113010{i:02d}MA000000") for i in range(12)]
    with store.engine.begin() as c:
        for i, u in enumerate(ents):
            R.add_enterprise(c, u, f"企业{i}", "130102" if i % 2 else "130104")
    objs = "uscc,category\n" + "".join(f"{u},{'key' if i < 4 else 'general'}\n" for i, u in enumerate(ents))
    objs += "91130100MA0000009X,key\n" + f"{ents[0]},bogus\n"
    rep = service.import_objects(store, SYSTEM, ORIG, data=objs.encode())
    assert rep["imported"] == 12 and [r["field"] for r in rep["rejected"]] == ["uscc", "category"]
    insp = "code,name,region,qualifications,linked\n" + "".join(
        f"P{j},检查员{j},130100,执法证,{ents[0] if j < 3 else ''}\n" for j in range(5)) + "P9,无名,999999,,\n"
    rep = service.import_inspectors(store, SYSTEM, ORIG, data=insp.encode())
    assert rep["imported"] == 5 and rep["rejected"][0]["field"] == "region"
    return store, ents


def test_draw_recorded_verified_refused_twice(directory):
    store, ents = directory
    d = service.perform(store, SYSTEM, ORIG, period="2026-12", seed="2026120401", ratios={"key": 0.5, "general": 0.25})
    assert [i["category"] for i in d["items"]] == ["general", "general", "key", "key"]
    for i in d["items"]:
        if i["enterprise_uscc"] == ents[0]:
            assert not {x["code"] for x in i["inspectors"]} & {"P0", "P1", "P2"}
    # the same as the pure algorithm on the same inputs: identical on SQLite and PostgreSQL
    with store.engine.connect() as c:
        inputs = c.scalar(select(insp_draw.c.inputs))
    objs = [algo.Obj(*o) for o in inputs["objects"]]
    insps = [algo.Inspector(code, r, tuple(linked)) for code, r, linked in inputs["inspectors"]]
    pure = algo.run(objs, insps, seed="2026120401", period="2026-12", scope="000000",
                    ratios={"key": 0.5, "general": 0.25})
    assert algo.sha256(pure) == d["result_sha256"]
    v = service.verify(store, d["id"])
    assert v["same"] and not v["directories_changed_since"]
    with pytest.raises(InputError, match="already drawn"):
        service.perform(store, SYSTEM, ORIG, period="2026-12", seed="another")
    service.publish(store, SYSTEM, ORIG, d["id"])
    service.close(store, SYSTEM, ORIG, d["id"])
    with pytest.raises(InputError, match="already drawn .*closed"):
        service.perform(store, SYSTEM, ORIG, period="2026-12", seed="2026120401")
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(insp_draw)) == 1
    pub = service.get_draw(store, Scope("public"), d["id"], public=True)
    assert "inspectors" not in pub["items"][0] and pub["seed"] == "2026120401"
    # tampering with the record is detected
    with store.engine.begin() as c:
        c.execute(insp_draw.update().values(result_sha256="0" * 64))
    assert not service.verify(store, d["id"])["same"]


def test_draw_scope_and_refusal(directory):
    store, _ = directory
    with pytest.raises(PermissionError):
        service.perform(store, Scope("officer", region_code="130104"), ORIG, period="2026-11", seed="1",
                        scope_code="000000")
    with pytest.raises(PermissionError):
        service.list_draws(store, Scope("enterprise", enterprise_id=1))
    with pytest.raises(InputError, match="fewer than two eligible"):  # avoidance leaves 2 for ents[0]: make it 1
        with store.engine.begin() as c:
            from ecohub.store.schema_enforcement import inspector
            c.execute(inspector.update().where(inspector.c.code == "P3").values(active=False))
        service.perform(store, SYSTEM, ORIG, period="2026-11", seed="1", ratios={"key": 1.0, "general": 1.0})
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(insp_draw)) == 0
    with pytest.raises(InputError, match="period"):
        service.perform(store, SYSTEM, ORIG, period="2026-13", seed="1")


def test_cli_draw_and_verify(sqlite_store, tmp_path):
    from ecohub.cli.main import app

    ents = [uscc(f"9113010{i:02d}MA000000") for i in range(4)]
    with sqlite_store.engine.begin() as c:
        for i, u in enumerate(ents):
            R.add_enterprise(c, u, f"企业{i}", "130102")
    (tmp_path / "o.csv").write_text("uscc,category\n" + "".join(f"{u},key\n" for u in ents), encoding="utf-8")
    (tmp_path / "i.csv").write_text("code,name,region\nA,甲,130100\nB,乙,130100\nC,丙,130102\n", encoding="utf-8")
    url = str(sqlite_store.engine.url)
    run = CliRunner().invoke
    assert run(app, ["inspect", "objects", "import", str(tmp_path / "o.csv"), "--database-url", url]).exit_code == 0
    assert run(app, ["inspect", "inspectors", "import", str(tmp_path / "i.csv"), "--database-url", url]).exit_code == 0
    r = run(app, ["inspect", "draw", "--period", "2026-12", "--seed", "S", "--json", "--database-url", url])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert len(d["items"]) == 1
    r = run(app, ["inspect", "draw", "verify", str(d["id"]), "--json", "--database-url", url])
    assert r.exit_code == 0 and json.loads(r.output)["same"] is True
    r = run(app, ["inspect", "draw", "--period", "2026-12", "--seed", "S", "--database-url", url])
    assert r.exit_code == 2 and "never redone" in r.output
