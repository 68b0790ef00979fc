"""Inspection records: targeted ones name their trigger; attachments too large or of a disguised type, unknown
checklist items, times in the future — clear errors naming the field, nothing half-saved; scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from permit_support import ENT, make_enterprise
from sqlalchemy import func, select

from ecohub.domain.errors import InputError, NotFound
from ecohub.store.audit import Origin
from ecohub.store.queries import SYSTEM, Scope
from ecohub.store.schema_enforcement import insp_attachment, inspection
from ecohub.supervision.inspect import records
from ecohub.supervision.inspect.records import Attachment

ORIG = Origin("officer-a", "officer")
T = datetime(2026, 6, 1, 2, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"x" * 100


def _rec(store, **kw):
    args = dict(uscc=ENT, inspected_at=T, inspectors=["甲", "乙"], trigger_kind="complaint", trigger_ref="ABC",
                checklist={"permit_posted": "ok"}, attachments=[Attachment("a.png", "image/png", PNG)])
    return records.record(store, Scope("officer", region_code="130102"), ORIG, **(args | kw))


def test_bad_input_leaves_nothing(store):
    make_enterprise(store, code=ENT, region="130102", outlets=(("IR-GAS1", "gas_outlet"),))
    cases = [
        ({"attachments": [Attachment("a.png", "image/png", PNG), Attachment("x.jpg", "image/jpeg", b"MZ\x90\x00")]},
         "attachments\\[1\\].*not a JPEG, PNG or PDF"),
        ({"attachments": [Attachment("doc.png", "image/png", PDF)]}, "declared as 'image/png' but the content is "
                                                                    "application/pdf"),
        ({"attachments": [Attachment("doc.png", "application/pdf", PDF)]}, "file name does not end in .pdf"),
        ({"attachments": [Attachment("big.pdf", "application/pdf", b"%PDF-" + b"0" * records.MAX_ATTACHMENT_BYTES)]},
         "more than the limit"),
        ({"checklist": {"teleport": "ok"}}, "checklist.teleport"),
        ({"checklist": {"permit_posted": "maybe"}}, "answer ok, problem or n/a"),
        ({"trigger_kind": None}, "names its trigger"),
        ({"inspectors": ["甲"]}, "at least two inspectors"),
        ({"inspected_at": datetime.now(UTC) + timedelta(days=1)}, "in the future"),
        ({"industry": "bakery"}, "no checklist"),
        ({"uscc": "91110000000000000X"}, "no registered enterprise"),
    ]
    for kw, msg in cases:
        with pytest.raises(InputError, match=msg):
            _rec(store, **kw)
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(inspection)) == 0
        assert c.scalar(select(func.count()).select_from(insp_attachment)) == 0
    r = _rec(store, attachments=[Attachment("a.png", "image/png", PNG), Attachment("b.pdf", "application/pdf", PDF)],
             industry="cement", checklist={"fugitive_dust": "problem"})
    assert r["kind"] == "targeted" and r["trigger_kind"] == "complaint"
    assert [a["content_type"] for a in r["attachments"]] == ["image/png", "application/pdf"]
    import hashlib
    assert r["attachments"][1]["sha256"] == hashlib.sha256(PDF).hexdigest()
    with pytest.raises(NotFound):
        records.get(store, Scope("officer", region_code="130104"), r["id"])
    with pytest.raises(PermissionError):
        records.record(store, Scope("officer", region_code="130104"), ORIG, uscc=ENT, inspected_at=T,
                       inspectors=["甲", "乙"], trigger_kind="alert")
    assert records.get(store, SYSTEM, r["id"])["findings"] is None
