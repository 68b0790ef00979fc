"""Names for the Chinese alert texts: a reader sees 高锰酸盐指数 and 恒值, not ``codmn`` and ``flatline``
(issue 10, item 10). The codes stay in the alert's fields and ``details`` for machines."""

from __future__ import annotations

from ecohub.domain.parameters import BY_NAME

#: QC rules (:data:`ecohub.quality.config.RULES`)
QC_RULE_ZH = {
    "range": "超出量程", "negative": "负值", "spike": "突变", "flatline": "恒值", "zero": "零值",
    "device_flag": "设备标记无效", "future": "时间超前", "stale": "数据滞后",
}
#: suspicious-data indicators (:mod:`ecohub.quality.suspicious`)
INDICATOR_ZH = {
    "near_limit": "长期贴近限值", "low_variance": "波动异常偏小", "copied": "与其他排口数据雷同",
    "level_shift": "浓度水平突变", "o2_inconsistent": "含氧量与浓度变化不一致",
}


def param_zh(name: str | None) -> str:
    """The parameter's Chinese name (the code itself when the catalogue does not know it)."""
    if not name:
        return ""
    p = BY_NAME.get(name)
    return p.name_zh if p is not None and p.name_zh else name


def params_zh(names: str) -> str:
    """A comma-separated list of parameter codes (e.g. GB 3838 defining items) in Chinese."""
    return "、".join(param_zh(n.strip()) for n in str(names).split(",") if n.strip())


def site_zh(code: str, name: str | None) -> str:
    """``name（code）`` — the name a reader knows, the code to find it."""
    return f"{name}（{code}）" if name and name != code else code


def qc_rule_zh(rule: str) -> str:
    return QC_RULE_ZH.get(rule, rule)


def indicator_zh(name: str) -> str:
    return INDICATOR_ZH.get(name, name)
