"""Outbox, webhook secret, processing time, notification event

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:28:30.439946
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("exchange", sa.String(length=100), nullable=False),
        sa.Column("routing_key", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("trace_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_unpublished",
            ["id"],
            unique=False,
            sqlite_where=sa.text("published_at IS NULL"),
            postgresql_where=sa.text("published_at IS NULL"),
        )

    with op.batch_alter_table("notification_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("job_attempt", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("event", sa.String(length=40), nullable=False, server_default="")
        )

    with op.batch_alter_table("video_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("processing_seconds", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("video_jobs", schema=None) as batch_op:
        batch_op.drop_column("processing_seconds")
        batch_op.drop_column("callback_secret")

    with op.batch_alter_table("notification_log", schema=None) as batch_op:
        batch_op.drop_column("event")
        batch_op.drop_column("job_attempt")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_unpublished",
            sqlite_where=sa.text("published_at IS NULL"),
            postgresql_where=sa.text("published_at IS NULL"),
        )

    op.drop_table("outbox")
