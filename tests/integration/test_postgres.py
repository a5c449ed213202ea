"""The app database on a real PostgreSQL server."""

import getpass

import dagster as dg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, make_url

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_core.database import create_db_engine, migrate
from tests.core.test_database import (
    assert_processes_starting_together_migrate_once,
    schema_differences,
)
from tests.pipeline.daemon_support import beat


def test_migrations_build_exactly_the_models(postgres_url):
    engine = create_db_engine(postgres_url)
    migrate(engine)
    assert schema_differences(engine) == []


@dg.op
def _noop() -> None:
    pass


@dg.job
def _noop_job() -> None:
    _noop()


def _as_operators_write_it(url: str, form: str) -> dict[str, object]:
    """Dagster's storage section for ``url`` in one of the forms its docs show."""
    parts = make_url(url)
    if form == "postgres_url":  # a plain postgresql:// URL, no driver named
        return {"postgres_url": parts.set(drivername="postgresql").render_as_string(False)}
    return {  # as the Helm chart renders it
        "postgres_db": {
            "hostname": parts.host,
            "port": parts.port,
            "username": getpass.getuser(),
            "password": "",
            "db_name": parts.database,
        }
    }


@pytest.mark.parametrize("form", ["postgres_url", "postgres_db"])
def test_the_app_and_dagster_share_one_database(postgres_url, form):
    """One PostgreSQL database for both (one RDS instance), Dagster's storage written the
    ways its docs show: each keeps its own revision, Dagster's events (LISTEN/NOTIFY) work
    with the drivers FrameForge installs, and the app's restart migrates nothing."""
    engine = create_db_engine(postgres_url)
    migrate(engine)
    overrides = {"storage": {"postgres": _as_operators_write_it(postgres_url, form)}}
    with dg.instance_for_test(overrides=overrides) as instance:
        result = _noop_job.execute_in_process(instance=instance)
        assert result.success
        migrate(engine)
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
    tables = set(inspect(engine).get_table_names())
    assert {"users", "video_jobs", "runs", "event_logs", "alembic_version"} <= tables


def test_processes_starting_together_migrate_once(postgres_url):
    assert_processes_starting_together_migrate_once(postgres_url)


def test_api_on_postgres(postgres_url, instance, storage, undecodable_video):
    settings = Settings(JWT_SECRET="p" * 40)
    client = TestClient(create_app(settings, instance, storage, postgres_url))
    account = {"email": "pg@example.com", "password": "postgres 15 ok"}
    assert client.post("/api/v1/auth/register", json=account).status_code == 201
    assert client.post("/api/v1/auth/register", json=account).status_code == 409
    token = client.post("/api/v1/auth/login", json=account).json()["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    slot = client.post(
        "/api/v1/videos/upload-url", json={"filename": "a.mp4"}, headers=headers
    ).json()
    assert client.put(slot["uploadUrl"], content=undecodable_video).status_code == 201
    key = {"Idempotency-Key": "k1", **headers}
    body = {"videoId": slot["videoId"]}
    first = client.post("/api/v1/videos/jobs", json=body, headers=key).json()
    assert client.post("/api/v1/videos/jobs", json=body, headers=key).json() == first
    beat(instance)
    assert client.get("/ready").json()["database"] == "ok"
