"""The database-derived metrics on PostgreSQL: the same numbers as on SQLite."""

from frameforge_core.database import create_db_engine, migrate, session_factory
from tests.api.core.test_job_metrics import assert_seeded_numbers, registry_of, seed


def test_job_metrics_on_postgres(postgres_url):
    engine = create_db_engine(postgres_url)
    migrate(engine)
    sessions = session_factory(engine)
    seed(sessions)
    assert_seeded_numbers(registry_of(sessions))
    engine.dispose()
