"""Where the Dagster instance lives: SQLite in the data dir, or PostgreSQL."""

import os

import yaml
from sqlalchemy import make_url

from frameforge_core.settings import ensure_dagster_home


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
