"""Where each artifact of a video lives in the store: one definition for every component.

Keys are '/'-separated paths relative to the store's root (a directory or a bucket).
"""

from __future__ import annotations

import re

_VIDEO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_video_id(video_id: str) -> str:
    """Return ``video_id`` if it is safe as a path segment; raise ValueError otherwise."""
    if not _VIDEO_ID.match(video_id):
        raise ValueError(f"invalid video id {video_id!r}: use 1-64 letters, digits, '-' or '_'")
    return video_id


UPLOADS_PREFIX = "uploads/"
SOURCES_PREFIX = "sources/"
# Both live in the uploads bucket of the S3 store; only uploads/ expires (deploy/terraform).


def upload_prefix(video_id: str) -> str:
    """Where the upload URL puts the file, alone under this prefix, under its original name.
    Until the job is created it may be replaced (a presigned PUT can be sent again)."""
    return f"{UPLOADS_PREFIX}{check_video_id(video_id)}/"


def source_prefix(video_id: str) -> str:
    """Where the upload is moved when its first job is created: no upload URL reaches it,
    so what a job processes cannot change after it was confirmed."""
    return f"{SOURCES_PREFIX}{check_video_id(video_id)}/"


def source_key(upload_key: str) -> str:
    """The confirmed copy of the upload at ``upload_key`` (``uploads/<id>/<file>``)."""
    if not upload_key.startswith(UPLOADS_PREFIX):
        raise ValueError(f"not an upload key: {upload_key!r}")
    return SOURCES_PREFIX + upload_key.removeprefix(UPLOADS_PREFIX)


def frames_prefix(video_id: str) -> str:
    return f"frames/{check_video_id(video_id)}/"


def manifest_key(video_id: str) -> str:
    return f"results/{check_video_id(video_id)}/manifest.json"


def zip_key(video_id: str) -> str:
    return f"results/{check_video_id(video_id)}/frames.zip"


FRAME_INDEX_PREFIX = "frame_index/"


def frame_index_key(video_id: str) -> str:
    """One Parquet file per video, hive-partitioned so DuckDB sees a ``video_id`` column."""
    return f"{FRAME_INDEX_PREFIX}video_id={check_video_id(video_id)}/frames.parquet"


_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """A user's file name as a safe key segment: ``../My Clip (1).MOV`` -> ``My_Clip_1_.MOV``."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME_CHARS.sub("_", base).strip("._") or "video"
    return cleaned[-120:]
