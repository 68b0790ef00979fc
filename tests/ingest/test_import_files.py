"""File import: long/wide CSV, gzip, GB18030, Excel; bad rows quarantined; re-import is all duplicates."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from ecohub.ingest.files import import_file
from ecohub.ingest.readers import FileUnreadable
from ecohub.store import registry as R
from ecohub.store.schema import observation, quarantine, site


@pytest.fixture
def sites(store):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
        R.upsert_site(c, R.SiteInput("1030A", "air_station", "高新区", 114.6, 38.05, "130100"))
        R.add_enterprise(c, "91350100M000100Y43", "示例电厂", "130100")
        R.upsert_site(c, R.SiteInput("GAS1", "gas_outlet", "1#排口", 114.7, 38.1, "130100", "91350100M000100Y43"))
    return store


LONG = """site,parameter,time,value,flag
1029A,pm25,2019-01-08T01:00:00+08:00,120,N
1029A,pm25,2019-01-08T02:00,130,
1029A,a34002,2019-01-08 02:00:00,180,N
1030A,so2,2019-01-08T01:00:00Z,15,N
NOPE,pm25,2019-01-08T01:00:00+08:00,1,N
1029A,pm25,not-a-time,1,N
1029A,pm25,2019-01-08T03:00:00+08:00,abc,N
1029A,xyz,2019-01-08T03:00:00+08:00,1,N
1029A,pm25,2019-01-08T04:00:00+08:00,,
1029A,pm25,2019-01-08T05:00:00+08:00,,D
1029A,pm25,2019-01-08T06:00:00+08:00,NaN,
1029A,pm25
1029A,pm25,2099-01-01T00:00:00+08:00,5,N
1029A,pm25,2019-01-08T07:00:00+08:00,7,TOOLONG
"""


def test_long_csv_counts_and_quarantine(sites, tmp_path):
    f = tmp_path / "long.csv"
    f.write_text(LONG, encoding="utf-8")
    s = import_file(sites, f)
    assert s.format == "long"
    assert s.counts() == {"imported": 5, "duplicates": 0, "conflicts": 0, "rejected": 9}
    with sites.engine.connect() as c:
        q = c.execute(select(quarantine.c.line, quarantine.c.field, quarantine.c.reason).order_by(quarantine.c.line)).all()
        times = sorted(c.scalars(select(observation.c.time)))
    lines = {r.line: (r.field, r.reason) for r in q}
    assert set(lines) == {6, 7, 8, 9, 10, 12, 13, 14, 15}
    assert lines[6][0] == "site" and "NOPE" in lines[6][1]
    assert lines[7][0] == "time" and "not-a-time" in lines[7][1]
    assert lines[8][0] == "value" and "abc" in lines[8][1]
    assert lines[9][0] == "parameter" and "xyz" in lines[9][1]
    assert "future" in lines[14][1]
    assert lines[15][0] == "flag"
    # naive time = Beijing: 02:00+08 is 18:00Z the day before; Z is UTC
    assert datetime(2019, 1, 7, 17, tzinfo=UTC) in times and datetime(2019, 1, 8, 1, tzinfo=UTC) in times


def test_reimport_is_all_duplicates_and_changed_value_is_conflict(sites, tmp_path):
    f = tmp_path / "long.csv"
    f.write_text(LONG, encoding="utf-8")
    import_file(sites, f)
    again = import_file(sites, f)
    assert again.counts() == {"imported": 0, "duplicates": 5, "conflicts": 0, "rejected": 9}
    f.write_text(LONG.replace(",120,N", ",121,N"), encoding="utf-8")
    changed = import_file(sites, f)
    assert changed.counts() == {"imported": 0, "duplicates": 4, "conflicts": 1, "rejected": 9}


def test_wide_csv_gzip_and_gb18030(sites, tmp_path):
    text = "site,time,pm25,pm10,so2,bogus\n1029A,2019-01-08 01:00,100,150,,7\n1030A,2019-01-08 01:00,90,x,10,\n"
    f = tmp_path / "wide.csv.gz"
    f.write_bytes(gzip.compress(text.encode("gb18030")))
    s = import_file(sites, f)
    assert s.format == "wide"
    # 1029A: pm25, pm10 (so2 empty = missing); bogus cell rejected; 1030A: pm25, so2; pm10 'x' rejected
    assert s.counts() == {"imported": 4, "duplicates": 0, "conflicts": 0, "rejected": 2}


def test_gb18030_chinese_site_codes(sites, tmp_path):
    with sites.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("石家庄-1", "air_station", "测试", 114.5, 38.0, "130100"))
    f = tmp_path / "gbk.csv"
    f.write_bytes("site,parameter,time,value\n石家庄-1,pm25,2019-01-08 01:00,5\n".encode("gb18030"))
    assert import_file(sites, f).imported == 1


def test_outlet_uses_flue_gas_parameter(sites, tmp_path):
    f = tmp_path / "gas.csv"
    f.write_text("site,parameter,time,value\nGAS1,a21026,2024-05-01 10:00,35.2\nGAS1,so2,2024-05-01 11:00,30\n")
    import_file(sites, f)
    with sites.engine.connect() as c:
        names = set(c.scalars(select(func.distinct(R.parameter.c.name)).select_from(
            R.series.join(R.parameter, R.parameter.c.id == R.series.c.parameter_id))))
    assert names == {"so2_gas"}


def test_excel(sites, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["site", "parameter", "time", "value"])
    ws.append(["1029A", "pm25", datetime(2019, 1, 8, 1), 55])
    ws.append(["1029A", "pm10", "2019-01-08T01:00:00+08:00", 80.5])
    ws.append(["1029A", "pm10", "2019-01-08T02:00:00+08:00", "n/a"])
    p = tmp_path / "data.xlsx"
    wb.save(p)
    s = import_file(sites, p)
    assert s.counts() == {"imported": 2, "duplicates": 0, "conflicts": 0, "rejected": 1}


def test_create_sites(sites, tmp_path):
    f = tmp_path / "new.csv"
    f.write_text("site,parameter,time,value\nNEW1,pm25,2019-01-08 01:00,5\nNEW1,ph,2019-01-08 01:00,7.1\n")
    with pytest.raises(FileUnreadable, match="--region"):
        import_file(sites, f, create_sites=True)
    s = import_file(sites, f, create_sites=True, region_code="130100")
    assert s.imported == 2 and s.created_sites == 1
    with sites.engine.connect() as c:
        attrs = c.scalar(select(site.c.attrs).where(site.c.code == "NEW1"))
    assert attrs["auto_created"] is True


@pytest.mark.parametrize("content,match", [
    (b"", "empty"),
    (b"foo,bar\n1,2\n", "wide format needs"),
    (b"site,parameter,value\n1,2,3\n", "long format needs|wide format needs"),
])
def test_unreadable_files(sites, tmp_path, content, match):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(FileUnreadable, match=match):
        import_file(sites, f, fmt="long" if b"parameter" in content else None)


def test_missing_file_and_broken_xlsx(sites, tmp_path):
    with pytest.raises(FileUnreadable, match="no such file"):
        import_file(sites, tmp_path / "nope.csv")
    p = tmp_path / "broken.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FileUnreadable, match="xlsx"):
        import_file(sites, p)


def test_truncated_gzip_is_unreadable_not_a_crash(sites, tmp_path):
    f = tmp_path / "cut.csv.gz"
    f.write_bytes(gzip.compress(b"site,parameter,time,value\n" * 100)[:30])
    with pytest.raises(FileUnreadable, match="gzip"):
        import_file(sites, f)
    f.write_bytes(b"\x1f\x8b")
    with pytest.raises(FileUnreadable):
        import_file(sites, f)
