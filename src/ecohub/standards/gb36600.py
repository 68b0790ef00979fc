"""GB 36600-2018 soil environmental quality — risk control standard for soil contamination of development land
(土壤环境质量 建设用地土壤污染风险管控标准（试行）), in force from 2018-08-01. Units: mg/kg dry soil.

* Land classes (§3.4–3.5): 第一类用地 (residential, schools, hospitals, parks … GB 50137 R, A33/A5/A6, G1 for
  public parks with children) → ``construction_1``; 第二类用地 (industrial, logistics, commercial, roads …)
  → ``construction_2``.
* Risk screening and intervention values of the 45 basic items — GB 36600-2018 §4, **Table 1** (heavy metals
  and inorganics 1–7, volatile organics 8–34, semi-volatile organics 35–45). The 40 other items of Table 2
  are not included here (see docs/assessments.md).
* Classification — §5.1–5.3: ≤ screening value → risk generally negligible (``below_screening``);
  > screening value → investigation / risk assessment needed, ≤ intervention value (``between``);
  > intervention value → generally unacceptable risk, control or remediation (``above_intervention``).
* Arsenic (Table 1 note ①): where the regional background exceeds the screening value, the background may be
  used instead — pass the background as ``screening_override``.

Pollutant names: the parameter catalogue's where it has one (``as cd cr6 cu pb hg ni benzene toluene``), else
the short ASCII names below (listed with the Chinese item names in :data:`NAMES_ZH` and docs/assessments.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .gb15618 import MISSING

LAND_USES = ("construction_1", "construction_2")

#: Table 1: name → (screening class 1, screening class 2, intervention class 1, intervention class 2), mg/kg.
TABLE1: dict[str, tuple[float, float, float, float]] = {
    # heavy metals and inorganics
    "as": (20, 60, 120, 140),
    "cd": (20, 65, 47, 172),
    "cr6": (3.0, 5.7, 30, 78),
    "cu": (2000, 18000, 8000, 36000),
    "pb": (400, 800, 800, 2500),
    "hg": (8, 38, 33, 82),
    "ni": (150, 900, 600, 2000),
    # volatile organic compounds
    "ccl4": (0.9, 2.8, 9, 36),
    "chloroform": (0.3, 0.9, 5, 10),
    "chloromethane": (12, 37, 21, 120),
    "dca_11": (3, 9, 20, 100),
    "dca_12": (0.52, 5, 6, 21),
    "dce_11": (12, 66, 40, 200),
    "dce_12_cis": (66, 596, 200, 2000),
    "dce_12_trans": (10, 54, 31, 163),
    "dcm": (94, 616, 300, 2000),
    "dcp_12": (1, 5, 5, 47),
    "tetca_1112": (2.6, 10, 26, 100),
    "tetca_1122": (1.6, 6.8, 14, 50),
    "pce": (11, 53, 34, 183),
    "tca_111": (701, 840, 840, 840),
    "tca_112": (0.6, 2.8, 5, 15),
    "tce": (0.7, 2.8, 7, 20),
    "tcp_123": (0.05, 0.5, 0.5, 5),
    "vinyl_chloride": (0.12, 0.43, 1.2, 4.3),
    "benzene": (1, 4, 10, 40),
    "chlorobenzene": (68, 270, 200, 1000),
    "dcb_12": (560, 560, 560, 560),
    "dcb_14": (5.6, 20, 56, 200),
    "ethylbenzene": (7.2, 28, 72, 280),
    "styrene": (1290, 1290, 1290, 1290),
    "toluene": (1200, 1200, 1200, 1200),
    "mp_xylene": (163, 570, 500, 570),
    "o_xylene": (222, 640, 640, 640),
    # semi-volatile organic compounds
    "nitrobenzene": (34, 76, 190, 760),
    "aniline": (92, 260, 211, 663),
    "chlorophenol_2": (250, 2256, 500, 4500),
    "baa": (5.5, 15, 55, 151),
    "bap": (0.55, 1.5, 5.5, 15),
    "bbf": (5.5, 15, 55, 151),
    "bkf": (55, 151, 550, 1500),
    "chrysene": (490, 1293, 4900, 12900),
    "dbaha": (0.55, 1.5, 5.5, 15),
    "indeno_123cd_pyrene": (5.5, 15, 55, 151),
    "naphthalene": (25, 70, 255, 700),
}
NAMES_ZH = {
    "as": "砷", "cd": "镉", "cr6": "铬（六价）", "cu": "铜", "pb": "铅", "hg": "汞", "ni": "镍",
    "ccl4": "四氯化碳", "chloroform": "氯仿", "chloromethane": "氯甲烷", "dca_11": "1,1-二氯乙烷",
    "dca_12": "1,2-二氯乙烷", "dce_11": "1,1-二氯乙烯", "dce_12_cis": "顺-1,2-二氯乙烯",
    "dce_12_trans": "反-1,2-二氯乙烯", "dcm": "二氯甲烷", "dcp_12": "1,2-二氯丙烷",
    "tetca_1112": "1,1,1,2-四氯乙烷", "tetca_1122": "1,1,2,2-四氯乙烷", "pce": "四氯乙烯",
    "tca_111": "1,1,1-三氯乙烷", "tca_112": "1,1,2-三氯乙烷", "tce": "三氯乙烯", "tcp_123": "1,2,3-三氯丙烷",
    "vinyl_chloride": "氯乙烯", "benzene": "苯", "chlorobenzene": "氯苯", "dcb_12": "1,2-二氯苯",
    "dcb_14": "1,4-二氯苯", "ethylbenzene": "乙苯", "styrene": "苯乙烯", "toluene": "甲苯",
    "mp_xylene": "间二甲苯+对二甲苯", "o_xylene": "邻二甲苯", "nitrobenzene": "硝基苯", "aniline": "苯胺",
    "chlorophenol_2": "2-氯酚", "baa": "苯并[a]蒽", "bap": "苯并[a]芘", "bbf": "苯并[b]荧蒽",
    "bkf": "苯并[k]荧蒽", "chrysene": "䓛", "dbaha": "二苯并[a,h]蒽", "indeno_123cd_pyrene": "茚并[1,2,3-cd]芘",
    "naphthalene": "萘",
}
POLLUTANTS = tuple(TABLE1)


def _land_index(land_use: Any) -> np.ndarray:
    lu = np.asarray(land_use).astype(str)
    bad = [u for u in np.unique(lu) if u not in LAND_USES]
    if bad:
        raise ValueError(f"land_use: {str(bad[0])!r} is not one of {LAND_USES}")
    return (lu == "construction_2").astype(int)


def screening_value(pollutant: str, land_use: Any) -> np.ndarray:
    """Risk screening value (mg/kg), GB 36600-2018 Table 1, for ``construction_1`` / ``construction_2``."""
    row = _row(pollutant)
    return np.asarray(row[:2], dtype=float)[_land_index(land_use)]


def intervention_value(pollutant: str, land_use: Any) -> np.ndarray:
    """Risk intervention value (mg/kg), GB 36600-2018 Table 1."""
    row = _row(pollutant)
    return np.asarray(row[2:], dtype=float)[_land_index(land_use)]


def _row(pollutant: str) -> tuple[float, float, float, float]:
    p = pollutant.lower()
    if p not in TABLE1:
        raise ValueError(f"pollutant: {pollutant!r} is not a GB 36600-2018 Table 1 item")
    return TABLE1[p]


def classify(pollutant: str, value: Any, land_use: Any, *, screening_override: Any = None) -> np.ndarray:
    """Class code per sample: 0 ≤ screening, 1 between, 2 > intervention, −1 value missing (GB 36600-2018 §5).

    ``screening_override`` (e.g. the regional arsenic background, Table 1 note ①) replaces the screening value
    where it is given and larger.
    """
    v = np.asarray(value, dtype=float)
    scr = np.broadcast_to(screening_value(pollutant, land_use), v.shape)
    if screening_override is not None:
        o = np.broadcast_to(np.asarray(screening_override, dtype=float), v.shape)
        scr = np.where(~np.isnan(o) & (o > scr), o, scr)
    itv = np.broadcast_to(intervention_value(pollutant, land_use), v.shape)
    code = np.where(v <= scr, 0, np.where(v > itv, 2, 1))
    return np.where(np.isnan(v), MISSING, code)
