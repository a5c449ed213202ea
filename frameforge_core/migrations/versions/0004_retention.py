"""Retention: expired results and deleted videos

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("videos", sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "video_jobs", sa.Column("results_expired_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "deleted_videos",
        sa.Column("video_id", sa.String(length=36), primary_key=True),
        sa.Column("partition_keys", sa.JSON(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_deleted_videos_purged_at", "deleted_videos", ["purged_at"])


def downgrade() -> None:
    op.drop_index("ix_deleted_videos_purged_at", table_name="deleted_videos")
    op.drop_table("deleted_videos")
    op.drop_column("video_jobs", "results_expired_at")  # SQLite 3.35+: ALTER TABLE DROP COLUMN
    op.drop_column("videos", "expired_at")
