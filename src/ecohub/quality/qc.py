"""Run QC over what arrived: flags stored beside the raw data (``qc_flag``), raw values never changed.

:func:`run_qc` takes the observations *received* in a time range (the worker passes (watermark, now]),
re-evaluates each touched series from a little before its earliest new value (long enough for the run rules
to see a whole run) and rewrites that series' flags from its earliest new value on. Running it twice over the
same range changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from ecohub.quality import store_io as io
from ecohub.quality.config import INTERVAL_SECONDS, REALTIME_SOURCES, RULES, QcConfig, resolution
from ecohub.quality.rules import Flags, Groups, ObsArrays, describe, evaluate
from ecohub.store.db import Store


@dataclass
class QcResult:
    series: int = 0
    observations: int = 0
    flags: int = 0
    by_rule: dict | None = None

    def as_dict(self) -> dict:
        return {"series": self.series, "observations": self.observations, "flags": self.flags,
                "by_rule": self.by_rule or {}}


def build_groups(sid: np.ndarray, src: np.ndarray, obs: ObsArrays, meta: dict[int, dict], cfg: QcConfig,
                 sources: dict[int, str]) -> Groups:
    """Per-group settings from the series metadata (one entry per distinct (series, source))."""
    first = np.flatnonzero(np.r_[True, obs.group[1:] != obs.group[:-1]]) if len(obs) else np.zeros(0, np.int64)
    params, ivs, res, rt = [], [], [], []
    for i in first.tolist():
        m = meta[int(sid[i])]
        params.append(cfg.params(m["parameter"], m["kind"], m["interval"]))
        ivs.append(INTERVAL_SECONDS.get(m["interval"], 3600))
        res.append(resolution(m["parameter"]))
        rt.append(sources.get(int(src[i]), "") in REALTIME_SOURCES)
    return Groups(params, np.asarray(ivs, dtype=np.int64), np.asarray(res, dtype=float), np.asarray(rt, dtype=bool))


def flag_rows(sid, src, obs: ObsArrays, groups: Groups, flags: Flags) -> list[tuple]:
    """(series, time, source, rule, level, detail) rows for storing (a loop over flags only)."""
    out = []
    rules = flags.rules()
    for k, i in enumerate(flags.index.tolist()):
        g = int(obs.group[i])
        p = groups.params[g]
        v = float(obs.value[i])
        detail = describe(rules[k], float(flags.aux[k]), v, obs.flag[i], p)
        out.append((int(sid[i]), int(obs.time[i]), int(src[i]), rules[k], int(flags.level[k]), detail[:200]))
    return out


def run_qc(store: Store, since: datetime | int | None, until: datetime | int, *, cfg: QcConfig | None = None,
           chunk: int = 500) -> QcResult:
    """QC of the observations received in (since, until]: flags of every touched series rewritten from its
    earliest new value. ``since=None``: everything received up to ``until``."""
    lo, hi = io.to_epoch(since), io.to_epoch(until)
    now = int(datetime.now(UTC).timestamp())
    with store.engine.connect() as conn:
        touched = io.touched_series(conn, lo, hi)
        meta = io.series_meta(conn, touched)
        cfg = cfg or QcConfig.load(conn)
        sources = io.source_names(conn)
    result = QcResult(series=len(touched), by_rule={})
    ids = sorted(touched)
    for c in range(0, len(ids), chunk):
        part = ids[c:c + chunk]
        windows = {s: (touched[s][0] - cfg.lookback(meta[s]["interval"]), None) for s in part}
        with store.engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
            sid, src, obs, _ = io.load_windows(conn, windows)
            groups = build_groups(sid, src, obs, meta, cfg, sources)
            flags = evaluate(obs, groups)
            rows = flag_rows(sid, src, obs, groups, flags)
            io.delete_flags_from(conn, {s: touched[s][0] for s in part}, RULES)
            io.upsert_flags(conn, rows, now)
        result.observations += len(obs)
        result.flags += len(rows)
        for r in rows:
            result.by_rule[r[3]] = result.by_rule.get(r[3], 0) + 1
    return result


def check_arrays(parameter: str, times, values, *, kind: str = "air_station", interval: str = "hour",
                 flags=None, received=None, source: str = "import", cfg: QcConfig | None = None) -> list[dict]:
    """QC of one series given as arrays (no database): a list of {index, time, rule, level, detail}.

    ``times`` epoch seconds (UTC) or timezone-aware datetimes; ``values`` numbers or None.
    """
    t = np.asarray([io.to_epoch(x) for x in times] if len(times) and not isinstance(times[0], int | np.integer)
                   else times, dtype=np.int64)
    obs = ObsArrays.from_rows(np.zeros(t.size, np.int64), t, values, flags, received)
    cfg = cfg or QcConfig()
    p = cfg.params(parameter, kind, interval)
    groups = Groups([p], np.asarray([INTERVAL_SECONDS.get(interval, 3600)]), np.asarray([resolution(parameter)]),
                    np.asarray([source in REALTIME_SOURCES]))
    fl = evaluate(obs, groups)
    rules = fl.rules()
    return [{"index": int(i), "time": int(t[i]), "rule": rules[k], "level": int(fl.level[k]),
             "detail": describe(rules[k], float(fl.aux[k]), float(obs.value[i]), obs.flag[i], p)}
            for k, i in enumerate(fl.index.tolist())]
