"""The enforcement-case workflow, declared once: states, transitions, what each needs, and the deadline of each
state (general procedure of 《中华人民共和国行政处罚法》(2021) and 《生态环境行政处罚办法》(生态环境部令第30号,
2023); clauses and what is UNCONFIRMED in ``docs/enforcement.md``).

::

    clue ──立案──▶ filed ──▶ investigating ──告知──▶ notified ──申请听证──▶ hearing ──▶ decided ──送达──▶ executing ──▶ closed
      └──不予立案──▶ not_filed        (any of filed … hearing) ──撤销──▶ revoked        notified ─────────────▶ decided

Deadlines (``state_due`` of the state entered; dates are the legal dates of the steps, ``on``):

* ``clue`` — decide whether to file within 15 days of discovery (生态环境行政处罚办法: 初步审查, 十五日内决定是否
  立案; article number UNCONFIRMED); calendar days.
* ``filed``/``investigating``/``hearing`` — the decision within 90 days of filing (行政处罚法 art. 60;
  生态环境行政处罚办法 likewise); calendar days, extensions not modelled.
* ``notified`` — the party may request a hearing within 5 days of the notice (行政处罚法 art. 64); working days
  (art. 85). A decision before that window has closed is refused unless the party waived in writing.
* ``decided`` — the decision served within 7 days (行政处罚法 art. 61); working days (art. 85).
* ``executing`` — the fine paid within 15 days of service (行政处罚法 art. 67); calendar days.

A period ending on a holiday ends on the next working day (民法典 art. 203). Beyond the shipped holiday calendar a
deadline is computed on weekends only and marked provisional (``due_provisional`` in the step's record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ecohub.supervision import workdays

STATES: dict[str, str] = {
    "clue": "线索", "filed": "立案", "investigating": "调查取证", "notified": "告知", "hearing": "听证",
    "decided": "处罚决定", "executing": "执行", "closed": "结案", "not_filed": "不予立案", "revoked": "撤销",
}
TERMINAL = ("closed", "not_filed", "revoked")
OPEN = tuple(s for s in STATES if s not in TERMINAL)


@dataclass(frozen=True)
class Step:
    """A transition: its Chinese name, whether a reason is required, and what must hold before it."""

    name: str
    reason: bool = False  # a reason (理由) is required
    needs_penalty: bool = False  # at least one penalty proposed
    needs_paid: bool = False  # every fine paid (or the note says how it was enforced)
    hearing_window: bool = False  # refused while the hearing-request window is still open (unless waived)
    within_window: bool = False  # only while the hearing-request window is open


#: (from, to) → step: the one declaration of the workflow. Anything not here is refused.
TRANSITIONS: dict[tuple[str, str], Step] = {
    ("clue", "filed"): Step("立案"),
    ("clue", "not_filed"): Step("不予立案", reason=True),
    ("filed", "investigating"): Step("调查取证"),
    ("filed", "revoked"): Step("撤销立案", reason=True),
    ("investigating", "notified"): Step("告知（拟处罚及听证权利）", needs_penalty=True),
    ("investigating", "revoked"): Step("撤销立案", reason=True),
    ("notified", "hearing"): Step("当事人申请听证", within_window=True),
    ("notified", "decided"): Step("作出处罚决定", needs_penalty=True, hearing_window=True),
    ("notified", "revoked"): Step("撤销立案", reason=True),
    ("hearing", "decided"): Step("听证后作出处罚决定", needs_penalty=True),
    ("hearing", "revoked"): Step("撤销立案", reason=True),
    ("decided", "executing"): Step("送达处罚决定书，进入执行"),
    ("executing", "closed"): Step("结案", needs_paid=True),
}

#: the state ``case advance`` goes to when no target is named (the main line)
NEXT: dict[str, str] = {"clue": "filed", "filed": "investigating", "investigating": "notified",
                        "notified": "decided", "hearing": "decided", "decided": "executing", "executing": "closed"}
#: the state ``case close`` goes to: 结案 at the end, 不予立案 of a clue, 撤销 of an open case
CLOSE: dict[str, str] = {"clue": "not_filed", "filed": "revoked", "investigating": "revoked",
                         "notified": "revoked", "hearing": "revoked", "executing": "closed"}

CLUE_DAYS = 15  # calendar
DECISION_DAYS = 90  # calendar, from filing
HEARING_REQUEST_WORKDAYS = 5
SERVICE_WORKDAYS = 7
PAYMENT_DAYS = 15  # calendar, from service


def allowed(frm: str) -> list[str]:
    return [to for (f, to) in TRANSITIONS if f == frm]


def refusal(frm: str, to: str) -> str | None:
    """None when ``frm → to`` is a declared transition, else the reason it is refused."""
    if to not in STATES:
        return f"unknown state {to!r}; states: {', '.join(STATES)}"
    if (frm, to) in TRANSITIONS:
        return None
    if frm in TERMINAL:
        return f"the case is {frm} ({STATES[frm]}): a finished case does not change"
    return (f"{frm} ({STATES[frm]}) → {to} ({STATES[to]}) is not a step of the procedure; from {frm}: "
            + ", ".join(allowed(frm)))


def due(state: str, *, discovered_on: date, on: date, decision_due: date | None) -> date | None:
    """The deadline of ``state`` entered on ``on`` (see the module doc for the rules)."""
    if state == "clue":
        return workdays.add_calendar_days(discovered_on, CLUE_DAYS, strict=False)
    if state in ("filed", "investigating", "hearing"):
        return decision_due
    if state == "notified":
        return workdays.add_working_days(on, HEARING_REQUEST_WORKDAYS, strict=False)
    if state == "decided":
        return workdays.add_working_days(on, SERVICE_WORKDAYS, strict=False)
    if state == "executing":
        return workdays.add_calendar_days(on, PAYMENT_DAYS, strict=False)
    return None


def decision_deadline(filed_on: date) -> date:
    return workdays.add_calendar_days(filed_on, DECISION_DAYS, strict=False)
