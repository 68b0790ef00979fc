"""One settings object: every configurable value of ecohub, read from environment variables with the prefix
``ECOHUB_`` (and from a ``.env`` file in the working directory, environment first), each with its documented
default. ``ecohub config show`` prints the effective values, secrets masked.

Processes build one :class:`Settings` and pass it down (``create_app(store, settings=…)`` keeps it in
``app.state.settings``; the worker and the command line hand the parts on). Code that runs without one in hand
calls :func:`settings`, which reads the environment *now* (no process-wide cache: a test or an operator that
changes a variable sees it at once). An empty variable counts as unset. A value that does not parse is refused
with the variable's name (pydantic's validation error), never silently replaced by the default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "ECOHUB_"


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


def normalize_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Settings(BaseSettings):
    """Effective configuration. Field ``x`` is the variable ``ECOHUB_X``."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", env_file_encoding="utf-8",
                                      env_ignore_empty=True, extra="ignore", validate_default=True)

    # --- storage ---------------------------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir, description=(
        "data folder (embedded database, exports, secret key, complaint photos, map layers); default ./var "
        "beside a source checkout, else the user's data directory"))
    database_url: str = Field("", description=(
        "sqlite:///path/file.db or postgresql://user@host:5432/db; default the SQLite file ecohub.db in the "
        "data folder"))
    # --- API ---------------------------------------------------------------------------------------------------
    secret_key: SecretStr | None = Field(None, description=(
        "key that signs access tokens (≥ 32 characters); default generated once and kept in the data folder"))
    bus_url: str | None = Field(None, description="NATS JetStream URL of the ingest bus (nats://host:4222); "
                                "checked by /readyz; default none (no bus)")
    cors_origins: str = Field("", description="origins allowed by CORS, comma-separated; default none (CORS off)")
    rate_limit_anon: int = Field(600, ge=0, description="requests per minute per client address (0: off)")
    rate_limit_auth: int = Field(1200, ge=0, description="requests per minute per signed-in user or API key")
    rate_limit_login: int = Field(20, ge=0, description="sign-in attempts per minute per address")
    max_body: int = Field(1024 * 1024, ge=1, description="largest request body in bytes (HTTP push: 6 MiB)")
    public_cache_seconds: int = Field(60, ge=0, description=(
        "response cache of the hot reads (latest, AQI, rankings, water): an answer is served again, per path, "
        "query and caller's scope, while no commit changed the data, at most this many seconds (0: off)"))
    # --- web ---------------------------------------------------------------------------------------------------
    tile_url: str = Field("", description=(
        "basemap tile server, e.g. https://tiles.example.org/{z}/{x}/{y}.png (WGS-84/Web Mercator); default "
        "none: the shipped boundaries only"))
    tile_attribution: str = Field("", description="attribution shown with the tiles")
    tile_maxzoom: int = Field(18, ge=1, le=24, description="highest zoom level of the tile server")
    province: str | None = Field(None, pattern=r"^\d{2}0000$", description=(
        "province whose boundaries the maps draw (6-digit code); default the shipped one (130000)"))
    complaints_per_hour: int = Field(10, ge=1, description="complaints accepted per hour per address")
    offline_minutes: int = Field(60, ge=1, description=(
        "minutes without data after which a source counts as offline on the map and cockpit"))
    pm25_target: float = Field(35.0, gt=0, description=(
        "PM2.5 annual target on the cockpit, µg/m³ (GB 3095-2012 class 2 annual limit)"))
    # --- notifications -----------------------------------------------------------------------------------------
    smtp_host: str | None = Field(None, description="mail server for alert e-mails; default none (no e-mail)")
    smtp_port: int = Field(25, ge=1, le=65535, description="mail server port")
    smtp_from: str = Field("ecohub@localhost", description="sender address of alert e-mails")
    smtp_user: str | None = Field(None, description="mail server user name")
    smtp_password: SecretStr | None = Field(None, description="mail server password")
    smtp_starttls: bool = Field(False, description="use STARTTLS with the mail server")
    # --- schedules ---------------------------------------------------------------------------------------------
    forecast_at: str = Field("16:00", description="daily forecast issue time, HH:MM Beijing")
    forecast_scheme: str = Field("2018", description="warning-level scheme of the forecasts")
    forecast_enabled: bool = Field(True, description="issue forecasts from the worker")
    forecast_sites: bool = Field(False, description="the worker's daily run also issues a forecast per air "
                                 "station (each station's own history)")
    forecast_stored_met: bool = Field(True, description="use the stored meteorological series of a city/station "
                                      "as forecast input when present")
    report_regions: str = Field("130000", description="regions of the scheduled monthly/annual reports, comma-separated")
    supervision_check_every: int = Field(3600, ge=0, description="seconds between the worker's permit tonnage, "
                                         "overdue-report and hazardous-waste checks (0: every pass)")
    # --- HJ 212 gateway ----------------------------------------------------------------------------------------
    hj212_ack_timeout: float = Field(10.0, gt=0, description=(
        "seconds an HJ 212 device waits for the platform's answer before it retransmits (its OverTime); the "
        "gateway reads more slowly when a packet would spend more than a quarter of it inside the gateway"))
    # --- national cryptography (docs/crypto.md) ---------------------------------------------------------------
    keys_dir: Path | None = Field(None, description=(
        "folder of the platform's SM2 signing keys (ecohub keys generate|rotate|show); default <data folder>/keys"))
    pii_key: SecretStr | None = Field(None, description=(
        "SM4 master key(s) for personal data at rest: 32 hex digits, or 'id:hex,id:hex' (the last one encrypts); "
        "default none (see pii_key_file)"))
    pii_key_file: Path | None = Field(None, description=(
        "file with the SM4 key ring ('<id> <hex>' a line, the last one current; ecohub crypto rotate-key appends); "
        "default <data folder>/keys/pii.keys when it exists; with neither, personal data is stored in clear"))
    # --- operations --------------------------------------------------------------------------------------------
    log_format: Literal["text", "json"] = Field("text", description=(
        "log lines of the long-running processes: text, or json (one object a line: ts, level, logger, msg, "
        "request_id / connection_id); the command line's --log-format wins"))
    retention_days: int = Field(400, ge=1, description=(
        "ecohub retention run: raw minute observations older than this many days (by observation time) are "
        "dropped once the lake holds them"))
    lake_dir: Path | None = Field(None, description=(
        "the Parquet lake of ecohub lake sync / ecohub retention run; default <data folder>/lake"))
    # --- MQTT --------------------------------------------------------------------------------------------------
    mqtt_url: str = Field("mqtt://127.0.0.1:1883", description="MQTT broker of ecohub mqtt-subscribe")
    mqtt_client_id: str | None = Field(None, description="MQTT client id; default ecohub-<host name>")

    @model_validator(mode="after")
    def _fill(self) -> Settings:
        self.data_dir = Path(self.data_dir).expanduser()
        url = self.database_url or f"sqlite:///{(self.data_dir / 'ecohub.db').as_posix()}"
        self.database_url = normalize_url(url)
        self.keys_dir = Path(self.keys_dir).expanduser() if self.keys_dir else self.data_dir / "keys"
        self.lake_dir = Path(self.lake_dir).expanduser() if self.lake_dir else self.data_dir / "lake"
        return self

    @property
    def pii_key_path(self) -> Path:
        """Where the SM4 key ring for personal data is read from and rotated into."""
        return Path(self.pii_key_file).expanduser() if self.pii_key_file else (self.keys_dir or self.data_dir) / "pii.keys"

    @classmethod
    def from_env(cls, database_url: str | None = None, data_dir: str | Path | None = None) -> Settings:
        """The environment (and ``.env``), with the values a command line gave taking precedence."""
        over: dict = {}
        if database_url:
            over["database_url"] = database_url
        if data_dir:
            over["data_dir"] = Path(data_dir)
        return cls(**over)

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    def shown(self) -> list[dict]:
        """Every setting with its variable, effective value (secrets and URL passwords masked), default and
        description — what ``ecohub config show`` prints."""
        from sqlalchemy.engine import make_url

        out = []
        for name, f in type(self).model_fields.items():
            v = getattr(self, name)
            value: Any
            if isinstance(v, SecretStr):
                value = "********"
            elif name == "database_url":
                try:
                    value = make_url(v).render_as_string(hide_password=True)
                except Exception:  # noqa: BLE001 - an unparsable URL is shown as given, minus nothing secret
                    value = v
            else:
                value = None if v is None else str(v) if isinstance(v, Path) else v
            default = f.get_default(call_default_factory=True) if not f.is_required() else None
            out.append({"name": name, "variable": PREFIX + name.upper(), "value": value,
                        "default": str(default) if isinstance(default, Path) else default,
                        "description": f.description or ""})
        return out


def settings(**over) -> Settings:
    """The settings as the environment says now (see the module doc)."""
    return Settings(**over)


__all__ = ["Settings", "settings", "default_data_dir", "normalize_url", "PREFIX"]
