"""A job's storyboard, for timeline previews: its WebVTT file and its sprite sheets.

The VTT is read with the user's token; its cues reference the sheets by signed URLs
(15 min, like the ZIP's download link), so a video player or an <img> fetches them with
no token of its own.
"""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response

from frameforge_api.api.deps import CurrentUser, SessionDep, SettingsDep, StorageDep
from frameforge_api.api.routes.videos import SIGNATURE, stored_file
from frameforge_api.services import expiry, jobs
from frameforge_core import layout, signing
from frameforge_core.errors import NotFound
from frameforge_core.models import VideoJob
from frameforge_pipeline.engine.storyboard_names import VTT_NAME, is_sheet_name, with_sheet_urls

router = APIRouter(tags=["storyboards"])
VTT_MEDIA_TYPE = "text/vtt"


def storyboard_purpose(job_id: str) -> str:
    """What a sheet URL's signature is for: every sheet of one job's storyboard."""
    return f"storyboard:{job_id}"


@router.get(
    "/videos/jobs/{job_id}/storyboard.vtt",
    response_class=Response,
    responses={200: {"content": {VTT_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
def get_storyboard(
    job_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep, storage: StorageDep
) -> Response:
    """The WebVTT file of the job's storyboard: one cue per frame, ``<sheet URL>#xywh=x,y,w,h``
    with signed sheet URLs valid 15 min. 404 when the job made no storyboard (yet): ask for
    one with the ``storyboard`` option; 410 once retention deleted the job's results."""
    job = jobs.get(session, user, job_id)
    if job.results_expired_at is not None:
        raise expiry.expired(
            "the storyboard and frames of this job", job.results_expired_at, settings.retention_days
        )
    try:
        with storage.open_read(layout.storyboard_key(job.partition_key, VTT_NAME)) as stream:
            vtt = stream.read().decode()
    except FileNotFoundError:
        raise NotFound("this job has no storyboard") from None
    now = dt.datetime.now(dt.UTC)

    def sheet_url(name: str) -> str:
        path = f"/storyboards/{job_id}/{name}"
        return signing.signed_url(settings, path, storyboard_purpose(job_id), now).url

    return Response(with_sheet_urls(vtt, sheet_url), media_type=VTT_MEDIA_TYPE)


@router.get(
    "/storyboards/{job_id}/{name}",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
        307: {"description": "Redirect to the object store"},
    },
)
def get_storyboard_sheet(
    job_id: str,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(pattern=SIGNATURE)],
) -> Response:
    """One sprite sheet of a storyboard (JPEG), from the signed URL in its VTT: served from
    the local store, or a redirect to a presigned URL of the S3 store. 410 once retention
    deleted the job's results, 404 for any name but a sheet's."""
    now = dt.datetime.now(dt.UTC)
    signing.check_signature(settings, storyboard_purpose(job_id), expires, signature, now)
    job = session.query(VideoJob).filter_by(id=job_id).one_or_none()
    if job is None or not is_sheet_name(name):
        raise NotFound("no such storyboard sheet")
    if job.results_expired_at is not None:
        raise expiry.expired(
            "the storyboard and frames of this job", job.results_expired_at, settings.retention_days
        )
    key = layout.storyboard_key(job.partition_key, name)
    return stored_file(
        storage, key, settings.url_ttl_seconds, "image/jpeg", missing="no such storyboard sheet"
    )
