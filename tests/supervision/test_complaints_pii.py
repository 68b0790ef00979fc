"""Complainants' phones and addresses at rest: SM4-encrypted with the configured key ring, decrypted only for
the contact roles, masked for the others, searchable by phone through the HMAC-SM3 blind index; plaintext rows
from before are encrypted by ``ecohub crypto rotate-key``; rotation re-encrypts and keeps old keys."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from ecohub.crypto.sm4 import KeyRing, is_encrypted, key_id_of
from ecohub.store import personal
from ecohub.store.queries import Scope
from ecohub.store.schema_supervision import complaint
from ecohub.supervision import complaints as C

P = (114.4548, 38.0513)  # 石家庄 新华区
OFFICER = Scope("officer", region_code="130100", name="o1")
ANALYST = Scope("analyst")
ADDRESS = "石家庄市新华区中华北大街 1 号院 3 单元"


@pytest.fixture(autouse=True)
def keys_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ECOHUB_DATA_DIR", str(tmp_path))
    for v in ("ECOHUB_PII_KEY", "ECOHUB_PII_KEY_FILE", "ECOHUB_KEYS_DIR", "ECOHUB_DATABASE_URL"):
        monkeypatch.delenv(v, raising=False)
    personal._cache.clear()
    return tmp_path / "keys" / "pii.keys"


def _submit(store, tmp_path, phone="13812345678", address=ADDRESS, accept=True) -> str:
    """A complaint in 石家庄; accepted by OFFICER (its handling officer, who alone sees the contact) unless not."""
    inp = C.ComplaintInput(category="air", description="工厂烟囱冒黑烟，持续两个小时以上", lon=P[0], lat=P[1],
                           phone=phone, address=address)
    code = C.submit(store, inp, tmp_path)["tracking_code"]
    if accept:
        C.change_status(store, OFFICER, code, "accepted", actor=OFFICER.name)
    return code


def _stored(store) -> list[dict]:
    with store.engine.connect() as c:
        return [dict(r) for r in c.execute(select(complaint.c.tracking_code, complaint.c.phone, complaint.c.address,
                                                  complaint.c.phone_bidx).order_by(complaint.c.id)).mappings()]


def test_encrypted_at_rest_decrypted_only_for_contact_roles(store, tmp_path, monkeypatch):
    monkeypatch.setenv("ECOHUB_PII_KEY", os.urandom(16).hex())
    code = _submit(store, tmp_path, accept=False)
    row = _stored(store)[0]
    assert is_encrypted(row["phone"]) and is_encrypted(row["address"]) and len(row["phone_bidx"]) == 64
    assert "13812345678" not in repr(row) and "中华北大街" not in repr(row)
    before = C.get_complaint(store, OFFICER, code)  # nobody handles it yet: masked for everyone
    assert before["phone"] == "138****5678" and before["phone_masked"] and before["handler"] is None
    C.change_status(store, OFFICER, code, "accepted", actor="o1")  # o1 becomes the handling officer
    mine = C.get_complaint(store, OFFICER, code)
    assert mine["phone"] == "13812345678" and mine["address"] == ADDRESS and not mine["phone_masked"]
    for colleague in (Scope("officer", region_code="130100", name="o2"), Scope("admin", name="root")):
        seen = C.get_complaint(store, colleague, code)
        assert seen["phone"] == "138****5678" and seen["address"] == "石家庄市新华***" and seen["phone_masked"]
        assert C.list_complaints(store, colleague, phone="13812345678") == []  # not among those he handles
    other = C.list_complaints(store, ANALYST)[0]
    assert other["phone"] == "138****5678" and other["address"] == "石家庄市新华***" and other["phone_masked"]
    # search by phone, written another way; not for roles that may not see it
    assert [c["tracking_code"] for c in C.list_complaints(store, OFFICER, phone="138-1234-5678")] == [code]
    assert C.list_complaints(store, OFFICER, phone="13900000000") == []
    with pytest.raises(PermissionError):
        C.list_complaints(store, ANALYST, phone="13812345678")


def test_without_key_clear_then_rotate_key_encrypts_old_rows(store, tmp_path, keys_env):
    old = _submit(store, tmp_path, phone="13900001111")  # no key configured: stored as given
    assert _stored(store)[0]["phone"] == "13900001111"
    assert [c["tracking_code"] for c in C.list_complaints(store, OFFICER, phone="13900001111")] == [old]
    out = personal.rotate(store)  # first key: written to the key file, existing rows encrypted
    assert keys_env.exists() and out["rows"] == 1 and out["values"] == 2
    first = out["key_id"]
    row = _stored(store)[0]
    assert key_id_of(row["phone"]) == first and key_id_of(row["address"]) == first
    assert C.get_complaint(store, OFFICER, old)["phone"] == "13900001111"
    new = _submit(store, tmp_path)
    out2 = personal.rotate(store)  # a second key: every value re-encrypted under it, the first key kept
    second = out2["key_id"]
    assert second != first and out2["rows"] == 2
    assert set(KeyRing.parse(keys_env.read_text()).keys) == {first, second}
    assert {key_id_of(r["phone"]) for r in _stored(store)} == {second}
    assert [c["tracking_code"] for c in C.list_complaints(store, OFFICER, phone="13812345678")] == [new]
    assert [c["tracking_code"] for c in C.list_complaints(store, OFFICER, phone="13900001111")] == [old]
    assert personal.rotate(store, new_key=False)["rows"] == 0  # nothing left to re-encrypt


def test_inline_key_rotation_and_unreadable_values(store, tmp_path, monkeypatch):
    k1, k2 = os.urandom(16).hex(), os.urandom(16).hex()
    monkeypatch.setenv("ECOHUB_PII_KEY", f"a:{k1}")
    code = _submit(store, tmp_path)
    with pytest.raises(ValueError, match="ECOHUB_PII_KEY is set"):
        personal.rotate(store)
    monkeypatch.setenv("ECOHUB_PII_KEY", f"a:{k1},b:{k2}")
    assert personal.rotate(store, new_key=False)["key_id"] == "b"
    assert key_id_of(_stored(store)[0]["phone"]) == "b"
    monkeypatch.setenv("ECOHUB_PII_KEY", f"c:{os.urandom(16).hex()}")  # the key is lost: shown as unreadable
    assert C.get_complaint(store, OFFICER, code)["phone"] == personal.UNREADABLE
    monkeypatch.setenv("ECOHUB_PII_KEY", "zz")
    with pytest.raises(ValueError, match="ECOHUB_PII_KEY"):
        personal.ring()


def test_cli_rotate_key(sqlite_store, tmp_path, keys_env):
    store = sqlite_store
    from ecohub.cli.main import app

    url = str(store.engine.url)
    _submit(store, tmp_path)
    r = CliRunner().invoke(app, ["crypto", "rotate-key", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert "2 values in 1 rows" in r.output and keys_env.exists()
    assert is_encrypted(_stored(store)[0]["phone"])
    with store.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM audit_log WHERE path = 'crypto rotate-key'")).scalar() == 1
