"""Surfaces: IDW properties, ordinary kriging against pykrige on the same real points (44 Hebei stations,
PM2.5 2019-01-10 08:00), leave-one-out RMSE, clipping to the province, the store path and ``ecohub surface``."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pykrige.ok import OrdinaryKriging
from typer.testing import CliRunner

from ecohub.analytics import surfaces as S
from ecohub.store import registry as R
from ecohub.store.queries import SYSTEM
from ecohub.store.writer import ObservationWriter

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "reports" / "hebei_pm25_2019-01-10T08.csv"


def _points():
    rows = list(csv.DictReader(FIX.open(encoding="utf-8")))
    return rows, *(np.array([float(r[k]) for r in rows]) for k in ("lon", "lat", "pm25"))


def test_kriging_equals_pykrige_on_the_same_points():
    _, lon, lat, v = _points()
    xs, ys = S.project(lon, lat, lat.mean())
    gx, gy = np.meshgrid(np.linspace(xs.min(), xs.max(), 60), np.linspace(ys.min(), ys.max(), 45))
    for model in ("spherical", "exponential", "linear"):
        ours = S.kriging(xs, ys, v, gx, gy, variogram=model)
        ref, _ = OrdinaryKriging(xs, ys, v, variogram_model=model).execute("points", gx.ravel(), gy.ravel())
        np.testing.assert_allclose(ours.ravel(), np.asarray(ref), rtol=0, atol=1e-8)
    # exact at the stations
    np.testing.assert_allclose(S.kriging(xs, ys, v, xs, ys), v, atol=1e-8)


def test_idw_properties():
    _, lon, lat, v = _points()
    xs, ys = S.project(lon, lat, lat.mean())
    np.testing.assert_allclose(S.idw(xs, ys, v, xs, ys), v)  # a cell on a station takes its value
    g = S.idw(xs, ys, v, xs + 3.0, ys - 2.0)
    assert np.all(g >= v.min()) and np.all(g <= v.max())  # a weighted mean stays within the data
    # two stations: the midpoint is their mean, a point at 1/3 has weights 4:1 (d⁻²)
    assert float(S.idw([0, 3], [0, 0], [10, 40], [1.5], [0])[0]) == pytest.approx(25.0)
    assert float(S.idw([0, 3], [0, 0], [10, 40], [1.0], [0])[0]) == pytest.approx((10 * 1 + 40 * 0.25) / 1.25)


def test_surface_clipped_with_loo_cross_validation():
    _, lon, lat, v = _points()
    grid, meta = S.surface(lon, lat, v, method="kriging", cells=120)
    assert meta["stations"] == 44 and set(meta["loo_rmse"]) == {"idw", "kriging"}
    assert 0 < meta["loo_rmse"]["kriging"] < 40 and 0 < meta["loo_rmse"]["idw"] < 40
    # Beijing's centre (116.40, 39.90) lies in the bbox of Hebei but outside the province: NaN
    j, i = np.argmin(np.abs(grid.lat - 39.90)), np.argmin(np.abs(grid.lon - 116.40))
    assert np.isnan(grid.values[j, i])
    # 石家庄 (114.5, 38.05) is inside
    j, i = np.argmin(np.abs(grid.lat - 38.05)), np.argmin(np.abs(grid.lon - 114.5))
    assert not np.isnan(grid.values[j, i])
    gj = S.to_geojson(grid, "pm25", meta)
    assert gj["features"] and all(f["properties"]["color"].startswith("#") for f in gj["features"])
    assert gj["properties"]["legend"][0] == {"from": 0.0, "to": 35.0, "color": "#00E400"}


def test_surface_bad_input():
    with pytest.raises(S.NoData, match="at least 5"):
        S.surface([114, 115], [38, 39], [10, 20])
    with pytest.raises(ValueError, match="method"):
        S.surface([114] * 6, [38] * 6, [10] * 6, method="spline")
    with pytest.raises(ValueError, match="region: no boundary"):
        S.surface(*_points()[1:], region="990000")


@pytest.fixture
def hebei(store):
    rows, *_ = _points()
    t = int(datetime(2019, 1, 10, 0, tzinfo=UTC).timestamp())  # 08:00 Beijing
    with store.engine.begin() as c:
        for r in rows:
            R.upsert_site(c, R.SiteInput(r["station_code"], "air_station", r["station_name"], float(r["lon"]),
                                         float(r["lat"]), "130100"))
        idx, par = R.site_index(c), R.parameter_index(c)
        res = R.SeriesResolver()
        ids = {r["station_code"]: res.get(c, idx[r["station_code"]][0], par["pm25"], "hour") for r in rows}
    w = ObservationWriter(store, "import", "t")
    for r in rows:
        w.add(ids[r["station_code"]], t, float(r["pm25"]))
    w.flush()
    return store


def test_surface_from_store(hebei):
    res = S.surface_from_store(hebei, "pm25", "2019-01-10T08:00", method="idw", cells=60, scope=SYSTEM,
                               cross_validate=False)
    assert res["stations"] == 44 and res["time"] == "2019-01-10T08:00:00+08:00"
    assert res["geojson"]["features"]
    with pytest.raises(S.NoData, match="0 stations"):
        S.surface_from_store(hebei, "pm25", "2019-01-10T09:00", scope=SYSTEM)
    with pytest.raises(S.NoData, match="pm25 at 2019-01-10"):
        S.surface_from_store(hebei, "pm25", "2019-01-10", scope=SYSTEM)  # 1 hour a day: no valid daily mean
    with pytest.raises(ValueError, match="time: 'yesterday'"):
        S.surface_from_store(hebei, "pm25", "yesterday", scope=SYSTEM)


def test_surface_command(hebei, tmp_path):
    from ecohub.cli.main import app

    out = tmp_path / "s.geojson"
    url = hebei.engine.url.render_as_string(hide_password=False)
    res = CliRunner().invoke(app, ["surface", "--parameter", "pm25", "--time", "2019-01-10T08:00", "--method",
                                   "kriging", "--cells", "50", "-o", str(out), "--database-url", url])
    assert res.exit_code == 0, res.output
    meta = json.loads(res.stdout)
    assert meta["method"] == "kriging" and meta["loo_rmse"]["idw"] > 0
    assert json.loads(out.read_text(encoding="utf-8"))["type"] == "FeatureCollection"
