"""Runtime configuration from environment variables (prefix ``ECOHUB_``).

| variable | meaning | default |
|---|---|---|
| ``ECOHUB_DATA_DIR`` | folder for the embedded database, logs and exports | ``./var`` when run from a checkout (a folder with ``pyproject.toml`` and ``src/ecohub``), else the user's data directory (``platformdirs.user_data_dir("ecohub")``) |
| ``ECOHUB_DATABASE_URL`` | SQLAlchemy URL: ``sqlite:///path/ecohub.db`` or ``postgresql+psycopg://user@host/db`` | SQLite file ``ecohub.db`` in the data folder |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


def _checkout_root() -> Path | None:
    """The source checkout this package runs from, if any (editable install)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "ecohub").is_dir():
            return parent
    return None


def default_data_dir() -> Path:
    root = _checkout_root()
    if root is not None:
        return root / "var"
    return Path(platformdirs.user_data_dir("ecohub"))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str

    @classmethod
    def from_env(cls, database_url: str | None = None, data_dir: str | Path | None = None) -> Settings:
        d = Path(data_dir or os.environ.get("ECOHUB_DATA_DIR") or default_data_dir()).expanduser()
        url = database_url or os.environ.get("ECOHUB_DATABASE_URL") or f"sqlite:///{(d / 'ecohub.db').as_posix()}"
        return cls(data_dir=d, database_url=normalize_url(url))


def normalize_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
