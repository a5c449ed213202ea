"""Settings of every process, read from the environment by pydantic-settings.

One model per concern, built once where a process starts and passed to what needs it.
One convention for the names: a field reads ``FRAMEFORGE_`` + its name in capitals
(``log_level``: ``FRAMEFORGE_LOG_LEVEL``), except where a standard name exists, read as is
(``DATABASE_URL``, ``RABBITMQ_URL``, ``REDIS_URL``, ``JWT_SECRET``, and the names Dagster and
AWS read themselves: ``DAGSTER_HOME``, ``DAGSTER_PG_URL``, ``AWS_DEFAULT_REGION``). Names
that worked before the prefix (``SMTP_HOST``) are still read for one release (``former``),
and a process started with one says so once (``logs.configure``). Each field's
``description`` is its line in docs/configuration.md's table (``settings_docs`` writes it).
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
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from frameforge_core.connection_bounds import bounded_postgres_url

MIN_SECRET_LENGTH = 32


PREFIX = "FRAMEFORGE_"


def former(name: str) -> AliasChoices:
    """``FRAMEFORGE_<name>``, and ``<name>`` as operators' files spelled it before the prefix
    (the first one set wins)."""
    return AliasChoices(PREFIX + name, name)


class FromEnvironment(BaseSettings):
    """A settings model: ``FRAMEFORGE_<FIELD>``, or the standard name a field's
    ``validation_alias`` gives. Built from keyword arguments, fields go by name; a name no
    field has is an error (a misspelt override never passes unnoticed)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="forbid", validate_by_name=True)


def _models(base: type[FromEnvironment] = FromEnvironment) -> Iterator[type[FromEnvironment]]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def former_names() -> dict[str, str]:
    """Every former name a settings model reads (``former``), with its name now; the models
    are those imported so far, so a process gets the names it reads."""
    renamed: dict[str, str] = {}
    for model in _models():
        for field in model.model_fields.values():
            if isinstance(alias := field.validation_alias, AliasChoices):
                now, *before = (str(choice) for choice in alias.choices)
                renamed.update(dict.fromkeys(before, now))
    return renamed


def former_names_in(environ: Mapping[str, str]) -> dict[str, str]:
    """The former names set in ``environ``, each with its name now."""
    return {old: now for old, now in former_names().items() if old in environ}


class HomeSettings(FromEnvironment):
    """The embedded default's data dir: ``$FRAMEFORGE_HOME``, else ``./.frameforge``."""

    home: Path = Field(
        Path(".frameforge"),
        validate_default=True,
        description="data dir of the embedded default: the store under `store/`, the app "
        "database `app.db`, the Dagster instance under `dagster/`",
    )

    @field_validator("home")
    @classmethod
    def _absolute(cls, home: Path) -> Path:
        return home.expanduser().resolve()

    @property
    def store_root(self) -> Path:
        """Where the local object store keeps uploads, frames and results."""
        return self.home / "store"


class DatabaseSettings(HomeSettings):
    """The app database: ``$DATABASE_URL``, else a SQLite file in the data dir."""

    database_url: SecretStr | None = Field(
        None,
        validation_alias="DATABASE_URL",
        description="app database (default SQLite in the data dir), e.g. "
        "`postgresql+psycopg://user@127.0.0.1:5432/db`; migrated at API and worker start, or "
        "once by `frameforge migrate`, under a lock. It may be the same PostgreSQL database as "
        "Dagster's: the app keeps its revision in `frameforge_alembic_version`, Dagster in "
        "`alembic_version`",
    )

    @property
    def url(self) -> str:
        if self.database_url is not None and self.from_environment:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.home / 'app.db'}"

    @property
    def from_environment(self) -> bool:
        """True when DATABASE_URL names the database (it may hold a password)."""
        return self.database_url is not None and bool(self.database_url.get_secret_value())


class BrokerSettings(FromEnvironment):
    """RabbitMQ (``$RABBITMQ_URL``); unset, the app database is the job queue.

    ``FRAMEFORGE_RABBITMQ_PREFIX`` (e.g. ``staging.``) goes before every exchange and queue
    name, so deployments that share a broker's vhost never take each other's messages.
    """

    rabbitmq_url: SecretStr | None = Field(
        None,
        validation_alias="RABBITMQ_URL",
        description="e.g. `amqp://guest:guest@127.0.0.1:5672/%2F`: jobs and events through "
        "RabbitMQ (unset: the app database is the queue and the worker notifies directly)",
    )
    rabbitmq_prefix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9._-]{0,64}$",
        description="put before every exchange and queue name (e.g. `staging.`), so "
        "deployments sharing a broker's vhost never take each other's messages (a vhost of "
        "its own in `RABBITMQ_URL` separates them as well)",
    )

    @property
    def url(self) -> str | None:
        return self.rabbitmq_url.get_secret_value() if self.rabbitmq_url else None


class StoreSettings(HomeSettings):
    """The object store: S3 when ``$FRAMEFORGE_S3_RESULTS_BUCKET`` is set, else the data
    dir's store/. Credentials are AWS's own variables, read by boto3."""

    s3_results_bucket: str | None = Field(
        None,
        validation_alias=former("S3_RESULTS_BUCKET"),
        description="set it to store everything in S3: frames, ZIPs and the frame index in "
        "this bucket (credentials from the usual `AWS_*`). Upload URLs are then presigned S3 "
        "PUTs (15 min) and downloads redirect to presigned GETs; unset, the local store under "
        "the data dir",
    )
    s3_uploads_bucket: str | None = Field(
        None,
        validation_alias=former("S3_UPLOADS_BUCKET"),
        description="where uploads go with S3 (default: the results bucket)",
    )
    s3_endpoint_url: str | None = Field(
        None,
        validation_alias=former("S3_ENDPOINT_URL"),
        description="the endpoint of an S3-compatible server (unset: AWS)",
    )
    aws_default_region: str = Field(
        "us-east-1", validation_alias="AWS_DEFAULT_REGION", description="the S3 region"
    )


class LinkSettings(HomeSettings):
    """What signs tokens and links and where links point: shared by the API and the worker,
    so a link in an email is one the API accepts."""

    env: Literal["development", "production"] = Field(
        "development",
        description="`development` or `production`, where `JWT_SECRET` is required (32+ "
        "characters) and the API refuses to start without it",
    )
    jwt_secret: SecretStr | None = Field(
        None,
        validation_alias="JWT_SECRET",
        description="signing key of tokens and signed URLs. In development an unset secret is "
        "generated once into `$FRAMEFORGE_HOME/secret.key` (mode 600)",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="the API's address as clients see it, for signed upload and download "
        "URLs (`frameforge up` sets it to its own port)",
    )
    url_ttl_seconds: int = Field(
        15 * 60,
        gt=0,
        validation_alias=former("URL_TTL_SECONDS"),
        description="how long a signed upload or download URL works",
    )
    # download links in emails: read hours or days later, so longer than url_ttl_seconds
    email_link_ttl_seconds: int = Field(
        7 * 24 * 3600,
        gt=0,
        description="how long the download link in an email works (it leads to the API, "
        "which hands out a URL of `FRAMEFORGE_URL_TTL_SECONDS`)",
    )

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> LinkSettings:
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
        if self.env == "production" and len(secret) < MIN_SECRET_LENGTH:
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


class LogSettings(FromEnvironment):
    """What every process logs, and how."""

    log_level: str = Field("INFO", description="the least severe level logged")
    log_format: str = Field("json", description="`json`, or `text` for a terminal")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        if level.upper() not in _LEVELS:
            raise ValueError(f"FRAMEFORGE_LOG_LEVEL: unknown level {level!r}")
        return level.upper()

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, style: str) -> str:
        if style.lower() not in ("json", "text"):
            raise ValueError(f"FRAMEFORGE_LOG_FORMAT must be json or text, not {style!r}")
        return style.lower()


class DagsterSettings(HomeSettings):
    """The Dagster instance: ``$DAGSTER_HOME`` as the operator wrote it, else one in the data
    dir, on SQLite or, with ``$DAGSTER_PG_URL``, on PostgreSQL."""

    dagster_home: Path | None = Field(
        None,
        validation_alias="DAGSTER_HOME",
        description="Dagster instance dir; unset, `frameforge` uses `$FRAMEFORGE_HOME/dagster` "
        "with the packaged `dagster.yaml` (SQLite, telemetry off, queued runs, run retries)",
    )
    dagster_pg_url: SecretStr | None = Field(
        None,
        validation_alias="DAGSTER_PG_URL",
        description="e.g. `postgresql://user@127.0.0.1:5432/dagster`: the Dagster instance's "
        "runs, events and schedules in PostgreSQL (`dagster-postgres`; the storage section is "
        "added to the data dir's `dagster.yaml`). Ignored when `DAGSTER_HOME` is set: that "
        "dir's `dagster.yaml` decides, in any of the forms Dagster documents (`postgres_url: "
        "postgresql://…`, or `postgres_db: {hostname, username, password, db_name}` as the "
        "Helm chart writes it): FrameForge pins SQLAlchemy below 2.1, under which a plain "
        "`postgresql://` URL means psycopg2, the driver dagster-postgres speaks",
    )


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
    daemon, runs) agree, and ``$DAGSTER_PG_URL`` gains the connection bounds it does not set
    (``connection_bounds``). Raises OSError when the data dir cannot be created.
    """
    settings = settings or DagsterSettings()
    os.environ["FRAMEFORGE_HOME"] = str(settings.home)
    if settings.dagster_pg_url is not None and settings.dagster_pg_url.get_secret_value():
        # Dagster's storage takes a URL only: the connection bounds go in its query
        os.environ["DAGSTER_PG_URL"] = bounded_postgres_url(
            settings.dagster_pg_url.get_secret_value()
        )
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


class PictureLimitSettings(FromEnvironment):
    """The largest picture the extraction engine accepts: ``FRAMEFORGE_MAX_PICTURE_SIDE``
    (pixels on the longer side) and ``FRAMEFORGE_MAX_PICTURE_PIXELS`` (in all); unset, the
    engine's defaults (DCI 8K: 8192 a side, 8192x4320 in all). Raising them raises a run's
    memory: about 10 bytes a pixel for the frames in flight, on top of the decoder's."""

    max_picture_side: int | None = Field(
        None,
        gt=0,
        description="the longest side of a picture accepted, coded or displayed (unset: "
        "8192); raising it raises a run's memory by about 10 bytes a pixel for the frames in "
        "flight",
    )
    max_picture_pixels: int | None = Field(
        None, gt=0, description="the most pixels of a picture accepted (unset: 8192x4320)"
    )


class SegmentSettings(FromEnvironment):
    """How long videos are split (frameforge_pipeline/segmenting.py)."""

    segment_seconds: float | None = Field(
        None,
        gt=0,
        description="seconds of video a segment of a long video (unset: 300); a video no "
        "longer is extracted in one piece, in its run's process; a longer one in segments side "
        "by side (processes up to the cores, or pods)",
    )
    max_step_pods: int = Field(
        16, gt=0, description="on Kubernetes, the most segment pods of one run at once"
    )
    step_service_account: str | None = Field(
        None,
        description="on Kubernetes, the service account of the segment pods (unset: the run "
        "pod's); set by the chart to the account without Kubernetes permissions",
    )


class JobQuotaSettings(FromEnvironment):
    """What one job may ask for: checked by the API before its run (from the video's
    header) and enforced by the pipeline during it (the engine's Limits)."""

    quota_video_seconds: float = Field(
        24 * 3600,
        gt=0,
        description="the longest video a job may have, in seconds (a day: a long video is "
        "extracted in segments side by side; one that cannot be split is refused past 3 h): "
        "the API reads the header's duration, the pipeline measures a file that declares none",
    )
    quota_frames_per_job: int = Field(
        86_400,  # a day of video at the default 1 fps
        gt=0,
        description="the most frames one job may extract (a day at 1 fps): the API counts "
        "interval mode from the header, the pipeline counts keyframes before decoding and "
        "stops scene mode at it",
    )


class RetentionSettings(FromEnvironment):
    """How long results are kept: read by the pipeline, which deletes them, and by the API,
    which says why they are gone."""

    retention_days: int = Field(
        30,
        ge=0,
        description="days after a video's last job when its upload, frames and ZIPs leave the "
        "store and its partitions leave Dagster (0 keeps them for good); the frame index rows "
        "stay, downloads answer 410",
    )


class OperationsSettings(RetentionSettings):
    """The operator's nightly work, given to the pipeline's sensors and schedules as the
    ``operations`` resource: the nightly backfill, and retention (``RetentionSettings``)."""

    backfill_cron: str = Field(
        "0 2 * * *", description="when the `nightly_backfill` schedule runs (cron, UTC)"
    )
    backfill_max_partitions: int = Field(
        500, gt=0, description="the most partitions one nightly backfill takes"
    )
    retry_overdue_seconds: float = Field(
        300.0,
        ge=0,
        description="a run Dagster marked for retry (`dagster/will_retry=true`) with no retry "
        "this long after it ended is failed by the reconciliation sensor, and its user told",
    )

    @field_validator("backfill_cron")
    @classmethod
    def _valid_cron(cls, cron: str) -> str:
        """Dagster's own rule, through its public API: a schedule with this cron is defined."""
        import dagster as dg

        try:
            dg.ScheduleDefinition(name="probe", cron_schedule=cron, job_name="probe")
        except dg.DagsterInvalidDefinitionError:
            raise ValueError(
                f"FRAMEFORGE_BACKFILL_CRON is not a cron expression: {cron!r}"
            ) from None
        return cron


class SupervisorSettings(FromEnvironment):
    """What `frameforge up` and `frameforge daemon` do about a Dagster daemon that stops
    reporting."""

    daemon_heartbeat_tolerance_seconds: float = Field(
        120.0,
        gt=30,
        description="`frameforge up` restarts, and `frameforge daemon` stops (exit 1, for its "
        "supervisor to restart it), a Dagster daemon one of whose daemon types has not "
        "reported (a heartbeat, about every 30 s) for this long (a daemon that has not "
        "reported yet since it started: 180 s at least)",
    )
