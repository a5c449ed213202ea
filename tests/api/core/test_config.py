import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_core.database import VERSION_TABLE, create_db_engine
from tests.core.test_database import HEAD


def test_production_refuses_to_start_without_a_secret():

    with pytest.raises(ValidationError, match="JWT_SECRET must be set to at least 32"):
        Settings(env="production")


def test_production_server_stops_with_one_line_without_a_secret(tmp_path):

    done = subprocess.run(
        [sys.executable, "-c", "from frameforge_api.main import app"],
        env={"FRAMEFORGE_ENV": "production", "FRAMEFORGE_HOME": str(tmp_path), "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "frameforge-api: configuration error: JWT_SECRET must be set to at least 32 random "
        "characters when FRAMEFORGE_ENV=production (e.g. `openssl rand -hex 32`)\n"
    )


def test_development_makes_and_keeps_a_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path))
    first, second = Settings().signing_key, Settings().signing_key
    assert first == second
    assert len(first) == 64
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_two_apps_on_one_database_migrate_once(settings, instance, storage, database_url):
    """The second app finds the schema at head: it starts and answers, and the database
    holds one revision, the newest (a second migration would fail on existing tables)."""
    for _ in range(2):
        app = create_app(settings, instance, storage, database_url)
        assert TestClient(app).get("/health").status_code == 200
    with create_db_engine(database_url).connect() as connection:
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    assert versions == [(HEAD,)]
