"""Rows and settings for notifier tests, shared with the RabbitMQ integration tests."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from frameforge_core import messaging
from frameforge_core.database import create_db_engine, migrate, session_factory
from frameforge_core.messaging import JobMessage
from frameforge_core.models import User, Video, VideoJob, utcnow
from frameforge_core.settings import LinkSettings

PUBLIC_URL = "http://frameforge.test"
SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()
EVENTS = {"completed": messaging.JOB_COMPLETED, "failed": messaging.JOB_FAILED}


def api_settings(**overrides: Any) -> LinkSettings:
    return LinkSettings(JWT_SECRET="w" * 40, public_url=PUBLIC_URL, **overrides)


def migrated_sessions(database_url: str) -> sessionmaker[Session]:
    engine = create_db_engine(database_url)
    migrate(engine)
    return session_factory(engine)


def add_job(
    sessions: sessionmaker[Session],
    status: str = "completed",
    email: str = "ada@example.com",
    callback_url: str | None = None,
    attempt: int = 0,
    filename: str = "holiday.mp4",
    verified: bool = True,
) -> VideoJob:
    """A user (whose address is verified, unless not ``verified``), an uploaded video and a
    finished job of it."""
    with sessions() as session:
        user = session.query(User).filter_by(email=email).one_or_none()
        if user is None:
            user = User(email=email, password_hash="x",
                        email_verified_at=utcnow() if verified else None)  # fmt: skip
            session.add(user)
            session.flush()
        video = Video(user_id=user.id, filename=filename, content_type="video/mp4",
                      storage_key="uploads/holiday.mp4", max_bytes=10**6)  # fmt: skip
        session.add(video)
        session.flush()
        job = VideoJob(
            user_id=user.id,
            video_id=video.id,
            options={},
            status=status,
            attempt=attempt,
            frame_count=12 if status == "completed" else None,
            error=None if status == "completed" else "the file is not a video (no video stream)",
            callback_url=callback_url,
            callback_secret=SECRET if callback_url else None,
            trace_id="trace-of-the-request",
        )
        session.add(job)
        session.commit()
        return job


def outcome(job: VideoJob) -> JobMessage:
    """The event the run-status sensor writes for ``job``."""
    details: dict[str, Any] = (
        {"frameCount": job.frame_count} if job.status == "completed" else {"error": job.error}
    )
    return JobMessage(job_id=job.id, video_id=job.video_id, user_id=job.user_id,
                      event=EVENTS[job.status], attempt=job.attempt, details=details)  # fmt: skip
