"""Per-user quotas, checked before any run starts: unfinished jobs, stored bytes, and what a
job would make of its video (its duration, the frames its options ask for).

Each refusal names the limit and what the user can do. The video's duration is what its
container's header declares (``services/video_header.py``); a file whose header says nothing
passes here, and the pipeline's probe has the last word on it.
"""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frameforge_api.core.config import Settings
from frameforge_core.errors import Invalid, QuotaExceeded, TooManyJobs
from frameforge_core.lifecycle import UNFINISHED
from frameforge_core.models import User, Video, VideoJob
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.sampling import expected_count


def check_storage(session: Session, user: User, incoming: int, settings: Settings) -> None:
    """Raises QuotaExceeded when ``incoming`` more bytes would pass the user's storage."""
    stored = session.scalar(
        select(func.coalesce(func.sum(Video.size_bytes), 0)).where(
            Video.user_id == user.id,
            Video.expired_at.is_(None),  # expired: no longer stored
        )
    )
    if int(stored or 0) + incoming > settings.quota_stored_bytes:
        raise QuotaExceeded(
            f"storage quota reached: your videos take {_amount(int(stored or 0))} of "
            f"{_amount(settings.quota_stored_bytes)}"
        )


def check_job(
    session: Session,
    user: User,
    duration: Fraction | None,
    options: ExtractOptions,
    settings: Settings,
) -> None:
    """Raises TooManyJobs past the user's unfinished jobs, Invalid for a video (of
    ``duration`` seconds, None when unknown) longer than allowed or options that would make
    more frames than a job may have."""
    unfinished = session.scalar(
        select(func.count())
        .select_from(VideoJob)
        .where(VideoJob.user_id == user.id, VideoJob.status.in_(UNFINISHED))
    )
    if (unfinished or 0) >= settings.quota_concurrent_jobs:
        raise TooManyJobs(
            f"you have {unfinished} jobs queued or running, the most allowed at once; "
            "create this one when one of them has ended"
        )
    if duration is None:
        return
    if duration > settings.quota_video_seconds:
        raise Invalid(
            f"the video is {_clock(duration)} long; videos may be at most "
            f"{_clock(settings.quota_video_seconds)}"
        )
    if options.mode != "interval":
        return
    end = duration if options.end_fraction is None else min(options.end_fraction, duration)
    frames = expected_count(options.fps_fraction, duration, options.start_fraction, end)
    if frames > settings.quota_frames_per_job:
        raise Invalid(
            f"these options would extract about {frames} frames ({options.fps:g} per second "
            f"of video); a job may extract at most {settings.quota_frames_per_job}: lower fps, "
            "or set start and end"
        )


def _amount(size: int) -> str:
    """``600 bytes``, ``1.5 MiB``, ``20.0 GiB``."""
    if size < 1024:
        return f"{size} bytes"
    value, units = size / 1024, ["KiB", "MiB", "GiB", "TiB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"


def _clock(seconds: float | Fraction) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
