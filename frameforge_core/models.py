"""The application database: users, uploaded videos, jobs and the notification log.

One definition for both packages; the schema itself is created by the Alembic migrations
in ``frameforge_core/migrations`` (see ``frameforge_core.database.migrate``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

_LIVE = "status NOT IN ('failed', 'cancelled')"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def _video_of_job(context: DefaultExecutionContext) -> str:
    video_id: str = context.get_current_parameters()["video_id"]  # type: ignore[no-untyped-call]
    return video_id


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # when the owner followed the signed link mailed at registration; no other mail before
    email_verified_at: Mapped[dt.datetime | None]


class RefreshToken(Base):
    """One issued refresh token. Tokens of one login form a family; reuse revokes it."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class Video(Base):
    """An upload slot, then an uploaded file; its id begins its renditions' partition keys."""

    __tablename__ = "videos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    storage_key: Mapped[str] = mapped_column(String(400))
    max_bytes: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    uploaded_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # when retention deleted its file, frames and ZIPs (the row and the frame index stay)
    expired_at: Mapped[dt.datetime | None]


class VideoJob(Base):
    """A request to extract frames. ``seq`` orders jobs (pagination, the sensor's cursor)."""

    __tablename__ = "video_jobs"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_video_jobs_idempotency"),
        Index("ix_video_jobs_user_seq", "user_id", "seq"),
        # A rendition's frames, manifest and ZIP are one partition: one unfinished or
        # completed job per rendition (failed and cancelled ones may be followed by another).
        Index(
            "uq_video_jobs_one_live_per_rendition",
            "partition_key",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    # The Dagster partition: the rendition, video x options (frameforge_core.renditions);
    # unset, the video id, as for every job made before renditions
    partition_key: Mapped[str] = mapped_column(String(80), default=_video_of_job)
    options: Mapped[dict[str, Any]]
    callback_url: Mapped[str | None] = mapped_column(String(2000))
    # Standard Webhooks secret ("whsec_..."), given to the user once with the job
    callback_secret: Mapped[str | None] = mapped_column(String(64))
    # queued -> submitted (its run exists) -> completed | failed | cancelled; a retry
    # sets it back to queued with attempt + 1. The API reads live status from Dagster.
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempt: Mapped[int] = mapped_column(default=0)
    run_id: Mapped[str | None] = mapped_column(String(64))
    frame_count: Mapped[int | None]
    processing_seconds: Mapped[float | None] = mapped_column(Double)  # run's wall time
    # the video's duration as its header declares it (None: unknown); the job sensor runs a
    # long video's segments side by side (frameforge_pipeline/segmenting.py)
    video_seconds: Mapped[float | None] = mapped_column(Double)
    error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    trace_id: Mapped[str | None] = mapped_column(String(64))
    # when retention deleted its ZIP: the API then answers 410 for its download
    results_expired_at: Mapped[dt.datetime | None]
    # what its results take in the store (frames, manifest, storyboard, ZIP), once made:
    # counted in its user's storage quota (frameforge_core/storage_use.py)
    result_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # the user's name of the uploaded file (read with the job: what tells jobs apart)
    file_name: Mapped[str] = column_property(
        select(Video.filename).where(Video.id == video_id).correlate_except(Video).scalar_subquery()
    )


class NotificationLog(Base):
    """Every attempt to tell a user about a job (email, webhook), successful or not.

    ``job_attempt`` is the job's attempt the event is about (a retried job notifies again);
    ``attempt`` counts deliveries of that event on that channel, from 1.
    """

    __tablename__ = "notification_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("video_jobs.id", ondelete="CASCADE"), index=True)
    job_attempt: Mapped[int] = mapped_column(default=0)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    status: Mapped[str] = mapped_column(String(16))  # sent | failed
    attempt: Mapped[int]
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A message written in the same transaction as the change it announces.

    A relay publishes unpublished rows in ``id`` order and stamps ``published_at``; a crash
    between commit and publish only delays a message, and consumers are idempotent.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "id",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    exchange: Mapped[str] = mapped_column(String(100))
    routing_key: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    trace_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]


class DeletedVideo(Base):
    """A video its user deleted (or whose account was deleted): what is left to remove from
    the store and the Dagster instance once no run of it is going. The row outlives the
    user and holds nothing personal: ids only."""

    __tablename__ = "deleted_videos"

    video_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partition_keys: Mapped[list[str]] = mapped_column(JSON)
    deleted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    purged_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    # the sweep of its upload folder once no upload URL of it can still be arriving
    uploads_swept_at: Mapped[dt.datetime | None]
