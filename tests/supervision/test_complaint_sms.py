"""The SMS channel behind its adapter, against a double gateway on 127.0.0.1: replies reach the complainant's
number; only the handling officer may send; the number never appears in answers or the audit log; gateway
failures are clear errors."""

from __future__ import annotations

import pytest
from sms_double import SmsDouble

from ecohub.domain.errors import InputError
from ecohub.store.audit import Origin
from ecohub.store.audit import query as audit_query
from ecohub.store.queries import Scope
from ecohub.supervision import complaints as C
from ecohub.supervision.complaint_reply import reply_sms
from ecohub.supervision.sms import HttpSmsGateway, SmsError, e164


def _submit(store, tmp_path, phone="13812345678"):
    return C.submit(store, C.ComplaintInput("air", "工厂夜间冒黑烟，气味刺鼻", 114.52, 38.05, phone=phone), tmp_path)


def test_e164():
    assert e164("13812345678") == "+8613812345678" == e164("+8613812345678")
    with pytest.raises(InputError):
        e164("0311-1234567")


def test_reply_over_sms(store, tmp_path):
    c = _submit(store, tmp_path)
    code = c["tracking_code"]
    region = C.get_complaint(store, Scope("admin"), code)["region_code"]
    officer = Scope("officer", region_code=region, name="o")
    with SmsDouble() as gw:
        good = HttpSmsGateway(gw.url, "t0ken")
        with pytest.raises(PermissionError, match="accept it first"):  # nobody handles it yet
            reply_sms(store, officer, Origin("o", "officer"), code, "x", good)
        C.change_status(store, officer, code, "accepted", actor="o")  # o becomes the handling officer
        for other_staff in (Scope("officer", region_code=region, name="o2"), Scope("admin", name="root")):
            with pytest.raises(PermissionError, match=r"handling officer \(o\)"):
                reply_sms(store, other_staff, Origin(other_staff.name), code, "x", good)
        assert gw.sent == []
        out = reply_sms(store, officer, Origin("o", "officer"), code, "您的举报已查实并立案处理。", good)
        assert out["message_id"] == "m1" and "138" not in str(out)
        assert gw.sent == [{"to": "+8613812345678", "text": "您的举报已查实并立案处理。", "ref": C.normalize_code(code)}]
        with pytest.raises(PermissionError):
            reply_sms(store, Scope("analyst"), Origin("a"), code, "x", good)
        other = "130104" if region != "130104" else "130102"
        with pytest.raises(LookupError):
            reply_sms(store, Scope("officer", region_code=other), Origin("o"), code, "x", good)
        with pytest.raises(SmsError, match="401"):
            reply_sms(store, officer, Origin("o"), code, "x", HttpSmsGateway(gw.url, "wrong"))
        gw.fail = True
        with pytest.raises(SmsError, match="503"):
            reply_sms(store, officer, Origin("o"), code, "x", good)
    rows = audit_query(store, action=["complaint_sms"])
    assert len(rows) == 1 and "13812345678" not in str(rows)
    with pytest.raises(SmsError, match="unreachable"):
        reply_sms(store, officer, Origin("o"), code, "x", HttpSmsGateway(gw.url, "t0ken", timeout=1))
