"""Renditions: several jobs with different options on one video

Each job names its Dagster partition (``partition_key``, the rendition: video x options);
jobs made before keep the video id as theirs, which is where their results already are. One
unfinished or completed job per rendition replaces one per video.

No operation here makes Alembic's batch mode copy ``video_jobs`` on SQLite: dropping the old
table would cascade (``PRAGMA foreign_keys=ON``, which cannot be lifted inside the migration's
transaction) and delete every ``notification_log`` row, so that redelivered events would be
emailed again. The column is added NOT NULL with a default, filled, and its default dropped
where ALTER COLUMN exists (PostgreSQL); on SQLite the unused default '' stays.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = sa.text("status NOT IN ('failed', 'cancelled')")


def upgrade() -> None:
    op.add_column(
        "video_jobs",
        sa.Column("partition_key", sa.String(length=80), nullable=False, server_default=""),
    )
    op.execute("UPDATE video_jobs SET partition_key = video_id")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("video_jobs", "partition_key", server_default=None)
    op.drop_index(
        "uq_video_jobs_one_live_per_video",
        table_name="video_jobs",
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    op.create_index(
        "uq_video_jobs_one_live_per_rendition",
        "video_jobs",
        ["partition_key"],
        unique=True,
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )


def downgrade() -> None:
    """Fails (the unique index) while a video has several live or completed renditions."""
    op.drop_index(
        "uq_video_jobs_one_live_per_rendition",
        table_name="video_jobs",
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    op.create_index(
        "uq_video_jobs_one_live_per_video",
        "video_jobs",
        ["video_id"],
        unique=True,
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    op.drop_column("video_jobs", "partition_key")  # SQLite 3.35+: ALTER TABLE DROP COLUMN
