"""Jobs remember their video's declared duration (the job sensor picks the executor by it)

Revision ID: 0007_segdag
Revises: 0006
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_segdag"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("video_jobs", sa.Column("video_seconds", sa.Double(), nullable=True))


def downgrade() -> None:
    op.drop_column("video_jobs", "video_seconds")  # SQLite 3.35+: ALTER TABLE DROP COLUMN
