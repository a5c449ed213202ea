"""frame_index: one row per extracted frame, with whose video it is and what the picture
looks like, so analysts query every frame in SQL (``frameforge query``)."""

import datetime as dt
from typing import Any

import dagster as dg
import pyarrow as pa

from frameforge_core import layout
from frameforge_pipeline import frame_index_store
from frameforge_pipeline.assets.extraction import GROUP
from frameforge_pipeline.engine.extractor import ENGINE_VERSION
from frameforge_pipeline.engine.manifest import Manifest
from frameforge_pipeline.partition_jobs import partition_job
from frameforge_pipeline.partitions import videos
from frameforge_pipeline.resources import AppDatabase, FrameStore

SOURCE_SHA256 = "sha256"  # source_video's metadata: the sha256 of the uploaded file
OWNER_COLUMNS = ("job_id", "user_id", "file_name", "video_sha256")


def frame_table(
    partition_key: str,
    manifest: Manifest,
    owner: dict[str, str | None],
    extracted_at: dt.datetime,
    engine_version: str,
) -> pa.Table:
    """The rows of one extraction; ``owner`` has the OWNER_COLUMNS."""
    frames = manifest["frames"]
    prefix = layout.frames_prefix(partition_key)

    def same(value: Any) -> list[Any]:
        return [value] * len(frames)

    columns: dict[str, list[Any]] = {
        "video_id": same(layout.video_id_of(partition_key)),
        **{name: same(owner.get(name)) for name in OWNER_COLUMNS},
        "frame_index": [f["index"] for f in frames],
        "timestamp_ms": [f["timestamp_ms"] for f in frames],
        "keyframe": [f.get("keyframe") for f in frames],
        "width": [f["width"] for f in frames],
        "height": [f["height"] for f in frames],
        "bytes": [f["bytes"] for f in frames],
        "image_key": [prefix + f["file"] for f in frames],
        "phash": [int(f["phash"], 16) if f.get("phash") else None for f in frames],
        "brightness": [f.get("brightness") for f in frames],  # None: a manifest made before
        "sharpness": [f.get("sharpness") for f in frames],  # the stats (or keyframe) existed
        "extracted_at": same(extracted_at),
        "engine_version": same(engine_version),
        "partition_key": same(partition_key),
        "codec": same(manifest["video"].get("codec")),
    }
    return pa.table(columns, schema=frame_index_store.SCHEMA)


def _latest(context: dg.AssetExecutionContext, asset: str) -> dg.EventLogRecord | None:
    """The newest materialization of an upstream asset for this partition."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(dg.AssetKey(asset), asset_partitions=[context.partition_key]),
        limit=1,
    ).records
    return records[0] if records else None


def _owner(context: dg.AssetExecutionContext, database: AppDatabase) -> dict[str, str | None]:
    """Job, user and file name from the app database (a backfill's run has no job tags),
    and the source file's sha256 that source_video computed."""
    with database.session() as session:
        job = partition_job(session, context.partition_key)
    source = _latest(context, "source_video")
    metadata = (
        source.asset_materialization.metadata if source and source.asset_materialization else {}
    )
    sha256 = metadata.get(SOURCE_SHA256)
    return {
        "job_id": job.job_id if job else None,
        "user_id": job.user_id if job else None,
        "file_name": job.file_name if job else None,
        "video_sha256": str(sha256.value) if sha256 is not None else None,
    }


def _engine_version(context: dg.AssetExecutionContext) -> str:
    """The engine that made the frames: the code version of their materialization."""
    frames = _latest(context, "frames")
    tags = frames.asset_materialization.tags if frames and frames.asset_materialization else None
    return (tags or {}).get("dagster/code_version", ENGINE_VERSION)


@dg.asset(
    partitions_def=videos,
    group_name=GROUP,
    code_version="2",
    kinds={"parquet"},
)
def frame_index(
    context: dg.AssetExecutionContext,
    manifest: Manifest,
    storage: FrameStore,
    database: AppDatabase,
) -> dg.MaterializeResult[None]:
    """One row per frame, in a fresh Parquet file per extraction (compacted daily by
    frame_index_daily); a rerun replaces the partition's rows."""
    extracted_at = dt.datetime.now(dt.UTC)
    table = frame_table(
        context.partition_key, manifest, _owner(context, database), extracted_at,
        _engine_version(context),
    )  # fmt: skip
    key = frame_index_store.add_extraction(storage, context.partition_key, table, extracted_at)
    return dg.MaterializeResult(
        metadata={"rows": table.num_rows, "location": dg.MetadataValue.url(storage.uri(key))}
    )
