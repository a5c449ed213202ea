"""The job a partition was made for, from the app database (``video_jobs.partition_key``).

A run that was not started by a job (a nightly backfill, a materialization launched in the
UI) extracts a partition with its job's options, never with defaults: a backfill must not
silently change the fps or format its user chose. The job's row is also what makes a
partition findable (job id, file name) from the Dagster side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frameforge_core import layout
from frameforge_core.models import Video, VideoJob


@dataclass(frozen=True)
class PartitionJob:
    job_id: str
    user_id: str
    video_id: str
    file_name: str
    options: dict[str, Any]


def partition_job(session: Session, partition_key: str) -> PartitionJob | None:
    """The partition's latest job (a rendition's jobs all share its options); None for a
    partition no job made (a video put in the store by hand)."""
    row = session.execute(
        select(VideoJob, Video.filename)
        .join(Video, Video.id == VideoJob.video_id)
        # the video's index finds its few jobs; partition_key has none of its own
        .where(VideoJob.video_id == layout.video_id_of(partition_key))
        .where(VideoJob.partition_key == partition_key)
        .order_by(VideoJob.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    job, file_name = row
    return PartitionJob(job.id, job.user_id, job.video_id, file_name, dict(job.options))
