"""HJ 212-2025 encrypted data areas: the standard's text (§6.4.2, Appendix A.2 — official examples)
is the default, the other variants are recognised by detection or pinned per device, and the
encoder builds each of them (what the simulator sends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecohub.protocols.hj212 import (
    SM4_PRESETS,
    SM4_STANDARD,
    STRICT,
    DataArea,
    Dialect,
    HJ212Error,
    Packet,
    Sm4Variant,
    StreamFramer,
    decode,
    decode_segment,
    encode,
    encrypt_frame,
    records,
)
from ecohub.protocols.hj212.sm4 import (
    decrypt_cp,
    encrypt_cp,
    format_clist,
    sm4_decrypt_blocks,
    sm4_encrypt_blocks,
)

A2 = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "hj212" / "hj212_2025_a2_vectors.json").read_text())
KEY = A2["key_ascii"]  # 16 × 0x30


def _parts(example: dict) -> tuple[str, str, str]:
    packet = example["plaintext_packet"]
    segment = packet[6:-4]
    return packet, segment, segment[segment.index("CP=&&") + 5 : -2]


@pytest.mark.parametrize("example", A2["examples"], ids=["A.2-1", "A.2-3"])
def test_official_a2_ciphertext(example: dict) -> None:
    packet, segment, cp = _parts(example)
    assert int(packet[2:6]) == len(segment) == example["declared_length_printed"]
    official = bytes.fromhex(example["ciphertext_hex"])
    assert len(official) == len(cp) // 16 * 16
    # SM4-ECB of the whole blocks reproduces the printed bytes; the tail stays in clear
    assert sm4_encrypt_blocks(cp.encode()[: len(official)], KEY.encode()) == official
    assert sm4_decrypt_blocks(official, KEY.encode()) == cp.encode()[: len(official)]
    wire_cp = encrypt_cp(cp, KEY, padding="none", encoding="clist")
    assert wire_cp == format_clist(official) + example["clear_tail"]
    assert decrypt_cp(wire_cp, KEY) == cp


@pytest.mark.parametrize("example", A2["examples"], ids=["A.2-1", "A.2-3"])
def test_official_a2_packet_as_printed(example: dict) -> None:
    """The standard's packet, byte for byte: ##<plaintext length>…{0x..}tail&&<plaintext CRC>."""
    packet, segment, cp = _parts(example)
    printed = (f"##{example['declared_length_printed']:04d}" + segment[: segment.index("CP=&&") + 5]
               + format_clist(bytes.fromhex(example["ciphertext_hex"])) + example["clear_tail"] + "&&" + example["crc"])
    assert encrypt_frame(segment, KEY, SM4_PRESETS["standard-plain-length"]) == printed.encode() + b"\r\n"
    # the default (length of the transmitted segment) differs only in the 4 length digits
    ours = encrypt_frame(segment, KEY)
    assert ours[6:] == printed.encode()[6:] + b"\r\n" and int(ours[2:6]) == len(ours) - 12
    # decoding: the printed form is recognised (warning sm4_length), ours is the default
    keyed = Dialect(sm4_key=KEY)
    for frame, warns in ((printed.encode(), ["sm4_length"]), (ours, [])):
        p = decode(frame, keyed)
        assert p.cp.text == cp and [w.code for w in p.warnings] == warns
        assert {r.code for r in records(p)} >= {"a01011", "a01014"}
    assert [w.code for w in decode(printed.encode(), Dialect(sm4_key=KEY, sm4_variant=SM4_PRESETS["standard-plain-length"])).warnings] == []
    with pytest.raises(HJ212Error) as info:
        decode(printed.encode(), Dialect(sm4_key=KEY, lenient=False))
    assert info.value.reason == "length_mismatch"


def test_official_a1_crc_example() -> None:
    p = decode(A2["crc_example_a1"].encode())
    assert (p.version, p.cn, p.flag, p.ack_required, p.warnings) == ("2025", "1011", 9, True, ())


def test_stream_framer_cuts_every_variant() -> None:
    segment = _parts(A2["examples"][0])[1]
    frames = [encrypt_frame(segment, KEY, v) for v in SM4_PRESETS.values() if v.form == "clist"]
    frames += [encrypt_frame(segment, KEY, SM4_PRESETS["hex-pkcs7"])]
    stream = b"noise" + b"".join(frames) + b"##12"
    for step in (1, 13, 4096):
        framer = StreamFramer()
        events = []
        for i in range(0, len(stream), step):
            events += framer.feed(stream[i : i + step])
        events += framer.flush()
        got = [e.data + b"\r\n" for e in events if e.is_frame]
        assert got == frames
        assert sum(e.size for e in events) + framer.trailer_bytes == len(stream)
    assert len(frames[0]) > 1024 + 12  # the C-style list is longer than the standard's 1024 maximum


def _packet(cn: str = "2051") -> Packet:
    return Packet(st="31", cn=cn, pw="123456", mn="010000A8900016F000169DC0", qn="20240520210700000", flag=9,
                  cp=DataArea("DataTime=20240520210600;a01011-Min=1.35,a01011-Avg=1.35,a01011-Max=1.35,a01011-Flag=N"))


#: preset → warnings when the device is not configured (the standard expected)
EXPECTED = {
    "standard": [],
    "standard-plain-length": ["sm4_length"],
    "clist-cipher-crc": ["sm4_crc"],
    "hex-pkcs7": ["sm4_crc", "sm4_form", "sm4_padding"],
    "hex-pkcs7-plain-crc": ["sm4_form", "sm4_padding"],
    "hex-zero": ["sm4_crc", "sm4_form", "sm4_padding"],
    "base64-pkcs7": ["sm4_crc", "sm4_form", "sm4_padding"],
    "base64-zero": ["sm4_crc", "sm4_form", "sm4_padding"],
}


@pytest.mark.parametrize("name", sorted(SM4_PRESETS))
def test_each_variant_round_trips_and_is_recognised(name: str) -> None:
    variant = SM4_PRESETS[name]
    assert Sm4Variant.parse(name) is variant and Sm4Variant.parse(str(variant)) == variant
    p = _packet()
    frame = encode(p, Dialect(sm4_key=KEY, sm4_variant=variant))
    assert b"a01011" not in frame
    pinned = decode(frame, Dialect(sm4_key=KEY, sm4_variant=variant))
    assert pinned == p and pinned.warnings == ()
    pinned_strict = decode(frame, Dialect(sm4_key=KEY, sm4_variant=variant, lenient=False))
    assert pinned_strict == p
    detected = decode(frame, Dialect(sm4_key=KEY))
    assert detected == p and sorted(w.code for w in detected.warnings) == EXPECTED[name]
    if EXPECTED[name]:
        with pytest.raises(HJ212Error) as info:
            decode(frame, STRICT.with_(sm4_key=KEY))
        assert info.value.reason in ("bad_crc", "length_mismatch", "decrypt_failed")
    # without a key the header is still readable (the gateway then decodes with the device's key)
    hidden = decode(frame)
    assert hidden.encrypted and hidden.mn == p.mn
    unverified = variant.crc_over == "plain" or variant.length_of == "plain"
    assert ([w.code for w in hidden.warnings] == ["crc_unverified"]) == unverified


def test_cbc_variant() -> None:
    variant = Sm4Variant(form="hex", padding="pkcs7", crc_over="cipher", mode="cbc", iv=bytes(range(16)))
    frame = encode(_packet(), Dialect(sm4_key=KEY, sm4_variant=variant))
    assert decode(frame, Dialect(sm4_key=KEY, sm4_variant=variant)) == _packet()
    with pytest.raises(HJ212Error):
        decode(frame, Dialect(sm4_key=KEY))  # ECB cannot read CBC


def test_wrong_crc_and_wrong_key_are_rejected() -> None:
    frame = encode(_packet(), Dialect(sm4_key=KEY))
    bad = frame[:-6] + (b"0000" if frame[-6:-2] != b"0000" else b"1111") + b"\r\n"
    with pytest.raises(HJ212Error) as info:
        decode(bad, Dialect(sm4_key=KEY))
    assert info.value.reason == "bad_crc" and "plaintext" in str(info.value)
    with pytest.raises(HJ212Error) as info:
        decode(bad, STRICT)  # no key, strict: an unverifiable CRC is refused
    assert info.value.reason == "bad_crc"
    with pytest.raises(HJ212Error) as info:
        decode(frame, Dialect(sm4_key="1" * 16))
    assert info.value.reason == "decrypt_failed"


@pytest.mark.parametrize("body", ["{0xE4,0x3E}", "{0xE4,0x3E", "{0xZZ}", "{0xE4}}x=1"])
def test_malformed_clist_is_rejected(body: str) -> None:
    s = f"QN=20240520210700000;ST=31;CN=2051;PW=123456;MN=X1;Flag=9;CP=&&{body}&&"
    with pytest.raises(HJ212Error) as info:
        decode_segment(s, Dialect(sm4_key=KEY))
    assert info.value.reason in ("decrypt_failed", "bad_cp")


def test_variant_specs() -> None:
    assert str(SM4_STANDARD) == "clist/none/plain/cipher"
    assert Sm4Variant.parse("hex/pkcs7/cipher") == SM4_PRESETS["hex-pkcs7"]
    for bad in ("rot13", "hex/none/plain/plain", "clist/none/plain/cipher/x", "hex/pkcs7/both"):
        with pytest.raises(ValueError):
            Sm4Variant.parse(bad)
    with pytest.raises(ValueError):
        Sm4Variant(mode="cbc")
    with pytest.raises(HJ212Error):
        encrypt_cp("a=1", KEY, padding="none", encoding="hex")  # hex cannot carry a clear tail
