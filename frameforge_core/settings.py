"""Settings of every process, read from the environment by pydantic-settings.

One model per concern, built where a process starts and passed to what needs it; each
field is the environment variable of the same name (the README's configuration table).
Unset means the embedded default: everything in one data dir, no services.

Secrets (database and broker URLs, the signing key, passwords) are ``SecretStr``: they
never show in a repr or a log line. The Dagster code location binds them with
``dg.EnvVar`` so the UI shows the variable's name, never its value.
"""

from __future__ import annotations

import functools
import os
import secrets
import time
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32


class _FromEnvironment(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")


class HomeSettings(_FromEnvironment):
    """The embedded default's data dir: ``$FRAMEFORGE_HOME``, else ``./.frameforge``."""

    frameforge_home: Path = Path(".frameforge")

    @property
    def home(self) -> Path:
        return self.frameforge_home.expanduser().resolve()

    @property
    def store_root(self) -> Path:
        """Where the local object store keeps uploads, frames and results."""
        return self.home / "store"


class DatabaseSettings(HomeSettings):
    """The app database: ``$DATABASE_URL``, else a SQLite file in the data dir."""

    database_url: SecretStr | None = None

    @property
    def url(self) -> str:
        if self.database_url is not None and self.from_environment:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.home / 'app.db'}"

    @property
    def from_environment(self) -> bool:
        """True when DATABASE_URL names the database (it may hold a password)."""
        return self.database_url is not None and bool(self.database_url.get_secret_value())


class BrokerSettings(_FromEnvironment):
    """RabbitMQ (``$RABBITMQ_URL``); unset, the app database is the job queue.

    ``FRAMEFORGE_RABBITMQ_PREFIX`` (e.g. ``staging.``) goes before every exchange and queue
    name, so deployments that share a broker's vhost never take each other's messages.
    """

    rabbitmq_url: SecretStr | None = None
    frameforge_rabbitmq_prefix: str = Field("", pattern=r"^[A-Za-z0-9._-]{0,64}$")

    @property
    def url(self) -> str | None:
        return self.rabbitmq_url.get_secret_value() if self.rabbitmq_url else None


class StoreSettings(HomeSettings):
    """The object store: S3 when ``$S3_RESULTS_BUCKET`` is set, else the data dir's store/.
    Credentials are AWS's own variables, read by boto3."""

    s3_results_bucket: str | None = None
    s3_uploads_bucket: str | None = None
    s3_endpoint_url: str | None = None
    aws_default_region: str = "us-east-1"


class LinkSettings(HomeSettings):
    """What signs tokens and links and where links point: shared by the API and the worker,
    so a link in an email is one the API accepts."""

    frameforge_env: Literal["development", "production"] = "development"
    jwt_secret: SecretStr | None = None
    public_url: str = Field("http://127.0.0.1:8000", alias="FRAMEFORGE_PUBLIC_URL")
    url_ttl_seconds: int = Field(15 * 60, gt=0)
    # download links in emails: read hours or days later, so longer than url_ttl_seconds
    email_link_ttl_seconds: int = Field(
        7 * 24 * 3600, gt=0, alias="FRAMEFORGE_EMAIL_LINK_TTL_SECONDS"
    )

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> LinkSettings:
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
        if self.frameforge_env == "production" and len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"JWT_SECRET must be set to at least {MIN_SECRET_LENGTH} random characters "
                "when FRAMEFORGE_ENV=production (e.g. `openssl rand -hex 32`)"
            )
        return self

    @functools.cached_property
    def signing_key(self) -> str:
        """JWT_SECRET, or in development a random key made once and kept in the data dir."""
        if self.jwt_secret:
            return self.jwt_secret.get_secret_value()
        return _data_dir_secret(self.home / "secret.key")


def _data_dir_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: when two processes start together, exactly one writes the key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
    for _ in range(50):  # the writer may still be writing
        if key := path.read_text().strip():
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: delete it and start again")


_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class LogSettings(_FromEnvironment):
    """``FRAMEFORGE_LOG_LEVEL`` (INFO) and ``FRAMEFORGE_LOG_FORMAT`` (json, or text)."""

    frameforge_log_level: str = "INFO"
    frameforge_log_format: str = "json"

    @field_validator("frameforge_log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        if level.upper() not in _LEVELS:
            raise ValueError(f"FRAMEFORGE_LOG_LEVEL: unknown level {level!r}")
        return level.upper()

    @field_validator("frameforge_log_format")
    @classmethod
    def _known_format(cls, style: str) -> str:
        if style.lower() not in ("json", "text"):
            raise ValueError(f"FRAMEFORGE_LOG_FORMAT must be json or text, not {style!r}")
        return style.lower()


class DagsterSettings(HomeSettings):
    """The Dagster instance: ``$DAGSTER_HOME`` as the operator wrote it, else one in the data
    dir, on SQLite or, with ``$DAGSTER_PG_URL``, on PostgreSQL."""

    dagster_home: Path | None = None
    dagster_pg_url: SecretStr | None = None


# Appended to the packaged dagster.yaml when DAGSTER_PG_URL is set.
POSTGRES_STORAGE = """
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL
"""


def instance_template() -> str:
    """The packaged instance configuration (``frameforge_core/dagster.yaml``)."""
    return resources.files("frameforge_core").joinpath("dagster.yaml").read_text()


def ensure_dagster_home(settings: DagsterSettings | None = None) -> Path:
    """Point Dagster at an instance dir, creating the embedded default's on first use.

    An explicit ``$DAGSTER_HOME`` is used as it is (its ``dagster.yaml`` is the operator's).
    Otherwise the instance lives in ``$FRAMEFORGE_HOME/dagster`` with the packaged
    ``dagster.yaml``: SQLite storage under that dir, or PostgreSQL when ``$DAGSTER_PG_URL``
    is set. Both variables are exported so that processes started from here (webserver,
    daemon, runs) agree. Raises OSError when the data dir cannot be created.
    """
    settings = settings or DagsterSettings()
    os.environ["FRAMEFORGE_HOME"] = str(settings.home)
    if settings.dagster_home is not None:
        return settings.dagster_home
    home = settings.home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = instance_template()
    if settings.dagster_pg_url is not None:
        config += POSTGRES_STORAGE
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != config:
        target.write_text(config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


class PictureLimitSettings(_FromEnvironment):
    """The largest picture the extraction engine accepts: ``FRAMEFORGE_MAX_PICTURE_SIDE``
    (pixels on the longer side) and ``FRAMEFORGE_MAX_PICTURE_PIXELS`` (in all); unset, the
    engine's defaults (DCI 8K: 8192 a side, 8192x4320 in all). Raising them raises a run's
    memory: about 10 bytes a pixel for the frames in flight, on top of the decoder's."""

    frameforge_max_picture_side: int | None = Field(None, gt=0)
    frameforge_max_picture_pixels: int | None = Field(None, gt=0)


class SegmentSettings(_FromEnvironment):
    """How long videos are split (frameforge_pipeline/segmenting.py): about
    ``FRAMEFORGE_SEGMENT_SECONDS`` of video a segment (a video no longer is one piece), and at
    most ``FRAMEFORGE_MAX_STEP_PODS`` segment pods of one run at once on Kubernetes, as the
    service account ``FRAMEFORGE_STEP_SERVICE_ACCOUNT`` (unset: the run pod's own)."""

    frameforge_segment_seconds: float | None = Field(None, gt=0)  # the engine's: 300
    frameforge_max_step_pods: int = Field(16, gt=0)
    frameforge_step_service_account: str | None = None


class OperationsSettings(_FromEnvironment):
    """The operator's nightly work (README "Configuration"): when the backfill schedule runs
    (``FRAMEFORGE_BACKFILL_CRON``, UTC) and how many partitions one backfill takes at most
    (``FRAMEFORGE_BACKFILL_MAX_PARTITIONS``); after how many days a video's upload, frames
    and ZIPs leave the store (``FRAMEFORGE_RETENTION_DAYS``; 0 keeps them for good)."""

    frameforge_backfill_cron: str = "0 2 * * *"
    frameforge_backfill_max_partitions: int = Field(500, gt=0)
    frameforge_retention_days: int = Field(30, ge=0)

    @field_validator("frameforge_backfill_cron")
    @classmethod
    def _valid_cron(cls, cron: str) -> str:
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(cron):
            raise ValueError(f"FRAMEFORGE_BACKFILL_CRON is not a cron expression: {cron!r}")
        return cron
