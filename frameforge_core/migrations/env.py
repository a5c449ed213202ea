"""Alembic environment: runs on the connection ``frameforge_core.database.migrate`` passes."""

from alembic import context

from frameforge_core.database import VERSION_TABLE
from frameforge_core.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,  # Dagster's own migrations keep "alembic_version"
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
