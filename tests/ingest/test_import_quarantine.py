"""Issue 10 item 10: re-importing a file does not quarantine the same rows twice; a wide row's rejected cells
are kept by name and value without copying the whole row for each of them."""

from __future__ import annotations

from sqlalchemy import func, select

from ecohub.ingest.files import import_file
from ecohub.store import registry as R
from ecohub.store.quarantine import MAX_RAW, raw_of
from ecohub.store.schema import quarantine


def _q(store) -> list[tuple]:
    with store.engine.connect() as c:
        return [tuple(r) for r in c.execute(select(quarantine.c.line, quarantine.c.field, quarantine.c.raw)
                                            .order_by(quarantine.c.id))]


def test_reimport_does_not_quarantine_twice(store, tmp_path):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("S1", "air_station", "s", 114.5, 38.0, "130100"))
    f = tmp_path / "obs.csv"
    f.write_text("site,parameter,time,value\nS1,pm25,2026-01-01 01:00,30\nS1,pm25,2026-01-01 02:00,abc\n"
                 "NOPE,pm25,2026-01-01 01:00,5\n", encoding="utf-8")
    first = import_file(store, f)
    second = import_file(store, f)
    assert (first.imported, first.rejected) == (1, 2)
    assert (second.imported, second.duplicates, second.rejected) == (0, 1, 2)  # still reported …
    assert len(_q(store)) == 2  # … but kept once
    # a changed file: its new bad row is kept, the old ones not again
    f.write_text(f.read_text(encoding="utf-8") + "S1,pm25,2026-01-01 03:00,-x\n", encoding="utf-8")
    import_file(store, f)
    assert len(_q(store)) == 3


def test_wide_rejected_cells_are_named_and_bounded(store, tmp_path):
    n = 20_000
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("W1", "air_station", "w", 114.5, 38.0, "130100"))
    header = "site,time,pm25," + ",".join(f"bad{i}" for i in range(n))
    row = "W1,2026-01-01 01:00,33," + ",".join("7" for _ in range(n))
    f = tmp_path / "wide.csv"
    f.write_text(header + "\n" + row + "\n", encoding="utf-8")
    s = import_file(store, f, fmt="wide")
    assert (s.imported, s.rejected) == (1, n)
    with store.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(quarantine)).scalar() == n
        last = c.execute(select(quarantine.c.field, quarantine.c.raw).order_by(quarantine.c.id.desc())).first()
    assert last.field == f"bad{n - 1}" and last.raw == f"site=W1,time=2026-01-01 01:00,bad{n - 1}=7"


def test_raw_of_is_bounded():
    cells = ["x" * 10] * 100_000
    r = raw_of(cells)
    assert len(r) == MAX_RAW and r.startswith("xxxxxxxxxx,xxxx")
    assert raw_of(["a", "b"]) == "a,b"
