"""The operator's status page shows each HJ 212 device's deviations from the standard, within the caller's
scope (the public sees no device). Both backends (``store`` fixture via ``world``)."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy import insert, select

from ecohub.ingest.hj212 import GatewayConfig, start_in_thread
from ecohub.protocols.hj212 import BEIJING, frame_segment
from ecohub.store.schema import device, device_event, site

MN = "0100005ASTAT000000000001"


def test_status_page_shows_device_deviations_within_scope(world):
    store = world.store
    with store.engine.begin() as c:
        sid = c.scalar(select(site.c.id).where(site.c.code == "OUT-SJZ-E1"))
        c.execute(insert(device).values(mn=MN, site_id=sid, protocol="2017", created_at=datetime.now(UTC),
                                        password_hash=PasswordHasher(time_cost=1, memory_cost=1024).hash("pw1")))
    h = start_in_thread(store, port=0, config=GatewayConfig(command_poll=0.1))
    try:
        import socket

        with socket.create_connection(("127.0.0.1", h.port), timeout=10) as s:
            now = datetime.now(BEIJING).strftime("%Y%m%d%H%M%S")
            # ST of three characters: accepted, kept as given, warning st_length
            seg = f"QN={now}001;ST=310;CN=2011;PW=pw1;MN={MN};Flag=5;CP=&&DataTime={now};a21026-Rtd=1.5,a21026-Flag=N&&"
            s.sendall(frame_segment(seg))
            got = b""
            while b"CN=9014" not in got:
                data = s.recv(4096)
                assert data, got
                got += data  # answered
    finally:
        h.stop()
    with store.engine.connect() as c:
        assert c.scalar(select(device_event.c.id).where(device_event.c.kind == "deviation"))
    page = world.get("admin", "/status").text
    assert MN in page and "st_length" in page and "OUT-SJZ-E1" in page
    assert MN in world.get("officer_sjz", "/status").text  # his region
    assert MN not in world.get("officer_ts", "/status").text  # another region's outlet
    assert MN not in world.get("anonymous", "/status").text  # no device for the public
