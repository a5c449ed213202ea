"""Videos whose results are old enough are expired; videos their users deleted are purged.

``results_retention`` (hourly): a video none of whose jobs is unfinished or has changed in
``FRAMEFORGE_RETENTION_DAYS`` (30; 0 keeps everything) loses its upload, frames, manifests
and ZIPs and its Dagster partitions (``frameforge_pipeline.gateway.retention``); its rows and its
frame index rows stay, and its completed jobs are stamped ``results_expired_at`` so that the
API answers their downloads with 410 and a reason. The row is claimed first, on the same
conditions (a job created meanwhile keeps its video), then the objects go.

``deleted_video_purge`` (every minute): the API deletes a video's rows at once and leaves a
``deleted_videos`` row; what it could not remove then (a run still going, the store down)
is removed here, once no run of the video is going. Purged rows are kept 30 days.

An upload URL handed out before the deletion still takes a PUT until it expires (S3 checks
a presigned URL's signature and expiry, not whether the video still exists), and the object
it writes would stay. So a video purged while such a URL could still be arriving
(``LATE_UPLOADS``: the URL's lifetime and the same margin as the unconfirmed-slot sweep)
has its upload folder swept once more after that (``uploads_swept_at``); the uploads
bucket's lifecycle rule is the backstop.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
from sqlalchemy import delete, exists, or_, select, update

from frameforge_core import layout, renditions
from frameforge_core.database import rows_changed
from frameforge_core.lifecycle import UNFINISHED, JobStatus
from frameforge_core.models import DeletedVideo, Video, VideoJob, utcnow
from frameforge_core.settings import OperationsSettings
from frameforge_pipeline.gateway import retention
from frameforge_pipeline.resources import AppDatabase, FrameStore
from frameforge_pipeline.sensors.upload_retention import KEEP as LATE_UPLOADS

BATCH = 100
KEEP_PURGED = dt.timedelta(days=30)


def expire(
    database: AppDatabase,
    storage: FrameStore,
    instance: dg.DagsterInstance,
    unchanged_since: dt.datetime,
) -> int:
    """Expire the results of videos whose jobs have all ended before ``unchanged_since``;
    returns how many videos."""
    recent = exists().where(
        VideoJob.video_id == Video.id,
        or_(VideoJob.status.in_(UNFINISHED), VideoJob.updated_at >= unchanged_since),
    )
    due = (
        Video.expired_at.is_(None),
        exists().where(VideoJob.video_id == Video.id),
        ~recent,
    )
    expired = 0
    with database.session() as session:
        for video_id in list(session.scalars(select(Video.id).where(*due).limit(BATCH))):
            now = utcnow()
            if not rows_changed(
                session, update(Video).where(Video.id == video_id, *due).values(expired_at=now)
            ):
                session.rollback()
                continue
            session.execute(
                update(VideoJob)
                .where(VideoJob.video_id == video_id, VideoJob.status == JobStatus.COMPLETED)
                .values(results_expired_at=now)
            )
            keys = renditions.partition_keys_of_video(session, video_id)
            session.commit()
            retention.expire_objects(storage, video_id, keys)
            retention.remove_partitions(instance, keys)
            expired += 1
    return expired


def purge_deleted(
    database: AppDatabase,
    storage: FrameStore,
    instance: dg.DagsterInstance,
    now: dt.datetime | None = None,
) -> int:
    """Finish the deletions the API left, and sweep late uploads; returns how many videos
    were purged."""
    purged = 0
    sweep_late_uploads(database, storage, now or utcnow())
    with database.session() as session:
        waiting = session.scalars(
            select(DeletedVideo)
            .where(DeletedVideo.purged_at.is_(None))
            .order_by(DeletedVideo.deleted_at)
            .limit(BATCH)
        ).all()
        for row in waiting:
            if retention.purge(instance, storage, row.video_id, list(row.partition_keys)):
                row.purged_at = utcnow()
                session.commit()
                purged += 1
        session.execute(delete(DeletedVideo).where(DeletedVideo.purged_at < utcnow() - KEEP_PURGED))
        session.commit()
    return purged


def sweep_late_uploads(database: AppDatabase, storage: FrameStore, now: dt.datetime) -> int:
    """Delete what an upload URL put for a deleted video after its purge: once, when no URL
    of it can still be arriving; returns how many videos were swept."""
    with database.session() as session:
        due = session.scalars(
            select(DeletedVideo)
            .where(
                DeletedVideo.purged_at.is_not(None),
                DeletedVideo.uploads_swept_at.is_(None),
                DeletedVideo.deleted_at <= now - LATE_UPLOADS,
            )
            .limit(BATCH)
        ).all()
        for row in due:
            storage.delete_prefix(layout.upload_prefix(row.video_id))
            row.uploads_swept_at = now
            session.commit()
    return len(due)


@dg.sensor(
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Deletes the uploads, frames and ZIPs of videos whose jobs all ended more "
    "than FRAMEFORGE_RETENTION_DAYS ago, and their partitions; the frame index rows stay.",
)
def results_retention(
    context: dg.SensorEvaluationContext,
    database: AppDatabase,
    storage: FrameStore,
    operations: dg.ResourceParam[OperationsSettings],
) -> dg.SkipReason:
    days = operations.retention_days
    if not days:
        return dg.SkipReason("FRAMEFORGE_RETENTION_DAYS=0: results are kept for good")
    cutoff = utcnow() - dt.timedelta(days=days)
    expired = expire(database, storage, context.instance, cutoff)
    return dg.SkipReason(f"{expired} videos unchanged for {days} days expired")


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Removes deleted videos from the store and the Dagster instance (objects, "
    "frame index rows, partitions, runs) once none of their runs is going.",
)
def deleted_video_purge(
    context: dg.SensorEvaluationContext, database: AppDatabase, storage: FrameStore
) -> dg.SkipReason:
    purged = purge_deleted(database, storage, context.instance)
    return dg.SkipReason(f"{purged} deleted videos purged")
