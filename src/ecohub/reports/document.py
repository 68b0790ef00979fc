"""From figures and a template to blocks (title, headings, paragraphs, tables, charts), and the tables.

The template is a Jinja2 text file (``templates/default.zh.j2`` or the user's own, see its header): the text is
the user's; the tables and charts are named placeholders filled from the figures, so a table's numbers are the
sidecar's numbers (and the API's, which the tests check).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

NO_DATA = "无数据"
DEFAULT_TEMPLATE = "default.zh.j2"


@dataclass
class Block:
    kind: str  # title | h2 | h3 | p | table | chart
    text: str


@dataclass
class TableData:
    header: list[str]
    rows: list[list[str]]
    note: str = ""


def n(x, nd: int | None = None) -> str:
    """A number as printed in the report; ``无数据`` for None."""
    if x is None:
        return NO_DATA
    if isinstance(x, float):
        if nd is not None:
            return f"{x:.{nd}f}"
        return f"{x:g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"
    return str(x)


def chg(x, unit: str = "") -> str:
    if x is None:
        return "无可比数据"
    if x == 0:
        return "持平"
    return f"{'上升' if x > 0 else '下降'}{abs(x):g}{unit}"


def load_template(path: str | Path | None) -> tuple[str, str]:
    """(name, text) of the template: the packaged default or the user's file."""
    if path is None:
        return DEFAULT_TEMPLATE, resources.files("ecohub.reports").joinpath("templates", DEFAULT_TEMPLATE).read_text(
            encoding="utf-8")
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"template: {str(path)!r} is not a file")
    return p.name, p.read_text(encoding="utf-8")


def period_zh(meta: dict) -> str:
    y = meta["period"][:4]
    return f"{y}年{int(meta['period'][5:7])}月" if meta["kind"] == "monthly" else f"{y}年"


def blocks(figures: dict, template_text: str) -> list[Block]:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, lstrip_blocks=True)
    ctx = {**figures, "meta": {**figures["meta"], "period_zh": period_zh(figures["meta"])}, "n": n, "chg": chg}
    try:
        text = env.from_string(template_text).render(**ctx)
    except jinja2.TemplateError as e:
        raise ValueError(f"template: {e}") from None
    out: list[Block] = []
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if s.startswith("### "):
            out.append(Block("h3", s[4:]))
        elif s.startswith("## "):
            out.append(Block("h2", s[3:]))
        elif s.startswith("# "):
            out.append(Block("title", s[2:]))
        elif s.startswith("[table:") and s.endswith("]"):
            name = s[7:-1]
            if name not in TABLES:
                raise ValueError(f"template: unknown table {name!r}; known: {', '.join(TABLES)}")
            out.append(Block("table", name))
        elif s.startswith("[chart:") and s.endswith("]"):
            name = s[7:-1]
            from ecohub.reports.charts import CHARTS

            if name not in CHARTS:
                raise ValueError(f"template: unknown chart {name!r}; known: {', '.join(CHARTS)}")
            out.append(Block("chart", name))
        else:
            out.append(Block("p", s))
    return out


# --- tables ------------------------------------------------------------------------------------------------------
def air_cities(f: dict) -> TableData | None:
    rows = f["air"].get("cities") or []
    if not rows:
        return None
    header = ["排名", "城市", "综合指数", "首要污染物", "优良天数比例(%)", "重污染天数", "PM2.5", "PM10", "O3-8h-90per",
              "NO2", "SO2", "CO-95per", "有效天数"]
    body = [[n(r["rank"]), r["name"], n(r["index"], 2), r["primary"] or NO_DATA, n(r["good_ratio"]),
             n(r["heavy_days"]), n(r["pm25"]), n(r["pm10"]), n(r["o3_8h_p90"]), n(r["no2"]), n(r["so2"]),
             n(r["co_p95"]), f"{r['valid_days']}/{r['days']}" + ("" if r.get("complete", True) else "*")] for r in rows]
    return TableData(header, body, "浓度单位 µg/m³（CO mg/m³）；综合指数按城市环境空气质量排名技术规定，排名1为最好；"
                                   "* 有效天数不足GB 3095-2012表4的要求，统计值仅供参考。")


def air_change(f: dict) -> TableData | None:
    rows = f["air"].get("cities") or []
    if not rows:
        return None
    body = sorted(rows, key=lambda r: (r["improvement_rank"] is None, r["improvement_rank"] or 0, r["city"]))
    header = ["改善排名", "城市", "综合指数", "去年同期", "变化(%)", "PM2.5变化(%)", "优良天数比例变化(百分点)"]
    return TableData(header, [[n(r["improvement_rank"]), r["name"], n(r["index"], 2), n(r["index_last_year"], 2),
                               n(r["index_change_pct"]), n(r["pm25_change_pct"]), n(r["good_ratio_change_pp"])]
                              for r in body], "去年同期无数据的城市不参加改善排名。")


def water_summary(f: dict) -> TableData | None:
    w = f["water"]
    if not w.get("has_data"):
        return None
    ly = w.get("last_year") or {}
    return TableData(["指标", "本期", "去年同期"], [
        ["断面数", n(w["sections"]), n(ly.get("sections"))],
        ["I～III类比例(%)", n(w["i_iii"]), n(ly.get("i_iii"))],
        ["IV～V类比例(%)", n(w["iv_v"]), n(ly.get("iv_v"))],
        ["劣V类比例(%)", n(w["worse_v"]), n(ly.get("worse_v"))],
    ])


def water_worse(f: dict) -> TableData | None:
    w = f["water"]
    if not w.get("has_data"):
        return None
    rows = w["worse_than_target"]
    if not rows:
        return TableData(["断面", "类别", "目标"], [["全部断面达到水质目标", "", ""]])
    return TableData(["断面", "代码", "类别", "目标", "超III类指标"],
                     [[r["name"], r["site"], r["label"], ("I", "II", "III", "IV", "V")[r["target"] - 1],
                       "、".join(_zh(i) for i in r["above_iii"]) or "—"] for r in rows])


def _zh(item: str) -> str:
    from ecohub.reports.figures import _zh as zh

    return zh(item)


def noise_points(f: dict) -> TableData | None:
    pts = f["noise"].get("points") or []
    if not pts:
        return None
    return TableData(["点位", "功能区", "昼间达标率(%)", "夜间达标率(%)", "有效昼/夜"],
                     [[p["name"], p.get("zone") or NO_DATA, n(p.get("day_compliance_rate")),
                       n(p.get("night_compliance_rate")), f"{p.get('day_assessed', 0)}/{p.get('night_assessed', 0)}"]
                      for p in pts])


def radiation_points(f: dict) -> TableData | None:
    pts = f["radiation"].get("points") or []
    if not pts:
        return None
    return TableData(["点位", "均值(nGy/h)", "范围", "本底范围", "异常次数"],
                     [[p["name"], n(p["mean"]), f"{n(p['min'])}～{n(p['max'])}",
                       f"{n(p['background']['low'])}～{n(p['background']['high'])}" if p["background"] else NO_DATA,
                       n(p["anomalies"])] for p in pts])


def exceedances(f: dict) -> TableData | None:
    e = f["exceedances"]
    rows = [[f"预警：{k}", n(v)] for k, v in e["alerts_by_rule"].items()]
    rows += [[f"投诉：{k}", n(v)] for k, v in e.get("complaints_by_category", {}).items()]
    if not rows:
        rows = [["本期无预警与投诉记录", "0"]]
    return TableData(["类别", "数量"], rows)


def air_trends(f: dict) -> TableData | None:
    t = f.get("trends") or {}
    if not t.get("has_data"):
        return None
    zh = {"increasing": "上升", "decreasing": "下降", "no trend": "无显著趋势"}
    return TableData(["城市", "有效月数", "趋势", "Sen斜率(µg/m³/年)", "p值"],
                     [[r["name"], n(r["months"]), zh.get(r["trend"], NO_DATA), n(r["slope"]),
                       NO_DATA if r["p"] is None else f"{r['p']:.3g}"] for r in t["cities"]],
                     f"季节性Mann-Kendall检验（α=0.05），{t['from']}～{t['to']}月均PM2.5。")


TABLES: dict[str, Callable[[dict], TableData | None]] = {
    "air_trends": air_trends,
    "air_cities": air_cities, "air_change": air_change, "water_summary": water_summary, "water_worse": water_worse,
    "noise_points": noise_points, "radiation_points": radiation_points, "exceedances": exceedances,
}
