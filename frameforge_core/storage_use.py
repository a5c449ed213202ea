"""What a user's storage quota counts: every video not expired, at its size once uploaded and
at what its upload URL allows until then (the ``sizeBytes`` it declared, else the largest
upload), and the results of each job not expired (its frames, manifest, storyboard and ZIP,
recorded by the run that made them). One definition for the API's checks and the pipeline's
records."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from frameforge_core.models import Video, VideoJob


def used_bytes(session: Session, user_id: str) -> int:
    """Bytes the user's videos and results take, and their unconfirmed uploads reserve."""
    videos = select(func.coalesce(func.sum(func.coalesce(Video.size_bytes, Video.max_bytes)), 0))
    results = select(func.coalesce(func.sum(VideoJob.result_bytes), 0))
    stored = session.execute(
        select(
            videos.where(Video.user_id == user_id, Video.expired_at.is_(None)).scalar_subquery(),
            results.where(
                VideoJob.user_id == user_id, VideoJob.results_expired_at.is_(None)
            ).scalar_subquery(),
        )
    ).one()
    return int(stored[0]) + int(stored[1])


def record_results(session: Session, partition_key: str, size: int) -> None:
    """``size`` bytes of results stored for the rendition ``partition_key``: counted for its
    newest job (an earlier, failed one's count goes: the files are the same). Commits."""
    newest = (
        select(func.max(VideoJob.seq)).where(VideoJob.partition_key == partition_key)
    ).scalar_subquery()
    session.execute(
        update(VideoJob).where(VideoJob.partition_key == partition_key).values(result_bytes=None)
    )
    session.execute(update(VideoJob).where(VideoJob.seq == newest).values(result_bytes=size))
    session.commit()
