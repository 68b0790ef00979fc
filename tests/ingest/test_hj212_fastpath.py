"""The gateway's per-packet shortcuts (issue 12 item 1) give exactly what the codec gives: the 9014 answer built
without encoding's decode-back check, and the rows built from per-site plans."""

from __future__ import annotations

import pytest
from test_hj212_gateway import gas_cp, packet

from ecohub.ingest.hj212.session import ack_9014
from ecohub.protocols.hj212 import data_ack, decode, encode, frame_segment


@pytest.mark.parametrize("flag", [5, 4, 7, 9, 11, 1])
def test_the_9014_shortcut_is_the_codec_answer(flag):
    from datetime import UTC, datetime

    _, f = packet("0100005A357E000000000001", gas_cp(datetime(2026, 3, 1, 4, 0, tzinfo=UTC)), flag=flag,
                  extra="PNUM=2;PNO=1;" if flag & 2 else "")
    p = decode(f)
    assert ack_9014(p) == encode(data_ack(p))


def test_the_9014_shortcut_without_flag_falls_back_to_the_codec():
    p = decode(frame_segment("QN=20260301120000123;ST=31;CN=2011;PW=x1;MN=M1;CP=&&DataTime=20260301120000;"
                             "a21026-Rtd=1.0&&"))
    assert p.flag is None
    assert ack_9014(p) == encode(data_ack(p))
