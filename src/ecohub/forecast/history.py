"""A city's (or station's) daily history on a gap-free calendar, and the reader of official daily files.

The daily file format is that of the aqistudy.cn re-publication of CNEMC's city daily values
(``aqi,co,no2,o3,pm10,pm2_5,quality,rank,so2,time_point``): ``o3`` is the O3 daily maximum 8-h mean, ``co`` is
mg/m³, the others µg/m³. In those files a day without particulate data is published with ``aqi``, ``pm2_5`` and
``pm10`` equal to 0 (quality ``无``), so **zero or empty concentrations and a zero AQI are missing, not clean
air**.

Bad input never stops the reader: each problem becomes a :class:`Problem` (line, field, value, reason) and the
good data are kept. Days are put on a calendar from the first to the last day; missing days are NaN (gaps),
duplicated days keep their first row (a differing duplicate is reported as rejected), rows out of order are
sorted.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Daily quantities kept, our names: official AQI, 24-h means, O3 daily max 8-h (µg/m³; co mg/m³).
POLLUTANTS = ("so2", "no2", "co", "o3_8h", "pm10", "pm25")
#: Column of the daily file → our name.
DAILY_FILE_COLUMNS = {"aqi": "aqi", "so2": "so2", "no2": "no2", "co": "co", "o3": "o3_8h", "pm10": "pm10",
                      "pm2_5": "pm25"}
REQUIRED = ("time_point", "aqi")
#: Plausibility ceilings (values above are rejected as errors, not capped): AQI is published up to 500;
#: concentrations far beyond the top of the HJ 633 tables are unit or typing errors.
CEILING = {"aqi": 500.0, "so2": 5000.0, "no2": 3000.0, "co": 150.0, "o3_8h": 2000.0, "pm10": 5000.0,
           "pm25": 3000.0}


@dataclass
class Problem:
    line: int | None
    field: str
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.field}={self.value!r}: {self.reason}" if self.value is not None else \
            f"{where}{self.field}: {self.reason}"


@dataclass
class DailyHistory:
    """Daily values on a gap-free calendar ``days`` (``datetime64[D]``, Beijing days). NaN = missing."""

    days: np.ndarray
    aqi: np.ndarray
    conc: dict[str, np.ndarray]
    name: str = ""
    problems: list[Problem] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.days.size)

    @property
    def valid_days(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.aqi)))

    def summary(self) -> dict:
        """What the history holds, for messages and the forecast store (inputs' time span)."""
        ok = ~np.isnan(self.aqi)
        gaps = _runs(~ok)
        return {
            "first_day": str(self.days[0]) if len(self) else None,
            "last_day": str(self.days[-1]) if len(self) else None,
            "days": len(self),
            "days_with_aqi": int(ok.sum()),
            "missing_days": int((~ok).sum()),
            "longest_gap_days": int(max(gaps, default=0)),
            "problems": len(self.problems),
        }

    def since(self, first: np.datetime64) -> DailyHistory:
        """The history from ``first`` on."""
        k = int(np.searchsorted(self.days, np.datetime64(first, "D"), side="left"))
        return DailyHistory(self.days[k:], self.aqi[k:], {p: v[k:] for p, v in self.conc.items()}, self.name,
                            self.problems)

    def until(self, last: np.datetime64) -> DailyHistory:
        """The history up to and including ``last`` (what was known when a forecast was issued)."""
        k = int(np.searchsorted(self.days, np.datetime64(last, "D"), side="right"))
        return DailyHistory(self.days[:k], self.aqi[:k], {p: v[:k] for p, v in self.conc.items()}, self.name,
                            self.problems)


def _runs(mask: np.ndarray) -> list[int]:
    """Lengths of the runs of True in a boolean array."""
    if not mask.any():
        return []
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(m)
    return list(np.flatnonzero(d == -1) - np.flatnonzero(d == 1))


def from_records(days: list, values: dict[str, list], name: str = "",
                 problems: list[Problem] | None = None) -> DailyHistory:
    """Build a history from parallel lists (days as ISO text or dates; NaN/None missing; one row per day,
    any order; duplicates keep the first). Used by the file reader and the store path."""
    problems = list(problems or [])
    d = np.array([np.datetime64(str(x)[:10], "D") for x in days], dtype="datetime64[D]")
    if d.size == 0:
        return DailyHistory(d, np.array([]), {p: np.array([]) for p in POLLUTANTS}, name, problems)
    order = np.argsort(d, kind="stable")
    first, last = d[order[0]], d[order[-1]]
    n = int((last - first).astype(int)) + 1
    grid = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    idx = (d - first).astype(int)
    seen = np.zeros(n, dtype=bool)
    keep = []
    for k in order:  # stable: the first row of a day (in file order) wins
        if not seen[idx[k]]:
            seen[idx[k]] = True
            keep.append(k)
    keep_a = np.array(keep, dtype=int)

    def put(vals) -> np.ndarray:
        src = np.array([np.nan if v is None else float(v) for v in vals], dtype=float)
        out = np.full(n, np.nan)
        out[idx[keep_a]] = src[keep_a]
        return out

    aqi = put(values["aqi"])
    conc = {p: put(values[p]) if p in values else np.full(n, np.nan) for p in POLLUTANTS}
    return DailyHistory(grid, aqi, conc, name, problems)


def read_daily_file(path: str | Path, *, name: str | None = None) -> DailyHistory:
    """Read an official city daily file (aqistudy/CNEMC layout, UTF-8 with or without BOM).

    Raises :class:`ecohub.domain.errors.InputError` only when nothing usable is there (no such file, no
    header, a required column missing, no valid day); every other problem is reported in ``problems``.
    """
    from ecohub.domain.errors import InputError

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError("daily", str(path), f"cannot read the file: {e.strerror or e}") from None
    text = raw.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError("daily", str(path), f"missing column(s) {', '.join(missing)}; expected the columns "
                         "aqi,co,no2,o3,pm10,pm2_5,quality,rank,so2,time_point")
    reader.fieldnames = header
    problems: list[Problem] = []
    days: list[str] = []
    vals: dict[str, list] = {k: [] for k in DAILY_FILE_COLUMNS.values()}
    seen: dict[str, tuple[int, tuple]] = {}
    prev = None
    out_of_order = 0
    for line, row in enumerate(reader, start=2):
        t = (row.get("time_point") or "").strip()[:10]
        try:
            day = np.datetime64(t, "D")
            if len(t) != 10:
                raise ValueError
        except ValueError:
            problems.append(Problem(line, "time_point", row.get("time_point"), "not a date YYYY-MM-DD; row rejected"))
            continue
        parsed: dict[str, float | None] = {}
        for col, key in DAILY_FILE_COLUMNS.items():
            cell = (row.get(col) or "").strip()
            if cell == "":
                parsed[key] = None
                continue
            try:
                v = float(cell)
            except ValueError:
                problems.append(Problem(line, col, cell, "not a number; taken as missing"))
                parsed[key] = None
                continue
            if not np.isfinite(v) or v < 0:
                problems.append(Problem(line, col, cell, "negative or not finite; taken as missing"))
                parsed[key] = None
            elif v == 0:
                parsed[key] = None  # published 0 = no data that day (quality 无), not clean air
            elif v > CEILING[key]:
                problems.append(Problem(line, col, cell, f"above the plausible maximum {CEILING[key]:g}; "
                                                         "taken as missing"))
                parsed[key] = None
            else:
                parsed[key] = v
        sig = tuple(parsed[k] for k in vals)
        if t in seen:
            first_line, first_sig = seen[t]
            same = first_sig == sig
            problems.append(Problem(line, "time_point", t, f"duplicate of line {first_line}; "
                                    + ("identical, ignored" if same else "values differ, the first row is kept "
                                       "and this one rejected")))
            continue
        seen[t] = (line, sig)
        if prev is not None and day < prev:
            out_of_order += 1
        prev = day if prev is None else max(prev, day)
        days.append(t)
        for k in vals:
            vals[k].append(parsed[k])
    if out_of_order:
        problems.append(Problem(None, "time_point", None, f"{out_of_order} row(s) out of date order; sorted"))
    if not days:
        raise InputError("daily", str(path), "no row with a valid date")
    h = from_records(days, vals, name or p.stem, problems)
    gaps = int(len(h) - len(days))
    if gaps:
        h.problems.append(Problem(None, "time_point", None, f"{gaps} calendar day(s) absent from the file "
                                  f"(longest run of missing AQI: {h.summary()['longest_gap_days']} days); "
                                  "treated as missing"))
    zero_aqi = int(np.count_nonzero(np.isnan(h.aqi))) - gaps
    if zero_aqi:
        h.problems.append(Problem(None, "aqi", None, f"{zero_aqi} day(s) without AQI (empty or 0 = not "
                                  "published); not used as targets or baselines"))
    if h.valid_days == 0:
        raise InputError("daily", str(path), "no day with a valid AQI")
    return h
