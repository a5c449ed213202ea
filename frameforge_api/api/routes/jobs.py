import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from frameforge_api.api.deps import (
    CacheDep,
    Caller,
    CallerDep,
    CurrentUser,
    InstanceDep,
    SessionDep,
    SessionsDep,
    SettingsDep,
    StorageDep,
    get_current_user,
)
from frameforge_api.api.schemas import Cursor, JobCreated, JobIn, JobOut, JobPage
from frameforge_api.core.cache import Cache
from frameforge_api.core.config import Settings
from frameforge_api.services import jobs
from frameforge_core import lifecycle, signing
from frameforge_core.errors import NotFound
from frameforge_core.lifecycle import RETRYABLE, JobStatus
from frameforge_core.models import VideoJob
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.gateway.job_runs import RunOutcome

router = APIRouter(prefix="/videos/jobs", tags=["jobs"])


def _view(job: VideoJob, instance: InstanceDep, settings: Settings, cache: Cache) -> JobOut:
    return _shown(job, jobs.state(instance, job, cache), settings)


def _shown(job: VideoJob, state: RunOutcome, settings: Settings) -> JobOut:
    download = None
    if state.status == JobStatus.COMPLETED and job.results_expired_at is None:
        download = signing.download_url(settings, job.id, dt.datetime.now(dt.UTC))
    return JobOut(
        job_id=job.id,
        video_id=job.video_id,
        file_name=job.file_name,
        status=state.status,
        progress=round(state.progress, 3),
        frame_count=state.frame_count,
        frames_done=state.frames_done,
        frames_expected=state.frames_expected,
        options=ExtractOptions.model_validate(job.options),
        video=state.video,
        error=state.error,
        retryable=state.status in RETRYABLE and not state.rejected,
        download_url=download.url if download else None,
        download_expires_at=download.expires_at if download else None,
        results_expired_at=job.results_expired_at,
        created_at=job.created_at,
        started_at=_when(state.started_at),
        finished_at=_when(state.finished_at),
    )


def _when(timestamp: float | None) -> dt.datetime | None:
    return None if timestamp is None else dt.datetime.fromtimestamp(timestamp, dt.UTC)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobCreated,
    response_model_exclude_none=True,
    responses={
        status.HTTP_200_OK: {
            "model": JobOut,
            "description": "The video already has a queued, running or completed job with "
            "these options: that job, as GET /videos/jobs/{jobId} shows it (no new job).",
        }
    },
)
def create_job(
    body: JobIn,
    user: CurrentUser,
    session: SessionDep,
    instance: InstanceDep,
    storage: StorageDep,
    settings: SettingsDep,
    cache: CacheDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JobCreated | JSONResponse:
    """Queue the extraction of an uploaded video. ``Idempotency-Key`` makes retries safe.

    One upload may be extracted with several sets of options, one job each (a rendition).
    The same options again return the job that has them, with 200 instead of 202: its
    result is shared, not extracted twice (a failed or cancelled one is not reused: a new
    job is made). 409 when that job has another ``callbackUrl``.

    With ``callbackUrl``, the answer carries ``webhookSecret``: the key that signs the
    callback (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).
    """
    created = jobs.create(
        session,
        user,
        body.video_id,
        body.options.model_dump(),
        str(body.callback_url) if body.callback_url else None,
        idempotency_key,
        storage,
        settings,
    )
    job = created.job
    if created.reused:
        view = _view(job, instance, settings, cache)
        return JSONResponse(view.model_dump(mode="json", by_alias=True))
    # A new job has no run yet: it is queued, said without asking Dagster, so a stalled
    # Dagster database never holds up (or refuses) a job the app database has accepted. A
    # replayed Idempotency-Key's job whose run is known is read as GET shows it.
    if job.run_id is None:
        status_now = lifecycle.visible_status(job, None)
    else:
        status_now = jobs.state(instance, job, cache).status
    return JobCreated(job_id=job.id, status=status_now, webhook_secret=job.callback_secret)


@router.get("", response_model=JobPage)
async def list_jobs(
    caller: CallerDep,
    sessions: SessionsDep,
    instance: InstanceDep,
    settings: SettingsDep,
    cache: CacheDep,
    limit: Annotated[int, Query(ge=1, le=jobs.MAX_PAGE)] = 20,
    cursor: Annotated[Cursor | None, Query(pattern=r"^\d{1,18}$")] = None,
) -> JobPage:
    """The user's jobs, newest first. Pass ``nextCursor`` back as ``cursor`` for more."""

    def read() -> JobPage:  # every blocking part in one threadpool hop
        with sessions() as session:
            user = get_current_user(caller, session)
            page, next_cursor = jobs.page(session, user.id, limit, int(cursor) if cursor else None)
        states = jobs.states(instance, page, cache)
        return JobPage(
            items=[_shown(job, state, settings) for job, state in zip(page, states, strict=True)],
            next_cursor=str(next_cursor) if next_cursor is not None else None,
        )

    return await run_in_threadpool(read)


def _owned(caller: Caller, session: Session, job_id: str) -> VideoJob:
    """The job if it is the caller's; 404 otherwise, whoever owns it (401 for a user who is
    gone or signed out, 429 past the rate limit, as every authenticated route)."""
    user_exists, job = jobs.owned(session, caller.row, job_id)
    caller.admit(user_exists)
    if job is None:
        raise NotFound("no such job")
    return job


def get_owned_job(job_id: str, caller: CallerDep, session: SessionDep) -> VideoJob:
    return _owned(caller, session, job_id)


OwnedJob = Annotated[VideoJob, Depends(get_owned_job)]


@router.get("/{job_id}", response_model=JobOut)
async def get_job(
    job_id: str,
    caller: CallerDep,
    sessions: SessionsDep,
    instance: InstanceDep,
    settings: SettingsDep,
    cache: CacheDep,
) -> JobOut:
    """Status, progress, frame count, video facts, the error, and ``downloadUrl`` when done."""

    def read() -> JobOut:  # every blocking part in one threadpool hop: the hot path
        with sessions() as session:
            job = _owned(caller, session, job_id)
        return _view(job, instance, settings, cache)

    return await run_in_threadpool(read)


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_job(
    job: OwnedJob,
    session: SessionDep,
    instance: InstanceDep,
    settings: SettingsDep,
    cache: CacheDep,
) -> JobOut:
    """Stop a queued or running job. 409 when it has already ended."""
    jobs.cancel(session, instance, job)
    return _view(job, instance, settings, cache)


@router.post("/{job_id}/retry", status_code=status.HTTP_202_ACCEPTED, response_model=JobOut)
def retry_job(
    job: OwnedJob,
    session: SessionDep,
    instance: InstanceDep,
    settings: SettingsDep,
    cache: CacheDep,
) -> JobOut:
    """Run a failed or cancelled job again from where it failed. 409 otherwise; 429 when
    you have as many jobs queued or running as allowed, as for a new job."""
    jobs.retry(session, instance, job, settings)
    return _view(job, instance, settings, cache)
