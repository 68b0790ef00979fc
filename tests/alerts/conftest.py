"""Fixtures of the alert tests: a local webhook receiver and a local SMTP server (aiosmtpd), on 127.0.0.1."""

from __future__ import annotations

import pytest
from alerts_support import Mailbox, Receiver, free_port


@pytest.fixture
def webhook():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    box = Mailbox()
    box.port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=box.port)
    ctl.start()
    yield box
    ctl.stop()
