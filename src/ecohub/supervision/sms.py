"""SMS as a channel, behind an adapter: :class:`SmsGateway` is what the complaint loop calls;
:class:`HttpSmsGateway` talks to an HTTP SMS gateway (the usual shape of the Chinese carriers' and cloud SMS
gateways: a POST of JSON with the number, the text and a reference, answered with a message id). The tests run it
against a double server on 127.0.0.1 (``tests/supervision/sms_double.py``); another vendor is one more class.

Request: ``POST <url>`` with ``Authorization: Bearer <token>`` and ``{"to": "+8613812345678", "text": …,
"ref": …}``; a 2xx answer with ``{"id": …}`` is success; anything else raises :class:`SmsError` with the status
and the gateway's message (never the number: it is personal data)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from ecohub.domain.errors import InputError

MAX_TEXT = 500  # long SMS are split by the carrier (67 Chinese characters a part); keep replies short


class SmsError(RuntimeError):
    """The gateway refused or failed (status, message)."""


class SmsGateway(Protocol):
    def send(self, to: str, text: str, ref: str) -> str:
        """Send; the gateway's message id."""
        ...


def e164(phone: str) -> str:
    digits = phone.strip().removeprefix("+").removeprefix("86") if phone.strip().startswith(("+86", "86")) \
        and len(phone.strip().lstrip("+")) > 11 else phone.strip()
    if not (len(digits) == 11 and digits.startswith("1") and digits.isdigit()):
        raise InputError("phone", "***", "SMS needs a mainland mobile number (11 digits starting with 1)")
    return "+86" + digits


@dataclass
class HttpSmsGateway:
    url: str
    token: str
    timeout: float = 10.0

    def send(self, to: str, text: str, ref: str) -> str:
        if not text.strip() or len(text) > MAX_TEXT:
            raise InputError("text", text[:40], f"an SMS text of 1 … {MAX_TEXT} characters")
        body = json.dumps({"to": e164(to), "text": text, "ref": ref}, ensure_ascii=False).encode()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (configured https/http URL)
                answer = json.loads(resp.read().decode() or "{}")
        except urllib.error.HTTPError as e:
            raise SmsError(f"SMS gateway answered {e.code}: {e.read()[:200].decode(errors='replace')}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise SmsError(f"SMS gateway unreachable: {e}") from None
        except ValueError:
            raise SmsError("SMS gateway answered something that is not JSON") from None
        mid = answer.get("id") if isinstance(answer, dict) else None
        if not mid:
            raise SmsError("SMS gateway answered without a message id")
        return str(mid)
