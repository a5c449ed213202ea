"""What a notification says about a job: read once from the database, shared by every channel.

The message only says which job and which outcome; the facts (recipient, file name, frame
count, the reason of a failure) come from the rows, so a replayed message tells the truth of
the job as it is. Links are built like the API's own, with the same key and public URL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from frameforge_core import signing
from frameforge_core.lifecycle import JobStatus
from frameforge_core.messaging import JOB_COMPLETED, JOB_FAILED, JobMessage
from frameforge_core.models import User, Video, VideoJob
from frameforge_core.settings import LinkSettings
from frameforge_core.signing import SignedUrl
from frameforge_worker.errors import UnknownJob

UNKNOWN_REASON = "the job failed for an unknown reason"


@dataclass(frozen=True)
class JobNotice:
    event: str  # video.job.completed | video.job.failed
    job_id: str
    video_id: str
    job_attempt: int
    recipient: str
    filename: str
    frame_count: int | None
    error: str | None
    trace_id: str | None
    callback_url: str | None
    callback_secret: str | None
    # the recipient followed the link mailed at registration: only then is it emailed
    recipient_verified: bool = False

    @property
    def completed(self) -> bool:
        return self.event == JOB_COMPLETED

    @property
    def status(self) -> JobStatus:
        return JobStatus.COMPLETED if self.completed else JobStatus.FAILED

    @property
    def event_id(self) -> str:
        """The same for every delivery of this event, so receivers can drop duplicates."""
        return f"{self.job_id}:{self.job_attempt}:{self.event}"


def load(session: Session, message: JobMessage, trace_id: str | None) -> JobNotice | None:
    """The notice for ``message``; None when it is about an attempt the job has since moved
    past (a retry): its outcome no longer describes the job and the user already acted.

    Raises ValueError for a message that is not a job outcome, UnknownJob for a job id the
    database does not have.
    """
    _check(message)
    row = session.execute(
        select(VideoJob, User.email, User.email_verified_at, Video.filename)
        .join(User, User.id == VideoJob.user_id)
        .join(Video, Video.id == VideoJob.video_id)
        .where(VideoJob.id == message.job_id)
    ).one_or_none()
    if row is None:
        raise UnknownJob(f"no job {message.job_id}")
    job, email, verified_at, filename = row
    if message.attempt < job.attempt:
        return None
    frame_count = message.details.get("frameCount")
    return JobNotice(
        event=message.event,
        job_id=job.id,
        video_id=job.video_id,
        job_attempt=message.attempt,
        recipient=email,
        filename=filename,
        frame_count=job.frame_count if job.frame_count is not None else frame_count,
        error=job.error or message.details.get("error") or UNKNOWN_REASON,
        trace_id=trace_id or job.trace_id,
        callback_url=job.callback_url,
        callback_secret=job.callback_secret,
        recipient_verified=verified_at is not None,
    )


def _check(message: JobMessage) -> None:
    if message.event not in (JOB_COMPLETED, JOB_FAILED):
        raise ValueError(f"not a job outcome event: {message.event!r}")
    if not isinstance(message.details, dict):
        raise ValueError("malformed job message: details must be an object")


class Links:
    """The URLs a notification points to."""

    def __init__(self, settings: LinkSettings):
        self._settings = settings

    def email_download(self, job_id: str) -> SignedUrl:
        """Valid ``email_link_ttl_seconds``: an email is read hours or days later."""
        return self._download(job_id, self._settings.email_link_ttl_seconds)

    def webhook_download(self, job_id: str) -> SignedUrl:
        """Valid ``url_ttl_seconds`` like the API's: a receiver acts at once, and can ask the
        API for a fresh link; a long-lived one would only travel further."""
        return self._download(job_id, self._settings.url_ttl_seconds)

    def retry(self, job_id: str) -> str:
        return f"{self._settings.public_url.rstrip('/')}/api/v1/videos/jobs/{job_id}/retry"

    def job_page(self, job_id: str) -> str:
        """The page for users (``/``), showing this job once its user has signed in."""
        return f"{self._settings.public_url.rstrip('/')}/#job={job_id}"

    def _download(self, job_id: str, ttl_seconds: int) -> SignedUrl:
        return signing.download_url(self._settings, job_id, dt.datetime.now(dt.UTC), ttl_seconds)
