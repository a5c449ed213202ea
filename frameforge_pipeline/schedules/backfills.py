"""The nightly backfill: one Dagster asset backfill of every partition whose assets are
missing, failed or stale, up to a cap a night.

Which partitions: those of completed jobs whose results have not expired (retention). A
job that is queued, running, failed or cancelled is its user's to retry or cancel, and an
expired one's upload is gone. Per partition an asset needs work when it was never
materialized (an asset added to the graph since), its latest attempt failed (a previous
backfill), or it is stale: its data version, which Dagster records as a hash of its code
version and its inputs' data versions, is not what the current code versions give
(``ENGINE_VERSION`` bumped: the engine changed); it is backfilled with everything downstream
of it. A partition with a run going is left for the next night. Failed
partitions come last, so one that keeps failing never takes the cap from the others.

Cheap: two queries per asset, whatever the number of partitions (the partition status
cache, and the latest data version of every partition, an indexed tag), never one per
partition (Dagster's CachingStaleStatusResolver asks per partition).

Dagster 1.13's scheduler carries no backfill requests (only the sensor daemon turns
``RunRequest.for_asset_graph_subset`` into one), so the schedule submits the backfill the
way the sensor daemon does, with a title, and asks for no run. A tick evaluated again
(a daemon restart) finds its backfill by tag and makes no second one; a backfill still going
from an earlier night makes the schedule skip.

Backfill runs are runs of Dagster's asset job, not of ``extract_video``: the run-status
sensors do not see them, so a user is not told again about a job done long ago; their job
stays completed and its download serves the new ZIP (frame count and facts from the new
materializations). They run at a lower priority than users' jobs (``dagster/priority``)
and hold at most one run slot (``dagster.yaml``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import dagster as dg
from sqlalchemy import func, select

from frameforge_core.lifecycle import JobStatus
from frameforge_core.models import VideoJob
from frameforge_core.settings import OperationsSettings
from frameforge_pipeline import dagster_internals as internals
from frameforge_pipeline.dagster_internals import AssetGraph as Graph
from frameforge_pipeline.jobs import extract_video
from frameforge_pipeline.loggers import RUN_LOGGERS
from frameforge_pipeline.partitions import videos
from frameforge_pipeline.resources import AppDatabase

TICK_TAG = "frameforge/backfill_tick"  # the schedule tick that made a backfill
KIND_TAG = "frameforge/backfill"
PRIORITY_TAG = "dagster/priority"
BACKFILL_PRIORITY = "-1"  # users' jobs (priority 0) leave the queue first
Status = dg.AssetPartitionStatus


@dataclass(frozen=True)
class Work:
    """What one partition needs: the assets to materialize again, and why (for the log)."""

    partition_key: str
    assets: frozenset[dg.AssetKey]
    reasons: tuple[str, ...]
    failed: bool


def backfillable_partitions(database: AppDatabase) -> list[str]:
    """Partitions of completed jobs whose results are still kept, oldest job first."""
    with database.session() as session:
        rows = session.execute(
            select(VideoJob.partition_key, func.min(VideoJob.seq).label("first"))
            .where(
                VideoJob.status == JobStatus.COMPLETED,
                VideoJob.results_expired_at.is_(None),
            )
            .group_by(VideoJob.partition_key)
            .order_by("first")
        )
        return [key for key, _ in rows]


def _partitioned_assets(graph: Graph) -> list[dg.AssetKey]:
    return [
        key
        for key in graph.toposorted_asset_keys
        if graph.get(key).is_materializable and graph.get(key).partitions_def == videos
    ]


def find_work(instance: dg.DagsterInstance, graph: Graph, partitions: Sequence[str]) -> list[Work]:
    """Per partition of ``partitions`` (in their order), the assets that need making again;
    partitions that need nothing, or have a run going, are left out."""
    assets = _partitioned_assets(graph)
    status: dict[dg.AssetKey, Mapping[str, Status | None]] = {}
    versions: dict[dg.AssetKey, Mapping[str, str | None]] = {}
    for key in assets:
        status[key] = instance.get_status_by_partition(key, list(partitions), videos) or {}
        versions[key] = internals.recorded_data_versions(instance, key, partitions)
    work = []
    for partition in partitions:
        if any(status[key].get(partition) == Status.IN_PROGRESS for key in assets):
            continue
        reasons: dict[dg.AssetKey, str] = {}
        for key in assets:
            if reason := _why(graph, key, partition, status[key], versions):
                reasons[key] = reason
        if reasons:
            todo = _with_downstream(graph, reasons.keys(), set(assets))
            failed = any(status[k].get(partition) == Status.FAILED for k in reasons)
            why = tuple(f"{key.to_user_string()}: {text}" for key, text in reasons.items())
            work.append(Work(partition, frozenset(todo), why, failed))
    return work


def _why(
    graph: Graph,
    key: dg.AssetKey,
    partition: str,
    status: Mapping[str, Status | None],
    versions: Mapping[dg.AssetKey, Mapping[str, str | None]],
) -> str | None:
    """Why ``key`` of ``partition`` needs making again, if it does. Stale is Dagster's own
    rule: its data version (a hash of its code version and its inputs' data versions, as
    Dagster records it) is not the one the current code would give those inputs."""
    if status.get(partition) == Status.FAILED:
        return "its latest attempt failed"
    if partition not in versions[key]:
        return "missing"
    recorded, code_version = versions[key][partition], graph.get(key).code_version
    inputs = {
        parent: versions.get(parent, {}).get(partition) for parent in graph.get(key).parent_keys
    }
    if recorded is None or code_version is None or None in inputs.values():
        return None  # nothing to compare (a parent missing is its own reason)
    expected = internals.expected_data_version(
        code_version, {parent: v for parent, v in inputs.items() if v is not None}
    )
    if expected != recorded:
        return "stale: its code version or an input changed since it was made"
    return None


def _with_downstream(
    graph: Graph, roots: Iterable[dg.AssetKey], among: set[dg.AssetKey]
) -> set[dg.AssetKey]:
    found, frontier = set(roots), list(roots)
    while frontier:
        for child in graph.get(frontier.pop()).child_keys:
            if child in among and child not in found:
                found.add(child)
                frontier.append(child)
    return found


def tonight(work: Sequence[Work], cap: int) -> list[Work]:
    """At most ``cap`` partitions: those that failed last, so a partition that keeps
    failing never takes the place of the others."""
    return sorted(work, key=lambda item: item.failed)[:cap]


def launch(instance: dg.DagsterInstance, graph: Graph, work: Sequence[Work], tick: str) -> str:
    """Submit one asset backfill of ``work``; returns its id."""
    return internals.submit_asset_backfill(
        instance,
        graph,
        [(key, item.partition_key) for item in work for key in item.assets],
        tags={TICK_TAG: tick, KIND_TAG: "nightly", PRIORITY_TAG: BACKFILL_PRIORITY},
        title=f"nightly backfill {tick[:10]}: {len(work)} partitions",
        description=f"{len(work)} partitions whose assets are missing, failed or stale "
        "(a code version changed); made by the nightly_backfill schedule",
        run_config=RUN_LOGGERS,
    )


def evaluate(
    instance: dg.DagsterInstance, graph: Graph, database: AppDatabase, tick: str, cap: int
) -> dg.SkipReason:
    """One night's decision, as the schedule's tick shows it: at most ``cap`` partitions
    (``FRAMEFORGE_BACKFILL_MAX_PARTITIONS``)."""
    if earlier := internals.newest_backfill(instance, {TICK_TAG: tick}):
        return dg.SkipReason(f"backfill {earlier} was made by this tick")
    if earlier := internals.newest_backfill(instance, {KIND_TAG: "nightly"}, going=True):
        return dg.SkipReason(f"backfill {earlier} of an earlier night is going")
    work = find_work(instance, graph, backfillable_partitions(database))
    if not work:
        return dg.SkipReason("every partition is up to date")
    chosen = tonight(work, cap)
    backfill_id = launch(instance, graph, chosen, tick)
    left = len(work) - len(chosen)
    return dg.SkipReason(
        f"backfill {backfill_id} launched for {len(chosen)} partitions"
        + (f"; {left} more past the cap of {cap} wait for the next night" if left else "")
    )


def nightly_backfill(cron: str) -> dg.ScheduleDefinition:
    """The schedule, at ``cron`` (``FRAMEFORGE_BACKFILL_CRON``): a schedule's cron is part of
    its definition, so it comes from the settings the code location is built with; the cap
    comes from the same settings, as the ``operations`` resource."""

    @dg.schedule(
        name="nightly_backfill",
        cron_schedule=cron,
        execution_timezone="UTC",
        job=extract_video,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Once a night: one asset backfill of the partitions of completed jobs "
        "whose assets are missing, failed or stale (a code version changed), at most "
        "FRAMEFORGE_BACKFILL_MAX_PARTITIONS of them. It launches a backfill (Backfills page), "
        "not a run, so its ticks read 'skipped' with what they did.",
    )
    def schedule(
        context: dg.ScheduleEvaluationContext,
        database: AppDatabase,
        operations: dg.ResourceParam[OperationsSettings],
    ) -> dg.SkipReason:
        tick = context.scheduled_execution_time.astimezone(dt.UTC).isoformat()
        graph = context.repository_def.asset_graph
        return evaluate(context.instance, graph, database, tick, operations.backfill_max_partitions)

    return schedule
