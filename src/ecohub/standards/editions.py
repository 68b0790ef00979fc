"""Which edition of a standard is in force at a given time.

Times
-----
Every function of :mod:`ecohub.standards` that takes times accepts

* ``numpy.datetime64`` values (any unit), **interpreted as UTC**;
* timezone-aware :class:`datetime.datetime` objects (converted to UTC);
* a polars ``Datetime`` Series with a time zone (converted to UTC; a naive polars Series is taken as UTC).

Naive :class:`datetime.datetime` objects are refused (ambiguous: Beijing or UTC?). Parsing of text times
(where a time without offset means Beijing time, UTC+8) is the job of the caller (the CLI does it).

Editions (STANDARDS.md §0)
--------------------------
* HJ 633-2026 (AQI) and GB 3095-2026 (ambient limits) are in force from 2026-03-01 00:00 Beijing time
  = 2026-02-28T16:00Z; before that HJ 633-2012 and GB 3095-2012 (with its 2018 amendment) apply.
* GB 3095-2026 basic items: *transition* limits until 2030-12-31 24:00 Beijing time, *final* limits from
  2031-01-01 00:00 Beijing time = 2030-12-31T16:00Z (GB 3095-2026 §4.2, Table 1).
* HJ 663-2026 replaces HJ 663-2013 on the same day as HJ 633-2026.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

#: HJ 633-2026 / GB 3095-2026 / HJ 663-2026 in force (UTC instant of 2026-03-01 00:00 Beijing time).
SWITCH_2026_UTC = np.datetime64("2026-02-28T16:00:00", "ns")
#: GB 3095-2026 final limits in force (UTC instant of 2031-01-01 00:00 Beijing time).
GB3095_FINAL_UTC = np.datetime64("2030-12-31T16:00:00", "ns")

#: Edition codes used in arrays (int16): HJ 633 / HJ 663 editions are the years.
HJ633_2012, HJ633_2026 = 2012, 2026
#: GB 3095 edition codes: 2012 = GB 3095-2012, 2026 = GB 3095-2026 transition limits, 2031 = final limits.
GB3095_2012, GB3095_2026_TRANSITION, GB3095_2026_FINAL = 2012, 2026, 2031

BEIJING_OFFSET = np.timedelta64(8, "h")


def to_utc_datetime64(times: Any) -> np.ndarray:
    """Return ``times`` as a ``datetime64[ns]`` numpy array in UTC (NaT preserved).

    Accepts numpy datetime64 (taken as UTC), timezone-aware ``datetime`` objects, lists of either, or a
    polars Datetime Series (its time zone, if any, is honoured). Naive ``datetime`` objects raise
    ``ValueError``.
    """
    if hasattr(times, "dt") and hasattr(times, "to_numpy"):  # polars Series
        tz = getattr(times.dtype, "time_zone", None)
        if tz is not None:
            times = times.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return times.to_numpy().astype("datetime64[ns]")
    if isinstance(times, _dt.datetime):
        times = [times]
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]")
    if arr.dtype == object:
        flat = arr.ravel()
        out = np.empty(flat.shape, dtype="datetime64[ns]")
        for i, t in enumerate(flat):  # object input only: not a hot path
            if t is None:
                out[i] = np.datetime64("NaT")
            elif isinstance(t, _dt.datetime):
                if t.tzinfo is None or t.utcoffset() is None:
                    raise ValueError(f"naive datetime {t!r}: give a timezone-aware time or datetime64 (UTC)")
                out[i] = np.datetime64(t.astimezone(_dt.UTC).replace(tzinfo=None), "ns")
            else:
                out[i] = np.datetime64(t, "ns")
        return out.reshape(arr.shape)
    return arr.astype("datetime64[ns]")


def hj633_edition(times: Any) -> np.ndarray:
    """HJ 633 edition in force at each time: 2012 before 2026-02-28T16:00Z, else 2026 (int16 array).

    Source: HJ 633-2026 foreword and §1 (in force 2026-03-01, replaces HJ 633-2012). NaT → 2012 is *not*
    assumed: NaT gives 0 (unknown edition), which the AQI functions treat as an error for that row.
    """
    t = to_utc_datetime64(times)
    out = np.where(t >= SWITCH_2026_UTC, HJ633_2026, HJ633_2012).astype(np.int16)
    out[np.isnat(t)] = 0
    return out


def hj663_edition(times: Any) -> np.ndarray:
    """HJ 663 edition in force at each time (2013 or 2026; 0 for NaT), same switch instant as HJ 633."""
    t = to_utc_datetime64(times)
    out = np.where(t >= SWITCH_2026_UTC, 2026, 2013).astype(np.int16)
    out[np.isnat(t)] = 0
    return out


def gb3095_edition(times: Any) -> np.ndarray:
    """GB 3095 limits in force at each time: 2012, 2026 (transition limits) or 2031 (final limits).

    GB 3095-2026 §4.2 / Table 1: transition limits to 2030-12-31, final limits from 2031-01-01 (Beijing
    time). NaT gives 0.
    """
    t = to_utc_datetime64(times)
    out = np.full(t.shape, GB3095_2012, dtype=np.int16)
    out[t >= SWITCH_2026_UTC] = GB3095_2026_TRANSITION
    out[t >= GB3095_FINAL_UTC] = GB3095_2026_FINAL
    out[np.isnat(t)] = 0
    return out


def beijing_hour(times: Any) -> np.ndarray:
    """Hour of the day (0–23) in Beijing time (UTC+8) of UTC times, int8; -1 for NaT."""
    t = to_utc_datetime64(times)
    local = (t + BEIJING_OFFSET).astype("datetime64[h]")
    hour = (local - local.astype("datetime64[D]")).astype(np.int64)
    hour[np.isnat(t)] = -1
    return hour.astype(np.int8)
