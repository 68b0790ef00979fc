"""Schemathesis against the OpenAPI document, as an anonymous caller and as a signed-in admin: no 5xx, and every
response (status code, content type, headers, body) conforms to the document. Bounded: ``MAX_EXAMPLES``
derandomised examples per operation, on the embedded SQLite database (the walls and the behaviour are
tested on both backends by the other API tests)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import update

from conftest import build_world
from ecohub.store.schema_identity import app_user

MAX_EXAMPLES = 25
SKIP = {"/api/v1/ingest/observations"}  # the ingest work's route, fuzzed there
# A schema-valid value can still be meaningless (a cursor we never issued, "from" after "to", a bbox of three
# numbers): the API answers 400 naming the parameter, which this check would count as a failure. Every
# other check (no server error, status codes, content types, headers, response schemas, schema-invalid
# input refused) runs.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


def _fresh_admin_token(world) -> str:
    """A new session for each operation (the fuzzer may sign out, or fail the current password five times)."""
    with world.store.engine.begin() as c:
        c.execute(update(app_user).where(app_user.c.name == "admin").values(failed_logins=0, locked_until=None,
                                                                            disabled_at=None))
    r = world.login("admin")
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _run(world, signed_in: bool) -> dict:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    stats: dict = {"operations": 0, "cases": 0, "statuses": {}}
    failures = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in SKIP:
            continue
        stats["operations"] += 1
        headers = {"Authorization": f"Bearer {_fresh_admin_token(world)}"} if signed_in else {}

        @given(case=op.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            stats["cases"] += 1
            r = case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)  # noqa: B023 - run at once
            stats["statuses"][r.status_code] = stats["statuses"].get(r.status_code, 0) + 1

        try:
            check()
        except Exception as e:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{op.method.upper()} {op.path}: {str(e)[:1500]}")
    assert not failures, "\n\n".join(failures)
    return stats


@pytest.fixture
def fuzz_world(sqlite_store):
    return build_world(sqlite_store)


def test_schemathesis_anonymous(fuzz_world):
    stats = _run(fuzz_world, signed_in=False)
    print("schemathesis anonymous:", stats)
    assert stats["operations"] >= 25 and not any(s >= 500 for s in stats["statuses"])


def test_schemathesis_authenticated(fuzz_world):
    stats = _run(fuzz_world, signed_in=True)
    print("schemathesis admin:", stats)
    assert stats["operations"] >= 25 and not any(s >= 500 for s in stats["statuses"])
