from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecohub.domain.errors import InputError
from ecohub.store.apikeys import create_key, revoke_key, verify_key


def test_key_lifecycle(store):
    with store.engine.begin() as c:
        key = create_key(c, "partner A", ["ingest"])
        old = create_key(c, "expired", ["ingest"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with store.engine.begin() as c:
        k = verify_key(c, key, "ingest")
        assert k is not None and k.name == "partner A"
        assert verify_key(c, key, "admin") is None  # scope not granted
        assert verify_key(c, key[:-1] + ("A" if key[-1] != "A" else "B"), "ingest") is None  # tampered
        assert verify_key(c, old, "ingest") is None  # expired
        assert verify_key(c, "garbage", "ingest") is None and verify_key(c, "", "ingest") is None
        assert revoke_key(c, k.prefix) is True
    with store.engine.begin() as c:
        assert verify_key(c, key, "ingest") is None


def test_bad_scopes(store):
    with store.engine.begin() as c, pytest.raises(InputError, match="scopes"):
        create_key(c, "x", ["root"])
