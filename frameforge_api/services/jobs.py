"""Jobs: create (idempotently), list, find; a user only ever sees their own."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import secrets
from typing import Any

import dagster as dg
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from frameforge_api.core.cache import Cache
from frameforge_api.core.config import Settings
from frameforge_api.services import quotas, uploads
from frameforge_core import layout, lifecycle, logs
from frameforge_core.errors import Conflict, Invalid, NotFound
from frameforge_core.lifecycle import ENDED, RETRYABLE, JobStatus
from frameforge_core.models import User, Video, VideoJob, new_id
from frameforge_pipeline import job_runs
from frameforge_pipeline.engine import ExtractOptions
from frameforge_pipeline.resources import FrameStore

MAX_PAGE = 100
LIVE_SECONDS = 1.0  # how long the state of a job not ended (or not recorded) is cached


def _request_hash(video_id: str, options: dict[str, Any], callback_url: str | None) -> str:
    canonical = json.dumps([video_id, options, callback_url], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


_KEY_REUSED = "this Idempotency-Key was used with a different request body"


def _live_job_conflict(session: Session, video_id: str) -> Conflict:
    live = session.scalar(
        select(VideoJob.id).where(VideoJob.video_id == video_id, VideoJob.status.not_in(RETRYABLE))
    )
    return Conflict(
        f"video {video_id} already has job {live}; upload the video again to extract it "
        "with other options",
    )


def create(
    session: Session,
    user: User,
    video_id: str,
    options: dict[str, Any],
    callback_url: str | None,
    idempotency_key: str | None,
    storage: FrameStore,
    settings: Settings,
) -> VideoJob:
    """A queued job for an uploaded video of ``user``, announced through the outbox in the
    same transaction (a crash after the commit cannot lose it).

    The same ``idempotency_key`` with the same body returns the first job; with another
    body it raises Conflict. Raises Invalid for an unknown video, Conflict for a video whose
    upload has not arrived or that already has a live or completed job; and the quotas'
    errors (services/quotas.py) before any run starts.
    """
    request_hash = _request_hash(video_id, options, callback_url)
    if idempotency_key and (earlier := _by_idempotency_key(session, user, idempotency_key)):
        if earlier.request_hash != request_hash:
            raise Conflict(_KEY_REUSED)
        return earlier
    video = session.get(Video, video_id)
    if video is None or video.user_id != user.id:
        raise Invalid(f"no video {video_id}: ask for an upload URL first")
    uploads.confirm_upload(session, video, storage, dt.datetime.now(dt.UTC))
    source = layout.source_key(video.storage_key)
    quotas.check_job(session, user, source, ExtractOptions(**options), storage, settings)
    job = VideoJob(
        id=new_id(),
        attempt=0,
        user_id=user.id,
        video_id=video_id,
        options=options,
        callback_url=callback_url,
        callback_secret=_webhook_secret() if callback_url else None,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        trace_id=logs.current_trace_id() or logs.new_trace_id(),
    )
    session.add(job)
    lifecycle.announce_created(session, job)
    try:
        session.commit()
    except IntegrityError as error:  # a live job of this video, or the same key, got there first
        session.rollback()
        winner = _by_idempotency_key(session, user, idempotency_key) if idempotency_key else None
        if winner is None:
            raise _live_job_conflict(session, video_id) from error
        if winner.request_hash != request_hash:
            raise Conflict(_KEY_REUSED) from error
        return winner
    return job


def _webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _by_idempotency_key(session: Session, user: User, key: str) -> VideoJob | None:
    return session.scalar(
        select(VideoJob).where(VideoJob.user_id == user.id, VideoJob.idempotency_key == key)
    )


def get(session: Session, user: User, job_id: str) -> VideoJob:
    """The job, if it is the user's. Raises NotFound otherwise, whoever owns it."""
    job = session.scalar(select(VideoJob).where(VideoJob.id == job_id))
    session.commit()  # the connection goes back to the pool (it is not needed to read ``job``)
    if job is None or job.user_id != user.id:
        raise NotFound("no such job")
    return job


def page(
    session: Session, user: User, limit: int, cursor: int | None
) -> tuple[list[VideoJob], int | None]:
    """Newest first; ``cursor`` is the ``seq`` below which to continue."""
    query = select(VideoJob).where(VideoJob.user_id == user.id)
    if cursor is not None:
        query = query.where(VideoJob.seq < cursor)
    jobs = list(session.scalars(query.order_by(VideoJob.seq.desc()).limit(limit + 1)))
    next_cursor = jobs[limit - 1].seq if len(jobs) > limit else None
    return jobs[:limit], next_cursor


def _status(job: VideoJob, run: dg.DagsterRun | None) -> JobStatus:
    return lifecycle.visible_status(job, None if run is None else job_runs.run_status(run))


def state(
    instance: dg.DagsterInstance, job: VideoJob, cache: Cache | None = None
) -> job_runs.RunOutcome:
    """Live state from Dagster (status, progress, facts, error).

    A job whose end the row has recorded cannot change until the row does (a retry), so
    its state is cached under a key made of the row's version. (An end the row has not
    recorded yet may still turn out otherwise: a failed run that Dagster retries.) A live
    state is kept ``LIVE_SECONDS``: clients poll every half second or so, and a live read
    asks Dagster several questions.
    """
    key = f"job-state:{job.id}:{job.attempt}:{job.updated_at.isoformat()}"
    if cache is not None and (cached := cache.get(key)) is not None:
        return job_runs.RunOutcome(**json.loads(cached))
    run = job_runs.current_run(instance, job)
    if run is None:
        found = job_runs.RunOutcome(run_id=None, status=_status(job, run), progress=0.0)
    else:
        found = dataclasses.replace(job_runs.outcome(instance, run), status=_status(job, run))
    if cache is not None:
        ended = found.status in ENDED and found.status == job.status
        value = json.dumps(dataclasses.asdict(found), default=str)
        cache.set(key, value, None if ended else LIVE_SECONDS)
    return found


def cancel(session: Session, instance: dg.DagsterInstance, job: VideoJob) -> None:
    """Stop the job: a queued run is dropped, a running one terminated.

    Raises Conflict when the job has already ended.
    """
    run = job_runs.current_run(instance, job)
    status = _status(job, run)
    if status in ENDED:
        raise Conflict(f"the job has already {_ENDED_PHRASE[status]}")
    if not lifecycle.cancel(session, job):  # an outcome recorded meanwhile stands
        raise Conflict("the job has just ended")
    if run is not None:
        job_runs.stop(instance, run)


def retry(session: Session, instance: dg.DagsterInstance, job: VideoJob) -> None:
    """Queue another attempt of a failed or cancelled job; it resumes from the failure.

    Raises Conflict for a job that is queued, running or completed.
    """
    lifecycle.retry(session, job, _status(job, job_runs.current_run(instance, job)))
    try:
        session.commit()
    except IntegrityError as error:  # the video got another job since this one failed
        session.rollback()
        raise _live_job_conflict(session, job.video_id) from error


_ENDED_PHRASE = {
    JobStatus.COMPLETED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "been cancelled",
}
