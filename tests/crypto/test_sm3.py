"""SM3 against GB/T 32905-2016 Appendix A (example 1: "abc"; example 2: "abcd" x 16), both backends."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest

from ecohub.crypto import sm3

EXAMPLES = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]


@pytest.mark.parametrize(("msg", "digest"), EXAMPLES)
def test_gbt32905_appendix_a(msg: bytes, digest: str) -> None:
    assert sm3.sm3_hex(msg) == digest
    assert sm3.sm3_digest(msg) == bytes.fromhex(digest)
    assert sm3._py_digest(msg).hex() == digest  # the pure-Python fallback too


def test_backends_agree_on_random_lengths() -> None:
    for n in (0, 1, 55, 56, 63, 64, 65, 119, 120, 1000):
        data = os.urandom(n)
        assert sm3._py_digest(data) == sm3.sm3_digest(data)


@pytest.mark.skipif("sm3" not in hashlib.algorithms_available, reason="OpenSSL without SM3 (fallback in use)")
def test_hmac_sm3_equals_stdlib_hmac() -> None:
    for key in (b"", b"k" * 16, b"k" * 64, b"k" * 65, os.urandom(100)):
        msg = os.urandom(77)
        assert sm3.hmac_sm3(key, msg) == hmac.new(key, msg, "sm3").digest()


def test_hmac_depends_on_key_and_message() -> None:
    assert sm3.hmac_sm3(b"a" * 16, b"m") != sm3.hmac_sm3(b"b" * 16, b"m")
    assert sm3.hmac_sm3(b"a" * 16, b"m") != sm3.hmac_sm3(b"a" * 16, b"n")
