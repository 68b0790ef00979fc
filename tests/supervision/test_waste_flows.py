"""Waste flows for the map: manifests aggregated generator → receiver with their transporters, positions from the
enterprises' sites (else their region), the caller's scope and the state filter; the public permit list shows
no internal ids, sites or persons."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from permit_support import NUMBER, good_tables, make_enterprise, uscc, write_dir
from sqlalchemy import select

from ecohub.domain.errors import InputError
from ecohub.store import registry as R
from ecohub.store.audit import Origin
from ecohub.store.queries import Scope
from ecohub.store.schema import enterprise
from ecohub.supervision.permits.disclosure import public_list
from ecohub.supervision.permits.register import import_register
from ecohub.supervision.waste import manifest as M
from ecohub.supervision.waste.codes import add_licence
from ecohub.supervision.waste.flows import manifest_flows

GEN = uscc("91130100MA000F001")
REC = uscc("91130200MA000F002")  # no site: positioned at its region
SYS = Scope("system")
ORIG = Origin("test", "system")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _setup(store):
    with store.engine.begin() as c:
        R.add_enterprise(c, GEN, "产废单位", "130100")
        R.add_enterprise(c, REC, "处置单位", "130200")
        R.upsert_site(c, R.SiteInput("G-F1", "gas_outlet", "1#", 114.50, 38.00, "130100", GEN))
        R.upsert_site(c, R.SiteInput("G-F2", "gas_outlet", "2#", 114.52, 38.04, "130100", GEN))
    add_licence(store, ORIG, uscc=REC, licence_no="冀危许F", codes=["HW08", "HW49"], valid_from=date(2025, 1, 1),
                valid_to=date(2030, 12, 31))
    ns = [M.create(store, SYS, ORIG, generator=GEN, receiver=REC, code=c, tonnes=t, now=T0)["number"]
          for c, t in (("900-249-08", 2.0), ("900-041-49", 0.5), ("900-249-08", 1.0))]
    M.transition(store, SYS, ORIG, ns[0], "dispatch", transporter="危运甲", vehicle="冀A1", now=T0)
    M.transition(store, SYS, ORIG, ns[1], "dispatch", transporter="危运乙", vehicle="冀A2", now=T0)
    M.transition(store, SYS, ORIG, ns[1], "receive", tonnes=0.5, now=T0)
    M.transition(store, SYS, ORIG, ns[2], "cancel", reason="重复", now=T0)
    return ns


def test_flows_aggregate_position_and_scope(store):
    _setup(store)
    d = manifest_flows(store, SYS)
    assert d["manifests"] == 3 and len(d["flows"]) == 1
    f = d["flows"][0]
    assert (f["generator"], f["receiver"], f["manifests"], f["tonnes"], f["received_t"]) == (GEN, REC, 3, 3.5, 0.5)
    assert f["transporters"] == ["危运乙", "危运甲"] and f["categories"] == ["HW08", "HW49"]
    assert f["states"] == {"dispatched": 1, "received": 1, "cancelled": 1} and f["cross_region"] is False
    nodes = {n["uscc"]: n for n in d["nodes"]}
    assert (nodes[GEN]["lon"], nodes[GEN]["lat"], nodes[GEN]["position"]) == (114.51, 38.02, "sites")
    assert nodes[REC]["position"] == "region" and nodes[REC]["lon"] is not None
    assert nodes[GEN]["generates"] and not nodes[GEN]["receives"] and nodes[REC]["receives"]
    assert manifest_flows(store, SYS, state="open")["manifests"] == 2
    assert manifest_flows(store, SYS, state="cancelled")["flows"][0]["tonnes"] == 1.0
    with pytest.raises(InputError, match="state"):
        manifest_flows(store, SYS, state="lost")
    with store.engine.connect() as c:
        ids = dict(c.execute(select(enterprise.c.uscc, enterprise.c.id)).all())
    assert manifest_flows(store, Scope("enterprise", enterprise_id=ids[REC]))["manifests"] == 3
    assert manifest_flows(store, Scope("enterprise", enterprise_id=-5))["manifests"] == 0
    assert manifest_flows(store, Scope("officer", region_code="130200"))["manifests"] == 3  # the receiver's region
    assert manifest_flows(store, Scope("officer", region_code="370000"))["manifests"] == 0
    assert manifest_flows(store, Scope("public"))["flows"] == []


def test_public_permit_list(store, tmp_path):
    make_enterprise(store)
    assert import_register(store, write_dir(tmp_path / "reg", good_tables())).errors == []
    rows = public_list(store)
    assert [r["number"] for r in rows] == [NUMBER]
    assert set(rows[0]) == {"number", "enterprise", "enterprise_name", "category", "industry", "region_code",
                            "authority", "status", "issued_on", "valid_from", "valid_to"}
    assert public_list(store, q="示例")[0]["number"] == NUMBER
    assert public_list(store, q=NUMBER[-8:].lower())[0]["number"] == NUMBER
    assert public_list(store, q="没有") == [] and public_list(store, region="3700") == []
    assert public_list(store, region="1301")[0]["number"] == NUMBER
