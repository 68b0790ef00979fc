"""Raw is immutable (enforced by the database); corrections are new rows; as-of views reproduce the past."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ecohub.domain.errors import InputError
from ecohub.store import registry as R
from ecohub.store.corrections import add_correction
from ecohub.store.queries import SeriesFilter, observations
from ecohub.store.writer import ObservationWriter

T = datetime(2019, 1, 8, 4, tzinfo=UTC)


@pytest.fixture
def one(store):
    with store.engine.begin() as c:
        R.upsert_site(c, R.SiteInput("A", "air_station", "甲", 114.5, 38.0, "130100"))
        sid = R.SeriesResolver().get(c, R.site_index(c)["A"][0], R.parameter_index(c)["pm25"], "hour")
    w = ObservationWriter(store, "import", "t")
    w.add(sid, int(T.timestamp()), 999.0, "N")
    w.add(sid, int(T.timestamp()) + 3600, 50.0, "N")
    w.flush()
    return store


def test_update_of_raw_rows_is_refused_by_the_database(one):
    with pytest.raises(DBAPIError, match="immutable"), one.engine.begin() as c:
        c.execute(text("UPDATE observation SET value = 1"))


def test_correction_changes_effective_value_not_raw(one):
    before = datetime.now(UTC)
    time.sleep(1.1)  # SQLite stores whole seconds
    with one.engine.begin() as c:
        add_correction(c, site_code="A", parameter_name="pm25", interval="hour", time=T, value=99.0, flag="N",
                       reason="instrument spike confirmed by maintenance log", author="analyst1")
    raw = [r["value"] for r in observations(one, SeriesFilter(sites=["A"]))]
    cor = list(observations(one, SeriesFilter(sites=["A"]), corrected=True))
    assert raw == [999.0, 50.0]
    assert [r["value"] for r in cor] == [99.0, 50.0]
    assert [r["raw_value"] for r in cor] == [999.0, 50.0] and [bool(r["corrected"]) for r in cor] == [True, False]
    past = list(observations(one, SeriesFilter(sites=["A"]), corrected=True, as_of=before))
    assert [r["value"] for r in past] == [999.0, 50.0]


def test_correction_needs_reason_author_and_an_existing_observation(one):
    with one.engine.begin() as c:
        with pytest.raises(InputError, match="reason"):
            add_correction(c, site_code="A", parameter_name="pm25", interval="hour", time=T, value=1.0, flag=None,
                           reason=" ", author="x")
        with pytest.raises(InputError, match="no stored"):
            add_correction(c, site_code="A", parameter_name="pm25", interval="hour",
                           time=datetime(2020, 1, 1, tzinfo=UTC), value=1.0, flag=None, reason="r", author="x")
