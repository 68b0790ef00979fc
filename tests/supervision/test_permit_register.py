"""The permit register: number rule, import from Excel and CSV, versions, the existing limit rows migrated
(attached, not copied), and bad input answered with table, line, field and reason with nothing half-saved."""

from __future__ import annotations

import json

import pytest
from permit_support import ENT, ENT2, NUMBER, good_tables, make_enterprise, uscc, write_dir, write_xlsx
from sqlalchemy import func, select
from typer.testing import CliRunner

from ecohub.alerts.permits import import_permits
from ecohub.domain.errors import InputError, NotFound
from ecohub.store.queries import Scope
from ecohub.store.schema_alerts import permit_limit
from ecohub.store.schema_permits import permit, permit_outlet, permit_version
from ecohub.supervision.permits.numbers import check_number
from ecohub.supervision.permits.register import import_register, list_permits, permit_detail, public_view


def _count(store, table) -> int:
    with store.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(table)))


def test_number_rule_hj608_example_and_errors():
    # HJ 608-2017 Appendix A example: 河钢股份有限公司唐山分公司
    assert check_number("91130200699229617X001P") == "91130200699229617X001P"
    assert check_number("91130200699229617x001p", "91130200699229617X", "key") == "91130200699229617X001P"
    for bad, why in [("91130200699229617X001", "22"), ("91130200699229617Y001P", "USCC"),
                     ("91130200699229617X000P", "001-999"), ("91130200699229617X0A1P", "001-999"),
                     ("91130200699229617X001Q", "must be P")]:
        with pytest.raises(InputError, match=why):
            check_number(bad)
    with pytest.raises(InputError, match="not the enterprise's USCC"):
        check_number("91130200699229617X001P", ENT)
    with pytest.raises(InputError, match="ends in W"):
        check_number("91130200699229617X001P", category="registration")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_import_register_and_show(store, tmp_path, fmt):
    make_enterprise(store)
    t = good_tables()
    path = write_xlsx(tmp_path / "reg.xlsx", t) if fmt == "xlsx" else write_dir(tmp_path / "reg", t)
    res = import_register(store, path)
    assert res.errors == [] and res.saved == [NUMBER]
    d = permit_detail(store, Scope("system"), NUMBER)
    assert d["category"] == "key" and d["status"] == "valid" and d["valid_to"] == "2029-01-14"
    assert {o["outlet_code"]: o["outlet_type"] for o in d["outlets"]} == {"DA001": "main", "DA002": "general"}
    lim = {(x["outlet"], x["parameter"]): x for x in d["limits"]}
    # a21026 on a gas outlet is flue-gas SO2 in mg/m³; µg/m³ and g/m³ converted to it
    assert lim[("DA001", "so2_gas")]["limit_value"] == pytest.approx(35.0)
    assert lim[("DA001", "so2_gas")]["unit"] == "mg/m³" and lim[("DA001", "so2_gas")]["converted_o2"] == 6
    assert lim[("DA002", "so2_gas")]["limit_value"] == pytest.approx(35.0)
    assert lim[("DA001", "nox")]["standard"] == "GB 13223-2011"
    assert {x["parameter"]: x["tonnes_per_year"] for x in d["tonnage"]} == {"so2_gas": 120, "nox": 200}
    assert [v["kind"] for v in d["versions"]] == ["issue"]


def test_existing_limit_rows_are_migrated_not_duplicated(store, tmp_path):
    make_enterprise(store)
    legacy = tmp_path / "limits.csv"
    legacy.write_text("site,parameter,limit,unit,period,converted_o2\nGAS1,a21026,50,mg/m³,hour,6\n"
                      "GAS1,smoke,10,mg/m³,hour,6\n", encoding="utf-8")
    assert import_permits(store, legacy).imported == 2
    with store.engine.connect() as c:
        before = {r.id: r.permit_id for r in c.execute(select(permit_limit.c.id, permit_limit.c.permit_id))}
    assert set(before.values()) == {None}
    res = import_register(store, write_dir(tmp_path / "reg", good_tables()))
    assert res.errors == []
    with store.engine.connect() as c:
        pid = c.scalar(select(permit.c.id))
        after = {(r.site_id, r.parameter_id, r.period): (r.id, r.permit_id, r.limit_value) for r in c.execute(
            select(permit_limit))}
    # the two legacy rows keep their ids and now belong to the permit; SO2 got the register's value
    assert {v[0] for v in after.values()} >= set(before)
    assert all(v[1] == pid for v in after.values())
    assert len(after) == 4  # GAS1 so2_gas, smoke, nox + GAS2 so2_gas — no second SO2 row for GAS1
    # and `ecohub permit import` keeps working on a registered outlet: same row, still the permit's
    legacy.write_text("site,parameter,limit,unit,period\nGAS1,a21026,30,mg/m3,hour\nGAS2,nox,100,mg/m³,day\n",
                      encoding="utf-8")
    r = import_permits(store, legacy)
    assert (r.imported, r.updated, r.rejected) == (1, 1, 0)
    with store.engine.connect() as c:
        assert set(c.scalars(select(permit_limit.c.permit_id))) == {pid}
        assert _count(store, permit_limit) == 5


def test_versions_renewal_change_revocation_never_overwrite(store, tmp_path):
    make_enterprise(store)
    assert import_register(store, write_dir(tmp_path / "a", good_tables())).errors == []
    h = good_tables()["permits"][0]
    renew = {"permits": [h, [NUMBER, ENT, "key", "", "2029-01-10", "2029-01-15", "2034-01-14", "renewal"]]}
    assert import_register(store, write_dir(tmp_path / "b", renew)).errors == []
    change = {"limits": good_tables()["limits"][:1] + [[NUMBER, "DA001", "smoke", "5", "mg/m³", "hour", "6", ""]]}
    assert import_register(store, write_dir(tmp_path / "c", change)).errors == []
    revoke = {"permits": [h, [NUMBER, ENT, "key", "", "2030-06-01", "", "", "revocation"]]}
    assert import_register(store, write_dir(tmp_path / "d", revoke)).errors == []
    d = permit_detail(store, Scope("system"), NUMBER)
    assert [(v["seq"], v["kind"]) for v in d["versions"]] == [(1, "issue"), (2, "renewal"), (3, "change"),
                                                              (4, "revocation")]
    assert d["status"] == "revoked" and d["valid_to"] == "2030-06-01"
    assert d["versions"][1]["valid_to"] == "2034-01-14"  # the renewal's row is kept as it was
    with store.engine.connect() as c:
        snaps = [json.dumps(s) for s in c.scalars(select(permit_version.c.snapshot).order_by(permit_version.c.seq))]
    assert "smoke" not in snaps[0] and "smoke" in snaps[2]


def _errors(res):
    return [(e["table"], e["line"], e["field"]) for e in res.errors]


def test_bad_input_named_and_nothing_half_saved(store, tmp_path):
    make_enterprise(store)
    make_enterprise(store, code=ENT2, outlets=(("W1", "water_outlet"),))
    n2 = ENT2 + "001P"
    t = good_tables()
    t["permits"].append([n2, ENT2, "key", "", "2024-01-01", "2024-01-01", "2028-12-31", "issue"])
    t["outlets"].append([n2, "DW001", "W1", "main", "", ""])
    t["limits"].append([n2, "DW009", "cod", "50", "mg/L", "day", "", ""])  # unknown outlet
    res = import_register(store, write_dir(tmp_path / "a", t))
    assert res.saved == [NUMBER] and res.rejected == [n2]
    assert _errors(res) == [("limits", 5, "outlet")] and "unknown outlet" in res.errors[0]["reason"]
    # nothing of the rejected permit was kept: no permit row, no outlet, no version
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(permit).where(permit.c.number == n2)) == 0
        assert _count(store, permit_outlet) == 2 and _count(store, permit_version) == 1

    cases = {
        "units": ({"limits": [good_tables()["limits"][0], [NUMBER, "DA001", "nox", "50", "ppm", "hour", "", ""]]},
                  ("limits", 2, "unit"), "cannot be converted"),
        "duplicate": ({"permits": good_tables()["permits"]}, ("permits", 2, "number"), "duplicate permit number"),
        "overlap": ({"permits": [good_tables()["permits"][0],
                                 [NUMBER, ENT, "key", "", "2028-01-01", "2028-06-01", "2033-01-01", "renewal"]]},
                    ("permits", 2, "valid_from"), "overlapping validity"),
        "wrong_uscc": ({"permits": [good_tables()["permits"][0],
                                    [uscc("91130100MA0000009") + "001P", ENT, "key", "", "2024-01-01", "2024-01-01",
                                     "2025-01-01", "issue"]]}, ("permits", 2, "number"), "not the enterprise's USCC"),
        "unknown_site": ({"outlets": [good_tables()["outlets"][0], [NUMBER, "DA003", "NOPE", "main", "", ""]]},
                         ("outlets", 2, "site"), "unknown outlet"),
        "coords": ({"outlets": [good_tables()["outlets"][0], [NUMBER, "DA001", "GAS1", "main", "115.5", ""]]},
                   ("outlets", 2, "lon"), "differs"),
    }
    for name, (tables, where, why) in cases.items():
        before = (_count(store, permit_version), _count(store, permit_limit))
        res = import_register(store, write_dir(tmp_path / name, tables))
        assert _errors(res) == [where], name
        assert why in res.errors[0]["reason"], name
        assert (_count(store, permit_version), _count(store, permit_limit)) == before, name


def test_duplicate_number_within_one_file(store, tmp_path):
    make_enterprise(store)
    t = good_tables()
    t["permits"].append(t["permits"][1])
    res = import_register(store, write_dir(tmp_path / "a", t))
    assert res.rejected == [NUMBER] and _errors(res) == [("permits", 3, "number")]
    assert _count(store, permit) == 0


def test_scope_officer_region_and_enterprise_own(store, tmp_path):
    make_enterprise(store)
    make_enterprise(store, code=ENT2, region="130200", outlets=(("W1", "water_outlet"),))
    t = good_tables()
    n2 = ENT2 + "001P"
    t["permits"].append([n2, ENT2, "simplified", "", "2024-01-01", "2024-01-01", "2028-12-31", "issue"])
    assert import_register(store, write_dir(tmp_path / "a", t)).errors == []
    with store.engine.connect() as c:
        e1 = c.scalar(select(permit.c.enterprise_id).where(permit.c.number == NUMBER))
    assert [p["number"] for p in list_permits(store, Scope("officer", region_code="130100"))] == [NUMBER]
    assert [p["number"] for p in list_permits(store, Scope("enterprise", enterprise_id=e1))] == [NUMBER]
    assert list_permits(store, Scope("public")) == []
    with pytest.raises(NotFound):
        permit_detail(store, Scope("officer", region_code="130100"), n2)
    pub = public_view(store, NUMBER)
    assert "site" not in json.dumps(pub["outlets"]) and "lon" not in json.dumps(pub)
    assert pub["exceedances"] == []
    from ecohub.alerts.lifecycle import Condition, raise_condition
    from ecohub.store.schema import parameter as par_t
    from ecohub.store.schema import site as site_t

    with store.engine.begin() as c:
        sid = c.scalar(select(site_t.c.id).where(site_t.c.code == "GAS1"))
        pid = c.scalar(select(par_t.c.id).where(par_t.c.name == "so2_gas"))
        raise_condition(c, Condition(rule="permit", cause_key="permit:GAS1:so2_gas:hour", severity="major",
                                     message="超标", site_id=sid, parameter_id=pid, level=35, value=52), 1_767_225_600)
    exc = public_view(store, NUMBER)["exceedances"]
    assert [(e["outlet"], e["parameter"], e["value"], e["level"]) for e in exc] == [("DA001", "so2_gas", 52, 35)]
    assert "GAS1" not in json.dumps(public_view(store, NUMBER))


def test_cli_register_import_and_show(store, tmp_path, monkeypatch):
    from ecohub.cli.main import app

    make_enterprise(store)
    url = store.engine.url.render_as_string(hide_password=False)
    path = write_xlsx(tmp_path / "reg.xlsx", good_tables())
    r = CliRunner().invoke(app, ["permit", "register", "import", str(path), "--json", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["saved"] == 1
    r = CliRunner().invoke(app, ["permit", "show", NUMBER, "--json", "--database-url", url])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["number"] == NUMBER and len(d["outlets"]) == 2
    r = CliRunner().invoke(app, ["permit", "show", "nope", "--database-url", url])
    assert r.exit_code == 2
