"""Soil sample classification (GB 15618-2018 agricultural land, GB 36600-2018 development land) and summaries.

Input: one dict per sample with ``site``, ``land_use`` (``paddy other orchard rotation`` → GB 15618;
``construction_1 construction_2`` → GB 36600), ``ph`` (needed by GB 15618's pH-dependent items) and one value
per pollutant in mg/kg (names of :mod:`ecohub.standards.gb15618` / :mod:`ecohub.standards.gb36600`). Optional
``region_code`` (county) for the county summary.

Output per sample: ``<pollutant>_class`` = ``below_screening | between | above_intervention`` (empty where the
value is missing or the item is not in the sample's standard), ``class`` (the worst), ``standard`` and
``error`` (every problem of the row, naming the field and the value; the row's other values are still
classified where they can be).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from ecohub.standards import gb15618, gb36600

CLASSES = gb15618.CLASSES
AGRI_USES = gb15618.LAND_USES
DEV_USES = gb36600.LAND_USES
ALL_POLLUTANTS = tuple(dict.fromkeys(gb15618.POLLUTANTS + gb36600.POLLUTANTS))
META_COLUMNS = ("site", "land_use", "ph", "region_code", "name", "lon", "lat", "time", "sample", "depth")


@dataclass
class SoilResult:
    rows: list[dict]
    pollutants: list[str]
    unknown_columns: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _num(v) -> float | None | str:
    """float, None for empty, or the error text."""
    if v is None:
        return None
    if isinstance(v, (int, float)):
        x = float(v)
    else:
        t = str(v).strip()
        if t == "" or t.lower() in ("na", "nan", "nd"):
            return None
        try:
            x = float(t)
        except ValueError:
            return "not a number"
    if not math.isfinite(x):
        return "not a finite number"
    if x < 0:
        return "negative"
    return x


def standard_of(land_use: str) -> str | None:
    if land_use in AGRI_USES:
        return "GB 15618-2018"
    if land_use in DEV_USES:
        return "GB 36600-2018"
    return None


def classify_samples(samples: list[dict], *, first_line: int = 2) -> SoilResult:
    """Classify every sample (see the module doc). ``first_line``: line number of the first sample (CSV: 2)."""
    cols: list[str] = []
    for s in samples:
        for k in s:
            if k not in cols:
                cols.append(k)
    pollutants = [c for c in cols if c.lower() in ALL_POLLUTANTS]
    unknown = [c for c in cols if c not in pollutants and c not in META_COLUMNS and not c.endswith("_class")
               and c not in ("class", "standard", "error")]
    n = len(samples)
    errs: list[list[str]] = [[] for _ in range(n)]
    land = []
    ph = np.full(n, np.nan)
    for i, s in enumerate(samples):
        line = first_line + i
        lu = str(s.get("land_use") or "").strip().lower()
        if not str(s.get("site") or "").strip():
            errs[i].append(f"line {line}: site: empty")
        if standard_of(lu) is None:
            errs[i].append(f"line {line}: land_use: {s.get('land_use')!r} is not one of "
                           f"{', '.join(AGRI_USES + DEV_USES)}")
            lu = ""
        land.append(lu)
        p = _num(s.get("ph"))
        if isinstance(p, str) or (isinstance(p, float) and p > 14):
            errs[i].append(f"line {line}: ph: {s.get('ph')!r} is {p if isinstance(p, str) else 'above 14'}")
        elif p is None and lu in AGRI_USES:
            errs[i].append(f"line {line}: ph: missing — GB 15618-2018 screening and intervention values of "
                           "Cd, Hg, As, Pb, Cr, Cu, Ni, Zn depend on soil pH; those items are not classified")
        elif isinstance(p, float):
            ph[i] = p
    land_arr = np.asarray(land)
    codes: dict[str, np.ndarray] = {}
    for c in pollutants:
        p = c.lower()
        v = np.full(n, np.nan)
        for i, s in enumerate(samples):
            x = _num(s.get(c))
            if isinstance(x, str):
                errs[i].append(f"line {first_line + i}: {c}: {s.get(c)!r} is {x}")
            elif x is not None:
                v[i] = x
        code = np.full(n, gb15618.MISSING)
        agri = np.isin(land_arr, AGRI_USES)
        if p in gb15618.POLLUTANTS:
            needs_ph = p in gb15618.SCREENING
            m = agri & (~np.isnan(ph) if needs_ph else True) & ~np.isnan(v)
            if np.any(m):
                code[m] = gb15618.classify(p, v[m], np.where(np.isnan(ph[m]), 7.0, ph[m]), land_arr[m])
        dev = np.isin(land_arr, DEV_USES) & ~np.isnan(v)
        if p in gb36600.POLLUTANTS and np.any(dev):
            code[dev] = gb36600.classify(p, v[dev], land_arr[dev])
        codes[c] = code
    rows = []
    for i, s in enumerate(samples):
        r = dict(s)
        worst = -1
        for c in pollutants:
            k = int(codes[c][i])
            r[f"{c}_class"] = CLASSES[k] if k >= 0 else ""
            worst = max(worst, k)
        r["class"] = CLASSES[worst] if worst >= 0 else ""
        r["standard"] = standard_of(land[i]) or ""
        r["error"] = "; ".join(e.split(": ", 1)[1] for e in errs[i])
        rows.append(r)
    return SoilResult(rows, pollutants, unknown, [e for es in errs for e in es])


def summarize(rows: list[dict], by: str = "site") -> list[dict]:
    """Per site (``by="site"``) or per county (``by="region_code"``): samples, samples per class, worst class
    and the pollutants above screening."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        key = str(r.get(by) or "")
        if key:
            groups[key].append(r)
    out = []
    for key in sorted(groups):
        rs = groups[key]
        counts = Counter(r["class"] for r in rs if r.get("class"))
        worst = max((CLASSES.index(r["class"]) for r in rs if r.get("class")), default=-1)
        above = sorted({k[:-6] for r in rs for k, v in r.items()
                        if k.endswith("_class") and k != "class" and v in ("between", "above_intervention")})
        out.append({by: key, "samples": len(rs), **{c: counts.get(c, 0) for c in CLASSES},
                    "unclassified": sum(1 for r in rs if not r.get("class")),
                    "worst": CLASSES[worst] if worst >= 0 else None, "pollutants_above_screening": above})
    return out
