"""Migration 0003 (renditions) on a real PostgreSQL server, with rows from before it."""

from frameforge_core.database import create_db_engine
from tests.core.test_renditions_migration import assert_old_rows_keep_their_video_as_partition


def test_old_rows_keep_their_video_as_partition(postgres_url):
    assert_old_rows_keep_their_video_as_partition(create_db_engine(postgres_url))
