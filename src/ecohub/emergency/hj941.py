"""Enterprise environmental-emergency risk grading (企业突发环境事件风险分级方法, HJ 941-2018), pure functions.

Steps (HJ 941-2018 §4–§6, per medium — air (大气) and water (水) — the enterprise takes the higher grade):

1. **Q**, ratio of the quantities of risk substances to their critical quantities, Q = Σ qᵢ/Qᵢ (§5.1; critical
   quantities from the substance table: HJ 941-2018 Appendix A / HJ 169-2018 Appendix B). Q < 1: the enterprise
   is graded 一般 (general) directly; 1 ≤ Q < 10: Q1; 10 ≤ Q < 100: Q2; Q ≥ 100: Q3.
2. **M**, production process and risk-control level, a score 0–100 from the scoring tables (process, up to 30
   points per the ministry's published reply; controls; incident history): M < 25 M1, 25 ≤ M < 45 M2,
   45 ≤ M < 60 M3, M ≥ 60 M4. The score is entered by the officer (the tables are not encoded here).
3. **E**, environment sensitivity E1 (high), E2, E3 (low). For air, from the population around the enterprise:
   E1 if ≥ 50 000 within 5 km or ≥ 1 000 within 500 m; E2 if ≥ 10 000 within 5 km or ≥ 500 within 500 m; else
   E3 (:func:`air_sensitivity`). For water the type is entered (E1/E2/E3).
4. **Grade** from the matrix (:data:`MATRIX`): 一般 / 较大 / 重大 (general / larger / major); the grade code is
   written like ``较大-大气(Q2-M2-E1)``.

Sources and status (see ``docs/emergency.md``): the M thresholds are confirmed against a provincial guideline
that reproduces them; the Q thresholds, the air-sensitivity population thresholds and the matrix are from the
standard as remembered and are **UNCONFIRMED**; the substance table shipped (``data/hj169_substances.csv``) is a
subset whose critical quantities are **UNCONFIRMED** (column ``confirmed = no``): give ``critical_t`` for a
substance to override it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from ecohub.domain.errors import InputError

GRADES = ("general", "larger", "major")
GRADE_ZH = {"general": "一般", "larger": "较大", "major": "重大"}
MEDIA_ZH = {"air": "大气", "water": "水"}
G, L, M_ = "general", "larger", "major"
#: (E level, Q level) → grades for M1 … M4
MATRIX = {
    ("E1", "Q1"): (L, L, M_, M_), ("E1", "Q2"): (L, M_, M_, M_), ("E1", "Q3"): (M_, M_, M_, M_),
    ("E2", "Q1"): (G, L, L, M_), ("E2", "Q2"): (L, L, M_, M_), ("E2", "Q3"): (L, M_, M_, M_),
    ("E3", "Q1"): (G, G, L, L), ("E3", "Q2"): (G, L, L, M_), ("E3", "Q3"): (L, L, M_, M_),
}


@dataclass(frozen=True)
class Substance:
    name_zh: str
    name_en: str
    cas: str | None
    critical_t: float
    edition: str
    confirmed: bool


@lru_cache(maxsize=1)
def substance_table() -> dict[str, Substance]:
    """The shipped substance table, keyed by CAS number and by Chinese and English name (lower case)."""
    out: dict[str, Substance] = {}
    with resources.files("ecohub.emergency").joinpath("data", "hj169_substances.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            s = Substance(r["name_zh"], r["name_en"], r["cas"] or None, float(r["critical_t"]), r["edition"],
                          r["confirmed"] == "yes")
            for k in (s.cas, s.name_zh, s.name_en.lower()):
                if k:
                    out[k] = s
    return out


def lookup(name: str | None, cas: str | None) -> Substance | None:
    t = substance_table()
    if cas and cas.strip() in t:
        return t[cas.strip()]
    if name:
        return t.get(name.strip()) or t.get(name.strip().lower())
    return None


@dataclass
class SubstanceLine:
    name: str
    quantity_t: float
    cas: str | None = None
    critical_t: float | None = None  # overrides the table


@dataclass
class QResult:
    q: float
    lines: list[dict] = field(default_factory=list)


def q_ratio(lines: list[SubstanceLine]) -> QResult:
    """Q = Σ q/Q (HJ 941-2018 §5.1). A substance neither in the table nor given a critical quantity is an error
    naming it."""
    total = 0.0
    out = []
    for i, ln in enumerate(lines):
        qty = ln.quantity_t
        if not isinstance(qty, int | float) or not math.isfinite(qty) or qty < 0:
            raise InputError(f"substances[{i}].quantity_t", qty, "a quantity in tonnes ≥ 0")
        if ln.critical_t is not None:
            if not math.isfinite(ln.critical_t) or ln.critical_t <= 0:
                raise InputError(f"substances[{i}].critical_t", ln.critical_t, "a critical quantity in tonnes > 0")
            crit, source = ln.critical_t, "given"
        else:
            s = lookup(ln.name, ln.cas)
            if s is None:
                raise InputError(f"substances[{i}]", ln.name or ln.cas, "not in the substance table "
                                 "(HJ 169-2018 Appendix B subset shipped): give its critical quantity (critical_t)")
            crit, source = s.critical_t, s.edition + ("" if s.confirmed else " (UNCONFIRMED)")
        r = qty / crit
        total += r
        out.append({"name": ln.name, "cas": ln.cas, "quantity_t": qty, "critical_t": crit, "ratio": r,
                    "source": source})
    return QResult(total, out)


def q_level(q: float) -> str:
    """Q0 (< 1: graded 一般 directly), Q1, Q2, Q3."""
    return "Q0" if q < 1 else "Q1" if q < 10 else "Q2" if q < 100 else "Q3"


def m_level(m: float) -> str:
    if not isinstance(m, int | float) or not math.isfinite(m) or not 0 <= m <= 100:
        raise InputError("m_score", m, "the process and risk-control score, 0 … 100")
    return "M1" if m < 25 else "M2" if m < 45 else "M3" if m < 60 else "M4"


def air_sensitivity(pop_5km: int, pop_500m: int) -> str:
    """E level for air from the population within 5 km and within 500 m."""
    if pop_5km >= 50_000 or pop_500m >= 1_000:
        return "E1"
    if pop_5km >= 10_000 or pop_500m >= 500:
        return "E2"
    return "E3"


def grade_medium(q: float, m_score: float, e: str, medium: str) -> dict:
    if e not in ("E1", "E2", "E3"):
        raise InputError(f"e_{medium}", e, "E1, E2 or E3")
    ql, ml = q_level(q), m_level(m_score)
    g = "general" if ql == "Q0" else MATRIX[(e, ql)][int(ml[1]) - 1]
    code = f"{GRADE_ZH[g]}-{MEDIA_ZH[medium]}({ql}-{ml}-{e})" if ql != "Q0" else f"一般-{MEDIA_ZH[medium]}(Q0)"
    return {"medium": medium, "q": q, "q_level": ql, "m_score": m_score, "m_level": ml, "e_level": e, "grade": g,
            "code": code}


def grade(lines: list[SubstanceLine], m_score: float, e_air: str | None, e_water: str | None) -> dict:
    """Enterprise grade: the higher of the air and water grades (only the media given are graded)."""
    qr = q_ratio(lines)
    media = []
    if e_air:
        media.append(grade_medium(qr.q, m_score, e_air, "air"))
    if e_water:
        media.append(grade_medium(qr.q, m_score, e_water, "water"))
    if not media:
        raise InputError("e_air/e_water", None, "give the environment sensitivity of at least one medium")
    worst = max(media, key=lambda m: GRADES.index(m["grade"]))
    return {"grade": worst["grade"], "grade_zh": GRADE_ZH[worst["grade"]], "q": round(qr.q, 4),
            "code": f"{GRADE_ZH[worst['grade']]}[" + "+".join(m["code"] for m in media) + "]",
            "media": media, "substances": qr.lines, "method": "HJ 941-2018 (matrix UNCONFIRMED, see docs)"}
