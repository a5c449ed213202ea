"""Migration 0003 (renditions) on a database with rows from before it."""

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from frameforge_core.database import MIGRATIONS, create_db_engine, migrate

_AT = "2026-11-30 10:00:00+00"


def _to(engine: Engine, revision: str, down: bool = False) -> None:
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _old_rows(engine: Engine) -> None:
    """A user, two videos; one with a failed then a completed job (one live per video, as
    0001 had it), one with a queued job; an email sent about the completed job."""
    with engine.begin() as connection:
        insert = connection.execute
        insert(text(f"INSERT INTO users VALUES ('u', 'a@example.com', 'h', '{_AT}')"))
        for video in ("v1", "v2"):
            insert(
                text(
                    "INSERT INTO videos VALUES (:id, 'u', 'c.mp4', 'video/mp4', :key, 10, 10, "
                    f"'{_AT}', '{_AT}')"
                ),
                {"id": video, "key": f"uploads/{video}/c.mp4"},
            )
        for job, video, status in (("j1", "v1", "failed"), ("j2", "v1", "completed"),
                                   ("j3", "v2", "queued")):  # fmt: skip
            insert(
                text(
                    "INSERT INTO video_jobs (id, user_id, video_id, options, status, attempt, "
                    f"created_at, updated_at) VALUES (:id, 'u', :video, '{{}}', :status, 0, "
                    f"'{_AT}', '{_AT}')"
                ),
                {"id": job, "video": video, "status": status},
            )
        insert(
            text(
                "INSERT INTO notification_log (job_id, job_attempt, event, channel, status, "
                f"attempt, created_at) VALUES ('j2', 0, 'video.job.completed', 'email', 'sent', "
                f"1, '{_AT}')"
            )
        )


def _add_job(engine: Engine, job: str, video: str, partition_key: str, status: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO video_jobs (id, user_id, video_id, partition_key, options, status, "
                f"attempt, created_at, updated_at) VALUES (:id, 'u', :video, :key, '{{}}', "
                f"'{status}', 0, '{_AT}', '{_AT}')"
            ),
            {"id": job, "video": video, "key": partition_key},
        )


def assert_old_rows_keep_their_video_as_partition(engine: Engine) -> None:
    """Jobs from before keep the video id as partition key (their results are there), no
    row of another table is lost, and the unique index is per rendition from then on."""
    _to(engine, "0002")
    _old_rows(engine)
    migrate(engine)
    with engine.connect() as connection:
        keys = connection.execute(text("SELECT id, partition_key FROM video_jobs ORDER BY id"))
        assert keys.all() == [("j1", "v1"), ("j2", "v1"), ("j3", "v2")]
        emails = connection.execute(text("SELECT job_id FROM notification_log")).all()
        assert emails == [("j2",)]  # the SQLite table was not copied (whose drop cascades)
    _add_job(engine, "j4", "v1", "v1.0123456789ab", "queued")  # another rendition of v1
    with pytest.raises(IntegrityError):  # a second live job of one rendition
        _add_job(engine, "j5", "v1", "v1.0123456789ab", "queued")
    with pytest.raises(IntegrityError):
        _add_job(engine, "j6", "v2", "v2", "queued")
    _add_job(engine, "j7", "v2", "v2", "cancelled")  # an ended one may sit next to it


def test_old_rows_keep_their_video_as_partition(tmp_path):
    assert_old_rows_keep_their_video_as_partition(
        create_db_engine(f"sqlite:///{tmp_path / 'app.db'}")
    )


def test_downgrade_goes_back_to_one_live_job_per_video(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'app.db'}")
    _to(engine, "0002")
    _old_rows(engine)
    _to(engine, "0003")
    _to(engine, "0002", down=True)
    with engine.connect() as connection:
        columns = {row[1] for row in connection.execute(text("PRAGMA table_info(video_jobs)"))}
        assert "partition_key" not in columns
        assert connection.execute(text("SELECT count(*) FROM notification_log")).scalar() == 1
    with pytest.raises(IntegrityError), engine.begin() as connection:  # one per video again
        connection.execute(
            text(
                "INSERT INTO video_jobs (id, user_id, video_id, options, status, attempt, "
                f"created_at, updated_at) VALUES ('j9', 'u', 'v1', '{{}}', 'queued', 0, "
                f"'{_AT}', '{_AT}')"
            )
        )
