"""Migrations: they match the models, and processes starting together migrate once."""

import multiprocessing

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from frameforge_core.database import MIGRATIONS, create_db_engine, migrate
from frameforge_core.models import Base

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_migrations_build_exactly_the_models(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


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
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
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
