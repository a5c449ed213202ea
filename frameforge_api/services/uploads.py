"""Upload slots and signed URLs for the embedded default (the API receives the bytes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import update
from sqlalchemy.orm import Session

from frameforge_api.core.config import Settings
from frameforge_api.core.errors import Problem
from frameforge_api.core.security import sign, signature_matches
from frameforge_core import layout
from frameforge_core.database import rows_changed
from frameforge_core.models import User, Video, new_id
from frameforge_pipeline.resources import FrameStore


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: dt.datetime


def _signed(
    settings: Settings, path: str, purpose: str, now: dt.datetime, ttl_seconds: int | None = None
) -> SignedUrl:
    ttl = settings.url_ttl_seconds if ttl_seconds is None else ttl_seconds
    expires_at = now + dt.timedelta(seconds=ttl)
    expires = int(expires_at.timestamp())
    signature = sign(f"{purpose}:{expires}", settings.signing_key)
    query = urlencode({"expires": expires, "signature": signature})
    return SignedUrl(f"{settings.public_url.rstrip('/')}/api/v1{path}?{query}", expires_at)


def check_signature(
    settings: Settings, purpose: str, expires: int, signature: str, now: dt.datetime
) -> None:
    """Raises Problem(403) for a wrong signature and Problem(410) for an expired URL."""
    if not signature_matches(f"{purpose}:{expires}", signature, settings.signing_key):
        raise Problem(403, "the signature of this URL is not valid")
    if now.timestamp() > expires:
        raise Problem(410, "this URL has expired; ask for a new one")


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
    """A new video id and the URL to PUT its bytes to. Raises Problem(413) when too big."""
    if size_bytes is not None and size_bytes > settings.max_upload_bytes:
        raise Problem(413, f"uploads are limited to {settings.max_upload_bytes} bytes")
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
    direct = storage.presigned_url(
        "PUT", video.storage_key, settings.url_ttl_seconds, ContentType=content_type
    )
    if direct:  # S3: the bytes go straight to the bucket, not through the API
        return video, SignedUrl(direct, now + dt.timedelta(seconds=settings.url_ttl_seconds))
    return video, _signed(settings, f"/uploads/{video_id}", f"upload:{video_id}", now)


async def receive(
    session: Session,
    video: Video,
    body: AsyncIterator[bytes],
    declared_length: int | None,
    storage: FrameStore,
    now: dt.datetime,
) -> Video:
    """Stream the request body into the store, at most ``video.max_bytes``.

    Raises Problem(413) beyond the limit (nothing is stored), Problem(409) when the video
    was already uploaded, Problem(400) for an empty body.
    """
    if video.uploaded_at is not None:
        raise Problem(409, "this video has already been uploaded")
    if declared_length is not None and declared_length > video.max_bytes:
        raise Problem(413, f"the upload is larger than the {video.max_bytes} bytes announced")
    received = 0
    with storage.open_write(video.storage_key) as target:
        async for chunk in body:
            received += len(chunk)
            if received > video.max_bytes:
                raise Problem(413, f"the upload is larger than the {video.max_bytes} bytes allowed")
            target.write(chunk)
        if received == 0:
            raise Problem(400, "the upload is empty")
        claimed = rows_changed(  # before the file is put in place: one upload wins
            session,
            update(Video)
            .where(Video.id == video.id, Video.uploaded_at.is_(None))
            .values(size_bytes=received, uploaded_at=now),
        )
        if claimed != 1:
            session.rollback()
            raise Problem(409, "this video has already been uploaded")
        session.commit()
    session.refresh(video)
    return video


def confirm_upload(session: Session, video: Video, storage: FrameStore, now: dt.datetime) -> None:
    """Notice an upload that went straight to the store (a presigned PUT).

    Raises Problem(409) when nothing has arrived, Problem(413) (and drops the object) when
    more arrived than the limit allows.
    """
    if video.uploaded_at is not None:
        return
    try:
        size = storage.size(video.storage_key)
    except FileNotFoundError:
        raise Problem(409, f"video {video.id} has not been uploaded yet") from None
    if size > video.max_bytes:
        storage.delete_prefix(video.storage_key)
        raise Problem(413, f"the upload is larger than the {video.max_bytes} bytes allowed")
    rows_changed(
        session,
        update(Video)
        .where(Video.id == video.id, Video.uploaded_at.is_(None))
        .values(size_bytes=size, uploaded_at=now),
    )
    session.commit()
    session.refresh(video)


def download_url(
    settings: Settings, job_id: str, now: dt.datetime, ttl_seconds: int | None = None
) -> SignedUrl:
    """The API's signed link to a job's ZIP, valid ``ttl_seconds`` (default
    ``settings.url_ttl_seconds``; an email's link needs longer, see email_link_ttl_seconds)."""
    return _signed(settings, f"/downloads/{job_id}", f"download:{job_id}", now, ttl_seconds)
