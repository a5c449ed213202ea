"""Quotas: the bytes a job's results take in the store

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("video_jobs", sa.Column("result_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("video_jobs", "result_bytes")  # SQLite 3.35+: ALTER TABLE DROP COLUMN
