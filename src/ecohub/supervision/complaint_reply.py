"""Replying to a complainant (回复) through the SMS channel (:mod:`ecohub.supervision.sms`): only staff who may
see the contact (the complaint's handling officer — :func:`complaints.may_see_contact`) can send; the number
is read in the service and never returned or written to the audit log (which records the
complaint, the gateway's message id and the text)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ecohub.domain.errors import InputError, NotFound
from ecohub.store import personal
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.queries import Scope
from ecohub.store.schema_supervision import complaint, complaint_handling
from ecohub.supervision import complaints as C
from ecohub.supervision.sms import SmsGateway


def reply_sms(store: Store, scope: Scope, origin: Origin, code: str, text: str, gateway: SmsGateway, *,
              now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    if not C.handles_any(scope):
        raise PermissionError("only the handling officer may contact the complainant")
    cond = C.scope_condition(scope)
    q = (select(complaint.c.id, complaint.c.phone, complaint.c.tracking_code, complaint_handling.c.handler)
         .select_from(complaint.outerjoin(complaint_handling, complaint_handling.c.complaint_id == complaint.c.id))
         .where(complaint.c.tracking_code == C.normalize_code(code)))
    if cond is not None:
        q = q.where(cond)
    with store.engine.connect() as conn:
        r = conn.execute(q).first()
    if r is None:
        raise NotFound(f"complaint {code} not found (or not in your region)")
    if not C.may_see_contact(scope, r.handler):
        raise PermissionError(f"only the complaint's handling officer ({r.handler or 'none yet: accept it first'}) "
                              "may contact the complainant")
    phone = personal.unseal(r.phone)  # SM4 at rest (ecohub.store.personal)
    if not phone or phone == personal.UNREADABLE:
        raise InputError("phone", None, "the complainant left no phone number" if not phone else
                         "the phone cannot be decrypted (its SM4 key is not in the key ring)")
    mid = gateway.send(phone, text, ref=r.tracking_code)
    from ecohub.store.tx import write_tx

    with write_tx(store) as conn:
        origin.record(conn, "complaint_sms", f"complaint:{r.tracking_code}", {"message_id": mid, "text": text,
                                                                              "at": now.isoformat()})
    return {"complaint": C.format_code(r.tracking_code), "channel": "sms", "message_id": mid}
