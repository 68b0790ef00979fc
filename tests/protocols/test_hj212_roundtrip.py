"""Round trips (build → encode → decode → equal) and fuzzing (no exception but HJ212Error)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ecohub.protocols.hj212 import (
    COMMAND_CODES,
    SM4_PRESETS,
    STANDARD,
    STRICT,
    SYSTEM_CODES,
    DataArea,
    Dialect,
    HJ212Error,
    Packet,
    Sm4Variant,
    build_cp,
    decode,
    decode_segment,
    encode,
    encrypt_frame,
    flag_for,
    format_qn,
    format_time,
    frame_segment,
    records,
)
from ecohub.protocols.hj212.codes import DATA_CNS, FACTORS

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY = "0123456789abcdeffedcba9876543210"

times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59))
numbers = st.one_of(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.integers(-(10**9), 10**9),
    st.decimals(min_value=-100000, max_value=100000, places=3, allow_nan=False).map(str),
)


@st.composite
def packets(draw, versions=("2005", "2017", "2025")) -> Packet:
    version = draw(st.sampled_from(versions))
    cn = draw(st.sampled_from(sorted(COMMAND_CODES)))
    when = draw(times)
    params: list[tuple[str, object]] = []
    factors: dict[str, dict[str, object]] = {}
    n = draw(st.integers(0, 8))
    if n or cn in DATA_CNS or draw(st.booleans()):
        params.append(("DataTime", format_time(when)))
    for code in draw(st.lists(st.sampled_from(sorted(FACTORS)), min_size=n, max_size=n, unique=True)):
        kinds = draw(st.lists(st.sampled_from(["Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg"]), min_size=1, max_size=4, unique=True))
        item: dict[str, object] = {k: draw(numbers) for k in kinds}
        if draw(st.booleans()):
            item["Flag"] = draw(st.sampled_from("NFMSDCTB"))
        if draw(st.booleans()):
            item["SampleTime"] = format_time(when - timedelta(seconds=draw(st.integers(0, 3600))))
        factors[code] = item
    if draw(st.booleans()):
        params.append(("PolId", draw(st.text(ALNUM, min_size=1, max_size=6))))
    split = draw(st.booleans()) and version != "2005"
    pnum = draw(st.integers(1, 20)) if split else None
    pno = draw(st.integers(1, pnum)) if split else None
    flag = flag_for(version, ack=draw(st.booleans()), split=split)
    if version == "2005" and draw(st.booleans()):
        flag = draw(st.integers(0, 1))
    qn = None if (version == "2005" and draw(st.booleans())) else format_qn(when)
    text = build_cp(params, factors)
    packet = Packet(
        st=draw(st.sampled_from(sorted(SYSTEM_CODES))),
        cn=cn,
        pw=draw(st.text(ALNUM, min_size=1, max_size=8)),
        mn=draw(st.text(ALNUM + "-_", min_size=1, max_size=24)),
        qn=qn,
        flag=flag,
        pnum=pnum,
        pno=pno,
        cp=DataArea(text) if text else DataArea(""),
    )
    return packet


def _fits(p: Packet) -> bool:
    try:
        encode(p)
        return True
    except HJ212Error as exc:
        assert exc.reason == "too_long", exc
        return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packets())
def test_build_encode_decode_equal(p: Packet) -> None:
    assume(_fits(p))
    frame = encode(p)
    assert frame.endswith(b"\r\n") and frame.startswith(b"##")
    back = decode(frame)
    assert back == p
    assert back.version == p.version
    assert encode(back) == frame
    records(back)  # never raises on a valid data packet


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packets(versions=("2025",)), st.sampled_from(sorted(SM4_PRESETS)))
def test_sm4_roundtrip_property(p: Packet, preset: str) -> None:
    dialect = Dialect(sm4_key=KEY, sm4_variant=Sm4Variant.parse(preset))
    assume(_fits(p))
    try:
        frame = encode(p, dialect, encrypt=True)
    except HJ212Error as exc:
        assert exc.reason == "too_long"
        return
    if p.cp and dialect.sm4_variant.padding == "none" and len(p.cp.text.encode()) < 16:  # type: ignore[union-attr]
        assert p.cp.text.encode() in frame  # HJ 212-2025 A.2: less than one block stays in clear
    elif p.cp:
        assert p.cp.text.encode() not in frame
        hidden = decode(frame)
        assert hidden.encrypted and hidden.cp.fields == {}
    back = decode(frame, dialect)
    assert back == p
    assert not [w for w in back.warnings if w.code.startswith("sm4")]  # the device's own variant: no deviation


# --- fuzzing: nothing but HJ212Error -------------------------------------------------------------

DIALECTS = [
    STANDARD,
    Dialect(crc="unchecked"),
    Dialect(crc="either", short_crc=True),
    Dialect(length_unit="chars", strict_codes=True),
    Dialect(strict_values=False, version="2025", sm4_key=KEY),
    Dialect(max_length=9999, require_qn=True),
    STRICT.with_(sm4_key=KEY),
]


def _only_hj212_errors(data) -> None:
    for dialect in DIALECTS:
        for fn in (decode, decode_segment):
            try:
                p = fn(data, dialect)
            except HJ212Error as exc:
                assert exc.reason and str(exc)
                continue
            assert isinstance(p, Packet)
            try:
                records(p)
                p.to_dict()
            except HJ212Error:
                pass


SEEDS = [
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n",
    b"##0136ST=32;CN=2011;PW=000000;MN=LD130133000015;CP=&&DataTime=20160824003817;011-Rtd=231.0,011-Flag=N;B01-Rtd=36.91;060-Rtd=1.803,060-Flag=N&&1dc0",
    b"##0078QN=20201008154743635;ST=91;CN=9014;PW=123456;MN=SD000001;Flag=9;CP=&&QnRtn=1&&71c0",
    # deviations and HJ 212-2025 encrypted frames (C-style list; plaintext length; hex)
    frame_segment("QN=20160801085857223;ST=101;CN=2011;PW=1;MN=M;Flag=7;CP=&&DataTime=20160801085800;a21026-Rtd=1&&"),
    *(encrypt_frame("QN=20240520210700000;ST=31;CN=2051;PW=1;MN=M;Flag=9;CP=&&DataTime=20240520210600;a01011-Avg=1.35&&",
                    KEY, SM4_PRESETS[name]) for name in ("standard", "standard-plain-length", "hex-pkcs7")),
]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=1200))
def test_fuzz_random_bytes(data: bytes) -> None:
    _only_hj212_errors(data)
    _only_hj212_errors(b"##" + data)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_random_text(text: str) -> None:
    _only_hj212_errors(text)
    _only_hj212_errors(frame_segment(text.encode("utf-8", "surrogatepass"), Dialect(max_length=9999)))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255), st.integers(0, 2)), max_size=6), st.booleans())
def test_fuzz_mutated_real_packets(seed: bytes, edits: list[tuple[int, int, int]], refit: bool) -> None:
    data = bytearray(seed)
    for pos, byte, op in edits:
        pos %= len(data) + 1
        if op == 0:
            data[pos : pos + 1] = bytes([byte])
        elif op == 1:
            data.insert(pos, byte)
        else:
            del data[pos : pos + 1]
    if refit and len(data) > 12:  # fix length and CRC so the mutation reaches the field checks
        body = bytes(data[6:-6])
        _only_hj212_errors(frame_segment(body, Dialect(max_length=9999)))
    _only_hj212_errors(bytes(data))


def test_fuzz_structured_tokens() -> None:
    """Random sequences of protocol tokens, framed with a correct length and CRC."""
    rng = random.Random(2124)
    tokens = ["QN=", "ST=", "CN=", "PW=", "MN=", "Flag=", "PNUM=", "PNO=", "CP=", "&&", ";", ",", "=", "-",
              "Rtd", "Flag", "DataTime", "20210101000000", "20210231000000", "2011", "9014", "91", "5", "7",
              "11", "a21026", "1.5", "-", "N", "NN", "正常", "\x00", " ", "RF=1", "SampleTime", "999999999"]
    for _ in range(3000):
        text = "".join(rng.choice(tokens) for _ in range(rng.randrange(1, 40)))
        _only_hj212_errors(frame_segment(text.encode(), Dialect(max_length=9999)))
