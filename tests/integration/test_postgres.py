"""The app database on a real PostgreSQL server."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_core.database import create_db_engine, migrate
from frameforge_core.models import Base
from tests.core.test_database import assert_processes_starting_together_migrate_once


def test_migrations_build_exactly_the_models(postgres_url):
    engine = create_db_engine(postgres_url)
    migrate(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


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
    assert client.get("/ready").json()["database"] == "ok"
