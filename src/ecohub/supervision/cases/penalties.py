"""Penalties of a case. Daily continuous penalty (按日连续处罚):

* 《中华人民共和国环境保护法》(2014) art. 59: an enterprise fined for illegally discharging pollutants that was
  ordered to correct and refuses may be fined continuously per day, from the day after the order to correct, at
  the amount of the original penalty.
* 《环境保护主管部门实施按日连续处罚办法》(环境保护部令第28号, 2014) art. 17 (UNCONFIRMED article number; rule
  as recalled): the number of days counted runs from the day after the correction order (责令改正违法行为决定书)
  was served to the day the re-inspection (复查) found the illegal discharge continuing, both included — i.e.
  ``days = recheck − served`` — and ``amount = original penalty × days``.

Worked value: served 2026-03-02, re-inspection 2026-04-01, original fine 100 000 yuan → 30 days → 3 000 000 yuan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ecohub.domain.errors import InputError
from ecohub.store.schema_enforcement import PENALTY_KINDS

#: kinds that are decided before the decision (proposed in 告知) and carry an amount
AMOUNT_KINDS = ("fine", "daily_fine", "confiscation")


@dataclass(frozen=True)
class DailyFine:
    base_yuan: float
    from_date: date  # first counted day (day after service of the correction order)
    to_date: date  # the re-inspection that found the violation continuing
    days: int
    amount_yuan: float


def daily_fine(base_yuan: float, served_on: date, recheck_on: date) -> DailyFine:
    """Amount of a daily continuous penalty (art. 59 环境保护法; 按日连续处罚办法 art. 17, see module doc)."""
    if base_yuan is None or base_yuan <= 0:
        raise InputError("base_yuan", base_yuan, "the original penalty must be a positive amount")
    if recheck_on <= served_on:
        raise InputError("recheck_on", recheck_on.isoformat(),
                         f"must be after the service of the correction order ({served_on.isoformat()})")
    days = (recheck_on - served_on).days
    return DailyFine(float(base_yuan), date.fromordinal(served_on.toordinal() + 1), recheck_on, days,
                     round(float(base_yuan) * days, 2))


def check_kind(kind: str) -> str:
    if kind not in PENALTY_KINDS:
        raise InputError("kind", kind, "must be one of " + ", ".join(PENALTY_KINDS))
    return kind


def check_fine(amount: float | None, legal: dict) -> float:
    """A fine within the range of its legal basis (``fine_min_yuan`` … ``fine_max_yuan``)."""
    if amount is None:
        raise InputError("amount_yuan", None, "a fine needs an amount")
    lo, hi = legal["fine_min_yuan"], legal["fine_max_yuan"]
    if not lo <= amount <= hi:
        raise InputError("amount_yuan", amount, f"outside the range of {legal['penalty_basis']} ({lo:g}–{hi:g} yuan)")
    return float(amount)
