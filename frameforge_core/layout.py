"""Where each artifact of a video lives in the store: one definition for every component.

Keys are '/'-separated paths relative to the store's root (a directory or a bucket).
"""

from __future__ import annotations

import datetime as dt
import re

_VIDEO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
DIGEST_LENGTH = 12  # hex digits naming a rendition's options, after the video id and a '.'
_DIGEST = re.compile(rf"[0-9a-f]{{{DIGEST_LENGTH}}}")


def check_video_id(video_id: str) -> str:
    """Return ``video_id`` if it is safe as a path segment; raise ValueError otherwise."""
    if not _VIDEO_ID.match(video_id):
        raise ValueError(f"invalid video id {video_id!r}: use 1-64 letters, digits, '-' or '_'")
    return video_id


def check_partition_key(partition_key: str) -> str:
    """Return ``partition_key`` if it names a rendition: ``<video id>`` (a job made before
    renditions) or ``<video id>.<12 hex digits>`` (``frameforge_core.renditions``). A video
    id has no '.', so the video is always the part before it. Raise ValueError otherwise."""
    video_id_of(partition_key)
    return partition_key


def video_id_of(partition_key: str) -> str:
    """The video a partition (a rendition) was extracted from: ``abc.0123456789ab`` -> ``abc``.
    Raises ValueError for anything but a partition key."""
    video_id, dot, digest = partition_key.partition(".")
    if not _VIDEO_ID.fullmatch(video_id) or (dot and not _DIGEST.fullmatch(digest)):
        raise ValueError(
            f"invalid partition key {partition_key!r}: use a video id, optionally followed "
            f"by '.' and {DIGEST_LENGTH} lowercase hex digits"
        )
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


# What a run makes is per partition key (one rendition of a video), not per video id.


def frames_prefix(partition_key: str) -> str:
    return f"frames/{check_partition_key(partition_key)}/"


def segments_prefix(partition_key: str) -> str:
    """Where the segments of a split extraction leave their frames until the join names
    them (frameforge_pipeline/assets/frames.py); empty once the frames are joined."""
    return f"segments/{check_partition_key(partition_key)}/"


def results_prefix(partition_key: str) -> str:
    """The manifest, the ZIP and the storyboard of a rendition."""
    return f"results/{check_partition_key(partition_key)}/"


def manifest_key(partition_key: str) -> str:
    return results_prefix(partition_key) + "manifest.json"


def zip_key(partition_key: str) -> str:
    return results_prefix(partition_key) + "frames.zip"


# The frame index (frameforge_pipeline/frame_index_store.py has the rule that reads
# it): each extraction writes a fresh file named by its generation (its extraction time);
# compaction moves fresh rows into one file per day; a dropped partition leaves a marker
# until compaction has removed its rows.
def storyboard_prefix(partition_key: str) -> str:
    """The storyboard's sprite sheets and ``storyboard.vtt``, next to the ZIP."""
    return results_prefix(partition_key) + "storyboard/"


def storyboard_key(partition_key: str, name: str) -> str:
    """One file of the storyboard: ``storyboard.vtt`` or ``sheet_000.jpg``…"""
    if "/" in name or name.startswith("."):
        raise ValueError(f"not a storyboard file name: {name!r}")
    return storyboard_prefix(partition_key) + name


FRAME_INDEX_PREFIX = "frame_index/"
FRESH_INDEX_PREFIX = f"{FRAME_INDEX_PREFIX}fresh/"
DAILY_INDEX_PREFIX = f"{FRAME_INDEX_PREFIX}daily/"
DROPPED_INDEX_PREFIX = f"{FRAME_INDEX_PREFIX}dropped/"
_GENERATION = "%Y%m%dT%H%M%S%fZ"  # sorts as it happened
_GENERATION_KEY = re.compile(r"^(?P<partition>[^/]+)/(?P<generation>\d{8}T\d{12}Z)/[^/]+$")


def generation(when: dt.datetime) -> str:
    """An extraction's (or a drop's) time as a key segment: ``20261201T115253123456Z``."""
    return when.astimezone(dt.UTC).strftime(_GENERATION)


def generation_time(name: str) -> dt.datetime:
    """The time ``generation`` wrote as ``name``. Raises ValueError for anything else."""
    return dt.datetime.strptime(name, _GENERATION).replace(tzinfo=dt.UTC)


def generation_folder(partition_key: str, when: dt.datetime) -> str:
    """``<partition>/<generation>/``: a folder per file, which the store can delete."""
    return f"{check_partition_key(partition_key)}/{generation(when)}/"


def generation_prefix(partition_key: str) -> str:
    """The folder of one partition's generations."""
    return f"{check_partition_key(partition_key)}/"


def frame_index_key(partition_key: str, extracted_at: dt.datetime) -> str:
    """The fresh rows of one extraction of a partition, until compaction moves them."""
    name = f"{generation_folder(partition_key, extracted_at)}frames.parquet"
    return FRESH_INDEX_PREFIX + name


def dropped_index_key(partition_key: str, dropped_at: dt.datetime) -> str:
    """The marker of a dropped partition: rows extracted before ``dropped_at`` are gone."""
    name = f"{generation_folder(partition_key, dropped_at)}dropped"
    return DROPPED_INDEX_PREFIX + name


def generation_of(key: str, prefix: str) -> tuple[str, dt.datetime]:
    """(partition key, time) of a fresh file or a drop marker under ``prefix``; each is alone
    in a folder of its own (``key_folder``), which the store can delete. Raises ValueError
    for a key of another shape."""
    found = _GENERATION_KEY.match(key.removeprefix(prefix)) if key.startswith(prefix) else None
    if found is None:
        raise ValueError(f"not a frame index key under {prefix}: {key!r}")
    partition = check_partition_key(found["partition"])
    return partition, generation_time(found["generation"])


def key_folder(key: str) -> str:
    """The folder holding ``key`` alone: what ``FrameStore.delete_prefix`` removes."""
    return key.rsplit("/", 1)[0] + "/"


def daily_index_key(day: dt.date) -> str:
    """The rows compacted by the run of ``day`` (UTC): partitions last extracted that day."""
    return f"{DAILY_INDEX_PREFIX}day={day.isoformat()}/frames.parquet"


_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """A user's file name as a safe key segment: ``../My Clip (1).MOV`` -> ``My_Clip_1_.MOV``."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME_CHARS.sub("_", base).strip("._") or "video"
    return cleaned[-120:]
