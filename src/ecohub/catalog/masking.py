"""Masking of personal data in exports (GB/T 35273-2020 §3.14 去标识化 practice: keep what identifies the
record for the recipient's work, hide what identifies the person).

Policies, named in a dataset's field list (``"mask": "phone"``):

| policy | example in | out |
|---|---|---|
| ``phone`` | 13812345678 / 0311-87654321 | 138****5678 / ****4321 |
| ``id_card`` | 130102199001011234 | 1301**********1234 |
| ``name`` | 张三丰 | 张** |
| ``email`` | zhang@example.com | z****@example.com |
| ``address`` | 石家庄市长安区中山东路1号 | 石家庄市长安区*** |
| ``hide`` | anything | (empty) |

Masking is irreversible and applied before the file is written; which fields were masked is recorded with
the export (``export_record.masked_fields``) and in the audit log.
"""

from __future__ import annotations

import re

POLICIES = ("phone", "id_card", "name", "email", "address", "hide")


def mask_phone(v: str) -> str:
    digits = re.sub(r"\D", "", v)
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 4:
        return "****" + digits[-4:]
    return "****"


def mask_id_card(v: str) -> str:
    s = v.strip()
    if len(s) >= 10:
        return s[:4] + "*" * (len(s) - 8) + s[-4:]
    return "*" * len(s)


def mask_name(v: str) -> str:
    s = v.strip()
    return s[:1] + "*" * max(1, len(s) - 1) if s else s


def mask_email(v: str) -> str:
    local, at, domain = v.partition("@")
    if not at:
        return "****"
    return (local[:1] or "") + "****@" + domain


def mask_address(v: str) -> str:
    s = v.strip()
    return s[:7] + "***" if len(s) > 7 else s[:2] + "***"


_FUNCS = {"phone": mask_phone, "id_card": mask_id_card, "name": mask_name, "email": mask_email,
          "address": mask_address}


def mask(value, policy: str):
    """The masked value (None stays None)."""
    if value is None:
        return None
    if policy == "hide":
        return ""
    f = _FUNCS.get(policy)
    if f is None:
        raise ValueError(f"mask: unknown policy {policy!r} (one of {', '.join(POLICIES)})")
    return f(str(value))
