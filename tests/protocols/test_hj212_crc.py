"""CRC of HJ 212-2017 Appendix A: worked examples of STANDARDS.md §5.4, fast form = bitwise form."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecohub.protocols.hj212 import crc_hex, decode, hj212_crc, hj212_crc_bitwise, modbus_crc
from ecohub.protocols.hj212.crc import hj212_crc_table

# the 6 worked examples of STANDARDS.md §5.4 (packet without CRLF, CRC as printed)
WORKED = [
    ("##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80", "1C80"),
    (
        "##0162QN=20231008123340461;ST=22;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
        "CP=&&DataTime=20231008123340;w01008-SampleTime=20231008123340,w01008-Rtd=123.456&&F441",
        "F441",
    ),
    ("##0094QN=20160801085857223;ST=32;CN=9011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&QnRtn=1&&2a80", "2A80"),
    (
        "##0136ST=32;CN=2011;PW=000000;MN=LD130133000015;CP=&&DataTime=20160824003817;011-Rtd=231.0,011-Flag=N;"
        "B01-Rtd=36.91;060-Rtd=1.803,060-Flag=N&&1dc0",
        "1DC0",
    ),
    ("##0078QN=20201008154743635;ST=91;CN=9014;PW=123456;MN=SD000001;Flag=9;CP=&&QnRtn=1&&71c0", "71C0"),
]
EXAMPLE_6 = "QN=20160801085857223;ST=23;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20160801085857; LA-Rtd=50.1&&"


@pytest.mark.parametrize("packet,crc", WORKED)
def test_worked_examples(packet: str, crc: str) -> None:
    segment = packet[6:-4].encode()
    assert len(segment) == int(packet[2:6])
    assert crc_hex(segment) == crc
    assert f"{hj212_crc_bitwise(segment):04X}" == crc
    decode(packet)  # accepted, lowercase CRC included


def test_worked_example_6_with_space() -> None:
    assert len(EXAMPLE_6) == 123
    assert crc_hex(EXAMPLE_6.encode()) == "1E00"


def test_check_values_and_not_modbus() -> None:
    assert hj212_crc(b"") == 0xFFFF
    assert hj212_crc(b"123456789") == 0x2F80
    appendix = WORKED[0][0][6:-4].encode()
    assert hj212_crc(appendix) == 0x1C80
    assert modbus_crc(appendix) == 0x0759  # what CRC-16/MODBUS parsers wrongly compute
    assert modbus_crc(b"123456789") == 0x4B37  # the catalogue check value of CRC-16/MODBUS


def test_fast_forms_equal_bitwise_on_random_inputs() -> None:
    rng = random.Random(212)
    for _ in range(3000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 1100)))
        ref = hj212_crc_bitwise(data)
        assert hj212_crc(data) == ref
        assert hj212_crc_table(data) == ref


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fast_equals_bitwise_property(data: bytes) -> None:
    assert hj212_crc(data) == hj212_crc_bitwise(data)


def test_only_256_crc_values_exist() -> None:
    """The CRC keeps 8 bits of state — the reason the length is a hard check."""
    rng = random.Random(1)
    values = {hj212_crc(bytes(rng.randrange(256) for _ in range(20))) for _ in range(5000)}
    assert len(values) <= 256
