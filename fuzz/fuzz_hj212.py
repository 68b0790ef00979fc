"""atheris (libFuzzer) harness for the HJ 212 decoder: no input may raise anything but HJ212Error.

Run (bounded), with seed packets from tests/fixtures/hj212_packets written to a corpus folder first:

    .venv/bin/python fuzz/fuzz_hj212.py --make-seeds /tmp/hj212_corpus
    .venv/bin/python fuzz/fuzz_hj212.py -runs=200000 -max_len=2100 /tmp/hj212_corpus

Each input goes through ``decode`` and ``decode_segment`` under several dialects, ``records`` and
``to_dict`` of what decodes, a re-framing with a correct length and CRC (so mutations reach the
field and CP checks), and the ``StreamFramer`` in chunks (whose byte accounting is asserted).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

if importlib.util.find_spec("ecohub") is None:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import atheris

with atheris.instrument_imports(include=["ecohub"]):
    from ecohub.protocols.hj212 import (
        SM4_PRESETS,
        STRICT,
        Dialect,
        HJ212Error,
        StreamFramer,
        decode,
        decode_segment,
        encrypt_frame,
        frame_segment,
        records,
    )

KEY = "0123456789abcdeffedcba9876543210"
DIALECTS = [
    Dialect(),
    Dialect(crc="either", short_crc=True, strict_codes=True),
    Dialect(length_unit="chars", strict_values=False),
    Dialect(sm4_key=KEY, version="2025", max_length=9999),
    STRICT.with_(sm4_key=KEY),  # HJ 212-2025 C-style lists, CRC over the plaintext, strict checks
]
BIG = Dialect(max_length=9999)


def _check(fn, data, dialect) -> None:
    try:
        packet = fn(data, dialect)
    except HJ212Error:
        return
    try:
        records(packet)
    except HJ212Error:
        pass
    packet.to_dict()


def TestOneInput(data: bytes) -> None:  # noqa: N802 (atheris API)
    for dialect in DIALECTS:
        _check(decode, data, dialect)
        _check(decode_segment, data, dialect)
    # the same bytes as a data segment with a correct frame: reaches the field checks
    _check(decode, frame_segment(data[:9999], BIG), BIG)
    # stream framing in chunks of a size taken from the input
    step = (data[0] % 64 + 1) if data else 1
    framer = StreamFramer(verify_crc=bool(data[:1]) and data[0] & 1 == 1)
    events = []
    for i in range(0, len(data), step):
        events += framer.feed(data[i : i + step])
    events += framer.flush()
    assert sum(e.size for e in events) + framer.trailer_bytes == len(data), "framer lost bytes"
    assert framer.buffered == 0
    for e in events:
        if e.is_frame:
            _check(decode, e.data, DIALECTS[0])


def make_seeds(folder: Path) -> int:
    data = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hj212_packets"
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for name in ("device_packets.jsonl.gz", "spec_and_command_examples.jsonl.gz"):
        path = data / name
        if not path.exists():
            continue
        for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
            packet = json.loads(line)["packet"].encode()
            (folder / f"seed{n:03d}").write_bytes(packet + b"\r\n")
            n += 1
    # HJ 212-2025 encrypted frames in every SM4 variant (plaintext segment of the A.2 examples)
    plain = ("QN=20240520210700000;ST=31;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&"
             "DataTime=20240520210600;a01011-Min=1.35,a01011-Avg=1.35,a01011-Max=1.35,a01011-Flag=N&&")
    for variant in SM4_PRESETS.values():
        (folder / f"seed{n:03d}").write_bytes(encrypt_frame(plain, KEY, variant))
        n += 1
    return n


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--make-seeds":
        print(f"{make_seeds(Path(sys.argv[2]))} seeds written to {sys.argv[2]}")
        sys.exit(0)
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
