"""Renditions: one video extracted with one set of options, the unit a Dagster partition,
its frames, manifest, ZIP and frame index rows belong to.

A rendition's key is ``<video id>.<digest>``, the digest naming the options: the same
options on the same video are the same rendition (its result is reused, never extracted
twice), other options another one. Jobs made before renditions existed keep the video id
itself as their key, so what they made stays where it is.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from frameforge_core import layout
from frameforge_core.models import VideoJob


def options_digest(options: BaseModel) -> str:
    """The first hex digits of the sha256 of the options' canonical JSON.

    Options left at their defaults are left out, so adding an option (with a default that
    keeps today's output) does not rename every existing rendition. The engine's version is
    left out too: an engine upgrade makes a rendition stale, to be re-extracted in place
    (a backfill of its partition), not a new rendition.
    """
    canonical = json.dumps(
        options.model_dump(mode="json", exclude_defaults=True),
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[: layout.DIGEST_LENGTH]


def rendition_key(video_id: str, options: BaseModel) -> str:
    """The partition key of ``video_id`` extracted with ``options`` (ExtractOptions, whose
    validation normalizes them: ``{"maxWidth": 640}`` and ``{"max_width": 640.0}`` agree)."""
    return f"{layout.check_video_id(video_id)}.{options_digest(options)}"


def partition_keys_of_video(session: Session, video_id: str) -> list[str]:
    """Every partition key a job of ``video_id`` has used (whatever the job's status: a failed
    job may have made some of its assets), for dropping all of a video's results."""
    keys = select(VideoJob.partition_key).where(VideoJob.video_id == video_id).distinct()
    return sorted(session.scalars(keys))
