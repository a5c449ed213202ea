"""Assembles the code location; each part lives in a module of its own."""

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from frameforge_core import heap
from frameforge_core.settings import OperationsSettings

# Dagster's notes that a parameter we use (backfill_policy) is beta: for whoever upgrades the
# pin, not for the operators reading every process's log (runs print them before any logger).
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

# Every Dagster process that serves or runs this code location imports it first: its imports
# and the definitions are built with the collector paused and then frozen (frameforge_core/heap).
with heap.long_lived():
    from frameforge_pipeline.assets import (
        checks,
        extraction,
        frame_index,
        frame_index_daily,
        frames,
        storyboard,
    )
    from frameforge_pipeline.executor import step_executor
    from frameforge_pipeline.jobs import extract_video
    from frameforge_pipeline.loggers import CONSOLE, console_logger
    from frameforge_pipeline.resources import (
        ExtractionLimits,
        JobQueue,
        resources_for_environment,
    )
    from frameforge_pipeline.schedules import backfills, compaction
    from frameforge_pipeline.sensors import (
        job_outcome,
        job_queue,
        outbox_retention,
        upload_retention,
        video_retention,
    )

OWNERS = ["team:frameforge"]
DEFAULT_OPERATIONS = OperationsSettings.model_construct()  # the defaults, no environment


def _owned(assets: Sequence[Any]) -> list[Any]:
    """Every asset without an owner gets the team's (the UI's Owner column and filter)."""

    def own(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec if spec.owners else spec.replace_attributes(owners=OWNERS)

    return [a.map_asset_specs(own) if isinstance(a, dg.AssetsDefinition) else a for a in assets]


def build_definitions(resources: Mapping[str, Any]) -> dg.Definitions:
    """The code location with the given resources (tests bind their own store and database;
    without ``jobs`` the app database is the job queue; without ``operations``, the
    operator's settings are their defaults, whatever the environment says; without
    ``limits``, a run has the engine's picture limits and no quota)."""
    operations = resources.get("operations", DEFAULT_OPERATIONS)
    return dg.Definitions(
        assets=_owned(
            dg.load_assets_from_modules(
                [extraction, frames, frame_index, frame_index_daily, storyboard]
            )
        ),
        asset_checks=dg.load_asset_checks_from_modules([checks]),
        jobs=[extract_video],
        sensors=[
            job_queue.job_queue,
            job_outcome.job_completed,
            job_outcome.job_failed,
            job_outcome.job_cancelled,
            job_outcome.job_outcome_reconciliation,
            outbox_retention.outbox_retention,
            upload_retention.upload_retention,
            video_retention.results_retention,
            video_retention.deleted_video_purge,
        ],
        schedules=[
            compaction.frame_index_compaction,
            backfills.nightly_backfill(operations.backfill_cron),
        ],
        resources={
            "jobs": JobQueue(),
            "operations": operations,
            "limits": ExtractionLimits(),
            **resources,
        },
        executor=step_executor,  # in process unless the run says otherwise (executor.py)
        loggers={CONSOLE: console_logger},  # runs log JSON lines (loggers.py)
    )


with heap.long_lived():
    defs = build_definitions(resources_for_environment())
