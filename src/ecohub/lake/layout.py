"""The lake's layout.

``<root>/observations/interval=<hour|day|…>/kind=<site kind>/date=<YYYY-MM-DD>/part-<sync id>-<n>.parquet``

- hive-style partitions (Spark, DuckDB, polars and pyarrow read them as columns), by interval, site kind and
  the **Beijing** date of the observation (the statistics are per Beijing day, so a day's job reads one folder);
- one file per sync and partition, never rewritten: a sync only adds files;
- ``<root>/_ecohub_lake.json``: the manifest — the committed syncs (id, watermark, rows). A file whose sync id
  is not committed is the remnant of an interrupted sync and is deleted by the next sync;
- raw observations are immutable and keyed by (site, parameter, interval, time, source), so a reader may
  drop duplicates by that key (a sync interrupted after writing and before committing is re-done).
"""

from __future__ import annotations

import pyarrow as pa

OBSERVATIONS = "observations"
MANIFEST = "_ecohub_lake.json"
KEY = ("site", "parameter", "interval", "time", "source")

SCHEMA = pa.schema([
    ("site", pa.string()),
    ("parameter", pa.string()),
    ("interval", pa.string()),
    ("kind", pa.string()),
    ("region_code", pa.string()),
    ("time", pa.timestamp("s", tz="UTC")),
    ("date", pa.string()),  # Beijing date of ``time`` (partition)
    ("value", pa.float64()),
    ("flag", pa.string()),
    ("source", pa.string()),
    ("received_at", pa.timestamp("s", tz="UTC")),
])
PARTITIONS = ("interval", "kind", "date")
