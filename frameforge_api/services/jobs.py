"""Jobs: create (idempotently), list, find; a user only ever sees their own."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Sequence
from typing import Any

import dagster as dg
from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from frameforge_api.core.cache import Cache
from frameforge_api.core.config import Settings
from frameforge_api.services import quotas, uploads, video_header
from frameforge_core import layout, lifecycle, logs, renditions
from frameforge_core.errors import Conflict, Invalid, NotFound
from frameforge_core.lifecycle import ENDED, RETRYABLE, JobStatus
from frameforge_core.models import User, Video, VideoJob, new_id
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.resources import FrameStore

MAX_PAGE = 100
LIVE_SECONDS = 1.0  # how long the state of a job not ended (or not recorded) is cached


def _request_hash(video_id: str, options: dict[str, Any], callback_url: str | None) -> str:
    canonical = json.dumps([video_id, options, callback_url], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


_KEY_REUSED = "this Idempotency-Key was used with a different request body"


def _live_job_conflict(session: Session, partition_key: str) -> Conflict:
    live = session.scalar(
        select(VideoJob.id).where(
            VideoJob.partition_key == partition_key, VideoJob.status.not_in(RETRYABLE)
        )
    )
    return Conflict(f"these options of this video already have job {live}")


@dataclasses.dataclass(frozen=True)
class Created:
    job: VideoJob
    reused: bool  # the rendition's job that was there (same video, same options), not a new one


def create(
    session: Session,
    user: User,
    video_id: str,
    options: dict[str, Any],
    callback_url: str | None,
    idempotency_key: str | None,
    storage: FrameStore,
    settings: Settings,
) -> Created:
    """A queued job for an uploaded video of ``user``, announced through the outbox in the
    same transaction (a crash after the commit cannot lose it); or, when the video already
    has a queued, running or completed job with the same options (the same rendition), that
    job: the same options are never extracted twice.

    The same ``idempotency_key`` with the same body returns the first job; with another
    body it raises Conflict. Raises Invalid for an unknown video or a file that is not a
    video (services/video_header.py), Conflict for a video whose upload has not arrived or
    for a rendition whose job has another ``callback_url``; and the quotas' errors
    (services/quotas.py) before any run starts.
    """
    request_hash = _request_hash(video_id, options, callback_url)
    if idempotency_key and (earlier := _by_idempotency_key(session, user, idempotency_key)):
        if earlier.request_hash != request_hash:
            raise Conflict(_KEY_REUSED)
        return Created(earlier, reused=False)
    video = session.get(Video, video_id)
    if video is None or video.user_id != user.id:
        raise Invalid(f"no video {video_id}: ask for an upload URL first")
    chosen = ExtractOptions(**options)
    partition_key = renditions.rendition_key(video_id, chosen)
    if existing := _rendition_job(session, video_id, partition_key, callback_url):
        return Created(existing, reused=True)
    uploads.confirm_upload(
        session, video, storage, dt.datetime.now(dt.UTC), settings.retention_days
    )
    duration = video_header.declared_duration(storage, layout.source_key(video.storage_key))
    video_header.check_window(duration, chosen)
    quotas.hold(session, user.id)  # until the commit: the job counts before the next check
    quotas.check_job(session, user, duration, chosen, settings)
    job = VideoJob(
        id=new_id(),
        attempt=0,
        user_id=user.id,
        video_id=video_id,
        partition_key=partition_key,
        options=options,
        video_seconds=None if duration is None else float(duration),
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
    except IntegrityError as error:  # a job of this rendition, or the same key, got there first
        session.rollback()
        winner = _by_idempotency_key(session, user, idempotency_key) if idempotency_key else None
        if winner is None:
            if existing := _rendition_job(session, video_id, partition_key, callback_url):
                return Created(existing, reused=True)
            raise _live_job_conflict(session, partition_key) from error
        if winner.request_hash != request_hash:
            raise Conflict(_KEY_REUSED) from error
        return Created(winner, reused=False)
    return Created(job, reused=False)


def _rendition_job(
    session: Session, video_id: str, partition_key: str, callback_url: str | None
) -> VideoJob | None:
    """The queued, running or completed job of the rendition ``partition_key``: one of its
    own, or one made before renditions (keyed by the video id) with the same options. A job
    whose results retention deleted is none (the video has expired: a new job says so).

    Raises Conflict when that job calls back another URL: its one announcement cannot
    reach both, and a caller waiting for its own callback would wait forever."""
    live = session.scalars(
        select(VideoJob)
        .where(
            VideoJob.video_id == video_id,
            VideoJob.status.not_in(RETRYABLE),
            VideoJob.results_expired_at.is_(None),
        )
        .order_by(VideoJob.seq)
    )
    for job in live:
        if job.partition_key == partition_key or (
            job.partition_key == video_id and _options_key(job) == partition_key
        ):
            if callback_url is not None and callback_url != job.callback_url:
                raise Conflict(
                    f"job {job.id} already extracts this video with these options and calls "
                    "back another URL; follow that job, or ask for other options"
                )
            return job
    return None


def _options_key(job: VideoJob) -> str | None:
    """The rendition key the options of ``job`` have today (None: no longer valid options)."""
    try:
        return renditions.rendition_key(job.video_id, ExtractOptions.model_validate(job.options))
    except ValidationError:
        return None


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


def owned(
    session: Session, caller: ColumnElement[bool], job_id: str
) -> tuple[bool, VideoJob | None]:
    """Whether the ``caller``'s row is there (``accounts.signed_in``: the user, signed in),
    and the job if it is theirs (else None, whoever owns it): one query, for a route that
    needs nothing of the user but its id."""
    row = session.execute(
        select(User.id, VideoJob)
        .outerjoin(VideoJob, (VideoJob.user_id == User.id) & (VideoJob.id == job_id))
        .where(caller)
    ).one_or_none()
    session.commit()  # the connection goes back to the pool (it is not needed to read ``job``)
    return (False, None) if row is None else (True, row[1])


def page(
    session: Session, user_id: str, limit: int, cursor: int | None
) -> tuple[list[VideoJob], int | None]:
    """Newest first; ``cursor`` is the ``seq`` below which to continue."""
    query = page_query(session.get_bind().dialect.name, user_id, limit + 1, cursor)
    jobs = list(session.scalars(query))
    session.commit()  # the connection goes back to the pool before Dagster is asked
    next_cursor = jobs[limit - 1].seq if len(jobs) > limit else None
    return jobs[:limit], next_cursor


def page_query(dialect: str, user_id: str, limit: int, cursor: int | None) -> Select[Any]:
    """The user's ``limit`` newest jobs below ``cursor``.

    On PostgreSQL they are a LATERAL subquery of the user's row: planned for any user, it
    walks ``ix_video_jobs_user_seq``. Planned for this user's id (a plain ``WHERE user_id``),
    PostgreSQL may walk the primary key backwards instead, betting that a user with many jobs
    has recent ones: at 100,000 jobs, a user whose 10,000 jobs are the oldest costs a scan of
    the other 90,000 (83 ms, against 0.1 ms; ``bench/scale.py``). SQLite, which has no
    LATERAL, takes the index for the plain query.
    """
    lateral = dialect == "postgresql"
    query = select(VideoJob).where(VideoJob.user_id == (User.id if lateral else user_id))
    if cursor is not None:
        query = query.where(VideoJob.seq < cursor)
    query = query.order_by(VideoJob.seq.desc()).limit(limit)
    if not lateral:
        return query
    mine = query.lateral()
    job = aliased(VideoJob, mine)
    return (
        select(job)
        .select_from(User)
        .join(mine, true())
        .where(User.id == user_id)
        .order_by(job.seq.desc())
    )


def _status(job: VideoJob, run: dg.DagsterRun | None) -> JobStatus:
    return lifecycle.visible_status(job, None if run is None else job_runs.run_status(run))


def state(
    instance: dg.DagsterInstance, job: VideoJob, cache: Cache | None = None
) -> job_runs.RunOutcome:
    """Live state from Dagster (status, progress, facts, error); see ``states``."""
    return states(instance, [job], cache)[0]


def states(
    instance: dg.DagsterInstance, jobs: Sequence[VideoJob], cache: Cache | None = None
) -> list[job_runs.RunOutcome]:
    """The live state of each job, from Dagster; the runs of those not cached are read in
    one query (``job_runs.current_runs``).

    A job whose end the row has recorded cannot change until the row does (a retry), so
    its state is cached under a key made of the row's version. (An end the row has not
    recorded yet may still turn out otherwise: a failed run that Dagster retries.) A live
    state is kept ``LIVE_SECONDS``: clients poll every half second or so, and a live read
    asks Dagster several questions.
    """
    keys = [f"job-state:{job.id}:{job.attempt}:{job.updated_at.isoformat()}" for job in jobs]
    found: dict[str, job_runs.RunOutcome] = {}
    if cache is not None:
        for job, key in zip(jobs, keys, strict=True):
            if (cached := cache.get(key)) is not None:
                found[job.id] = job_runs.RunOutcome(**json.loads(cached))
    missing = [job for job in jobs if job.id not in found]
    records = job_runs.current_runs(instance, missing) if missing else {}
    for job, key in zip(jobs, keys, strict=True):
        if job.id in found:
            continue
        record = records[job.id]
        run = record.dagster_run if record else None
        if run is None:
            read = job_runs.RunOutcome(run_id=None, status=_status(job, run), progress=0.0)
        else:
            read = dataclasses.replace(
                job_runs.outcome(instance, run, record), status=_status(job, run)
            )
        if cache is not None:
            ended = read.status in ENDED and read.status == job.status
            value = json.dumps(dataclasses.asdict(read), default=str)
            cache.set(key, value, None if ended else LIVE_SECONDS)
        found[job.id] = read
    return [found[job.id] for job in jobs]


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


def retry(
    session: Session, instance: dg.DagsterInstance, job: VideoJob, settings: Settings
) -> None:
    """Queue another attempt of a failed or cancelled job; it resumes from the failure.

    Raises Conflict for a job that is queued, running or completed (or retried meanwhile)
    and for one whose video the engine refused (it would fail the same way, and mail its
    user again), TooManyJobs when its user has as many unfinished jobs as allowed,
    QuotaExceeded when their storage is full.
    """
    run = job_runs.current_run(instance, job)
    status = _status(job, run)
    failed = run if status == JobStatus.FAILED else None
    if failed and (reason := job_runs.rejection_reason(instance, failed)):
        raise Conflict(f"this video cannot be processed: {reason}; upload a different file")
    attempt = job.attempt
    session.commit()  # nothing pending: the quota lock begins the transaction
    quotas.hold(session, job.user_id)
    session.refresh(job)
    if job.attempt != attempt:  # another retry got there while this one waited
        raise Conflict("the job has just been retried")
    quotas.check_live_jobs(session, job.user_id, settings, retried=job)
    quotas.check_room_for_results(session, job.user_id, settings)
    lifecycle.retry(session, job, status)
    try:
        session.commit()
    except IntegrityError as error:  # the rendition got another job since this one failed
        session.rollback()
        raise _live_job_conflict(session, job.partition_key) from error


_ENDED_PHRASE = {
    JobStatus.COMPLETED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "been cancelled",
}
