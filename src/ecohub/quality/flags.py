"""Device data flags (HJ 212) and what they mean for validity.

HJ 212-2017 Table C (``-Flag``) — sheet §5.8: N normal; F instrument stopped (停运); M maintenance; S manually
set value; D instrument fault; C calibration; T above the measuring upper limit; B communication fault between
instrument and data logger. HJ/T 212-2005 adds P (power failure) and, for ambient stations, digits
0 calibration data / 1 meteorological parameter / 2 abnormal data / 3 normal data (implementations only,
sheet §11 item 9).

Validity decisions (ours; HJ 75 / HJ 76 practice): N, 1, 3 and an absent flag are valid; F, M, S, D, C, B,
P, 0, 2 are invalid (left out of every mean and assessment); T is *suspect*: the value is a lower bound of the
truth (the instrument saturated), kept in means so that an exceedance is not hidden — UNCONFIRMED, HJ 75's
own rule for over-range data is not in the sheet. An unknown flag is suspect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INVALID = 2
SUSPECT = 1
VALID = 0


@dataclass(frozen=True)
class FlagMeaning:
    code: str
    meaning_zh: str
    meaning_en: str
    level: int  # 0 valid, 1 suspect, 2 invalid


FLAGS: dict[str, FlagMeaning] = {f.code: f for f in (
    FlagMeaning("N", "正常", "instrument working normally", VALID),
    FlagMeaning("F", "停运", "instrument / source stopped", INVALID),
    FlagMeaning("M", "维护", "data produced during maintenance", INVALID),
    FlagMeaning("S", "手工输入的设定值", "manually entered set value", INVALID),
    FlagMeaning("D", "故障", "instrument fault", INVALID),
    FlagMeaning("C", "校准", "instrument calibrating", INVALID),
    FlagMeaning("T", "超测上限", "above the measuring upper limit (value is a lower bound)", SUSPECT),
    FlagMeaning("B", "通讯异常", "communication fault between instrument and data logger", INVALID),
    FlagMeaning("P", "电源故障", "power failure (HJ/T 212-2005)", INVALID),
    FlagMeaning("0", "校准数据", "calibration data (HJ/T 212-2005 ambient)", INVALID),
    FlagMeaning("1", "气象参数", "meteorological parameter (HJ/T 212-2005 ambient)", VALID),
    FlagMeaning("2", "异常数据", "abnormal data (HJ/T 212-2005 ambient)", INVALID),
    FlagMeaning("3", "正常数据", "normal data (HJ/T 212-2005 ambient)", VALID),
)}

INVALID_FLAGS = tuple(c for c, f in FLAGS.items() if f.level == INVALID)


def meaning(code: str | None) -> FlagMeaning:
    if code is None or code == "":
        return FLAGS["N"]
    f = FLAGS.get(code.strip().upper() if len(code.strip()) == 1 else code.strip())
    return f if f is not None else FlagMeaning(code, "未知标记", f"unknown flag {code!r}", SUSPECT)


def flag_levels(flags: np.ndarray | list) -> np.ndarray:
    """Validity level (0 valid, 1 suspect, 2 invalid) of each device flag; vectorised over the distinct flags."""
    arr = np.asarray(flags, dtype=object)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int8)
    arr = np.where(arr == None, "", arr).astype(str)  # noqa: E711 (element-wise comparison)
    uniq, inv = np.unique(arr, return_inverse=True)
    lv = np.array([meaning(u).level for u in uniq], dtype=np.int8)
    return lv[inv.reshape(-1)]
