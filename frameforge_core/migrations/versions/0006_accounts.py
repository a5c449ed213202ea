"""Accounts: verified email addresses, and the late-upload sweep of deleted videos

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing accounts start unverified: no mail reaches them until their owner verifies
    op.add_column(
        "users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "deleted_videos",
        sa.Column("uploads_swept_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("deleted_videos", "uploads_swept_at")  # SQLite 3.35+: ALTER TABLE DROP COLUMN
    op.drop_column("users", "email_verified_at")
