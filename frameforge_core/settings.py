"""Process-wide settings of the pipeline, read from the environment (see the README)."""

from __future__ import annotations

import os
from pathlib import Path


def frameforge_home() -> Path:
    """The embedded default's data dir: ``$FRAMEFORGE_HOME``, else ``./.frameforge``."""
    return Path(os.environ.get("FRAMEFORGE_HOME", ".frameforge")).resolve()


def store_root() -> Path:
    """Where the local object store keeps uploads, frames and results."""
    return frameforge_home() / "store"


REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


# Appended to dagster.yaml when DAGSTER_PG_URL is set: runs, events and schedules on PostgreSQL.
POSTGRES_STORAGE = """
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL
"""


def ensure_dagster_home() -> Path:
    """Point Dagster at an instance dir, creating the embedded default's on first use.

    An explicit ``$DAGSTER_HOME`` is used as it is (its ``dagster.yaml`` is the operator's).
    Otherwise the instance lives in ``$FRAMEFORGE_HOME/dagster`` with the repository's
    ``dagster.yaml``: SQLite storage under that dir, or PostgreSQL (``dagster-postgres``) when
    ``$DAGSTER_PG_URL`` is set. Both variables are exported so that processes started from
    here (webserver, daemon, runs) agree.
    """
    os.environ["FRAMEFORGE_HOME"] = str(frameforge_home())
    if explicit := os.environ.get("DAGSTER_HOME"):
        return Path(explicit)
    home = frameforge_home() / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = (REPOSITORY_ROOT / "dagster.yaml").read_text()
    if url := os.environ.get("DAGSTER_PG_URL"):
        config += POSTGRES_STORAGE
        # dagster-postgres speaks psycopg2; for a plain URL SQLAlchemy would pick psycopg 3
        scheme, _, rest = url.partition("://")
        if scheme in ("postgresql", "postgres"):
            os.environ["DAGSTER_PG_URL"] = f"postgresql+psycopg2://{rest}"
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != config:
        target.write_text(config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
