"""Upload slots: a video id and where to send its bytes (the API itself in the embedded
default, a presigned S3 PUT in production); receiving and confirming uploads."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator

from sqlalchemy import update
from sqlalchemy.orm import Session

from frameforge_api.core.config import Settings
from frameforge_api.services import expiry, quotas
from frameforge_core import layout, signing
from frameforge_core.database import rows_changed
from frameforge_core.errors import Conflict, EmptyUpload, TooLarge
from frameforge_core.models import User, Video, new_id
from frameforge_core.signing import SignedUrl
from frameforge_pipeline.resources import FrameStore


def create_slot(
    session: Session,
    user: User,
    filename: str,
    content_type: str,
    size_bytes: int | None,
    settings: Settings,
    storage: FrameStore,
    now: dt.datetime,
) -> tuple[Video, SignedUrl]:
    """A new video id and the URL to PUT its bytes to. Raises TooLarge when too big,
    QuotaExceeded when the user's storage quota has no room for it: the slot reserves
    ``size_bytes``, or the largest upload allowed when it is not declared, until its upload
    is confirmed (its first job) or swept, unused."""
    if size_bytes is not None and size_bytes > settings.max_upload_bytes:
        limit, size = quotas.size_text(settings.max_upload_bytes), quotas.size_text(size_bytes)
        raise TooLarge(f"uploads are limited to {limit}; this file is {size}")
    quotas.hold(session, user.id)  # until the commit: the slot counts before the next check
    quotas.check_upload(session, user.id, size_bytes, settings)
    video_id = new_id()
    video = Video(
        id=video_id,
        user_id=user.id,
        filename=filename,
        content_type=content_type,
        storage_key=layout.upload_prefix(video_id) + layout.safe_filename(filename),
        max_bytes=min(size_bytes or settings.max_upload_bytes, settings.max_upload_bytes),
    )
    session.add(video)
    session.commit()
    signed: dict[str, str | int] = {"ContentType": content_type}
    if size_bytes is not None:  # signed: S3 refuses a body of any other length (403)
        signed["ContentLength"] = size_bytes
    direct = storage.presigned_url("PUT", video.storage_key, settings.url_ttl_seconds, **signed)
    if direct:  # S3: the bytes go straight to the bucket, not through the API
        return video, SignedUrl(direct, now + dt.timedelta(seconds=settings.url_ttl_seconds))
    return video, signing.upload_url(settings, video_id, now)


async def receive(
    session: Session,
    video: Video,
    body: AsyncIterator[bytes],
    declared_length: int | None,
    storage: FrameStore,
    now: dt.datetime,
) -> Video:
    """Stream the request body into the store, at most ``video.max_bytes``.

    Raises TooLarge beyond the limit (nothing is stored), Conflict when the video was
    already uploaded, EmptyUpload for an empty body.
    """
    if video.uploaded_at is not None:
        raise Conflict("this video has already been uploaded")
    if declared_length is not None and declared_length > video.max_bytes:
        raise TooLarge(f"the upload is larger than the {video.max_bytes} bytes announced")
    received = 0
    with storage.open_write(video.storage_key) as target:
        async for chunk in body:
            received += len(chunk)
            if received > video.max_bytes:
                raise TooLarge(f"the upload is larger than the {video.max_bytes} bytes allowed")
            target.write(chunk)
        if received == 0:
            raise EmptyUpload("the upload is empty")
        claimed = rows_changed(  # before the file is put in place: one upload wins
            session,
            update(Video)
            .where(Video.id == video.id, Video.uploaded_at.is_(None))
            .values(size_bytes=received, uploaded_at=now),
        )
        if claimed != 1:
            session.rollback()
            raise Conflict("this video has already been uploaded")
        session.commit()
    session.refresh(video)
    return video


def _size(storage: FrameStore, key: str) -> int | None:
    try:
        return storage.size(key)
    except FileNotFoundError:
        return None


def confirm_upload(
    session: Session, video: Video, storage: FrameStore, now: dt.datetime, retention_days: int
) -> None:
    """Make the upload the video's source, once: move it from where the upload URL puts it
    to ``sources/`` (layout.source_key), which no URL reaches, so bytes sent after the job
    exists (a presigned PUT again, within its 15 minutes) never reach a run.

    Raises Conflict when nothing has arrived (or the slot expired meanwhile), TooLarge (and
    drops the object) when more arrived than announced or allowed, Expired when retention
    deleted the file.
    """
    if video.expired_at is not None:
        raise expiry.expired(
            "the file and the frames of this video", video.expired_at, retention_days
        )
    source = layout.source_key(video.storage_key)
    if (size := _size(storage, source)) is None:  # not confirmed yet (else: a later job)
        with contextlib.suppress(FileNotFoundError):  # not uploaded, or moved by a job
            storage.move(video.storage_key, source)  # created at the same moment
        if (size := _size(storage, source)) is None:
            raise Conflict(f"video {video.id} has not been uploaded yet")
    if size > video.max_bytes:  # S3 refuses a PUT of another length than announced; this,
        storage.delete_prefix(layout.source_prefix(video.id))  # a larger unannounced one
        raise TooLarge(f"the upload is larger than the {video.max_bytes} bytes allowed")
    if video.uploaded_at is not None:  # received by the API itself (embedded)
        return
    claimed = rows_changed(
        session,
        update(Video)
        .where(Video.id == video.id, Video.uploaded_at.is_(None))
        .values(size_bytes=size, uploaded_at=now),
    )
    session.commit()
    if claimed != 1 and session.get(Video, video.id, populate_existing=True) is None:
        storage.delete_prefix(layout.source_prefix(video.id))
        raise Conflict(f"the upload slot of video {video.id} expired before a job was created")
    session.refresh(video)
