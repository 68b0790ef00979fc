"""Hypothesis: any file content gives a summary or FileUnreadable — never another exception; counts add up."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecohub.ingest.files import import_file
from ecohub.ingest.readers import FileUnreadable
from ecohub.store import registry as R

cell = st.one_of(st.sampled_from(["1029A", "pm25", "so2", "a34004", "2019-01-08 01:00", "2019-01-08T02:00:00+08:00",
                                  "12.5", "-3", "N", "", "NaN", "1e400", "9999-99-99", "x"]),
                 st.text(max_size=12))
row = st.lists(cell, min_size=0, max_size=7)
header = st.sampled_from(["site,parameter,time,value,flag", "site,time,pm25,so2", "site,parameter,time,value", ""])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header, st.lists(row, max_size=20), st.sampled_from(["utf-8", "gb18030"]))
def test_any_csv(sqlite_store, tmp_path, head, rows, enc):
    with sqlite_store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("1029A", "air_station", "职工医院", 114.5, 38.0, "130100"))
    f = tmp_path / "fuzz.csv"
    f.write_bytes((head + "\n" + "\n".join(",".join(r) for r in rows)).encode(enc, errors="replace"))
    try:
        s = import_file(sqlite_store, f)
    except FileUnreadable:
        return
    assert s.imported + s.duplicates + s.conflicts <= s.rows * 10
    assert min(s.imported, s.duplicates, s.conflicts, s.rejected) >= 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_any_bytes(sqlite_store, tmp_path, data):
    f = tmp_path / "bytes.csv"
    f.write_bytes(data)
    try:
        import_file(sqlite_store, f)
    except FileUnreadable:
        pass
