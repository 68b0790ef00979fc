"""Hazardous-waste manifests: the state machine (every illegal transition refused with a clear message), the
discrepancy / overdue / unlicensed-receiver / storage alerts, concurrent updates that never lose a step, and
unknown codes refused with nothing saved — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from permit_support import uscc
from sqlalchemy import func, select

from ecohub.domain.errors import InputError
from ecohub.store import registry as R
from ecohub.store.audit import Origin
from ecohub.store.queries import Scope
from ecohub.store.schema_alerts import alert
from ecohub.store.schema_identity import audit_log
from ecohub.store.schema_waste import manifest, manifest_event, waste_ledger
from ecohub.supervision.waste import ledger as L
from ecohub.supervision.waste import manifest as M
from ecohub.supervision.waste.codes import add_licence, list_codes, normalize_code

GEN = uscc("91130100MA000W001")
REC = uscc("91130200MA000W002")  # same province (13)
FAR = uscc("91370100MA000W003")  # another province (37)
SYS = Scope("system")
ORIG = Origin("test", "system")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def setup(store, *, licence: bool = True) -> None:
    with store.engine.begin() as c:
        R.add_enterprise(c, GEN, "产废单位", "130100")
        R.add_enterprise(c, REC, "处置单位", "130200")
        R.add_enterprise(c, FAR, "外省处置单位", "370100")
    if licence:
        for u, no in ((REC, "冀危许001"), (FAR, "鲁危许001")):
            add_licence(store, ORIG, uscc=u, licence_no=no, codes=["HW08", "900-041-49"], valid_from=date(2025, 1, 1),
                        valid_to=date(2030, 12, 31))


def _alerts(store) -> dict[str, str]:
    with store.engine.connect() as c:
        return {r.cause_key: r.severity for r in c.execute(select(alert.c.cause_key, alert.c.severity).where(
            alert.c.rule.like("waste_%")))}


def _new(store, receiver=REC, code="900-249-08", tonnes=10.0):
    return M.create(store, SYS, ORIG, generator=GEN, receiver=receiver, code=code, tonnes=tonnes, now=T0)["number"]


def test_code_table_and_format():
    assert normalize_code("HW08-900-249-08") == normalize_code("90024908") == "900-249-08"
    with pytest.raises(InputError, match="8 digits"):
        normalize_code("900-249")


def test_happy_path_audited_and_ledger(store):
    setup(store)
    assert {c["category"] for c in list_codes(store)} >= {"HW01", "HW08", "HW49"}
    n = _new(store)
    M.transition(store, SYS, ORIG, n, "dispatch", transporter="危运公司", vehicle="冀A12345", now=T0)
    M.transition(store, SYS, ORIG, n, "receive", tonnes=9.9, now=T0 + timedelta(days=1))
    m = M.transition(store, SYS, ORIG, n, "close", now=T0 + timedelta(days=2))
    assert m["state"] == "closed" and m["version"] == 4
    ev = M.manifest_events(store, SYS, n)
    assert [(e["seq"], e["from_state"], e["to_state"]) for e in ev] == [
        (1, None, "created"), (2, "created", "dispatched"), (3, "dispatched", "received"), (4, "received", "closed")]
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(audit_log).where(audit_log.c.target == f"manifest:{n}")) == 4
        assert sorted(c.execute(select(waste_ledger.c.kind, waste_ledger.c.quantity_t)).all()) == [
            ("received", 9.9), ("shipped", 10.0)]
    assert _alerts(store) == {}  # 1 % difference is within the tolerance; receiver licensed


#: (how to reach the state, action, expected words of the refusal)
ILLEGAL = [
    ([], "receive", "it is created; allowed: approve, dispatch, cancel"),
    ([], "close", "it is created"),
    ([("dispatch",)], "approve", "it is dispatched; allowed: receive"),
    ([("dispatch",)], "dispatch", "it is dispatched"),
    ([("dispatch",)], "cancel", "it is dispatched"),
    ([("dispatch",)], "close", "it is dispatched"),
    ([("dispatch",), ("receive",)], "receive", "it is received; allowed: close"),
    ([("dispatch",), ("receive",)], "dispatch", "it is received"),
    ([("dispatch",), ("receive",), ("close",)], "cancel", "final state"),
    ([("dispatch",), ("receive",), ("close",)], "receive", "final state"),
    ([("cancel",)], "dispatch", "it is cancelled"),
    ([], "approve", "only a cross-province transfer needs approval"),
]
ARGS = {"dispatch": {"transporter": "T", "vehicle": "V"}, "receive": {"tonnes": 10}, "cancel": {"reason": "r"},
        "approve": {"approval_ref": "A1"}, "close": {}}


@pytest.mark.parametrize("path,action,words", ILLEGAL, ids=[f"{'-'.join(a[0] for a in p) or 'created'}:{x}"
                                                            for p, x, _ in ILLEGAL])
def test_illegal_transitions_refused(sqlite_store, path, action, words):
    store = sqlite_store
    setup(store)
    n = _new(store)
    for (a,) in path:
        M.transition(store, SYS, ORIG, n, a, now=T0, **ARGS[a])
    before = M.manifest_events(store, SYS, n)
    with pytest.raises(M.IllegalTransition) as e:
        M.transition(store, SYS, ORIG, n, action, now=T0, **ARGS[action])
    assert words in str(e.value) and e.value.field == "state"
    assert M.manifest_events(store, SYS, n) == before  # nothing recorded


def test_cross_province_needs_approval(store):
    setup(store)
    n = _new(store, receiver=FAR)
    with pytest.raises(M.IllegalTransition, match="must be approved before it is dispatched"):
        M.transition(store, SYS, ORIG, n, "dispatch", transporter="T", vehicle="V", now=T0)
    with pytest.raises(InputError, match="approval_ref"):
        M.transition(store, SYS, ORIG, n, "approve", now=T0)
    with pytest.raises(PermissionError):  # an enterprise cannot approve its own transfer
        gen_id = M.list_manifests(store, SYS)[0]["generator_id"]
        M.transition(store, Scope("enterprise", enterprise_id=gen_id), ORIG, n, "approve", approval_ref="X")
    M.transition(store, Scope("officer", region_code="130100"), ORIG, n, "approve", approval_ref="冀环转〔2026〕1号")
    assert M.transition(store, SYS, ORIG, n, "dispatch", transporter="T", vehicle="V", now=T0)["state"] == "dispatched"


def test_alerts_discrepancy_overdue_unlicensed_storage(store):
    setup(store, licence=False)
    add_licence(store, ORIG, uscc=REC, licence_no="冀危许001", codes=["HW49"], valid_from=date(2025, 1, 1),
                valid_to=date(2030, 12, 31))
    ok = _new(store, code="900-041-49")
    assert _alerts(store) == {}
    bad = _new(store, code="900-249-08")  # HW08: the receiver holds no licence for it
    assert _alerts(store) == {f"waste_unlicensed:{bad}": "major"}
    for n in (ok, bad):
        M.transition(store, SYS, ORIG, n, "dispatch", transporter="T", vehicle="V", now=T0)
    assert M.check_overdue(store, T0 + timedelta(days=M.RECEIPT_DAYS - 1)) == []
    assert sorted(M.check_overdue(store, T0 + timedelta(days=M.RECEIPT_DAYS, hours=1))) == sorted([ok, bad])
    M.transition(store, SYS, ORIG, ok, "receive", tonnes=10 * (1 - M.TOLERANCE) - 0.01, now=T0 + timedelta(days=6))
    a = _alerts(store)
    assert a[f"waste_discrepancy:{ok}"] == "major" and f"waste_overdue:{ok}" in a
    with store.engine.connect() as c:
        active = dict(c.execute(select(alert.c.cause_key, alert.c.active).where(alert.c.rule == "waste_overdue")).all())
    assert not active[f"waste_overdue:{ok}"] and active[f"waste_overdue:{bad}"]  # cleared by the receipt
    # storage: 3 t generated 400 days ago, 1 t shipped since → 2 t stored beyond one year
    L.record_generated(store, SYS, ORIG, uscc=GEN, code="900-041-49", tonnes=13, at=T0 - timedelta(days=400))
    assert L.check_storage(store, T0 + timedelta(days=7)) == [f"waste_storage:{GEN}:900-041-49"]
    st = {s["code"]: s for s in L.storage(store, SYS, GEN)}
    assert st["900-041-49"]["stored_t"] == pytest.approx(3.0)


def test_unknown_code_and_bad_input_nothing_saved(store):
    setup(store)
    for kw, field in [({"code": "999-999-99"}, "code"), ({"code": "HW08"}, "code"), ({"tonnes": -1}, "tonnes"),
                      ({"receiver": uscc("91130100MA0000X99")}, "receiver")]:
        args = {"generator": GEN, "receiver": REC, "code": "900-249-08", "tonnes": 1.0, **kw}
        with pytest.raises(InputError) as e:
            M.create(store, SYS, ORIG, **args)
        assert e.value.field == field
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(manifest)) == 0
        assert c.scalar(select(func.count()).select_from(manifest_event)) == 0


def test_scope_enterprise_and_officer(store):
    setup(store)
    n = _new(store)
    with store.engine.connect() as c:
        ids = dict(c.execute(select(manifest.c.number, manifest.c.receiver_id)).all())
    rec = Scope("enterprise", enterprise_id=ids[n])
    assert [m["number"] for m in M.list_manifests(store, rec)] == [n]
    assert M.list_manifests(store, Scope("officer", region_code="370000")) == []
    assert M.list_manifests(store, Scope("public")) == []
    with pytest.raises(PermissionError):  # the receiver cannot dispatch
        M.transition(store, rec, ORIG, n, "dispatch", transporter="T", vehicle="V")
    assert [m["number"] for m in M.list_manifests(store, SYS, state="open")] == [n]


def test_concurrent_transitions_never_lose_a_step(store):
    """Many threads race to take the same manifest through its steps: each step succeeds exactly once, the
    losers are refused (never a lost or doubled step), the event seq is gap-free."""
    setup(store)
    numbers = [_new(store) for _ in range(4)]
    errors: list[Exception] = []
    wins: dict[tuple[str, str], int] = {}
    lock = threading.Lock()

    def worker(n: str) -> None:
        for a in ("dispatch", "receive", "close"):
            try:
                M.transition(store, SYS, ORIG, n, a, **ARGS[a])
                with lock:
                    wins[(n, a)] = wins.get((n, a), 0) + 1
            except M.IllegalTransition:
                pass
            except Exception as e:  # noqa: BLE001 - any other failure fails the test
                errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in numbers for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for n in numbers:
        ev = M.manifest_events(store, SYS, n)
        assert [e["to_state"] for e in ev] == ["created", "dispatched", "received", "closed"]
        assert [e["seq"] for e in ev] == [1, 2, 3, 4]
    assert all(v == 1 for v in wins.values())


def test_cli_manifest_life_and_refusal(sqlite_store):
    import json

    from typer.testing import CliRunner

    from ecohub.cli.main import app

    store = sqlite_store
    setup(store)
    url = ["--database-url", store.engine.url.render_as_string(hide_password=False)]
    run = CliRunner().invoke
    r = run(app, ["waste", "manifest", "create", "--generator", GEN, "--receiver", REC, "--code", "HW08-900-249-08",
                  "--tonnes", "2.5", "--json", *url])
    assert r.exit_code == 0, r.output
    n = json.loads(r.output)["number"]
    r = run(app, ["waste", "manifest", "receive", n, "--tonnes", "2.5", *url])
    assert r.exit_code == 2 and "it is created" in r.output
    for args in (["dispatch", n, "--transporter", "T", "--vehicle", "冀A1"], ["receive", n, "--tonnes", "2.5"]):
        assert run(app, ["waste", "manifest", *args, *url]).exit_code == 0
    r = run(app, ["waste", "manifests", "--state", "open", "--json", *url])
    assert [json.loads(x)["state"] for x in r.output.splitlines()] == ["received"]
    r = run(app, ["waste", "manifest", "create", "--generator", GEN, "--receiver", REC, "--code", "123-456-78",
                  "--tonnes", "1", *url])
    assert r.exit_code == 2 and "unknown waste code" in r.output
