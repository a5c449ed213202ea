"""Deleting a video, or an account with every video in it, for good.

The rows go at once, in one transaction with a ``deleted_videos`` row that remembers what
is left to remove (ids only: nothing personal outlives the user). A live job is cancelled
first (its run stopped). The store objects, the frame index rows, the Dagster partitions
and the runs are then removed at once when no run of the video is still going, and
otherwise by the ``deleted_video_purge`` sensor a minute or so later
(``frameforge_pipeline.gateway.retention``): a cancelled run may still be writing.
"""

from __future__ import annotations

import contextlib
import logging

import dagster as dg
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from frameforge_api.services import jobs
from frameforge_core import renditions
from frameforge_core.errors import Conflict, NotFound
from frameforge_core.lifecycle import UNFINISHED
from frameforge_core.models import DeletedVideo, User, Video, VideoJob, utcnow
from frameforge_pipeline.gateway import retention
from frameforge_pipeline.resources import FrameStore

log = logging.getLogger(__name__)


def delete_video(
    session: Session,
    instance: dg.DagsterInstance,
    storage: FrameStore,
    user: User,
    video_id: str,
) -> None:
    """Delete one of ``user``'s videos. Raises NotFound for any other id, whoever owns it."""
    video = session.get(Video, video_id)
    if video is None or video.user_id != user.id:
        raise NotFound("no such video")
    purge_later = _forget(session, instance, video)
    session.delete(video)  # its jobs and their notification log go with it (ON DELETE CASCADE)
    session.commit()
    _purge(session, instance, storage, [purge_later])


def delete_account(
    session: Session, instance: dg.DagsterInstance, storage: FrameStore, user: User
) -> int:
    """Delete ``user`` and every video of theirs; returns how many videos."""
    videos = session.scalars(select(Video).where(Video.user_id == user.id)).all()
    left = [_forget(session, instance, video) for video in videos]
    session.execute(delete(User).where(User.id == user.id))  # videos, jobs, tokens cascade
    session.commit()
    _purge(session, instance, storage, left)
    return len(left)


def _forget(session: Session, instance: dg.DagsterInstance, video: Video) -> DeletedVideo:
    """Cancel the video's live jobs and add its ``deleted_videos`` row (not committed)."""
    live = session.scalars(
        select(VideoJob).where(VideoJob.video_id == video.id, VideoJob.status.in_(UNFINISHED))
    ).all()
    for job in live:
        with contextlib.suppress(Conflict):  # it ended meanwhile: nothing to stop
            jobs.cancel(session, instance, job)
    row = DeletedVideo(
        video_id=video.id,
        partition_keys=renditions.partition_keys_of_video(session, video.id),
        deleted_at=utcnow(),
    )
    session.merge(row)  # a video deleted twice (a retried request) keeps one row
    return row


def _purge(
    session: Session, instance: dg.DagsterInstance, storage: FrameStore, rows: list[DeletedVideo]
) -> None:
    """Remove what the videos left now if nothing of theirs runs; the sensor does the rest."""
    for row in rows:
        try:
            done = retention.purge(instance, storage, row.video_id, list(row.partition_keys))
        except Exception:  # the store or the instance down: the sensor tries again
            log.warning("video %s: purge left to the sensor", row.video_id, exc_info=True)
            continue
        if done:
            session.execute(
                update(DeletedVideo)
                .where(DeletedVideo.video_id == row.video_id)
                .values(purged_at=utcnow())
            )
    session.commit()
