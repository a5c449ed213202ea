"""The app database on a real PostgreSQL server."""

import dagster as dg
from fastapi.testclient import TestClient
from sqlalchemy import inspect

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


def test_the_app_and_dagster_share_one_database(postgres_url):
    """One PostgreSQL database for both (one RDS instance), Dagster's URL written the way
    its docs show (a plain postgresql://): each keeps its own revision, and the app's restart
    next to Dagster's tables migrates nothing."""
    engine = create_db_engine(postgres_url)
    migrate(engine)
    dagster_url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    overrides = {"storage": {"postgres": {"postgres_url": dagster_url}}}
    with dg.instance_for_test(overrides=overrides) as instance:
        result = _noop_job.execute_in_process(instance=instance)  # events: LISTEN/NOTIFY
        assert result.success
        migrate(engine)
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
    tables = set(inspect(engine).get_table_names())
    assert {"users", "video_jobs", "runs", "event_logs", "alembic_version"} <= tables


def test_processes_starting_together_migrate_once(postgres_url):
    assert_processes_starting_together_migrate_once(postgres_url)


def test_api_on_postgres(postgres_url, instance, storage):
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
    assert client.put(slot["uploadUrl"], content=b"bytes").status_code == 201
    key = {"Idempotency-Key": "k1", **headers}
    body = {"videoId": slot["videoId"]}
    first = client.post("/api/v1/videos/jobs", json=body, headers=key).json()
    assert client.post("/api/v1/videos/jobs", json=body, headers=key).json() == first
    beat(instance)
    assert client.get("/ready").json()["database"] == "ok"
