import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status

from frameforge_api.api.deps import (
    CacheDep,
    CurrentUser,
    InstanceDep,
    SessionDep,
    SettingsDep,
    StorageDep,
)
from frameforge_api.api.schemas import Cursor, JobCreated, JobIn, JobOut, JobPage
from frameforge_api.core.cache import Cache
from frameforge_api.core.config import Settings
from frameforge_api.services import jobs
from frameforge_core import signing
from frameforge_core.lifecycle import JobStatus
from frameforge_core.models import VideoJob
from frameforge_pipeline.engine import ExtractOptions

router = APIRouter(prefix="/videos/jobs", tags=["jobs"])


def _view(job: VideoJob, instance: InstanceDep, settings: Settings, cache: Cache) -> JobOut:
    state = jobs.state(instance, job, cache)
    download = None
    if state.status == JobStatus.COMPLETED:
        download = signing.download_url(settings, job.id, dt.datetime.now(dt.UTC))
    return JobOut(
        job_id=job.id,
        video_id=job.video_id,
        status=state.status,
        progress=round(state.progress, 3),
        frame_count=state.frame_count,
        options=ExtractOptions.model_validate(job.options),
        video=state.video,
        error=state.error,
        download_url=download.url if download else None,
        download_expires_at=download.expires_at if download else None,
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
)
def create_job(
    body: JobIn,
    user: CurrentUser,
    session: SessionDep,
    instance: InstanceDep,
    storage: StorageDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JobCreated:
    """Queue the extraction of an uploaded video. ``Idempotency-Key`` makes retries safe.

    With ``callbackUrl``, the answer carries ``webhookSecret``: the key that signs the
    callback (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).
    """
    job = jobs.create(
        session,
        user,
        body.video_id,
        body.options.model_dump(),
        str(body.callback_url) if body.callback_url else None,
        idempotency_key,
        storage,
        settings,
    )
    return JobCreated(
        job_id=job.id, status=jobs.state(instance, job).status, webhook_secret=job.callback_secret
    )


@router.get("", response_model=JobPage)
def list_jobs(
    user: CurrentUser,
    session: SessionDep,
    instance: InstanceDep,
    settings: SettingsDep,
    cache: CacheDep,
    limit: Annotated[int, Query(ge=1, le=jobs.MAX_PAGE)] = 20,
    cursor: Annotated[Cursor | None, Query(pattern=r"^\d{1,18}$")] = None,
) -> JobPage:
    """The user's jobs, newest first. Pass ``nextCursor`` back as ``cursor`` for more."""
    page, next_cursor = jobs.page(session, user, limit, int(cursor) if cursor else None)
    return JobPage(
        items=[_view(job, instance, settings, cache) for job in page],
        next_cursor=str(next_cursor) if next_cursor is not None else None,
    )


def get_owned_job(job_id: str, user: CurrentUser, session: SessionDep) -> VideoJob:
    """The job if it is the user's; 404 otherwise, whoever owns it."""
    return jobs.get(session, user, job_id)


OwnedJob = Annotated[VideoJob, Depends(get_owned_job)]


@router.get("/{job_id}", response_model=JobOut)
def get_job(job: OwnedJob, instance: InstanceDep, settings: SettingsDep, cache: CacheDep) -> JobOut:
    """Status, progress, frame count, video facts, the error, and ``downloadUrl`` when done."""
    return _view(job, instance, settings, cache)


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
    """Run a failed or cancelled job again from where it failed. 409 otherwise."""
    jobs.retry(session, instance, job)
    return _view(job, instance, settings, cache)
