"""The rating method ``ecohub-credit-v1``: a year's facts of one enterprise → deductions, vetoes, score, level.

Frame (《企业环境信用评价办法（试行）》, 环发〔2013〕150号): four levels — 环保诚信企业 green, 环保良好企业 blue,
环保警示企业 yellow, 环保不良企业 red — and "一票否决" items that make an enterprise red whatever else it did. The
2013 measures score 21 indicators in four areas with weights; the provincial measures that followed (2019+,
e.g. 记分 or deduction schemes) deduct points per violation. ecohub can only judge what the platform knows, so this
method is a **deduction scheme over platform facts**, modelled on the provincial versions — the points and
thresholds below are ecohub's, configurable, and NOT the official table of any province (docs/credit.md).

Start at 100; deduct per fact (capped per indicator); level: red if any veto, else green ≥ 90 with no decided
case, blue ≥ 75, yellow ≥ 60, red below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

METHOD = "ecohub-credit-v1"
LEVELS = {"green": "环保诚信企业（绿牌）", "blue": "环保良好企业（蓝牌）", "yellow": "环保警示企业（黄牌）",
          "red": "环保不良企业（红牌）"}
THRESHOLDS = {"green": 90.0, "blue": 75.0, "yellow": 60.0}


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    per_unit: float  # points per unit of the fact
    cap: float  # at most this many points
    unit: str


INDICATORS = (
    Indicator("exceedance_hours", "污染物超标排放（小时）", 0.5, 30, "hour"),
    Indicator("cases_decided", "受到行政处罚（件）", 10, 30, "case"),
    Indicator("fines_10k_yuan", "罚款金额（万元）", 0.1, 10, "10k yuan"),
    Indicator("suspicious_findings", "自动监测数据疑似异常（次）", 5, 20, "finding"),
    Indicator("offline_findings", "自动监测设备离线（次）", 1, 10, "finding"),
    Indicator("substantiated_complaints", "被举报查实（件）", 3, 15, "complaint"),
    Indicator("permit_missing", "无有效排污许可证", 20, 20, "flag"),
)


@dataclass
class Rating:
    level: str
    score: float
    points: list[dict] = field(default_factory=list)
    vetoes: list[dict] = field(default_factory=list)


#: 一票否决 items the platform can know (fact key → reason); the 2013 measures' list also has items the platform
#: cannot see (EIA approvals, environmental crimes …), entered by staff as ``vetoes`` facts.
VETO_FACTS = {
    "monitoring_fraud_cases": "篡改、伪造自动监测数据被处罚（一票否决）",
    "daily_fine_cases": "被按日连续处罚（一票否决，依省级办法）",
    "tonnage_exceeded": "主要污染物排放总量超过许可排放量（一票否决）",
}


def rate(facts: dict) -> Rating:
    """Points, vetoes, score and level of ``facts`` (keys of :data:`INDICATORS` and :data:`VETO_FACTS`;
    ``manual_vetoes``: reasons entered by staff)."""
    points = []
    for ind in INDICATORS:
        n = float(facts.get(ind.key) or 0)
        if n <= 0:
            continue
        p = round(min(ind.cap, n * ind.per_unit), 2)
        points.append({"indicator": ind.key, "name": ind.name, "fact": n, "unit": ind.unit, "points": -p})
    vetoes = [{"item": k, "reason": r, "fact": facts[k]} for k, r in VETO_FACTS.items() if facts.get(k)]
    vetoes += [{"item": "manual", "reason": r} for r in facts.get("manual_vetoes") or ()]
    score = round(100 + sum(p["points"] for p in points), 2)
    if vetoes:
        level = "red"
    elif score >= THRESHOLDS["green"] and not facts.get("cases_decided"):
        level = "green"
    elif score >= THRESHOLDS["blue"]:
        level = "blue"
    elif score >= THRESHOLDS["yellow"]:
        level = "yellow"
    else:
        level = "red"
    return Rating(level, score, points, vetoes)
