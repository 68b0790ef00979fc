"""The rating method ``mee-2013-150``: the indicator set of 《企业环境信用评价办法（试行）》(环发〔2013〕150号),
附件1 《企业环境信用评价指标及评分方法（试行）》 — 21 indicators in four areas, each with a weight; each indicator
scored 0–100 in three bands (第1档 80–100, 第2档 50–79, 第3档 0–49); the weighted sum is the score; four levels
(环保诚信 green, 环保良好 blue, 环保警示 yellow, 环保不良 red — 办法 art. on levels: "依次以绿牌、蓝牌、黄牌、
红牌表示"); vetoes make the enterprise red whatever the score.

What is confirmed and what is not is recorded per indicator (``confirmed``) and in ``docs/credit.md``: the area
weights (污染防治 29 %, 生态保护 5 %, 环境管理 54 %, 社会监督 12 %), the weights of indicators 1–5, 15 and 17 and the
band rule of indicator 1 were read in public copies of the annex and provincial summaries; the other indicators'
names and weights are ecohub's reading, chosen so that each area sums to its confirmed weight (**UNCONFIRMED**).

The platform observes only some indicators (:data:`FROM_FACTS`); the others are scored only when staff enter a
score (``manual_scores``: ``{"8": 100, …}``), else they are *not assessed* and the score is the weighted mean over
the assessed ones (``coverage`` says which share of the weight was assessed). The annex scores all 21 from an
inspection of the enterprise's records — this is where ecohub **differs**.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecohub.supervision.credit.method import THRESHOLDS, VETO_FACTS, Rating

METHOD = "mee-2013-150"
AREAS = {"pollution": ("污染防治", 29.0), "ecology": ("生态保护", 5.0), "management": ("环境管理", 54.0),
         "society": ("社会监督", 12.0)}


@dataclass(frozen=True)
class Item:
    no: int
    area: str
    name: str
    weight: float  # percent
    confirmed: bool  # name and weight read in a public copy of the annex


ITEMS = (
    Item(1, "pollution", "大气及水污染物达标排放", 15, True),
    Item(2, "pollution", "一般固体废物处理处置", 5, True),
    Item(3, "pollution", "危险废物规范化管理", 5, True),
    Item(4, "pollution", "噪声污染防治", 4, True),
    Item(5, "ecology", "选址布局中的生态保护", 2, True),
    Item(6, "ecology", "资源利用中的生态保护", 2, False),
    Item(7, "ecology", "开发建设中的生态保护", 1, False),
    Item(8, "management", "排污许可证", 4, False),
    Item(9, "management", "排污申报", 3, False),
    Item(10, "management", "排污费缴纳（环境保护税）", 3, False),
    Item(11, "management", "污染治理设施运行", 5, False),
    Item(12, "management", "排污口规范化整治", 3, False),
    Item(13, "management", "企业自行监测", 5, False),
    Item(14, "management", "内部环境管理情况", 3, False),
    Item(15, "management", "环境风险管理", 10, True),
    Item(16, "management", "强制性清洁生产审核", 3, False),
    Item(17, "management", "行政处罚与行政命令", 15, True),
    Item(18, "society", "群众投诉", 4, False),
    Item(19, "society", "媒体监督", 3, False),
    Item(20, "society", "环境信息公开", 3, False),
    Item(21, "society", "环境社会责任", 2, False),
)
HOURS_PER_YEAR = 8760


def band_rate(rate: float) -> float:
    """Indicator 1's rule (达标率): ≥ 90 % → 第1档 80–100; 75–90 % → 第2档 50–79; 50–75 % → 第3档 0–49; < 50 % → 0.
    Linear within a band (the annex gives the bands, not the interpolation — ecohub's)."""
    if rate >= 0.9:
        return round(80 + (min(rate, 1.0) - 0.9) / 0.1 * 20, 1)
    if rate >= 0.75:
        return round(50 + (rate - 0.75) / 0.15 * 29, 1)
    if rate >= 0.5:
        return round((rate - 0.5) / 0.25 * 49, 1)
    return 0.0


def _count(n: float, band2_upto: int) -> float:
    """Counted findings → 100 (none), 65 (第2档, up to ``band2_upto``), 25 (第3档) — ecohub's mapping."""
    return 100.0 if n <= 0 else 65.0 if n <= band2_upto else 25.0


def from_facts(facts: dict) -> dict[int, tuple[float, str]]:
    """Indicator → (score, what it rests on) for the indicators the platform observes."""
    out: dict[int, tuple[float, str]] = {}
    outlets = int(facts.get("outlets") or 0)
    if outlets:
        hours = float(facts.get("exceedance_hours") or 0)
        rate = max(0.0, 1 - hours / (HOURS_PER_YEAR * outlets))
        out[1] = (band_rate(rate), f"在线监测达标率 {rate:.2%}（{hours:g} 超标小时 / {outlets} 个排口）")
    out[8] = (0.0, "无有效排污许可证") if facts.get("permit_missing") else (100.0, "持有效排污许可证")
    off, susp = float(facts.get("offline_findings") or 0), float(facts.get("suspicious_findings") or 0)
    out[13] = (0.0 if susp else _count(off, 3), f"离线 {off:g} 次，数据疑似异常 {susp:g} 次")
    cases = float(facts.get("cases_decided") or 0)
    out[17] = (100.0 if not cases else 0.0, f"年度处罚决定 {cases:g} 件")  # 广东 2015 指引: 受到处罚得 0 分
    comp = float(facts.get("substantiated_complaints") or 0)
    out[18] = (_count(comp, 1), f"被举报查实 {comp:g} 件")
    return out


FROM_FACTS = (1, 8, 13, 17, 18)


def rate(facts: dict) -> Rating:
    """Score, level and the breakdown (``points``: one row per indicator, assessed or not) of ``facts``."""
    auto = from_facts(facts)
    manual = {int(k): float(v) for k, v in (facts.get("manual_scores") or {}).items()}
    rows, total, weight = [], 0.0, 0.0
    for it in ITEMS:
        if it.no in manual:
            score, basis = max(0.0, min(100.0, manual[it.no])), "人工录入"
        elif it.no in auto:
            score, basis = auto[it.no]
        else:
            rows.append({"indicator": f"i{it.no}", "name": it.name, "area": AREAS[it.area][0], "weight": it.weight,
                         "fact": None, "unit": "", "score": None, "points": 0, "basis": "未评价（平台无此信息）",
                         "confirmed": it.confirmed})
            continue
        total += score * it.weight / 100
        weight += it.weight
        rows.append({"indicator": f"i{it.no}", "name": it.name, "area": AREAS[it.area][0], "weight": it.weight,
                     "fact": score, "unit": "/100", "score": score, "points": round(score * it.weight / 100, 2),
                     "basis": basis, "confirmed": it.confirmed})
    score = round(total / weight * 100, 2) if weight else 0.0
    vetoes = [{"item": k, "reason": r, "fact": facts[k]} for k, r in VETO_FACTS.items() if facts.get(k)]
    vetoes += [{"item": "manual", "reason": r} for r in facts.get("manual_vetoes") or ()]
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
    rows.append({"indicator": "coverage", "name": "已评价权重", "fact": round(weight, 1), "unit": "%", "points": 0,
                 "basis": "已评价指标的权重之和（其余未评价）"})
    return Rating(level, score, rows, vetoes)
