"""The complaint loop (12369 举报件办理), declared once: stages, the transitions between them, what each needs,
and the deadline of each stage (sources and what is UNCONFIRMED in ``docs/enforcement.md`` § Complaint loop).

::

    received ──受理──▶ accepted ──转办──▶ transferred ──▶ handling ──办结──▶ handled ──答复──▶ replied ──回访──▶ visited ──公开──▶ closed
        │                  └──────────自办──────────────▶ handling            │                   └──(无法联系)──▶ closed
        └──不予受理──▶ rejected ──▶ closed                  accepted ──办结──▶ handled ──(线下答复)──▶ closed
    (received | accepted | transferred | handling) ──合并──▶ merged      visited(不满意) ──重新办理──▶ handling

The coarse ``complaint.status`` (what the public page and the older clients know) follows the stage
(:data:`STATUS_OF`). Deadlines (:data:`DUE`): ``(n, unit, counted from)`` — ``unit`` is ``workdays`` (working days
of the shipped calendar, :mod:`ecohub.supervision.workdays`) or ``days`` (calendar days; a period ending on a
holiday ends on the next working day, 民法典 art. 203); counted from the day the stage was entered
(``entered``), from submission (``submitted``) or from acceptance (``accepted``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ecohub.supervision import workdays

STAGES: dict[str, str] = {
    "received": "已登记", "accepted": "已受理", "transferred": "已转办", "handling": "办理中", "handled": "已办结",
    "replied": "已答复", "visited": "已回访", "closed": "已办结公开", "rejected": "不予受理", "merged": "已合并",
}
TERMINAL = ("closed", "merged")
OPEN = tuple(s for s in STAGES if s not in TERMINAL)
#: stage → the coarse ``complaint.status``
STATUS_OF: dict[str, str] = {"received": "received", "accepted": "accepted", "transferred": "accepted",
                             "handling": "accepted", "handled": "handled", "replied": "handled",
                             "visited": "handled", "closed": "closed", "rejected": "rejected", "merged": "closed"}
SATISFACTION = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}


@dataclass(frozen=True)
class Step:
    """A transition: its name and what it needs (each a field that must be given, checked by the service)."""

    name: str
    needs: tuple[str, ...] = ()  # note | region | target | result | reply | satisfaction
    only_unsatisfied: bool = False  # only after a return visit the complainant was not satisfied with


#: (from, to) → step: the one declaration of the loop. Anything not here is refused with the reason.
TRANSITIONS: dict[tuple[str, str], Step] = {
    ("received", "accepted"): Step("受理"),
    ("received", "rejected"): Step("不予受理", ("note",)),
    ("received", "merged"): Step("合并重复举报", ("target",)),
    ("accepted", "transferred"): Step("转办属地生态环境部门", ("region",)),
    ("accepted", "handling"): Step("本级办理"),
    ("accepted", "handled"): Step("办结", ("note",)),
    ("accepted", "rejected"): Step("不予受理", ("note",)),
    ("accepted", "merged"): Step("合并重复举报", ("target",)),
    ("transferred", "handling"): Step("承办单位开始办理"),
    ("transferred", "merged"): Step("合并重复举报", ("target",)),
    ("handling", "handled"): Step("办结", ("note",)),
    ("handling", "merged"): Step("合并重复举报", ("target",)),
    ("handled", "replied"): Step("答复举报人", ("reply",)),
    ("handled", "closed"): Step("办结归档（已线下答复）"),
    ("replied", "visited"): Step("回访", ("satisfaction",)),
    ("replied", "closed"): Step("办结归档（举报人无法回访）", ("note",)),
    ("visited", "closed"): Step("办结并公开结果"),
    ("visited", "handling"): Step("回访不满意，重新办理", ("note",), only_unsatisfied=True),
    ("rejected", "closed"): Step("归档"),
}

#: stage → (n, unit, counted from); None: no deadline
DUE: dict[str, tuple[int, str, str] | None] = {
    "received": (15, "days", "submitted"),  # 告知是否受理: 15 日 (环保举报热线工作管理办法)
    "accepted": (3, "workdays", "entered"),  # 转办/交办: 3 个工作日 (福建 2018; project default)
    "transferred": (2, "workdays", "entered"),  # 承办单位开始办理: 2 个工作日 (福建 2018)
    "handling": (60, "days", "accepted"),  # 办结: 受理之日起 60 日 (环保举报热线工作管理办法; 信访工作条例)
    "handled": (5, "workdays", "entered"),  # 答复举报人: project default, UNCONFIRMED
    "replied": (10, "workdays", "entered"),  # 回访: project default, UNCONFIRMED
    "visited": (5, "workdays", "entered"),  # 公开办理结果: project default, UNCONFIRMED
    "rejected": (15, "days", "submitted"),  # 不予受理 also answered within the 15 days
    "closed": None, "merged": None,
}


def allowed(frm: str) -> list[str]:
    return [to for (f, to) in TRANSITIONS if f == frm]


def refusal(frm: str, to: str) -> str | None:
    """None when ``frm → to`` is declared, else the reason it is refused."""
    if to not in STAGES:
        return f"unknown stage {to!r}; stages: {', '.join(STAGES)}"
    if (frm, to) in TRANSITIONS:
        return None
    if frm in TERMINAL:
        return f"the complaint is {frm} ({STAGES[frm]}): a finished complaint does not change"
    return (f"a {frm} ({STAGES[frm]}) complaint cannot move to {to} ({STAGES[to]}); from {frm}: "
            + ", ".join(allowed(frm)))


def due(stage: str, *, entered: date, submitted: date, accepted: date | None) -> date | None:
    """The deadline of ``stage`` entered on ``entered`` (rules in :data:`DUE`)."""
    rule = DUE.get(stage)
    if rule is None:
        return None
    n, unit, base = rule
    start = {"entered": entered, "submitted": submitted, "accepted": accepted or entered}[base]
    if unit == "workdays":
        return workdays.add_working_days(start, n, strict=False)
    return workdays.add_calendar_days(start, n, strict=False)
