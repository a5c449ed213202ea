"""A job's states and who may move it from which to which: one module for the API and the
pipeline's sensors alike.

The row's own lifecycle::

    queued ──(its run exists)──▶ submitted ──(the run ends)──▶ completed | failed
      │                             │
      └────────(its user)───────────┴──▶ cancelled          failed | cancelled ──retry──▶ queued

A user's cancel stands, even over a run that got further. An outcome is recorded once, for
the attempt it belongs to (a retry supersedes the attempt before it), and announced in the
same transaction through the outbox (``video.job.completed`` / ``video.job.failed``); a
cancelled job is not announced. Whether a run's end is an outcome at all (a crashed run that
Dagster retries is not) is the Dagster side's to say: ``frameforge_pipeline.gateway.job_runs``.
Every change is a check-and-set, so two processes cannot both win a transition.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from frameforge_core import messaging, outbox
from frameforge_core.database import rows_changed
from frameforge_core.errors import Conflict
from frameforge_core.messaging import JobMessage
from frameforge_core.models import VideoJob


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its run (the API: no run has started)
    SUBMITTED = "submitted"  # the row only: its run exists; the API shows the run's status
    RUNNING = "running"  # the API only: the run has started and not ended
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ENDED = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
UNFINISHED = (JobStatus.QUEUED, JobStatus.SUBMITTED)  # rows a cancel or an outcome may end
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})
ANNOUNCED = {JobStatus.COMPLETED: messaging.JOB_COMPLETED, JobStatus.FAILED: messaging.JOB_FAILED}


@dataclass(frozen=True)
class Outcome:
    """How a job's run ended, as the pipeline records it on the row."""

    status: JobStatus  # completed | failed | cancelled
    run_id: str
    frame_count: int | None = None
    error: str | None = None
    processing_seconds: float | None = None  # the run's wall time, start to end


def visible_status(job: VideoJob, run_status: JobStatus | None) -> JobStatus:
    """What the user is told: their cancel stands; before its run exists a job is queued;
    after, it is what the run says (``run_status``)."""
    if job.status == JobStatus.CANCELLED:
        return JobStatus.CANCELLED
    return JobStatus.QUEUED if run_status is None else run_status


def _announce(
    session: Session, job: VideoJob, exchange: str, event: str, details: dict[str, Any]
) -> None:
    """``event`` about the job's current attempt, sent once the session commits."""
    message = JobMessage(
        job_id=job.id,
        video_id=job.video_id,
        user_id=job.user_id,
        event=event,
        attempt=job.attempt,
        details=details,
    )
    outbox.add(session, exchange, message, job.trace_id)


def announce_created(session: Session, job: VideoJob) -> None:
    """``video.job.created`` for a new job or a new attempt, in the caller's transaction."""
    _announce(session, job, messaging.JOBS_EXCHANGE, messaging.JOB_CREATED, {})


def mark_submitted(session: Session, job: VideoJob, run_id: str) -> bool:
    """queued -> submitted once the attempt's run exists, remembering the run; False when a
    cancel or an outcome came first. The caller commits."""
    return bool(
        rows_changed(
            session,
            update(VideoJob)
            .where(
                VideoJob.seq == job.seq,
                VideoJob.attempt == job.attempt,
                VideoJob.status == JobStatus.QUEUED,
            )
            .values(status=JobStatus.SUBMITTED, run_id=run_id),
        )
    )


def cancel(session: Session, job: VideoJob) -> bool:
    """queued | submitted -> cancelled, committed; False when the job ended meanwhile."""
    cancelled = rows_changed(
        session,
        update(VideoJob)
        .where(
            VideoJob.seq == job.seq,
            VideoJob.attempt == job.attempt,
            VideoJob.status.in_(UNFINISHED),
        )
        .values(status=JobStatus.CANCELLED),
    )
    if not cancelled:
        session.rollback()
        return False
    session.commit()
    session.refresh(job)
    return True


def retry(session: Session, job: VideoJob, status: JobStatus) -> None:
    """A job its user sees as failed or cancelled (``status``; the row may not have recorded
    the failure yet) -> queued as the next attempt, announced. The caller commits (a unique
    index refuses it when the video got another live job meanwhile).

    Raises Conflict for a job in another state."""
    if status not in RETRYABLE:
        raise Conflict(f"only a failed or cancelled job can be retried; this one is {status}")
    job.attempt += 1
    job.status = JobStatus.QUEUED
    job.run_id = job.error = job.frame_count = job.processing_seconds = None
    announce_created(session, job)


def record_outcome(session: Session, job_id: str, attempt: int, outcome: Outcome) -> bool:
    """Write how the run of ``attempt`` ended and announce it, in one committed transaction.

    Nothing is written for a job that is gone, an attempt a retry has superseded, a job its
    user cancelled, or an outcome already recorded. Returns whether anything was.
    """
    job = session.scalar(select(VideoJob).where(VideoJob.id == job_id).with_for_update())
    if job is None or job.attempt != attempt:
        return False  # deleted, or superseded by a retry
    if job.status == JobStatus.CANCELLED:
        return False  # its user's cancel stands, even if the run got further
    if job.status == outcome.status and job.run_id == outcome.run_id:
        return False  # recorded by an earlier evaluation
    job.status = outcome.status
    job.run_id = outcome.run_id
    job.frame_count = outcome.frame_count
    job.error = outcome.error
    job.processing_seconds = outcome.processing_seconds
    if event := ANNOUNCED.get(outcome.status):
        details: dict[str, Any] = (
            {"frameCount": outcome.frame_count}
            if outcome.status == JobStatus.COMPLETED
            else {"error": outcome.error}
        )
        _announce(session, job, messaging.EVENTS_EXCHANGE, event, details)
    session.commit()
    return True
