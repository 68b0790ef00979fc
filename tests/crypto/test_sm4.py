"""SM4 against GB/T 32907-2016 Appendix A example 1; the pure-Python cipher against OpenSSL's; encrypted text
fields (format, key ids, rotation, tamper detection, blind index)."""

from __future__ import annotations

import base64
import os

import pytest

from ecohub.crypto import sm4
from ecohub.crypto.sm4 import FieldError, KeyRing

KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def test_gbt32907_example_1() -> None:
    # Appendix A.1: key = plaintext = 0123456789abcdeffedcba9876543210
    assert sm4.sm4_encrypt_blocks(KEY, KEY).hex() == "681edf34d206965e86b3e94f536e4246"
    assert sm4._py_blocks(KEY, KEY, False, None).hex() == "681edf34d206965e86b3e94f536e4246"
    assert sm4.sm4_decrypt_blocks(bytes.fromhex("681edf34d206965e86b3e94f536e4246"), KEY) == KEY
    assert sm4._py_blocks(bytes.fromhex("681edf34d206965e86b3e94f536e4246"), KEY, True, None) == KEY


def test_backend_equals_pure_over_1000_chained_encryptions() -> None:
    # (Appendix A.2 iterates 1 000 000 times; too slow for a unit test, so the two ciphers are compared instead)
    block = KEY
    for _ in range(1000):
        nxt = sm4.sm4_encrypt_blocks(block, KEY)
        assert nxt == sm4._py_blocks(block, KEY, False, None)
        block = nxt


def test_pure_python_equals_backend_ecb_and_cbc() -> None:
    for _ in range(20):
        key, iv, data = os.urandom(16), os.urandom(16), os.urandom(16 * 7)
        assert sm4._py_blocks(data, key, False, None) == sm4.sm4_encrypt_blocks(data, key)
        assert sm4._py_blocks(data, key, False, iv) == sm4.sm4_encrypt_blocks(data, key, iv)
        assert sm4._py_blocks(sm4.sm4_encrypt_blocks(data, key, iv), key, True, iv) == data


def test_block_input_errors() -> None:
    with pytest.raises(ValueError, match="16-byte key"):
        sm4.sm4_encrypt_blocks(b"x" * 15, KEY)
    with pytest.raises(ValueError, match="16-byte key"):
        sm4.sm4_decrypt_blocks(b"x" * 16, b"short")


@pytest.mark.parametrize("text", ["", "张三", "13800138000", "广东省广州市天河区某路 1 号 3 栋", "x" * 16, "y" * 100])
def test_field_roundtrip(text: str) -> None:
    ring = KeyRing.single(os.urandom(16))
    v = ring.encrypt(text)
    assert sm4.is_encrypted(v) and v.startswith(f"sm4:1:{ring.current}:")
    assert text not in v or text == ""
    assert ring.decrypt(v) == text
    assert ring.encrypt(text) != v  # random IV


def test_field_tamper_and_unknown_key() -> None:
    ring = KeyRing.single(os.urandom(16), "a")
    v = ring.encrypt("13800138000")
    head, body = v.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[20] ^= 1
    with pytest.raises(FieldError, match="changed"):
        ring.decrypt(head + ":" + base64.urlsafe_b64encode(bytes(raw)).decode())
    with pytest.raises(FieldError, match="'b' is not in the key ring"):
        ring.decrypt(v.replace("sm4:1:a:", "sm4:1:b:"))
    other = KeyRing({"a": os.urandom(16)}, "a")  # same id, another key: the tag refuses it
    with pytest.raises(FieldError, match="changed"):
        other.decrypt(v)
    with pytest.raises(FieldError, match="not an sm4:1"):
        ring.decrypt("13800138000")


def test_rotation_keeps_old_values_readable() -> None:
    old = KeyRing.single(os.urandom(16), "k1")
    v1 = old.encrypt("李四")
    new = old.with_new_key(kid="k2")
    assert new.current == "k2" and sm4.key_id_of(v1) == "k1"
    assert new.decrypt(v1) == "李四"
    v2 = new.encrypt("李四")
    assert sm4.key_id_of(v2) == "k2"
    with pytest.raises(FieldError):
        old.decrypt(v2)
    assert KeyRing.parse(new.dump()) == new
    with pytest.raises(ValueError, match="already in the ring"):
        new.with_new_key(kid="k1")


def test_parse_forms_and_errors() -> None:
    k1, k2 = os.urandom(16).hex(), os.urandom(32).hex()
    r = KeyRing.parse(f"# comment\nold {k1}\nnew {k2}\n")
    assert r.current == "new" and set(r.keys) == {"old", "new"}
    assert KeyRing.parse(f"old:{k1},new:{k2}") == r
    bare = KeyRing.parse(k1)
    assert bare.current == sm4.derive_kid(bytes.fromhex(k1))
    with pytest.raises(ValueError, match="empty"):
        KeyRing.parse("# nothing\n")
    with pytest.raises(ValueError, match="not hex"):
        KeyRing.parse("a zz")
    with pytest.raises(ValueError, match="must be 16 to 64"):
        KeyRing.parse("a 00ff")
    with pytest.raises(ValueError, match="key id"):
        KeyRing.parse(f"bad/id {k1}")


def test_blind_index() -> None:
    ring = KeyRing.single(os.urandom(16))
    digits = lambda s: "".join(c for c in s if c.isdigit())  # noqa: E731
    a = ring.blind_index("138-0013-8000", digits)
    assert a == ring.blind_index("13800138000", digits) and len(a) == 64
    assert a != ring.blind_index("13800138001", digits)
    assert a != KeyRing.single(os.urandom(16)).blind_index("13800138000", digits)
