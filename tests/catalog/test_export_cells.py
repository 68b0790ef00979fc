"""Issue 10 item 10: export cells neutralised against formula injection (one function, every CSV path; text
only — negative numbers stay numbers), and ``ecohub export -o -`` writes to standard output."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import polars as pl
from typer.testing import CliRunner

from ecohub.catalog.export import export_rows
from ecohub.catalog.service import _serialise
from ecohub.domain.cells import neutralise, neutralise_series
from ecohub.store import registry as R
from ecohub.store.writer import ObservationWriter


def test_neutralise_text_not_numbers():
    assert [neutralise(v) for v in ("=1+2", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "ok", "")] == [
        "'=1+2", "'+cmd", "'-2+3", "'@SUM(A1)", "'\t=x", "ok", ""]
    assert [neutralise(v) for v in (-5.0, -3, "-12.5", "+3", "-1e-3", ".5", None)] == [
        -5.0, -3, "-12.5", "+3", "-1e-3", ".5", None]  # numbers, and numbers read as text, unchanged
    s = neutralise_series(pl.Series("x", ["=a", "-1.5", "b", None]))
    assert s.to_list() == ["'=a", "-1.5", "b", None]
    assert neutralise_series(pl.Series("v", [-1.0, 2.0])).to_list() == [-1.0, 2.0]


def test_export_rows_csv_neutralises(tmp_path):
    rows = [{"site": "=HYPERLINK(1)", "parameter": "pm25", "interval": "hour", "time": datetime(2026, 1, 1, tzinfo=UTC),
             "value": -5.0, "flag": "@x", "source": "import"}]
    out = tmp_path / "o.csv"
    assert export_rows(rows, "csv", out) == 1
    got = list(csv.DictReader(out.open(encoding="utf-8")))
    assert got[0]["site"] == "'=HYPERLINK(1)" and got[0]["flag"] == "'@x" and got[0]["value"] == "-5.0"


def test_catalogue_csv_neutralises():
    body, _ = _serialise([{"name": "+1 cmd", "value": -2.5}], ["name", "value"], {}, "csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[1] == ["'+1 cmd", "-2.5"]


def test_cli_export_to_stdout_and_neutralised(sqlite_store, tmp_path):
    """``ecohub export -o -`` writes CSV to standard output; a site code like =1+2 is written as text."""
    from ecohub.cli.main import app

    st = sqlite_store
    with st.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("=1+2", "air_station", "x", 114.5, 38.0, "130100"))
        sid = R.SeriesResolver().get(c, R.site_index(c)["=1+2"][0], R.parameter_index(c)["temp"], "hour")
    w = ObservationWriter(st, "import", "t")
    w.add(sid, int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()), -7.5)
    w.flush()
    url = st.engine.url.render_as_string(hide_password=False)
    res = CliRunner().invoke(app, ["export", "-o", "-", "--database-url", url])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["site"], r["value"]) for r in rows] == [("'=1+2", "-7.5")]
    assert not (tmp_path / "-").exists()


def test_standards_cli_output_neutralises(tmp_path):
    import typer

    from ecohub.cli.standards_cmds import register

    a = typer.Typer()
    register(a)

    @a.callback()
    def _root() -> None:
        pass

    src = tmp_path / "in.csv"
    src.write_text("time,site,pm25\n2019-01-01,=cmd|calc,-1\n2019-01-01,ok,40\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    res = CliRunner().invoke(a, ["aqi", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = list(csv.DictReader(out.open(encoding="utf-8")))
    assert got[0]["site"] == "'=cmd|calc" and got[0]["pm25"] == "-1" and got[1]["aqi"] == "57"
