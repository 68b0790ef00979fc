"""Soil and noise assessment services and their commands (``ecohub soil assess``, ``ecohub noise assess``)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from ecohub.analytics import noise_service, soil_service
from ecohub.cli.main import app

SOIL_CSV = """site,land_use,ph,cd,hg,as,pb,cr,cu,ni,zn,benzene,region_code
S1,paddy,5.5,0.3,0.5,30,80,250,50,60,200,,130102
S2,paddy,5.6,0.41,0.5,30,80,250,50,60,200,,130102
S3,other,7.6,4.1,0.5,30,80,250,50,60,200,,130104
S4,other,,0.2,,,,,,,,,130104
S5,construction_1,,20.1,,,,,,,,1.0,130104
S6,construction_2,,173,,,,,,,,4.5,130104
S7,forest,6.0,0.1,,,,,,,,,130104
S8,paddy,6.0,abc,0.5,,,,,,,,130104
"""


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_soil_classification_rows():
    res = soil_service.classify_samples(_rows(SOIL_CSV))
    by = {r["site"]: r for r in res.rows}
    assert by["S1"]["class"] == "below_screening"  # pH 5.5 is the ≤5.5 band: Cd 0.3 = screening value
    assert by["S2"]["cd_class"] == "between"  # pH 5.6: paddy Cd 0.4 < 0.41 ≤ 2.0
    assert by["S3"]["cd_class"] == "above_intervention" and by["S3"]["as_class"] == "between"
    assert by["S3"]["class"] == "above_intervention"
    # no pH: the GB 15618 items are not classified, and the error says why
    assert by["S4"]["cd_class"] == "" and by["S4"]["class"] == "" and "ph: missing" in by["S4"]["error"]
    # GB 36600 needs no pH; benzene class 1 screening 1 (= → below), Cd 20.1 > 20 → between
    assert by["S5"]["benzene_class"] == "below_screening" and by["S5"]["cd_class"] == "between"
    assert by["S5"]["standard"] == "GB 36600-2018"
    assert by["S6"]["cd_class"] == "above_intervention" and by["S6"]["benzene_class"] == "between"
    assert "land_use: 'forest'" in by["S7"]["error"] and by["S7"]["class"] == ""
    assert "cd: 'abc' is not a number" in by["S8"]["error"] and by["S8"]["hg_class"] == "below_screening"
    # benzene is not a GB 15618 item: empty class for agricultural rows
    assert by["S1"]["benzene_class"] == ""
    assert any(e.startswith("line 5: ph: missing") for e in res.errors)


def test_soil_summaries():
    res = soil_service.classify_samples(_rows(SOIL_CSV))
    county = {r["region_code"]: r for r in soil_service.summarize(res.rows, "region_code")}
    assert county["130102"]["samples"] == 2 and county["130102"]["between"] == 1
    assert county["130102"]["worst"] == "between" and county["130102"]["pollutants_above_screening"] == ["cd"]
    assert county["130104"]["above_intervention"] == 2 and county["130104"]["unclassified"] == 2


def test_soil_assess_command(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(SOIL_CSV, encoding="utf-8")
    res = CliRunner().invoke(app, ["soil", "assess", str(src), "-o", str(out)])
    assert res.exit_code == 1  # rows with errors
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 8 and rows[2]["class"] == "above_intervention"
    assert "cd_class" in rows[0] and "class" in rows[0]


def test_soil_assess_output_is_neutralised(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("site,land_use,ph,cd\n=HYPERLINK(\"x\"),paddy,6,0.1\n", encoding="utf-8")
    CliRunner().invoke(app, ["soil", "assess", str(src), "-o", str(out)])
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["site"] == "'=HYPERLINK(\"x\")" and rows[0]["cd_class"] == "below_screening"


def test_soil_assess_command_bad_files(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("site,ph,cd\nA,6,0.1\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["soil", "assess", str(p)])
    assert res.exit_code == 2 and "land_use" in res.output
    res = CliRunner().invoke(app, ["soil", "assess", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2 and "no such file" in res.output


def _hours(day0: datetime, values: list[float | None]) -> tuple[list[datetime], list[float | None]]:
    return [day0 + timedelta(hours=i) for i in range(len(values))], values


def test_functional_zone_day_night_and_gaps():
    # Beijing 2026-11-02 06:00 = 2026-11-01 22:00 UTC; 24 hours: 16 day at 58 dB, 8 night at 48 dB
    t0 = datetime(2026, 11, 1, 22, tzinfo=UTC)
    times, leq = _hours(t0, [58.0] * 16 + [48.0] * 8)
    res = noise_service.functional_zone(times, leq, "2")
    d = res["days"][0]
    assert d["date"] == "2026-11-02" and d["ld"] == 58.0 and d["ln"] == 48.0
    assert d["ld_complies"] is True and d["ln_complies"] is True and res["day_compliance_rate"] == 100.0
    # class 1 (55/45): both exceed
    res1 = noise_service.functional_zone(times, leq, "1")
    assert res1["days"][0]["ld_complies"] is False and res1["night_compliance_rate"] == 0.0
    # gaps: 5 night hours missing → night not assessed, named in gaps
    leq_gap = [58.0] * 16 + [48.0, 48.0, 48.0] + [None] * 5
    res2 = noise_service.functional_zone(times, leq_gap, "2")
    assert res2["days"][0]["ln"] is None and res2["days"][0]["ln_complies"] is None
    assert res2["gaps"] == ["2026-11-02 night: 3 of 8 hours (fewer than 6) — not assessed"]
    assert res2["night_assessed"] == 0 and res2["night_compliance_rate"] is None


def test_functional_zone_from_minutes_and_lmax():
    t0 = datetime(2026, 11, 1, 22, tzinfo=UTC)
    times = [t0 + timedelta(minutes=i) for i in range(24 * 60)]
    leq = [60.0 if (i // 60) < 16 else 50.0 for i in range(24 * 60)]
    lmax = [None] * len(times)
    lmax[-1] = 70.0  # night limit 50 (class 2) + 15 = 65 → fails
    res = noise_service.functional_zone(times, leq, "2", interval="minute", lmax=lmax)
    d = res["days"][0]
    assert d["ld"] == 60.0 and d["ld_complies"] is True and d["lmax_complies"] is False


def test_regional_and_road():
    r = noise_service.regional([52.0, 54.0, None, 56.0], "day")
    assert r["mean"] == 54.0 and r["grade"] == 2 and r["grade_zh"] == "较好" and r["points"] == 3
    road = noise_service.road_traffic([70.0, 66.0], [1.0, 3.0], "day")
    assert road["mean"] == 67.0 and road["grade"] == 1


def test_noise_assess_command(tmp_path):
    lines = ["time,site,leq"]
    for h in range(24):
        v = "" if h in (2, 3, 4) else ("58" if 6 <= h < 22 else "47")
        lines.append(f"2026-11-02T{h:02d}:00:00+08:00,N1,{v}")
    src, out = tmp_path / "n.csv", tmp_path / "o.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["noise", "assess", str(src), "--zone", "2", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    by = {r["date"]: r for r in rows}
    assert by["2026-11-02"]["ld"] == "58.0"
    # the night of 11-01 (00–05 on 11-02) has 3 of 8 hours: not assessed, reported
    assert by["2026-11-01"]["ln"] == "" and "2026-11-01 night: 3 of 8 hours" in res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary[0]["site"] == "N1"
    bad = tmp_path / "b.csv"
    bad.write_text("time,site,leq\n2026-11-02T01:00,N1,70\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["noise", "assess", str(bad), "--zone", "9"])
    assert res.exit_code == 2 and "zone" in res.output


@pytest.mark.parametrize("kind,text,grade", [
    ("regional", "point,leq,period\np1,52,day\np2,56,day\np3,41,night\n", 2),
    ("road", "section,leq,length_km,period\nr1,70,1,day\nr2,66,3,day\n", 1),
])
def test_noise_assess_grades(tmp_path, kind, text, grade):
    src = tmp_path / "g.csv"
    src.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(app, ["noise", "assess", str(src), "--kind", kind])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert int(rows[0]["grade"]) == grade


def test_soil_import_store_and_list(store, tmp_path):
    from ecohub.analytics import soil_store
    from ecohub.store.queries import PUBLIC, SYSTEM, Scope

    text = ("site,land_use,ph,cd,pb,lon,lat,region_code,time\n"
            "SP1,paddy,6.0,0.5,50,114.5,38.0,130102,2026-11-05T10:00\n"
            "SP1,paddy,6.0,2.1,50,,,,2026-11-20T10:00\n"
            "SP2,construction_1,,25,,115.5,39.0,130600,\n"
            "SP3,paddy,,0.2,,116.0,39.5,130600,2026-11-06\n"
            "SP4,forest,6,0.1,,116,39,130600,\n"
            "SP5,paddy,6,0.1,,,,,\n")
    res = soil_store.import_samples(store, list(csv.DictReader(io.StringIO(text))), actor="t")
    assert res.imported == 4 and res.sites_created == 3
    assert any("land_use: 'forest'" in r for r in res.rejected) and any("SP5" in r for r in res.rejected)
    rows = soil_store.samples(store, scope=SYSTEM)
    by = {(r["site"], r["sampled_at"].day if r["sampled_at"] else None): r for r in rows}
    assert by[("SP1", 20)]["worst"] == "above_intervention"  # Cd 2.1 > 2.0 (pH 5.5–6.5)
    assert by[("SP1", 5)]["classes"] == {"cd": "between", "pb": "below_screening"}
    sp3 = next(r for r in rows if r["site"] == "SP3")
    assert sp3["worst"] is None and "ph: missing" in sp3["note"]
    s = soil_store.summaries(rows)
    county = {r["region_code"]: r for r in s["by_county"]}
    assert county["130102"]["samples"] == 2 and county["130102"]["worst"] == "above_intervention"
    # soil points are ambient: open to the public; an officer of another city sees them too (open data)
    assert len(soil_store.samples(store, scope=PUBLIC)) == 4
    assert len(soil_store.samples(store, scope=Scope("officer", region_code="130100"), region="130100")) == 2
