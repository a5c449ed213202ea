"""Migrations: they match the models, and processes starting together migrate once."""

import multiprocessing

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from frameforge_core.database import MIGRATIONS, VERSION_TABLE, create_db_engine, migrate
from frameforge_core.models import Base

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def schema_differences(engine: Engine) -> list[object]:
    """What the migrated schema has that the models do not, or the other way round."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return list(compare_metadata(context, Base.metadata))


def test_migrations_build_exactly_the_models(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    assert schema_differences(engine) == []


def test_a_database_migrated_before_the_own_version_table_is_adopted(tmp_path):
    """Earlier versions kept the app's revision in alembic_version, Dagster's table."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {VERSION_TABLE} RENAME TO alembic_version"))
    migrate(engine)  # no "table users already exists": it knows it is at head
    with engine.connect() as connection:
        ours = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
        legacy = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert (ours, legacy) == ([(HEAD,)], [])


def test_migrate_twice_is_a_no_op(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= {"users", "videos", "video_jobs"}


def _migrate(url: str) -> None:
    migrate(create_db_engine(url))


def assert_processes_starting_together_migrate_once(url: str) -> None:
    """Four processes migrate ``url`` at once: all succeed, the schema is made once."""
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_migrate, args=(url,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    with create_db_engine(url).connect() as connection:
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    assert versions == [(HEAD,)]


def test_processes_starting_together_migrate_once(tmp_path):
    assert_processes_starting_together_migrate_once(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../My Clip (1).MOV", "My_Clip_1_.MOV"),
        ("C:\\\\Users\\\\me\\\\video.mp4", "video.mp4"),
        ("....", "video"),
        ("clip.mp4", "clip.mp4"),
    ],
)
def test_safe_filename(name, safe):
    from frameforge_core.layout import safe_filename

    assert safe_filename(name) == safe
