"""frame_index: one Parquet row per extracted frame, so analysts can query every frame in SQL."""

import datetime as dt

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from frameforge_core import layout
from frameforge_pipeline.assets.extraction import GROUP
from frameforge_pipeline.engine.manifest import Manifest
from frameforge_pipeline.partitions import videos
from frameforge_pipeline.resources import FrameStore

SCHEMA = pa.schema(
    [
        ("frame_index", pa.int32()),
        ("timestamp_ms", pa.float64()),
        ("file", pa.string()),
        ("bytes", pa.int64()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("sha256", pa.string()),
        ("format", pa.string()),
        ("zip_key", pa.string()),
        ("extracted_at", pa.timestamp("ms", tz="UTC")),
    ]
)


def frame_table(video_id: str, manifest: Manifest) -> pa.Table:
    """The rows of one video; ``video_id`` itself comes from the hive-style directory name."""
    frames = manifest["frames"]
    now = dt.datetime.now(dt.UTC)
    return pa.table(
        {
            "frame_index": [f["index"] for f in frames],
            "timestamp_ms": [f["timestamp_ms"] for f in frames],
            "file": [f["file"] for f in frames],
            "bytes": [f["bytes"] for f in frames],
            "width": [f["width"] for f in frames],
            "height": [f["height"] for f in frames],
            "sha256": [f["sha256"] for f in frames],
            "format": [manifest["options"]["format"]] * len(frames),
            "zip_key": [layout.zip_key(video_id)] * len(frames),
            "extracted_at": [now] * len(frames),
        },
        schema=SCHEMA,
    )


@dg.asset(partitions_def=videos, group_name=GROUP, code_version="1", kinds={"parquet"})
def frame_index(
    context: dg.AssetExecutionContext, manifest: Manifest, storage: FrameStore
) -> dg.MaterializeResult[None]:
    """Rows under frame_index/video_id=<id>/; a rerun replaces that video's rows."""
    key = layout.frame_index_key(context.partition_key)
    table = frame_table(context.partition_key, manifest)
    with storage.open_write(key) as stream:
        pq.write_table(table, stream, compression="zstd")
    return dg.MaterializeResult(
        metadata={"rows": table.num_rows, "location": dg.MetadataValue.url(storage.uri(key))}
    )
