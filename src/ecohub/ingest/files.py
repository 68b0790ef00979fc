"""Import observations from files (CSV long or wide, Excel), through the one writer.

Long format: ``site,parameter,time,value[,flag]``. Wide format: ``site,time,<parameter>...``.
Times are ISO-8601; a time without offset is Beijing time (UTC+8). Parameters by canonical name or HJ 212
code. A bad row (or, in wide files, a bad cell) never stops the good ones: it goes to the quarantine with
file, line, field and reason and is counted as rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, update

from ecohub.domain.errors import InputError
from ecohub.domain.kinds import Interval, SiteKind
from ecohub.domain.parameters import Parameter
from ecohub.ingest.readers import FileUnreadable, Progress, read_rows
from ecohub.ingest.validate import (
    FUTURE_SLACK,
    KIND_FOR_DOMAIN,
    RecordValidator,
    SeriesBuffer,
)
from ecohub.store.db import Store
from ecohub.store.quarantine import MAX_RAW, QuarantineSink, raw_of
from ecohub.store.schema import ingest_log, region, site
from ecohub.store.writer import ObservationWriter

LONG_REQUIRED = ("site", "parameter", "time", "value")
__all__ = ["FUTURE_SLACK", "ImportSummary", "import_file"]


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


class _Importer:
    def __init__(self, store: Store, path: Path, interval: Interval, create_sites: bool, region_code: str | None,
                 source: str):
        self.store, self.path, self.interval = store, path, interval.value
        self.create_sites, self.region_code = create_sites, region_code
        self.writer = ObservationWriter(store, source, origin=str(path))
        self.quarantine = QuarantineSink(store, "file", str(path))
        self.check = RecordValidator(store, interval, on_unknown_site=self._create_site)
        self.buffer = SeriesBuffer(store, self.writer)
        self.parameter = self.check.parameter
        self.series_key = self.check.key
        self.epoch = self.check.epoch
        self.value = self.check.value
        self.flag = self.check.flag
        self.add = self.buffer.add
        self.drain = self.buffer.drain
        self.summary: ImportSummary | None = None

    def _create_site(self, code: str, p: Parameter) -> tuple[int, str]:
        if not self.create_sites:
            raise InputError("site", code, "unknown site (register it with 'ecohub site add' / 'site import', "
                             "or import with --create-sites --region CODE)")
        if len(code) > 64 or any(ch.isspace() for ch in code):
            raise InputError("site", code, "site code must be 1-64 characters without blanks")
        kind = KIND_FOR_DOMAIN.get(p.domain, SiteKind.air_station)
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
        self.summary.created_sites += 1
        return int(sid), kind.value

    def reject(self, err: Exception, line: int, cells: list[str], field_name: str | None = None,
               raw: str | None = None) -> None:
        """Count and quarantine a rejected row (or cell: ``raw`` then names it). Never joins more of the row
        than the quarantine keeps (:func:`raw_of`): rejecting every cell of a wide row stays linear."""
        self.summary.rejected += 1
        reason = str(err)
        key = getattr(err, "reason", None) or reason
        self.summary.reasons[key] = self.summary.reasons.get(key, 0) + 1
        self.quarantine.add(reason, line=line, field=getattr(err, "field", field_name),
                            raw=raw if raw is not None else raw_of(cells))

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
                self.reject(InputError("row", raw_of(cells), f"has {len(cells)} cells, expected at least {width}"),
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
                err = e if isinstance(e, InputError) else InputError("row", raw_of(cells), "too few cells")
                self.reject(err, line, cells)
                continue
            for i, name, reason in bad_cols:
                if i < len(cells) and cells[i].strip():
                    self.reject(InputError(name, cells[i], reason), line, cells, name,
                                raw=_cell_raw(site_code, cells[i_time], name, cells[i]))
            for i, name in value_cols:
                if i >= len(cells) or not cells[i].strip():
                    continue  # an empty cell in a wide file is a missing value, not an error
                try:
                    key = self.series_key(site_code, name)
                    v = self.value(cells[i], None, name)
                except InputError as e:
                    self.reject(e, line, cells, name, raw=_cell_raw(site_code, cells[i_time], name, cells[i]))
                    continue
                add(key, t, v, None)


def _cell_raw(site_code: str, time_text: str, column: str, cell: str) -> str:
    """What is kept of one rejected cell of a wide row: its site, time, column and text (bounded)."""
    return f"site={site_code},time={time_text},{column}={cell}"[:MAX_RAW]


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
    for header_line, cells in rows:  # noqa: B007 (the header's line is used after the loop)
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
