"""Where the Dagster instance lives (SQLite in the data dir, or PostgreSQL), and the names
of the environment variables every settings model reads."""

import os
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import make_url

from frameforge import settings_docs
from frameforge_api.core.config import Settings
from frameforge_core.settings import (
    PREFIX,
    BrokerSettings,
    DagsterSettings,
    DatabaseSettings,
    HomeSettings,
    LinkSettings,
    LogSettings,
    OperationsSettings,
    PictureLimitSettings,
    StoreSettings,
    ensure_dagster_home,
    former_names,
)
from frameforge_worker.settings import WorkerSettings

# read as they are: the names other tools and platforms use
STANDARD = {
    "DATABASE_URL",
    "RABBITMQ_URL",
    "REDIS_URL",
    "JWT_SECRET",
    "DAGSTER_HOME",
    "DAGSTER_PG_URL",
    "AWS_DEFAULT_REGION",
}


def names_of(model, attribute: str) -> list[str]:
    return settings_docs.names(attribute, model.model_fields[attribute])


def test_embedded_default_instance_is_sqlite_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    home = ensure_dagster_home()
    assert home == tmp_path / "dagster"
    assert "storage" not in yaml.safe_load((home / "dagster.yaml").read_text())


def test_dagster_pg_url_puts_the_instance_on_postgres_through_psycopg2(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql://dagster@db:5432/dagster")
    config = yaml.safe_load((ensure_dagster_home() / "dagster.yaml").read_text())
    assert config["storage"] == {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}
    # the URL as Dagster's docs write it reaches psycopg2, the driver dagster-postgres needs
    assert make_url(os.environ["DAGSTER_PG_URL"]).get_dialect().driver == "psycopg2"
    assert config["run_retries"]["enabled"]  # the rest of dagster.yaml is kept


# Every environment name that worked before the FRAMEFORGE_ prefix became the convention,
# with the field it sets: operators' files keep working (the former bare names included).
PREVIOUS_NAMES = [
    (HomeSettings, "FRAMEFORGE_HOME", "/srv/ff", "home", Path("/srv/ff")),
    (DatabaseSettings, "DATABASE_URL", "sqlite:///db", "url", "sqlite:///db"),
    (BrokerSettings, "RABBITMQ_URL", "amqp://mq", "url", "amqp://mq"),
    (BrokerSettings, "FRAMEFORGE_RABBITMQ_PREFIX", "staging.", "rabbitmq_prefix", "staging."),
    (StoreSettings, "S3_RESULTS_BUCKET", "results", "s3_results_bucket", "results"),
    (StoreSettings, "S3_UPLOADS_BUCKET", "uploads", "s3_uploads_bucket", "uploads"),
    (StoreSettings, "S3_ENDPOINT_URL", "http://s3", "s3_endpoint_url", "http://s3"),
    (StoreSettings, "AWS_DEFAULT_REGION", "eu-west-3", "aws_default_region", "eu-west-3"),
    (LinkSettings, "FRAMEFORGE_ENV", "production", "env", "production"),
    (LinkSettings, "JWT_SECRET", "k" * 40, "signing_key", "k" * 40),
    (LinkSettings, "FRAMEFORGE_PUBLIC_URL", "https://ff", "public_url", "https://ff"),
    (LinkSettings, "URL_TTL_SECONDS", "60", "url_ttl_seconds", 60),
    (LinkSettings, "FRAMEFORGE_EMAIL_LINK_TTL_SECONDS", "61", "email_link_ttl_seconds", 61),
    (LogSettings, "FRAMEFORGE_LOG_LEVEL", "debug", "log_level", "DEBUG"),
    (LogSettings, "FRAMEFORGE_LOG_FORMAT", "TEXT", "log_format", "text"),
    (DagsterSettings, "DAGSTER_HOME", "/srv/dagster", "dagster_home", Path("/srv/dagster")),
    (PictureLimitSettings, "FRAMEFORGE_MAX_PICTURE_SIDE", "100", "max_picture_side", 100),
    (PictureLimitSettings, "FRAMEFORGE_MAX_PICTURE_PIXELS", "200", "max_picture_pixels", 200),
    (OperationsSettings, "FRAMEFORGE_BACKFILL_CRON", "0 3 * * *", "backfill_cron", "0 3 * * *"),
    (OperationsSettings, "FRAMEFORGE_BACKFILL_MAX_PARTITIONS", "7", "backfill_max_partitions", 7),
    (OperationsSettings, "FRAMEFORGE_RETENTION_DAYS", "9", "retention_days", 9),
    (Settings, "JWT_EXPIRES_IN", "62", "jwt_expires_in", 62),
    (Settings, "REFRESH_EXPIRES_IN", "63", "refresh_expires_in", 63),
    (Settings, "FRAMEFORGE_MAX_UPLOAD_BYTES", "64", "max_upload_bytes", 64),
    (Settings, "FRAMEFORGE_MAX_BODY_BYTES", "65", "max_body_bytes", 65),
    (Settings, "FRAMEFORGE_CORS_ORIGINS", '["https://a"]', "cors_origins", ["https://a"]),
    (Settings, "REDIS_URL", "redis://cache", "redis_url", "redis://cache"),
    (Settings, "FRAMEFORGE_QUOTA_CONCURRENT_JOBS", "2", "quota_concurrent_jobs", 2),
    (Settings, "FRAMEFORGE_QUOTA_VIDEO_SECONDS", "3", "quota_video_seconds", 3.0),
    (Settings, "FRAMEFORGE_QUOTA_FRAMES_PER_JOB", "4", "quota_frames_per_job", 4),
    (Settings, "FRAMEFORGE_QUOTA_STORED_BYTES", "5", "quota_stored_bytes", 5),
    (Settings, "FRAMEFORGE_AUTH_REQUESTS_PER_MINUTE", "6", "auth_requests_per_minute", 6),
    (Settings, "FRAMEFORGE_REGISTRATIONS_PER_HOUR", "7", "registrations_per_hour", 7),
    (Settings, "FRAMEFORGE_RETENTION_DAYS", "8", "retention_days", 8),
    (WorkerSettings, "SMTP_HOST", "smtp.example", "smtp_host", "smtp.example"),
    (WorkerSettings, "SMTP_PORT", "2525", "smtp_port", 2525),
    (WorkerSettings, "SMTP_USER", "mailer", "smtp_user", "mailer"),
    (WorkerSettings, "SMTP_FROM", "ff <a@b.c>", "smtp_from", "ff <a@b.c>"),
    (WorkerSettings, "FRAMEFORGE_NOTIFY_BACKOFF_SECONDS", "0", "notify_backoff_seconds", 0),
    (WorkerSettings, "FRAMEFORGE_WEBHOOK_ALLOW_PRIVATE", "true", "webhook_allow_private", True),
    (WorkerSettings, "FRAMEFORGE_RELAY_INTERVAL_SECONDS", "1.5", "relay_interval_seconds", 1.5),
]
SECRETS = [
    (DatabaseSettings, "DATABASE_URL", "database_url"),
    (DagsterSettings, "DAGSTER_PG_URL", "dagster_pg_url"),
    (WorkerSettings, "SMTP_PASSWORD", "smtp_password"),
    (Settings, "FRAMEFORGE_METRICS_TOKEN", "metrics_token"),
]


@pytest.fixture
def clean_environment(monkeypatch):
    """No settings from the test runner's environment."""
    for name in list(os.environ):
        if name.startswith(PREFIX) or any(name == n for _, n, *_ in PREVIOUS_NAMES + SECRETS):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JWT_SECRET", "s" * 40)  # for FRAMEFORGE_ENV=production


@pytest.mark.parametrize(("model", "name", "value", "attribute", "expected"), PREVIOUS_NAMES)
def test_every_name_that_worked_still_sets_its_field(
    clean_environment, monkeypatch, model, name, value, attribute, expected
):
    monkeypatch.setenv(name, value)
    assert getattr(model(), attribute) == expected


@pytest.mark.parametrize(("model", "name", "field"), SECRETS)
def test_secrets_are_read_by_their_names_and_never_shown(
    clean_environment, monkeypatch, model, name, field
):
    monkeypatch.setenv(name, "hunter2-secret")
    settings = model()
    assert getattr(settings, field).get_secret_value() == "hunter2-secret"
    assert "hunter2" not in repr(settings)


FORMER = [(m, n, a, e) for m, n, _, a, e in PREVIOUS_NAMES if not n.startswith(PREFIX)]


@pytest.mark.parametrize(
    ("model", "name", "attribute"),
    [(m, n, a) for m, n, a, _ in FORMER if a in m.model_fields and PREFIX + n in names_of(m, a)],
)
def test_the_prefixed_name_wins_over_the_former_one(
    clean_environment, monkeypatch, model, name, attribute
):
    monkeypatch.setenv(name, "1")
    monkeypatch.setenv(PREFIX + name, "2")
    assert str(getattr(model(), attribute)) == "2"


def test_every_field_is_prefixed_or_a_standard_name():
    """The convention: ``FRAMEFORGE_<FIELD>``; a field read by another name is one of the
    standard names, or reads the prefixed name first and its former name after."""
    for model in settings_docs.MODELS:
        for field, info in model.model_fields.items():
            first, *former = settings_docs.names(field, info)
            if first in STANDARD:
                assert not former, (model, field)
            else:
                assert first == PREFIX + field.upper(), (model, field)
                assert former in ([], [field.upper()]), (model, field)


def test_the_former_names_are_every_model_s_former_aliases():
    """What the start warning and the deployment files' check know as former names is what
    the models read (``former``), every process's model included."""
    aliases = {}
    for model in settings_docs.MODELS:
        for field, info in model.model_fields.items():
            now, *before = settings_docs.names(field, info)
            aliases.update(dict.fromkeys(before, now))
    assert former_names() == aliases
    assert {"S3_RESULTS_BUCKET", "SMTP_HOST", "URL_TTL_SECONDS"} <= aliases.keys()


def test_a_misspelt_override_is_refused():
    with pytest.raises(ValidationError, match="max_uplaod_bytes"):
        Settings(max_uplaod_bytes=1)
