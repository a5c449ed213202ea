import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.convertors import Convertor, register_url_convertor

from frameforge_api.api.deps import CurrentUser, InstanceDep, SessionDep, SettingsDep, StorageDep
from frameforge_api.api.schemas import UploadedOut, UploadUrlIn, UploadUrlOut
from frameforge_api.core import downloads
from frameforge_api.services import deletion, expiry, uploads
from frameforge_core import layout, signing
from frameforge_core.errors import NotFound
from frameforge_core.models import Video, VideoJob
from frameforge_pipeline.resources import FrameStore

router = APIRouter(tags=["videos"])
SIGNATURE = r"^[0-9a-f]{64}$"


class VideoIdConvertor(Convertor[str]):
    """A video id in a path: any segment but the paths of their own beside it, so that
    ``DELETE /videos/jobs`` is a 405 (the path allows GET and POST), not "no such video"."""

    regex = "(?!(?:jobs|upload-url)$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("video_id", VideoIdConvertor())


@router.post("/videos/upload-url", response_model=UploadUrlOut)
def upload_url(
    body: UploadUrlIn,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> UploadUrlOut:
    """A video id and a signed URL (15 min) to PUT the file to, with these headers."""
    video, signed = uploads.create_slot(
        session,
        user,
        body.filename,
        body.content_type,
        body.size_bytes,
        settings,
        storage,
        dt.datetime.now(dt.UTC),
    )
    return UploadUrlOut(
        video_id=video.id,
        upload_url=signed.url,
        headers={"Content-Type": body.content_type},
        expires_at=signed.expires_at,
    )


@router.put(
    "/uploads/{video_id}",
    response_model=UploadedOut,
    status_code=status.HTTP_201_CREATED,
    # the body is read as a stream (request.stream()), so FastAPI cannot declare it itself
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The video's bytes, sent with the headers from upload-url.",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def receive_upload(
    video_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(pattern=SIGNATURE)],
    content_length: Annotated[int | None, Header()] = None,
) -> UploadedOut:
    """The bytes of a video, to the URL from upload-url. The signature is the credential."""
    now = dt.datetime.now(dt.UTC)
    signing.check_signature(settings, signing.upload_purpose(video_id), expires, signature, now)
    video = session.get(Video, video_id)
    if video is None:
        raise NotFound("no such upload")
    video = await uploads.receive(session, video, request.stream(), content_length, storage, now)
    return UploadedOut(video_id=video.id, size_bytes=video.size_bytes or 0)


@router.get(
    "/downloads/{job_id}",
    response_class=FileResponse,
    responses={307: {"description": "Redirect to the object store"}},
)
def download(
    job_id: str,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(pattern=SIGNATURE)],
) -> Response:
    """The ZIP of a completed job, from the signed URL in the job's ``downloadUrl``: served
    from the local store, or a redirect to a presigned URL of the S3 store."""
    now = dt.datetime.now(dt.UTC)
    signing.check_signature(settings, signing.download_purpose(job_id), expires, signature, now)
    job = session.query(VideoJob).filter_by(id=job_id).one_or_none()
    if job is None:
        raise NotFound("no such job")
    if job.results_expired_at is not None:
        raise expiry.expired(
            "the frames of this job", job.results_expired_at, settings.retention_days
        )
    return stored_file(
        storage,
        layout.zip_key(job.partition_key),
        settings.url_ttl_seconds,
        "application/zip",
        missing="the frames of this job are not available",
        disposition=downloads.content_disposition(job.file_name),
    )


def stored_file(
    storage: FrameStore,
    key: str,
    ttl_seconds: int,
    media_type: str,
    missing: str,
    disposition: str | None = None,
) -> Response:
    """An object of the store for a signed link: the local store's file, or a redirect to a
    presigned URL of the S3 store (which answers with ``disposition`` as its
    Content-Disposition too). Raises NotFound(``missing``) when it is not there."""
    try:
        storage.size(key)
    except FileNotFoundError:
        raise NotFound(missing) from None
    extra = {"ResponseContentDisposition": disposition} if disposition else {}
    direct = storage.presigned_url("GET", key, ttl_seconds, **extra)
    if direct:
        return RedirectResponse(direct, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    headers = {"Content-Disposition": disposition} if disposition else None
    with storage.local_path(key) as path:  # the local store's own file: it outlives the block
        return FileResponse(path, media_type=media_type, headers=headers)


@router.delete(
    "/videos/{video_id:video_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def delete_video(
    video_id: str,
    user: CurrentUser,
    session: SessionDep,
    instance: InstanceDep,
    storage: StorageDep,
) -> Response:
    """Delete a video for good: its live job is cancelled; its jobs, file, frames, ZIPs and
    frame index rows go. 404 for an id that is not one of your videos."""
    deletion.delete_video(session, instance, storage, user, video_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
