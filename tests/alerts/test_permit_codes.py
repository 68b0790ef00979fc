"""Issue 10 item 3: permit limits resolve HJ 212 codes by the outlet's kind (one function for every entry
point) and convert compatible units instead of refusing them."""

from __future__ import annotations

import pytest
from alerts_support import make_outlet
from sqlalchemy import select

from ecohub.alerts.permits import import_permits
from ecohub.domain import units
from ecohub.domain.parameters import for_site_kind, resolve_for_site
from ecohub.ingest import files, validate
from ecohub.store.schema import parameter, site
from ecohub.store.schema_alerts import permit_limit


def _limits(store) -> dict[tuple[str, str, str], tuple[float, str]]:
    q = (select(site.c.code, parameter.c.name, permit_limit.c.period, permit_limit.c.limit_value, permit_limit.c.unit)
         .select_from(permit_limit.join(site, site.c.id == permit_limit.c.site_id)
                      .join(parameter, parameter.c.id == permit_limit.c.parameter_id)))
    with store.engine.connect() as c:
        return {(r[0], r[1], r[2]): (r[3], r[4]) for r in c.execute(q)}


def test_resolution_by_site_kind_is_one_function():
    assert resolve_for_site("a21026", "gas_outlet").name == "so2_gas"
    assert resolve_for_site("a21026", "air_station").name == "so2"
    assert resolve_for_site("02", "gas_outlet").name == "so2_gas"  # HJ/T 212-2005 code
    assert resolve_for_site("so2", "gas_outlet").unit == "mg/m³"
    assert resolve_for_site("a21005", "gas_outlet").name == "co_gas"
    assert resolve_for_site("a21002", "air_station").name == "nox"  # no ambient twin: unchanged
    # no entry point keeps a resolution of its own: file import, MQTT and HTTP push go through
    # ingest.validate.RecordValidator (for_site_kind), the gateway's records and the permit import through
    # resolve_for_site
    import ecohub.alerts.permits as permits_mod
    import ecohub.ingest.hj212.records as records_mod

    for mod in (validate, files, records_mod, permits_mod):
        assert not hasattr(mod, "site_parameter"), mod.__name__
    assert records_mod.resolve_for_site is permits_mod.resolve_for_site is resolve_for_site
    assert validate.for_site_kind is for_site_kind


def test_units_convert_when_compatible():
    assert units.convert(0.035, "g/m³", "mg/m³") == pytest.approx(35.0)
    assert units.convert(35, "mg/m3", "µg/m³") == pytest.approx(35000.0)
    assert units.convert(500, "ug/m3", "mg/m³") == pytest.approx(0.5)
    assert units.convert(2, "mg/L", "mg/m³") == pytest.approx(2000.0)
    assert units.conversion_factor("mg/m3", "mg/m³") == 1.0
    with pytest.raises(units.IncompatibleUnits):
        units.conversion_factor("ppm", "mg/m³")
    with pytest.raises(units.IncompatibleUnits):
        units.conversion_factor("m³/s", "mg/m³")


def test_permit_import_resolves_by_outlet_kind_and_converts(store, tmp_path):
    make_outlet(store)
    p = tmp_path / "permits.csv"
    p.write_text("site,parameter,limit,unit,period,converted_o2\n"
                 "GAS1,a21026,35,mg/m3,hour,6\n"        # refused before: resolved to ambient SO2 (µg/m³)
                 "GAS1,a21002,0.05,g/m³,hour,6\n"      # converted: 50 mg/m³
                 "GAS1,a21005,80000,µg/m3,day,\n"      # converted: 80 mg/m³ of flue-gas CO
                 "GAS1,a21026,10,ppm,day,6\n",          # a volume ratio is not a unit conversion: refused
                 encoding="utf-8")
    res = import_permits(store, p)
    assert (res.imported, res.rejected) == (3, 1), res.errors
    assert res.errors[0]["field"] == "unit" and "ppm" in res.errors[0]["reason"]
    got = _limits(store)
    assert got[("GAS1", "so2_gas", "hour")] == (35.0, "mg/m³")
    assert got[("GAS1", "nox", "hour")][0] == pytest.approx(50.0)
    assert got[("GAS1", "co_gas", "day")][0] == pytest.approx(80.0)
