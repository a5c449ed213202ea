"""frame_index_daily: the frame index compacted into one Parquet file per day, so a query
over every frame reads tens of files, not one per extraction (frame_index_store has the
rule that keeps rows neither lost nor counted twice)."""

import datetime as dt

import dagster as dg

from frameforge_core import layout
from frameforge_pipeline import frame_index_store
from frameforge_pipeline.resources import FrameStore

GROUP = "analytics"
COMPACTION_POOL = "frame_index_compaction"  # one compaction at a time (dagster.yaml: limit 1)
days = dg.DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC")


@dg.asset(
    partitions_def=days,
    group_name=GROUP,
    code_version="1",
    kinds={"parquet"},
    pool=COMPACTION_POOL,
    backfill_policy=dg.BackfillPolicy.single_run(),  # a backfill's days one after the other
    deps=[dg.AssetDep("frame_index", partition_mapping=dg.AllPartitionMapping())],
)
def frame_index_daily(
    context: dg.AssetExecutionContext, storage: FrameStore
) -> dg.MaterializeResult[None]:
    """The rows of extractions made on the day (or earlier and not compacted yet), moved out
    of their fresh files; partitions re-extracted since or dropped are taken out of every
    other day. Rerunning a day is harmless; a backfill compacts its days in order, in one
    run."""
    done = [
        frame_index_store.compact(storage, dt.date.fromisoformat(key))
        for key in context.partition_keys
    ]
    left = frame_index_store.read_state(storage)
    last = layout.daily_index_key(done[-1].day)
    return dg.MaterializeResult(
        metadata={
            "rows": sum(day.rows for day in done),
            "partitions_moved": sum(day.moved for day in done),
            "other_days_rewritten": sum(day.rewritten for day in done),
            "drop_markers_deleted": sum(day.markers_deleted for day in done),
            "daily_files": len(left.daily),
            "fresh_files_left": sum(len(files) for files in left.fresh.values()),
            "location": dg.MetadataValue.url(storage.uri(last)),
        }
    )
