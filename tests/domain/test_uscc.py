"""GB 32100-2015 unified social credit code: check character, character set, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecohub.domain.uscc import CHARSET, WEIGHTS, USCCError, check_character, is_valid, validate

# Codes as commonly cited in public registrations and GB 32100 commentaries (each passes only by its check)
VALID = ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"]


def test_weights_are_powers_of_three_mod_31():
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", VALID)
def test_known_valid_codes(code):
    assert validate(code) == code and is_valid(code.lower())


def test_worked_example():
    # 9·1 + 1·3 + 3·9 + 5·27 + 1·26 + M(21)·20 + 1·8 + Y(30)·30 + 4·28 = 1640; 1640 mod 31 = 28; 31 − 28 = 3
    first17 = "91350100M000100Y4"
    assert sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) == 1640
    assert check_character(first17) == "3"


@pytest.mark.parametrize("code,match", [
    ("91350100M000100Y44", "check character"),
    ("91350100M000100Y4", "17 characters"),
    ("91350100M0001I0Y43", "not allowed"),
    ("9135010OM000100Y43", "not allowed"),
    ("91ABCDEFM000100Y43", "administrative division"),
])
def test_invalid_codes_name_the_problem(code, match):
    with pytest.raises(USCCError, match=match):
        validate(code)


body = st.text(alphabet=CHARSET, min_size=17, max_size=17).filter(lambda s: s[2:8].isdigit())


@given(body)
def test_computed_check_character_always_validates(b):
    assert is_valid(b + check_character(b))


@given(body, st.integers(0, 16), st.sampled_from(CHARSET))
def test_any_single_substitution_is_detected(b, pos, ch):
    code = b + check_character(b)
    changed = code[:pos] + ch + code[pos + 1:]
    if changed != code and changed[2:8].isdigit():
        assert not is_valid(changed)
