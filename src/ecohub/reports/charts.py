"""Report charts (PNG, matplotlib, the Noto CJK font for Chinese labels). A chart is named in the template as
``[chart:<name>]``; :data:`CHARTS` is the set a template may choose from (the chart set is the template's)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
AQI_COLOURS = ("#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#99004C", "#7E0023")


def cjk_font_file() -> Path:
    """The Noto Sans CJK font file (Debian package fonts-noto-cjk); a clear error when it is missing."""
    for f in CJK_FONT_FILES:
        if Path(f).exists():
            return Path(f)
    raise RuntimeError("no CJK font: install the Debian package fonts-noto-cjk (Noto Sans CJK) for report charts "
                       "and PDFs")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    path = str(cjk_font_file())
    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    plt.rcParams["font.family"] = [name, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    return buf.getvalue()


def _bar(names, values, title, ylabel, colour="#2F6FB0", ref: float | None = None, ref_label: str = "") -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 3.2))
    try:
        pairs = [(n, v) for n, v in zip(names, values, strict=True) if v is not None]
        ax.bar([n for n, _ in pairs], [v for _, v in pairs], color=colour)
        for i, (_, v) in enumerate(pairs):
            ax.text(i, v, f"{v:g}", ha="center", va="bottom", fontsize=7)
        if ref is not None:
            ax.axhline(ref, color="#C00000", linestyle="--", linewidth=1)
            ax.text(1.005, ref, ref_label, color="#C00000", fontsize=7, ha="left", va="center",
                    transform=ax.get_yaxis_transform())
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
        return _png(fig)
    finally:
        plt.close(fig)


def air_pm25(fig: dict) -> bytes | None:
    rows = fig["air"].get("cities") or []
    if not rows:
        return None
    return _bar([r["name"] for r in rows], [r["pm25"] for r in rows], "各市PM2.5平均浓度", "µg/m³",
                ref=35.0, ref_label="GB 3095 二级 35")


def air_index(fig: dict) -> bytes | None:
    rows = fig["air"].get("cities") or []
    if not rows:
        return None
    return _bar([r["name"] for r in rows], [r["index"] for r in rows], "各市环境空气质量综合指数（由低到高）", "综合指数",
                colour="#5B8C3A")


def air_good_ratio(fig: dict) -> bytes | None:
    rows = fig["air"].get("cities") or []
    if not rows:
        return None
    return _bar([r["name"] for r in rows], [r["good_ratio"] for r in rows], "各市优良天数比例", "%", colour="#3A9C6B")


def air_daily(fig: dict) -> bytes | None:
    days = [d for d in fig["air"].get("daily") or [] if d["mean_aqi"] is not None]
    if not days:
        return None
    plt = _plt()
    f, ax = plt.subplots(figsize=(7.2, 2.6))
    try:
        x = list(range(len(days)))
        v = [d["mean_aqi"] for d in days]
        bounds = (50, 100, 150, 200, 300, 500)
        colours = [AQI_COLOURS[next(i for i, b in enumerate(bounds) if a <= b)] for a in v]
        ax.bar(x, v, color=colours, edgecolor="#666666", linewidth=0.3)
        step = max(1, len(days) // 10)
        ax.set_xticks(x[::step], [d["date"][5:] for d in days][::step], fontsize=7)
        ax.set_title("全省设区市日均AQI（各市日AQI的平均）", fontsize=10)
        ax.tick_params(axis="y", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
        return _png(f)
    finally:
        plt.close(f)


def water_classes(fig: dict) -> bytes | None:
    w = fig["water"]
    if not w.get("has_data"):
        return None
    per = w["per_class"]
    plt = _plt()
    f, ax = plt.subplots(figsize=(4.5, 3.0))
    try:
        labels = [k for k, n in per.items() if n]
        sizes = [per[k] for k in labels]
        colours = {"I": "#4FA3E0", "II": "#2F6FB0", "III": "#3A9C6B", "IV": "#F2C12E", "V": "#F28E2B", "劣V": "#C00000"}
        ax.pie(sizes, labels=[f"{k}类 {n}个" for k, n in zip(labels, sizes, strict=True)],
               colors=[colours[k] for k in labels], textprops={"fontsize": 8})
        ax.set_title("断面水质类别", fontsize=10)
        return _png(f)
    finally:
        plt.close(f)


CHARTS: dict[str, Callable[[dict], bytes | None]] = {
    "air_pm25": air_pm25, "air_index": air_index, "air_good_ratio": air_good_ratio, "air_daily": air_daily,
    "water_classes": water_classes,
}
