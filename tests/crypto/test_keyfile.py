"""Detached signatures (.sig): a changed byte is detected and located (byte range and line), a cut file too;
the retired key of a rotation still verifies; a .sig naming an unknown key is refused with the reason."""

from __future__ import annotations

import json

import pytest

from ecohub.crypto.keyfile import PlatformKeys, SignatureFileError, sign_bytes, verify_detached

DATA = b"".join(b"site-%05d,pm25,2026-12-04T%02d:00,%d.5\n" % (i, i % 24, i % 300) for i in range(3000))


def _keys(tmp_path):
    k = PlatformKeys(tmp_path)
    k.generate()
    return k, {x["key_id"]: x["public_hex"] for x in k.public_keys()}


def test_changed_byte_is_located(tmp_path):
    k, pubs = _keys(tmp_path)
    sig = sign_bytes(DATA, *k.signer())
    assert verify_detached(DATA, sig, pubs) == (True, k.current_id())
    pos = 50_000
    changed = bytearray(DATA)
    changed[pos] ^= 1
    ok, why = verify_detached(bytes(changed), sig, pubs)
    assert not ok and "changed" in why
    start = (pos // 4096) * 4096
    line = DATA.count(b"\n", 0, start) + 1
    assert f"bytes {start}-{start + 4095}" in why and f"line {line})" in why
    ok, why = verify_detached(DATA[:-10], sig, pubs)
    assert not ok and "first difference" in why


def test_rotation_and_unknown_key(tmp_path):
    k, _ = _keys(tmp_path)
    sig = sign_bytes(DATA, *k.signer())
    k.generate()  # rotated: the old public key still verifies, its private key is gone
    pubs = {x["key_id"]: x["public_hex"] for x in k.public_keys()}
    assert verify_detached(DATA, sig, pubs)[0]
    assert len(list((tmp_path / "sm2").glob("*.key"))) == 1
    with pytest.raises(SignatureFileError, match="no public key for key id"):
        verify_detached(DATA, sig, {})
    forged = json.loads(sig) | {"sm3": None}  # without the SM3 field the signature itself must fail
    ok, why = verify_detached(DATA + b"x", json.dumps(forged), pubs)
    assert not ok and "does not verify" in why
    with pytest.raises(SignatureFileError, match="not an ecohub signature"):
        verify_detached(DATA, "garbage", pubs)
