"""Import observations from files (CSV long or wide, Excel), through the one writer.

Long format: ``site,parameter,time,value[,flag]``. Wide format: ``site,time,<parameter>...``.
Times are ISO-8601; a time without offset is Beijing time (UTC+8). Parameters by canonical name or HJ 212
code. A bad row (or, in wide files, a bad cell) never stops the good ones: it goes to the quarantine with
file, line, field and reason and is counted as rejected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from ecohub.domain.errors import InputError
from ecohub.domain.kinds import Interval, SiteKind
from ecohub.domain.parameters import BY_NAME, Parameter, UnknownParameter
from ecohub.domain.parameters import resolve as resolve_parameter
from ecohub.domain.timeutil import TimeParser
from ecohub.ingest.quarantine import QuarantineSink
from ecohub.ingest.readers import FileUnreadable, Progress, read_rows
from ecohub.store.db import Store
from ecohub.store.registry import SeriesResolver, parameter_index, site_index
from ecohub.store.schema import ingest_log, region, site
from ecohub.store.writer import ObservationWriter

LONG_REQUIRED = ("site", "parameter", "time", "value")
FUTURE_SLACK = timedelta(days=1)
_KIND_FOR_DOMAIN = {"air": SiteKind.air_station, "meteo": SiteKind.air_station, "water": SiteKind.water_section,
                    "gas": SiteKind.gas_outlet, "noise": SiteKind.noise_point, "radiation": SiteKind.radiation_point}


@dataclass
class ImportSummary:
    file: str
    format: str
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    rows: int = 0
    created_sites: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"imported": self.imported, "duplicates": self.duplicates, "conflicts": self.conflicts,
                "rejected": self.rejected}


def site_parameter(p: Parameter, kind: str) -> Parameter:
    """The same HJ 212 code names SO2/CO in ambient air (µg/m³, mg/m³) and in flue gas (mg/m³): pick by site kind."""
    if kind == SiteKind.gas_outlet and p.domain == "air":
        gas = BY_NAME.get(p.name + "_gas")
        if gas is not None:
            return gas
    return p


class _Importer:
    def __init__(self, store: Store, path: Path, interval: Interval, create_sites: bool, region_code: str | None,
                 source: str):
        self.store, self.path, self.interval = store, path, interval.value
        self.create_sites, self.region_code = create_sites, region_code
        self.writer = ObservationWriter(store, source, origin=str(path))
        self.quarantine = QuarantineSink(store, "file", str(path))
        self.times = TimeParser()
        self.series = SeriesResolver()
        self.latest_allowed = int((datetime.now(UTC) + FUTURE_SLACK).timestamp())
        with store.engine.connect() as conn:
            self.sites = site_index(conn)
            self.params = parameter_index(conn)
        self._key_cache: dict[tuple[str, str], tuple[int, int, str]] = {}
        self._pending: list[tuple] = []
        self._param_cache: dict[str, Parameter] = {}
        self.summary: ImportSummary | None = None

    # --- lookups ---------------------------------------------------------------------------------------
    def parameter(self, text: str) -> Parameter:
        p = self._param_cache.get(text)
        if p is None:
            try:
                p = resolve_parameter(text)
            except UnknownParameter:
                raise InputError("parameter", text, "unknown parameter (canonical name such as pm25, so2, codmn, "
                                 "or an HJ 212 code such as a34004)") from None
            self._param_cache[text] = p
        return p

    def series_key(self, site_code: str, param_text: str) -> tuple[int, int, str]:
        """(site id, parameter id, interval) of a row, checked; the series itself is resolved in bulk."""
        key = (site_code, param_text)
        hit = self._key_cache.get(key)
        if hit is not None:
            return hit
        p = self.parameter(param_text)
        entry = self.sites.get(site_code)
        if entry is None:
            entry = self._create_site(site_code, p)
        site_id, kind = entry
        p = site_parameter(p, kind)
        k = self._key_cache[key] = (site_id, self.params[p.name], self.interval)
        return k

    def add(self, key: tuple[int, int, str], t: int, v: float | None, flag: str | None) -> None:
        sid = self.series.cached(key)
        if sid is not None and not self._pending:
            self.writer.add(sid, t, v, flag)
            return
        self._pending.append((key, t, v, flag))
        if len(self._pending) >= self.writer.batch_size:
            self.drain()

    def drain(self) -> None:
        """Create the series the pending rows need (one transaction), then hand the rows to the writer."""
        if not self._pending:
            return
        with self.store.engine.begin() as conn:
            self.series.resolve_many(conn, {k for k, _, _, _ in self._pending})
        pending, self._pending = self._pending, []
        for key, t, v, flag in pending:
            self.writer.add(self.series.cached(key), t, v, flag)

    def _create_site(self, code: str, p: Parameter) -> tuple[int, str]:
        if not code:
            raise InputError("site", code, "empty site code")
        if not self.create_sites:
            raise InputError("site", code, "unknown site (register it with 'ecohub site add' / 'site import', "
                             "or import with --create-sites --region CODE)")
        if len(code) > 64 or any(ch.isspace() for ch in code):
            raise InputError("site", code, "site code must be 1-64 characters without blanks")
        kind = _KIND_FOR_DOMAIN.get(p.domain, SiteKind.air_station)
        if kind.is_outlet:
            raise InputError("site", code, "an unknown outlet is not created automatically: register it with "
                             "its enterprise ('ecohub site add CODE --kind gas_outlet --enterprise USCC ...')")
        with self.store.engine.begin() as conn:
            r = conn.execute(select(region.c.lon, region.c.lat).where(region.c.code == self.region_code)).first()
            sid = conn.execute(insert(site).values(
                code=code, kind=kind.value, name=code, lon=r.lon or 0.0, lat=r.lat or 0.0,
                region_code=self.region_code, attrs={"auto_created": True, "position_unknown": True,
                                                     "created_by_import": str(self.path)},
                created_at=datetime.now(UTC))).inserted_primary_key[0]
        self.sites[code] = (int(sid), kind.value)
        self.summary.created_sites += 1
        return self.sites[code]

    def epoch(self, text: str) -> int:
        t = self.times.epoch(text)
        if t > self.latest_allowed:
            raise InputError("time", text, "is more than one day in the future")
        return t

    @staticmethod
    def value(text: str, flag: str | None, field_name: str = "value") -> float | None:
        s = text.strip()
        if not s:
            if flag:
                return None
            raise InputError(field_name, text, "empty value (give a number, or a flag for a missing value)")
        try:
            v = float(s)
        except ValueError:
            raise InputError(field_name, text, "not a number") from None
        if math.isnan(v) or math.isinf(v):
            raise InputError(field_name, text, "not a finite number")
        return v

    @staticmethod
    def flag(text: str | None) -> str | None:
        if text is None:
            return None
        s = text.strip()
        if not s:
            return None
        if len(s) > 4 or not s.isalnum():
            raise InputError("flag", text, "a data flag is 1-4 letters or digits (HJ 212: N, F, M, S, D, C, T, B)")
        return s

    def reject(self, err: Exception, line: int, cells: list[str], field_name: str | None = None) -> None:
        self.summary.rejected += 1
        reason = str(err)
        key = getattr(err, "reason", None) or reason
        self.summary.reasons[key] = self.summary.reasons.get(key, 0) + 1
        self.quarantine.add(reason, line=line, field=getattr(err, "field", field_name), raw=",".join(cells))

    # --- formats ---------------------------------------------------------------------------------------
    def run(self, rows, fmt: str | None, header: list[str], header_line: int) -> ImportSummary:
        cols = [c.strip().lower() for c in header]
        if fmt is None:
            fmt = "long" if all(c in cols for c in LONG_REQUIRED) else "wide"
        self.summary = ImportSummary(file=str(self.path), format=fmt)
        if fmt == "long":
            self._long(rows, cols)
        elif fmt == "wide":
            self._wide(rows, cols, [c.strip() for c in header])
        else:
            raise FileUnreadable(f"format {fmt!r}: use long or wide")
        self.drain()
        self.writer.flush()
        self.quarantine.flush()
        s = self.summary
        s.imported, s.duplicates, s.conflicts = (self.writer.totals.imported, self.writer.totals.duplicates,
                                                 self.writer.totals.conflicts)
        return s

    def _long(self, rows, cols: list[str]) -> None:
        missing = [c for c in LONG_REQUIRED if c not in cols]
        if missing:
            raise FileUnreadable(f"{self.path}: long format needs columns {', '.join(LONG_REQUIRED)}[,flag]; "
                                 f"missing: {', '.join(missing)} (header: {','.join(cols)})")
        i_site, i_par, i_time, i_val = (cols.index(c) for c in LONG_REQUIRED)
        i_flag = cols.index("flag") if "flag" in cols else None
        width = max(i_site, i_par, i_time, i_val, i_flag or 0) + 1
        add = self.add
        for line, cells in rows:
            self.summary.rows += 1
            if len(cells) < width:
                if not any(c.strip() for c in cells):
                    self.summary.rows -= 1  # blank line
                    continue
                self.reject(InputError("row", ",".join(cells), f"has {len(cells)} cells, expected at least {width}"),
                            line, cells)
                continue
            try:
                flag = self.flag(cells[i_flag]) if i_flag is not None else None
                key = self.series_key(cells[i_site].strip(), cells[i_par].strip())
                t = self.epoch(cells[i_time])
                v = self.value(cells[i_val], flag)
            except InputError as e:
                self.reject(e, line, cells)
                continue
            add(key, t, v, flag)

    def _wide(self, rows, cols: list[str], raw_header: list[str]) -> None:
        if "site" not in cols or "time" not in cols:
            raise FileUnreadable(f"{self.path}: wide format needs columns site,time,<parameter>...; header: "
                                 f"{','.join(raw_header)}")
        i_site, i_time = cols.index("site"), cols.index("time")
        value_cols: list[tuple[int, str]] = []
        bad_cols: list[tuple[int, str, str]] = []
        for i, name in enumerate(raw_header):
            if i in (i_site, i_time) or not name:
                continue
            try:
                self.parameter(name)
                value_cols.append((i, name))
            except InputError as e:
                bad_cols.append((i, name, str(e)))
        if not value_cols and not bad_cols:
            raise FileUnreadable(f"{self.path}: wide format has no parameter columns after site,time")
        add = self.add
        for line, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            self.summary.rows += 1
            try:
                site_code = cells[i_site].strip()
                t = self.epoch(cells[i_time] if i_time < len(cells) else "")
            except (InputError, IndexError) as e:
                err = e if isinstance(e, InputError) else InputError("row", ",".join(cells), "too few cells")
                self.reject(err, line, cells)
                continue
            for i, name, reason in bad_cols:
                if i < len(cells) and cells[i].strip():
                    self.reject(InputError(name, cells[i], reason), line, cells, name)
            for i, name in value_cols:
                if i >= len(cells) or not cells[i].strip():
                    continue  # an empty cell in a wide file is a missing value, not an error
                try:
                    key = self.series_key(site_code, name)
                    v = self.value(cells[i], None, name)
                except InputError as e:
                    self.reject(e, line, cells, name)
                    continue
                add(key, t, v, None)


def import_file(store: Store, path: str | Path, *, fmt: str | None = None, interval: str = "hour",
                create_sites: bool = False, region_code: str | None = None, source: str = "import",
                progress: Progress | None = None, encoding: str | None = None,
                sheet: str | None = None) -> ImportSummary:
    """Import one file. Raises :class:`FileUnreadable` only when the file cannot be read at all."""
    path = Path(path)
    iv = Interval.parse(interval)
    if create_sites:
        if not region_code:
            raise FileUnreadable("--create-sites needs --region CODE (the region of the sites it creates)")
        with store.engine.connect() as conn:
            if conn.scalar(select(region.c.code).where(region.c.code == region_code)) is None:
                raise FileUnreadable(f"--region {region_code!r}: unknown administrative division code")
    rows = read_rows(path, progress, encoding, sheet)
    header_line, header = 0, None
    for header_line, cells in rows:
        if any(c.strip() for c in cells):
            header = cells
            break
    if header is None:
        raise FileUnreadable(f"{path}: the file is empty")
    started = datetime.now(UTC)
    with store.engine.begin() as conn:
        log_id = conn.execute(insert(ingest_log).values(channel="file", origin=str(path)[:500],
                                                        started_at=started)).inserted_primary_key[0]
    imp = _Importer(store, path, iv, create_sites, region_code, source)
    summary = imp.run(rows, fmt, header, header_line)
    with store.engine.begin() as conn:
        conn.execute(update(ingest_log).where(ingest_log.c.id == log_id).values(
            finished_at=datetime.now(UTC), **summary.counts()))
    return summary
