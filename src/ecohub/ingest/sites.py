"""Import the site register from CSV/Excel: ``code,kind,name,lon,lat,region[,enterprise][,water_body]``.

``water_body`` (water sections): river / lake / reservoir (or 河流/湖泊/水库); the older column name ``waterbody``
is read too. Other optional columns go to the site's attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ecohub.domain.errors import InputError
from ecohub.ingest.readers import FileUnreadable, Progress, read_rows
from ecohub.store.db import Store
from ecohub.store.quarantine import QuarantineSink
from ecohub.store.registry import SiteInput, upsert_site

REQUIRED = ("code", "kind", "name", "lon", "lat", "region")
OPTIONAL_ATTRS = ("address", "basin", "target_class", "zone_class", "note")


@dataclass
class SiteImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected}


def import_sites(store: Store, path: str | Path, progress: Progress | None = None) -> SiteImportSummary:
    path = Path(path)
    rows = read_rows(path, progress)
    header = None
    for _, cells in rows:
        if any(c.strip() for c in cells):
            header = [c.strip().lower() for c in cells]
            break
    if header is None:
        raise FileUnreadable(f"{path}: the file is empty")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FileUnreadable(f"{path}: site files need columns {','.join(REQUIRED)}[,enterprise]; missing: "
                             f"{', '.join(missing)}")
    idx = {c: header.index(c) for c in header}
    out = SiteImportSummary()
    sink = QuarantineSink(store, "file", str(path))
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue

        def cell(name: str, cells=cells) -> str:
            i = idx.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        attrs = {k: cell(k) for k in OPTIONAL_ATTRS if cell(k)} or None
        s = SiteInput(cell("code"), cell("kind"), cell("name"), cell("lon"), cell("lat"), cell("region"),
                      cell("enterprise") or None, attrs, cell("water_body") or cell("waterbody") or None)
        try:
            with store.engine.begin() as conn:
                result = upsert_site(conn, s)
        except InputError as e:
            out.rejected += 1
            msg = f"line {line}: {e}"
            out.errors.append(msg)
            sink.add(str(e), line=line, field=e.field, raw=",".join(cells))
            continue
        setattr(out, result, getattr(out, result) + 1)
    sink.flush()
    return out
