"""Platform → device commands, answers and the exchange sequences of HJ 212-2017 Appendix C."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecohub.protocols.hj212 import (
    DataArea,
    Exchange,
    HJ212Error,
    Packet,
    answer_for,
    data_ack,
    decode,
    encode,
    exe_rtn,
    get_time,
    history_request,
    new_qn,
    notify_ack,
    qn_rtn,
    set_min_interval,
    set_rtd_interval,
    set_time,
    start_realtime,
    stop_realtime,
)

MN = "010000A8900016F000169DC0"
QN = "20160801085857223"


def test_answers_match_standards_sheet_examples() -> None:
    req = Packet(st="32", cn="1062", pw="123456", mn=MN, qn=QN, flag=5, cp=DataArea("RtdInterval=30"))
    assert encode(data_ack(req)) == b"##0087QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&3240\r\n"
    assert encode(qn_rtn(req)).startswith(b"##0094") and encode(qn_rtn(req))[-6:] == b"1B00\r\n"
    assert encode(exe_rtn(req)).startswith(b"##0095") and encode(exe_rtn(req))[-6:] == b"6240\r\n"
    assert notify_ack(req).cn == "9013" and notify_ack(req).cp.text == ""


def test_appendix_a_request_rebuilt() -> None:
    p = set_rtd_interval(MN, "100000", "32", 30, qn=QN)
    assert encode(p) == b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
    with pytest.raises(HJ212Error):
        set_rtd_interval(MN, "100000", "32", 5)


def test_history_request() -> None:
    begin = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # 08:00 Beijing
    p = history_request(MN, "123456", "31", begin, "20260101120000", interval="hour")
    assert p.cn == "2061" and p.flag == 5
    assert p.cp.text == "BeginTime=20260101080000;EndTime=20260101120000"
    assert decode(encode(p)) == p
    assert history_request(MN, "1", "31", "20260101000000", "20260101010000", interval="min").cn == "2051"
    assert history_request(MN, "1", "31", "20260101000000", "20260102000000", interval="day", version="2025").flag == 9
    with pytest.raises(HJ212Error):
        history_request(MN, "1", "31", "20260102000000", "20260101000000")


def test_time_commands() -> None:
    p = set_time(MN, "123456", "32", datetime(2026, 3, 1, 4, 0, tzinfo=UTC), pol_id="w01018")
    assert (p.cn, p.cp.text) == ("1012", "PolId=w01018;SystemTime=20260301120000")
    assert get_time(MN, "123456", "32").cn == "1011" and get_time(MN, "1", "32", pol_id="w01018").cp["PolId"] == "w01018"
    assert start_realtime(MN, "1", "22").cn == "2011" and stop_realtime(MN, "1", "22").cn == "2012"
    assert set_min_interval(MN, "1", "31", 10).cp["MinInterval"] == "10"
    for q in (p, get_time(MN, "1", "32"), start_realtime(MN, "1", "22")):
        assert decode(encode(q)) == q


def test_qn_unique_and_increasing() -> None:
    qns = [new_qn() for _ in range(2000)]
    assert len(set(qns)) == 2000 and qns == sorted(qns) and all(len(q) == 17 for q in qns)


def test_answer_for() -> None:
    upload = decode(b"##0137QN=20231008130452757;ST=22;CN=2081;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20231008130452;RestartTime=20231007130452&&3AC0")
    ack = answer_for(upload)
    assert ack is not None and (ack.cn, ack.qn, ack.st, ack.flag) == ("9014", upload.qn, "91", 4)
    lb = decode(b"##0377ST=22;CN=2011;PW=123456;MN=LB4200001;CP=&&DataTime=20210107140000;a05002-Rtd=16.996,a05002-Flag=N;a34006-Rtd=1074,a34006-Flag=N;a24088-Rtd=5.011,a24088-Flag=N;a21003-Rtd=5.874,a21003-Flag=N;a21004-Rtd=9.194,a21004-Flag=N;a21002-Rtd=18.169,a21002-Flag=N;a34007-Rtd=2743,a34007-Flag=N;a21026-Rtd=1.119,a21026-Flag=N;a34049-Rtd=3817,a34049-Flag=N;a99999-Rtd=22.007,a99999-Flag=N&&7940")
    assert answer_for(lb) is None  # 2005 style: no QN, no answer
    calib = Packet(st="21", cn="1013", pw="1", mn="X", qn=QN, flag=5, cp=DataArea("PolId=w01018"))
    assert answer_for(calib).cn == "9013"  # type: ignore[union-attr]
    assert answer_for(data_ack(calib)) is None
    v25 = Packet(st="31", cn="2011", pw="1", mn="X", qn=QN, flag=9, cp=DataArea("DataTime=20260101000000;a21026-Rtd=1"))
    assert answer_for(v25).flag == 8  # type: ignore[union-attr]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _device_upload(i: int, req: Packet) -> Packet:
    return Packet(st=req.st, cn="2061", pw=req.pw, mn=req.mn, qn=new_qn(), flag=5,
                  cp=DataArea(f"DataTime=2026010100{i:02d}00;a21026-Avg={i}.0,a21026-Flag=N"))


def test_backfill_exchange_sequence() -> None:
    clock = Clock()
    req = history_request(MN, "123456", "31", "20260101000000", "20260101030000")
    ex = Exchange(req, timeout=5, retries=3, clock=clock)
    assert ex.state == "sent"
    clock.t = 5
    assert ex.poll() == [req] and ex.sent == 2  # no 9011: resend
    assert ex.on_packet(decode(encode(qn_rtn(req, 1)))) == [] and ex.state == "accepted"
    acks = []
    for i in range(3):
        acks += ex.on_packet(decode(encode(_device_upload(i, req))))
    assert [a.cn for a in acks] == ["9014"] * 3 and len(ex.data) == 3
    assert [a.qn for a in acks] == [d.qn for d in ex.data]  # each upload answered with its own QN
    ex.on_packet(decode(encode(exe_rtn(req, 1))))
    assert ex.state == "done" and ex.finished and ex.exe_rtn == 1
    other = Packet(st="31", cn="9011", pw="1", mn=MN, qn="20990101000000000", flag=4, cp=DataArea("QnRtn=1"))
    assert not ex.matches(other)


def test_exchange_refused_failed_timeout() -> None:
    clock = Clock()
    req = set_rtd_interval(MN, "1", "32", 60)
    ex = Exchange(req, clock=clock)
    ex.on_packet(qn_rtn(req, 3))
    assert ex.state == "refused" and ex.qn_rtn == 3
    ex = Exchange(req, clock=clock)
    ex.on_packet(qn_rtn(req))
    ex.on_packet(exe_rtn(req, 100))
    assert ex.state == "failed" and ex.exe_rtn == 100
    ex = Exchange(req, timeout=10, retries=2, clock=clock)
    resent = 0
    for t in range(0, 100, 10):
        clock.t = t
        resent += len(ex.poll())
    assert resent == 2 and ex.state == "timeout"
    ex = Exchange(req, exec_timeout=30, clock=clock)
    ex.on_packet(qn_rtn(req))
    clock.t += 31
    ex.poll()
    assert ex.state == "timeout"


def test_new_qn_stays_a_valid_time_when_it_must_step_past_the_last() -> None:
    from ecohub.protocols.hj212 import commands, parse_time

    saved = commands._last_qn[0]
    try:
        commands._last_qn[0] = "20991231235959999"  # a QN in the future: the next ones step 1 ms
        a, b = commands.new_qn(), commands.new_qn()
        assert (a, b) == ("21000101000000000", "21000101000000001")
        parse_time(a, "QN")
    finally:
        commands._last_qn[0] = saved
