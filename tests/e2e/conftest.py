# The servers of the integration tests, for the stack in its production configuration.
from tests.integration.conftest import dagster_pg_url, postgres_url, rabbitmq_url  # noqa: F401
