"""Every night, the frame index rows of the day that just ended are compacted into one file."""

import datetime as dt

import dagster as dg

from frameforge_pipeline.assets.frame_index_daily import frame_index_daily
from frameforge_pipeline.loggers import RUN_LOGGERS

compact_frame_index = dg.define_asset_job(
    "compact_frame_index",
    selection=[frame_index_daily],
    description="Moves a day's fresh frame index files into that day's file.",
    config=RUN_LOGGERS,
)


@dg.schedule(
    job=compact_frame_index,
    cron_schedule="30 0 * * *",  # a straggler written later goes into the next day's
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="At 00:30 UTC, compacts the frame index rows of the day that just ended.",
)
def frame_index_compaction(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    day = (when.astimezone(dt.UTC) - dt.timedelta(days=1)).date()
    return dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())
