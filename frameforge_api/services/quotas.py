"""Per-user quotas, checked before any run starts: unfinished jobs, stored bytes, and what a
job would make of its video (its duration, the frames its options ask for).

A check and the change it allows (a new job, a retry, an upload slot) are one step: each
path takes the user's quota lock first (``hold``), so requests of one user made at once are
counted one after the other, never against the same count. Each refusal names the limit and
what the user can do. The video's duration is what its
container's header declares (``services/video_header.py``); a file whose header says nothing
passes here, and the pipeline's probe has the last word on it.
"""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frameforge_api.core.config import Settings
from frameforge_api.core.sizes import size_text
from frameforge_core import storage_use
from frameforge_core.errors import Invalid, QuotaExceeded, TooManyJobs
from frameforge_core.lifecycle import UNFINISHED
from frameforge_core.models import User, VideoJob
from frameforge_core.settings import JobQuotaSettings
from frameforge_pipeline.engine.errors import VideoError
from frameforge_pipeline.engine.limits import Limits
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.sampling import expected_count


def hold(session: Session, user_id: str) -> None:
    """Take the quota lock of the user ``user_id`` until the session's transaction ends
    (its commit or rollback). Begins that transaction: call it with nothing pending.

    PostgreSQL: the user's row, ``SELECT ... FOR UPDATE``; other users are not held up,
    and READ COMMITTED's next statement counts what the holder before committed. SQLite,
    the embedded default, lets one connection write at a time anyway: the transaction
    begins IMMEDIATE, taking the database's write lock now instead of at its first write,
    so no count is read while another request's job is still to be written (the others
    wait for it, up to the connection's 30 s busy timeout).
    """
    if session.get_bind().dialect.name == "sqlite":
        driver = session.connection().connection.driver_connection
        if driver is None or driver.in_transaction:
            raise RuntimeError("the quota lock must begin its transaction: commit first")
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        return
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


def check_upload(
    session: Session, user_id: str, size_bytes: int | None, settings: Settings
) -> None:
    """Raises QuotaExceeded when an upload URL for ``size_bytes`` (None: undeclared, so
    reserving the largest upload allowed) would pass the user's storage
    (frameforge_core/storage_use.py). Counts under the caller's ``hold``."""
    used = storage_use.used_bytes(session, user_id)
    incoming = settings.max_upload_bytes if size_bytes is None else size_bytes
    if used + incoming > settings.quota_stored_bytes:
        needs = (
            f"may take up to {size_text(incoming)} (send sizeBytes to reserve only its size)"
            if size_bytes is None
            else f"needs {size_text(incoming)}"
        )
        raise QuotaExceeded(f"{_used(used, settings)}, and this upload {needs}; {_REMEDY}")


def check_room_for_results(session: Session, user_id: str, settings: Settings) -> None:
    """Raises QuotaExceeded when the user's storage is full: a job (a new one, a rendition,
    a retry) would add its frames to it. Counts under the caller's ``hold``."""
    used = storage_use.used_bytes(session, user_id)
    if used >= settings.quota_stored_bytes:
        raise QuotaExceeded(
            f"{_used(used, settings)}, and this job's frames need room too; {_REMEDY}"
        )


_REMEDY = "delete videos you no longer need"


def _used(used: int, settings: Settings) -> str:
    return (
        f"storage quota reached: your videos, their frames and your pending uploads take "
        f"{size_text(used)} of {size_text(settings.quota_stored_bytes)}"
    )


def check_live_jobs(
    session: Session, user_id: str, settings: Settings, retried: VideoJob | None = None
) -> None:
    """Raises TooManyJobs when the user ``user_id`` has as many unfinished jobs as allowed
    (``retried``, the job a retry makes live again, is not one of them even if its row has
    not recorded its end yet). Counts under the caller's ``hold``."""
    query = (
        select(func.count())
        .select_from(VideoJob)
        .where(VideoJob.user_id == user_id, VideoJob.status.in_(UNFINISHED))
    )
    if retried is not None:
        query = query.where(VideoJob.id != retried.id)
    unfinished = session.scalar(query) or 0
    if unfinished >= settings.quota_concurrent_jobs:
        this = "create this one" if retried is None else "retry this one"
        raise TooManyJobs(
            f"you have {unfinished} jobs queued or running, the most allowed at once; "
            f"{this} when one of them has ended"
        )


def check_job(
    session: Session,
    user: User,
    duration: Fraction | None,
    options: ExtractOptions,
    settings: Settings,
) -> None:
    """Raises TooManyJobs past the user's unfinished jobs, QuotaExceeded when their storage
    is full, Invalid for a video (of ``duration`` seconds, None when unknown) longer than
    allowed or options that would make more frames than a job may have. Counts under the
    caller's ``hold``."""
    check_live_jobs(session, user.id, settings)
    check_room_for_results(session, user.id, settings)
    if duration is None:
        return
    limits = job_limits(settings)
    try:
        limits.check_duration(duration)
        if options.mode == "interval":
            end = duration if options.end_fraction is None else min(options.end_fraction, duration)
            frames = expected_count(options.fps_fraction, duration, options.start_fraction, end)
            limits.check_expected(frames, options.mode, options.fps_fraction)
    except VideoError as error:  # the pipeline's own words, before any run
        raise Invalid(str(error)) from None


def job_limits(settings: JobQuotaSettings) -> Limits:
    """What a job may ask of the engine, as the pipeline enforces it too."""
    return Limits.build(
        max_seconds=settings.quota_video_seconds, max_frames=settings.quota_frames_per_job
    )
