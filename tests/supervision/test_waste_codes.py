"""The waste-code table: the 46 categories shipped whole; the shipped codes consistent with them; the full list
loaded from a CSV with every row checked (all or nothing, edition recorded); licences naming a category that is
not in the list refused."""

from __future__ import annotations

import json
from datetime import date

import pytest
from permit_support import uscc
from typer.testing import CliRunner

from ecohub.cli.main import app
from ecohub.domain.errors import InputError
from ecohub.store import registry as R
from ecohub.store.audit import Origin
from ecohub.supervision.waste.codes import (
    add_licence,
    categories,
    import_codes,
    known_code,
    list_codes,
    shipped_codes,
)

ORIG = Origin("test", "system")
HEAD = "code,category,industry,description,hazard\n"


def test_categories_and_shipped_codes():
    cats = categories()
    assert len(cats) == 46 and "HW41" not in cats and cats["HW49"] == "其他废物" and cats["HW50"] == "废催化剂"
    assert [f"HW{n:02d}" for n in (*range(1, 41), *range(45, 51))] == list(cats)
    assert all(r["category"] in cats for r in shipped_codes())


def test_import_codes_all_or_nothing(store, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEAD + "261-151-50,HW50,精细化工产品制造,化学合成过程中产生的废催化剂,T\n"
                   "123-45,HW01,x,y,T\n"  # line 3: not 8 digits
                   "900-999-41,HW41,x,y,T\n"  # line 4: no such category
                   "900-998-49,HW08,x,y,T\n"  # line 5: category disagrees with the code
                   "900-997-49,HW49,x,,T\n"  # line 6: no description
                   "900-996-49,HW49,x,y,X\n"  # line 7: hazard
                   "261-151-50,HW50,x,y,T\n", encoding="utf-8")  # line 8: twice
    res = import_codes(store, ORIG, str(bad), "国家危险废物名录（2025年版）")
    assert res["saved"] == 0
    assert [(e["line"], e["field"]) for e in res["errors"]] == [(3, "code"), (4, "category"), (5, "category"),
                                                                (6, "description"), (7, "hazard"), (8, "code")]
    with store.engine.begin() as c:
        with pytest.raises(InputError, match="unknown waste code"):
            known_code(c, "261-151-50")  # nothing was saved
    good = tmp_path / "good.csv"
    good.write_text(HEAD + "261-151-50,,精细化工产品制造,化学合成过程中产生的废催化剂,T\n"
                    "900-041-49,HW49,非特定行业,含有或沾染毒性、感染性危险废物的废弃包装物、容器、过滤吸附介质,T，In\n",
                    encoding="utf-8")
    res = import_codes(store, ORIG, str(good), "国家危险废物名录（2025年版）")
    assert (res["added"], res["updated"], res["errors"]) == (1, 1, [])
    rows = {r["code"]: r for r in list_codes(store)}
    assert rows["261-151-50"]["category"] == "HW50" and rows["261-151-50"]["edition"] == "国家危险废物名录（2025年版）"
    assert rows["900-041-49"]["hazard"] == "T/In" and len(rows) == len(shipped_codes()) + 1
    with pytest.raises(InputError, match="edition"):
        import_codes(store, ORIG, str(good), "")
    with pytest.raises(InputError, match="missing columns"):
        (tmp_path / "cols.csv").write_text("code,name\n1,2\n", encoding="utf-8")
        import_codes(store, ORIG, str(tmp_path / "cols.csv"), "x")


def test_codes_import_cli_and_licence_category(store, tmp_path):
    url = store.engine.url.render_as_string(hide_password=False)
    f = tmp_path / "c.csv"
    f.write_text(HEAD + "900-999-41,HW41,x,y,T\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["waste", "codes-import", str(f), "--edition", "2025", "--json",
                                 "--database-url", url])
    assert r.exit_code == 1 and json.loads(r.stdout)["errors"][0]["field"] == "category"
    ent = uscc("91130100MA000C001")
    with store.engine.begin() as c:
        R.add_enterprise(c, ent, "处置单位", "130100")
    with pytest.raises(InputError, match="not a category"):
        add_licence(store, ORIG, uscc=ent, licence_no="L1", codes=["HW41"], valid_from=date(2025, 1, 1),
                    valid_to=date(2026, 1, 1))
    assert add_licence(store, ORIG, uscc=ent, licence_no="L1", codes=["HW45"], valid_from=date(2025, 1, 1),
                       valid_to=date(2026, 1, 1))["codes"] == ["HW45"]
