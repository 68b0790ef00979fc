"""GB 3838-2002 surface water quality classes and the national evaluation method (环办〔2011〕22号).

Units: mg/L for all items except pH (dimensionless) and fecal coliform (count/L). Item keys:
``ph, do, codmn, cod, bod5, nh3n, tp, tn, cu, zn, f, se, as, hg, cd, cr6, pb, cn, phenol, oil, las,
sulfide, fecal_coliform``.

* Table 1 (basic items) limits per class I–V — GB 3838-2002 Table 1 ("≤" for all items except DO "≥";
  pH 6–9 for every class). TP has river and lake/reservoir limits; TN is a lake/reservoir item only.
* Single-factor evaluation (GB 3838-2002 §5; 地表水环境质量评价办法 §3.1): an item's class is the best class
  whose limit it meets; an item failing class V is 劣V (class 6 here); the section's class is the worst
  class of its evaluated items ("worst item wins").
* pH outside 6–9: 劣V (practice of the national real-time release — measured on the 2026-02-04 snapshot;
  GB 3838 itself gives one pH range for all classes).
* Items of the section class (评价办法 §2.1): the 21 Table-1 items other than water temperature, TN and fecal
  coliform (:data:`EVALUATED_ITEMS`). TN (lakes) and fecal coliform are evaluated and reported separately.
* Exceedance multiple (评价办法 §3.3): (C − S)/S with S the limit of the target class (class III in the national
  method); not computed for water temperature, pH and DO.
* Qualitative category (评价办法 Table 1): I–II 优, III 良好, IV 轻度污染, V 中度污染, 劣V 重度污染.
* Values are compared with a relative tolerance of 1e-9 so that a computed mean of 0.1000000000001 still
  meets a limit of 0.1 (values exactly on a limit meet it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Class labels, index = class code (0 = not evaluated, 6 = 劣V).
CLASS_LABELS = np.array(["", "I", "II", "III", "IV", "V", "劣V"], dtype=object)
CLASS_LABELS_ROMAN = np.array(["", "Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ"], dtype=object)
CATEGORY_ZH = np.array(["", "优", "优", "良好", "轻度污染", "中度污染", "重度污染"], dtype=object)
CATEGORY_EN = np.array(["", "Excellent", "Excellent", "Good", "Lightly polluted", "Moderately polluted",
                        "Heavily polluted"], dtype=object)  # fmt: skip
#: Colours of the categories (I–II blue, III green, IV yellow, V orange, 劣V red) — UNCONFIRMED.
CATEGORY_COLOR = np.array(
    ["", "#0000FF", "#0000FF", "#00FF00", "#FFFF00", "#FF7E00", "#FF0000"], dtype=object
)

#: Upper limits of classes I–V ("≤"), mg/L (fecal coliform count/L) — GB 3838-2002 Table 1.
LIMITS: dict[str, tuple[float, float, float, float, float]] = {
    "codmn": (2, 4, 6, 10, 15),
    "cod": (15, 15, 20, 30, 40),
    "bod5": (3, 3, 4, 6, 10),
    "nh3n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp": (0.02, 0.1, 0.2, 0.3, 0.4),
    "tn": (0.2, 0.5, 1.0, 1.5, 2.0),  # lakes and reservoirs only
    "cu": (0.01, 1.0, 1.0, 1.0, 1.0),
    "zn": (0.05, 1.0, 1.0, 2.0, 2.0),
    "f": (1.0, 1.0, 1.0, 1.5, 1.5),
    "se": (0.01, 0.01, 0.01, 0.02, 0.02),
    "as": (0.05, 0.05, 0.05, 0.1, 0.1),
    "hg": (0.00005, 0.00005, 0.0001, 0.001, 0.001),
    "cd": (0.001, 0.005, 0.005, 0.005, 0.01),
    "cr6": (0.01, 0.05, 0.05, 0.05, 0.1),
    "pb": (0.01, 0.01, 0.05, 0.05, 0.1),
    "cn": (0.005, 0.05, 0.2, 0.2, 0.2),
    "phenol": (0.002, 0.002, 0.005, 0.01, 0.1),
    "oil": (0.05, 0.05, 0.05, 0.5, 1.0),
    "las": (0.2, 0.2, 0.2, 0.3, 0.3),
    "sulfide": (0.05, 0.1, 0.2, 0.5, 1.0),
    "fecal_coliform": (200, 2000, 10000, 20000, 40000),
}
#: TP limits for lakes and reservoirs (GB 3838-2002 Table 1 item 8, "湖、库").
TP_LAKE = (0.01, 0.025, 0.05, 0.1, 0.2)
#: DO lower limits ("≥") of classes I–V, mg/L (class I also: saturation ≥ 90 %).
DO_LIMITS = (7.5, 6, 5, 3, 2)
PH_RANGE = (6.0, 9.0)

#: Items of the section class in the national method (评价办法 §2.1): 21 items.
EVALUATED_ITEMS = ("ph", "do", "codmn", "cod", "bod5", "nh3n", "tp", "cu", "zn", "f", "se", "as", "hg", "cd",
                   "cr6", "pb", "cn", "phenol", "oil", "las", "sulfide")  # fmt: skip
ALL_ITEMS = EVALUATED_ITEMS + ("tn", "fecal_coliform")
#: Items for which no exceedance multiple is computed (评价办法 §3.3).
NO_MULTIPLE = ("ph", "do")
ITEM_NAMES_ZH = {
    "ph": "pH", "do": "溶解氧", "codmn": "高锰酸盐指数", "cod": "化学需氧量", "bod5": "五日生化需氧量",
    "nh3n": "氨氮", "tp": "总磷", "tn": "总氮", "cu": "铜", "zn": "锌", "f": "氟化物", "se": "硒", "as": "砷",
    "hg": "汞", "cd": "镉", "cr6": "六价铬", "pb": "铅", "cn": "氰化物", "phenol": "挥发酚", "oil": "石油类",
    "las": "阴离子表面活性剂", "sulfide": "硫化物", "fecal_coliform": "粪大肠菌群",
}  # fmt: skip

_TOL = 1e-9


def _le_class(v: np.ndarray, lims: tuple[float, ...]) -> np.ndarray:
    """Class of a "≤" item: first class whose limit is ≥ v (with tolerance), 6 (劣V) beyond V."""
    edges = np.asarray(lims, dtype=float) * (1 + _TOL)
    return (np.searchsorted(edges, v, side="left") + 1).astype(np.int8)


def item_class(values: Any, item: str, lake: Any = False) -> np.ndarray:
    """GB 3838-2002 Table 1 class (1–5, 6 = 劣V, 0 = missing/invalid) of one item, single-factor.

    ``lake``: bool or bool array — lake/reservoir limits for TP; TN is classified only where ``lake`` is
    true (0 for rivers: GB 3838 has no river TN limit). Negative values are invalid (0).
    """
    v = np.asarray(values, dtype=float)
    lake_arr = np.broadcast_to(np.asarray(lake, dtype=bool), v.shape)
    if item == "ph":
        out = np.where((v >= PH_RANGE[0]) & (v <= PH_RANGE[1]), 1, 6).astype(np.int8)
    elif item == "do":
        edges = -np.asarray(DO_LIMITS, dtype=float) * (1 - _TOL)
        out = (np.searchsorted(edges, -v, side="left") + 1).astype(np.int8)
    elif item == "tp":
        out = np.where(lake_arr, _le_class(v, TP_LAKE), _le_class(v, LIMITS["tp"])).astype(np.int8)
    elif item == "tn":
        out = np.where(lake_arr, _le_class(v, LIMITS["tn"]), 0).astype(np.int8)
    elif item in LIMITS:
        out = _le_class(v, LIMITS[item])
    else:
        raise ValueError(f"unknown GB 3838 item {item!r}")
    out[np.isnan(v) | (v < 0)] = 0
    return out


def class_limit(item: str, water_class: int, lake: Any = False) -> np.ndarray:
    """GB 3838-2002 Table 1 limit of ``item`` for class 1–5 (TP: lake limits where ``lake``), mg/L (fecal
    coliform count/L). pH/DO: not applicable (ValueError)."""
    if item in NO_MULTIPLE:
        raise ValueError(f"no single limit for {item!r}")
    if item == "tp":
        return np.where(np.asarray(lake, dtype=bool), TP_LAKE[water_class - 1], LIMITS["tp"][water_class - 1])
    lim = LIMITS[item][water_class - 1]
    if item == "tn":
        return np.where(np.asarray(lake, dtype=bool), lim, np.nan)
    return np.asarray(float(lim))


def exceedance_multiple(values: Any, item: str, target_class: int = 3, lake: Any = False) -> np.ndarray:
    """(C − S)/S against the target-class limit S where C > S, else 0; NaN if missing or not applicable.

    地表水环境质量评价办法 §3.3 (national method: S = class III). Not computed for pH and DO (NaN).
    """
    v = np.asarray(values, dtype=float)
    if item in NO_MULTIPLE:
        return np.full(v.shape, np.nan)
    s = class_limit(item, target_class, lake)
    with np.errstate(invalid="ignore"):
        m = np.where(v > s * (1 + _TOL), (v - s) / s, 0.0)
    return np.where(np.isnan(v) | np.isnan(s) | (v < 0), np.nan, m)


def _mask_names(mask: np.ndarray, names: list[str]) -> np.ndarray:
    """Comma-joined names of the set bits, built once per distinct mask (vectorised)."""
    uniq, inv = np.unique(mask, return_inverse=True)
    labels = np.array(
        [",".join(n for i, n in enumerate(names) if int(u) >> i & 1) for u in uniq], dtype=object
    )
    return labels[inv.reshape(mask.shape)]


def water_quality_class(items: dict[str, Any], *, lake: Any = False, target_class: int = 3,
                        include_tn: bool = False, include_fecal_coliform: bool = False) -> dict[str, np.ndarray]:  # fmt: skip
    """Section class by single-factor evaluation over the items given (GB 3838-2002 §5; 评价办法 §3.1).

    Parameters
    ----------
    items : dict item → array (mg/L; pH –; fecal coliform count/L). Unknown keys raise ``ValueError``.
    lake : bool or bool array — lake/reservoir (TP lake limits, TN classified).
    target_class : class whose limits the exceedance multiples refer to (3 in the national method).
    include_tn, include_fecal_coliform : let TN (lakes) / fecal coliform enter the section class (the national
        method excludes them; GB 3838 single-factor evaluation of all items includes them).

    Returns
    -------
    dict: ``class`` (int8 1–6, 0 when no item), ``label`` (I … 劣V), ``category_zh``, ``category_en``,
    ``worst_items`` (items at the section class, '' for class I), ``class_<item>``, ``multiple_<item>``,
    ``exceeds_target`` (bool: class worse than ``target_class``), ``exceeding_items`` (items above the target).
    """
    unknown = set(items) - set(ALL_ITEMS)
    if unknown:
        raise ValueError(f"unknown GB 3838 items: {sorted(unknown)}")
    keys = [k for k in ALL_ITEMS if k in items]
    counted = set(EVALUATED_ITEMS) | ({"tn"} if include_tn else set()) | (
        {"fecal_coliform"} if include_fecal_coliform else set())  # fmt: skip
    out: dict[str, np.ndarray] = {}
    n = np.asarray(items[keys[0]]).size if keys else 0
    worst = np.zeros(n, dtype=np.int8)
    for k in keys:
        c = item_class(np.asarray(items[k], dtype=float).ravel(), k, lake)
        out[f"class_{k}"] = c
        out[f"multiple_{k}"] = exceedance_multiple(
            np.asarray(items[k], dtype=float).ravel(), k, target_class, lake
        )
        if k in counted:
            np.maximum(worst, c, out=worst)
    worst_mask = np.zeros(n, dtype=np.int64)
    exceed_mask = np.zeros(n, dtype=np.int64)
    for i, k in enumerate(keys):
        if k in counted:
            c = out[f"class_{k}"]
            worst_mask |= ((c == worst) & (worst > 1)).astype(np.int64) << i
            exceed_mask |= (c > target_class).astype(np.int64) << i
    names = list(keys)
    out["class"] = worst
    out["label"] = CLASS_LABELS[worst]
    out["category_zh"] = CATEGORY_ZH[worst]
    out["category_en"] = CATEGORY_EN[worst]
    out["worst_items"] = _mask_names(worst_mask, names)
    out["exceeding_items"] = _mask_names(exceed_mask, names)
    out["exceeds_target"] = worst > target_class
    return out


def main_pollution_indicators(multiples: dict[str, Any], section_class: Any, top: int = 3) -> np.ndarray:
    """Up to ``top`` items with the largest exceedance multiples, for sections worse than class III.

    评价办法 §3.3 (main pollution indicators). The precedence of cyanide and heavy metals when they exceed is
    UNCONFIRMED and not applied. Returns comma-joined item keys ('' when class ≤ III or nothing exceeds).
    """
    keys = [k for k in multiples if k not in NO_MULTIPLE]
    m = np.stack([np.nan_to_num(np.asarray(multiples[k], dtype=float), nan=0.0) for k in keys], axis=-1)
    order = np.argsort(-m, axis=-1, kind="stable")[:, :top]
    vals = np.take_along_axis(m, order, axis=-1)
    code = np.zeros(m.shape[0], dtype=np.int64)
    K = len(keys) + 1
    for j in range(order.shape[1]):
        code = code * K + np.where(vals[:, j] > 0, order[:, j] + 1, 0)
    code = np.where(np.asarray(section_class) > 3, code, 0)
    uniq, inv = np.unique(code, return_inverse=True)
    labels = []
    for u in uniq:
        parts, u = [], int(u)
        for _ in range(order.shape[1]):
            u, d = divmod(u, K)
            if d:
                parts.append(keys[d - 1])
        labels.append(",".join(reversed(parts)))
    return np.array(labels, dtype=object)[inv]


def basin_status(classes: Any) -> np.ndarray:
    """Water status of rivers/basins with ≥ 5 sections by the class-proportion method (评价办法 §3.2).

    ``classes``: int array ``(n_basins, n_sections)`` of section classes 1–6 (0 = no section). Rules:
    I–III ≥ 90 % 优; 75 % ≤ I–III < 90 % 良好; I–III < 75 % and 劣V < 20 % 轻度污染; I–III < 75 % and
    20 % ≤ 劣V < 40 % 中度污染; I–III < 75 % and 劣V ≥ 40 % 重度污染 (the 75 % bound of the Shenzhen bureau's
    reading; one page says 60 % for 重度 — UNCONFIRMED). Basins with fewer than 5 sections must be evaluated on
    the mean concentrations instead (average each item over the sections, then :func:`water_quality_class`):
    they get ''.
    """
    c = np.atleast_2d(np.asarray(classes))
    n = np.sum(c > 0, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        good = np.sum((c >= 1) & (c <= 3), axis=-1) / n
        bad = np.sum(c == 6, axis=-1) / n
    out = np.select(
        [good >= 0.9, good >= 0.75, bad < 0.2, bad < 0.4],
        ["优", "良好", "轻度污染", "中度污染"],
        default="重度污染",
    ).astype(object)
    out[n < 5] = ""
    return out


#: Carlson-type trophic level index weights (chla, tp, tn, sd, codmn), r²/Σr² with r = 1, .84, .82, -.83, .83.
TLI_WEIGHTS = {"chla": 0.2663, "tp": 0.1879, "tn": 0.1790, "sd": 0.1834, "codmn": 0.1834}


def trophic_level_index(*, chla: Any, tp: Any, tn: Any, sd: Any, codmn: Any) -> dict[str, np.ndarray]:
    """Lake trophic state TLI(Σ) (评价办法 §4; 湖泊（水库）富营养化评价方法及分级技术规定).

    Units: chla mg/m³, TP/TN/CODMn mg/L, SD (transparency) m. Returns ``tli`` and ``grade`` (贫营养 < 30 ≤
    中营养 ≤ 50 < 轻度富营养 ≤ 60 < 中度富营养 ≤ 70 < 重度富营养).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        parts = {
            "chla": 10 * (2.5 + 1.086 * np.log(np.asarray(chla, dtype=float))),
            "tp": 10 * (9.436 + 1.624 * np.log(np.asarray(tp, dtype=float))),
            "tn": 10 * (5.453 + 1.694 * np.log(np.asarray(tn, dtype=float))),
            "sd": 10 * (5.118 - 1.94 * np.log(np.asarray(sd, dtype=float))),
            "codmn": 10 * (0.109 + 2.661 * np.log(np.asarray(codmn, dtype=float))),
        }
    tli = sum(TLI_WEIGHTS[k] * v for k, v in parts.items())
    grade = np.select([tli < 30, tli <= 50, tli <= 60, tli <= 70, tli > 70],
                      ["贫营养", "中营养", "轻度富营养", "中度富营养", "重度富营养"], default="").astype(object)  # fmt: skip
    return {"tli": np.asarray(tli), "grade": grade}
