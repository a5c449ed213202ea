"""Engine, sessions and migrations of the application database.

SQLite under the data dir by default, PostgreSQL through ``DATABASE_URL``
(``DatabaseSettings``). Migrations run under a lock (an advisory lock on PostgreSQL, a file
lock on SQLite), so components that start together migrate once and never race. The app's
revision lives in ``frameforge_alembic_version``, so the app and Dagster (whose own Alembic
keeps ``alembic_version``) can share one database.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import (
    CursorResult,
    Delete,
    Engine,
    Update,
    create_engine,
    event,
    inspect,
    make_url,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from frameforge_core import connection_bounds

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "frameforge_alembic_version"
_LEGACY_VERSION_TABLE = "alembic_version"  # the app's, before it shared databases with Dagster
_MIGRATION_LOCK_ID = 0x4652_4D46  # "FRMF": any constant shared by every FrameForge process
POOL_SIZE, MAX_OVERFLOW = 5, 10  # connections per engine: at most POOL_SIZE + MAX_OVERFLOW


def create_db_engine(url: str) -> Engine:
    """An engine on ``url`` (``DatabaseSettings().url``); a SQLite file's folder is created."""
    if make_url(url).get_backend_name() != "sqlite":
        # a server that drops packets or stops answering is an error in seconds, not a wait
        # at the OS's TCP timeout or for ever (connection_bounds)
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            connect_args=connection_bounds.postgres_parameters(url),
        )
    if path := make_url(url).database:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # SQLite: every connection is kept (a file handle each), since opening one costs its
    # pragmas again; past POOL_SIZE a server's connections are handed back instead
    engine = create_engine(
        url,
        pool_size=POOL_SIZE + MAX_OVERFLOW,
        max_overflow=0,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def rows_changed(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE and say how many rows it changed (check-and-set updates)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            # waiting for another process's migration is no stalled statement
            connection.execute(text("SET statement_timeout = 0"))
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
                connection.commit()
        return
    database = engine.url.database
    lock_path = Path(f"{database}.migrate-lock") if database else None
    if lock_path is None:  # in-memory SQLite: one process only
        yield
        return
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to call from processes starting at once."""
    with _migration_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # a migration may rewrite a large table
            connection.execute(text("SET LOCAL statement_timeout = 0"))
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        _adopt_legacy_version(connection, config)
        command.upgrade(config, "head")


def _adopt_legacy_version(connection: Connection, config: Config) -> None:
    """Move the app's revision out of ``alembic_version`` (where versions before the shared
    database kept it) into its own table; Dagster's revision, if any, stays where it is."""
    tables = set(inspect(connection).get_table_names())
    if VERSION_TABLE in tables or _LEGACY_VERSION_TABLE not in tables:
        return
    ours = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    found = connection.execute(text(f"SELECT version_num FROM {_LEGACY_VERSION_TABLE}")).scalars()
    revisions = [revision for revision in found if revision in ours]
    if not revisions:
        return
    connection.execute(text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)"))
    for revision in revisions:
        connection.execute(
            text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:r)"), {"r": revision}
        )
        connection.execute(
            text(f"DELETE FROM {_LEGACY_VERSION_TABLE} WHERE version_num = :r"), {"r": revision}
        )
