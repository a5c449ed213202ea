"""Upload slots never confirmed are deleted, with whatever was put into them.

A slot is confirmed when its first job is created (the upload moves to ``sources/``). One
still unconfirmed ``KEEP`` after it was asked for is abandoned: its URL expired long ago
(15 min) and the margin covers a slow upload still arriving and a job created a little
later. Its row goes from the videos table, its object from the store. The uploads bucket's
lifecycle rule (deploy/terraform/s3.tf) expires whatever is left under ``uploads/`` later.
"""

import datetime as dt

import dagster as dg
from sqlalchemy import delete, exists, select

from frameforge_core import layout
from frameforge_core.database import rows_changed
from frameforge_core.models import Video, VideoJob, utcnow
from frameforge_pipeline.resources import AppDatabase, FrameStore

URL_LIFETIME = dt.timedelta(minutes=15)  # LinkSettings.url_ttl_seconds' default
KEEP = URL_LIFETIME + dt.timedelta(hours=6)
BATCH = 500


def sweep(database: AppDatabase, storage: FrameStore, created_before: dt.datetime) -> int:
    """Delete the slots asked for before ``created_before`` that were never confirmed and
    have no job; returns how many."""
    unconfirmed = (
        Video.uploaded_at.is_(None),
        Video.created_at < created_before,
        ~exists().where(VideoJob.video_id == Video.id),
    )
    swept = 0
    with database.session() as session:
        ids = list(session.scalars(select(Video.id).where(*unconfirmed).limit(BATCH)))
        for video_id in ids:
            # the row first, on the same conditions: a job created meanwhile keeps its video
            if rows_changed(session, delete(Video).where(Video.id == video_id, *unconfirmed)):
                session.commit()
                storage.delete_prefix(layout.upload_prefix(video_id))
                swept += 1
            else:
                session.rollback()
    return swept


@dg.sensor(
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Deletes upload slots never confirmed by a job, 6 h after their URL expired.",
)
def upload_retention(database: AppDatabase, storage: FrameStore) -> dg.SkipReason:
    swept = sweep(database, storage, created_before=utcnow() - KEEP)
    return dg.SkipReason(f"{swept} unconfirmed upload slots older than {KEEP} deleted")
