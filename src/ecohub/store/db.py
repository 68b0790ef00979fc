"""The store: one object per database, for both backends."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from importlib import resources

from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from ecohub.domain.parameters import PARAMETERS
from ecohub.store import migrate
from ecohub.store.engine import make_engine
from ecohub.store.schema import parameter, region, source
from ecohub.store.types import inserted_id

DEFAULT_SOURCES = ("import", "hj212", "mqtt", "http", "demo", "manual")


class Store:
    """A database holding ecohub's schema. ``Store.open(url)``; ``init()`` migrates and loads reference data."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name  # "sqlite" | "postgresql"

    @classmethod
    def open(cls, url: str, *, echo: bool = False) -> Store:
        return cls(make_engine(url, echo=echo))

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def close(self) -> None:
        self.engine.dispose()

    # --- schema -------------------------------------------------------------------------------------------
    def upgrade(self) -> None:
        migrate.upgrade(self.engine)

    def init(self) -> dict[str, int]:
        """Bring the schema to the newest revision and load the reference data (idempotent).

        Returns how many regions, parameters and sources the database then holds.
        """
        self.upgrade()
        return self.sync_reference()

    def sync_reference(self) -> dict[str, int]:
        """Add reference rows a newer ecohub ships (regions, parameters, sources); existing rows are kept."""
        with self.engine.begin() as conn:
            self._load_regions(conn)
            self._load_parameters(conn)
            self._load_sources(conn)
            return {
                "regions": conn.scalar(select(func.count()).select_from(region)) or 0,
                "parameters": conn.scalar(select(func.count()).select_from(parameter)) or 0,
                "sources": conn.scalar(select(func.count()).select_from(source)) or 0,
            }

    def is_initialized(self) -> bool:
        return "observation" in inspect(self.engine).get_table_names() and migrate.current_revision(
            self.engine
        ) == migrate.head_revision(self.engine)

    # --- reference data -----------------------------------------------------------------------------------
    @staticmethod
    def _load_regions(conn: Connection) -> None:
        existing = set(conn.scalars(select(region.c.code)))
        with resources.files("ecohub.data").joinpath("regions.csv").open(encoding="utf-8") as f:
            rows = [
                {"code": r["code"], "name": r["name"], "level": int(r["level"]), "parent": r["parent"] or None,
                 "lon": float(r["lon"]) if r["lon"] else None, "lat": float(r["lat"]) if r["lat"] else None}
                for r in csv.DictReader(f)
                if r["code"] not in existing
            ]
        rows.sort(key=lambda r: (r["level"], r["code"]))  # parents first (foreign key)
        if rows:
            conn.execute(insert(region), rows)

    @staticmethod
    def _load_parameters(conn: Connection) -> None:
        existing = set(conn.scalars(select(parameter.c.name)))
        rows = [
            {"name": p.name, "name_zh": p.name_zh, "name_en": p.name_en, "unit": p.unit, "domain": p.domain,
             "hj212_2017": p.hj212_2017, "hj212_2005": p.hj212_2005, "decimals": p.decimals}
            for p in PARAMETERS
            if p.name not in existing
        ]
        if rows:
            conn.execute(insert(parameter), rows)

    @staticmethod
    def _load_sources(conn: Connection) -> None:
        existing = set(conn.scalars(select(source.c.name)))
        rows = [{"name": n} for n in DEFAULT_SOURCES if n not in existing]
        if rows:
            conn.execute(insert(source), rows)

    # --- helpers ------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC)

    def source_id(self, name: str) -> int:
        """Id of a data source (channel) name, created on first use (a read; the write lock only to create)."""
        from ecohub.store.tx import write_tx

        with self.engine.connect() as conn:
            sid = conn.scalar(select(source.c.id).where(source.c.name == name))
        if sid is None:
            with write_tx(self) as conn:
                sid = conn.scalar(select(source.c.id).where(source.c.name == name))
                if sid is None:
                    sid = inserted_id(conn.execute(insert(source).values(name=name)))
        return int(sid)

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1
