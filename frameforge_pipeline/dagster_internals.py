"""Every use of Dagster's private API (``dagster._*``) in FrameForge, each a small named
function, so that upgrading Dagster fails in one named place: each is pinned by a test of
the same name in ``tests/pipeline/test_dagster_internals.py``. Everything else uses Dagster's
public API only (``import dagster as dg``); the import contract "Dagster's private API only
through dagster_internals" in pyproject.toml keeps it so.

Why private: Dagster 1.13's public API has no asset backfill submission outside a sensor, no
read of the data versions recorded per partition, no daemon heartbeats, no sensor ticks, no
run-worker health result for a launcher, no way to offer its executors' config (or check
a config against an executor's schema) in an executor of one's own, and no delete of the
key-value store's rows (``set_cursor_values`` writes them, ``get_cursor_values`` reads
them). Callers get plain values (strings, dicts, dataclasses of ours), never Dagster's
private types, except the asset graph's type and the launcher's health result, which are
only passed back to Dagster.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.definitions.data_version import (
    DATA_VERSION_TAG,
    DataVersion,
    compute_logical_data_version,
)
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus, PartitionBackfill
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.scheduler.instigation import InstigatorStatus, TickStatus
from dagster._core.storage.legacy_storage import LegacyRunStorage
from dagster._core.storage.runs.schema import KeyValueStoreTable
from dagster._core.storage.runs.sql_run_storage import SqlRunStorage
from dagster._core.utils import make_new_backfill_id
from dagster._daemon.controller import get_daemon_statuses

AssetGraph = BaseAssetGraph[Any]  # what Definitions.resolve_asset_graph and a schedule give
_GOING = [BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING, BulkActionStatus.FAILING]
_EVALUATED = {InstigatorStatus.RUNNING, InstigatorStatus.DECLARED_IN_CODE}


# --- data versions (the nightly backfill's staleness rule) ---------------------------------


def recorded_data_versions(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions: Sequence[str]
) -> dict[str, str | None]:
    """The data version each partition's latest materialization of ``key`` recorded, in one
    query; a partition never materialized is absent, one materialized without a version maps
    to None."""
    tags = instance.event_log_storage.get_latest_tags_by_partition(
        key, dg.DagsterEventType.ASSET_MATERIALIZATION, [DATA_VERSION_TAG], list(partitions)
    )
    return {partition: found.get(DATA_VERSION_TAG) for partition, found in tags.items()}


def partition_input_version(data_version: str) -> str:
    """The data version Dagster gives a partitioned input of one partition: the sha256 of that
    partition's own data version (``DataVersionCache._get_partitions_data_version_from_keys``;
    recorded as the ``dagster/input_data_version/<input>`` tag)."""
    return hashlib.sha256(data_version.encode()).hexdigest()


def expected_data_version(code_version: str, inputs: Mapping[dg.AssetKey, str]) -> str:
    """The data version Dagster records for an asset of one partition made by code
    ``code_version`` from partitioned inputs whose data versions (of that same partition) are
    ``inputs``: Dagster's hash of the code version and the inputs' versions as
    ``partition_input_version`` gives them (``compute_logical_data_version``)."""
    hashed = {
        parent: DataVersion(partition_input_version(version)) for parent, version in inputs.items()
    }
    return compute_logical_data_version(code_version, hashed).value


# --- asset backfills -----------------------------------------------------------------------


def submit_asset_backfill(
    instance: dg.DagsterInstance,
    graph: AssetGraph,
    partitions_of: Iterable[tuple[dg.AssetKey, str]],
    *,
    tags: Mapping[str, str],
    title: str,
    description: str,
    run_config: Mapping[str, Any],
) -> str:
    """Submit one asset backfill of the (asset, partition) pairs, as the sensor daemon does
    for a ``RunRequest.for_asset_graph_subset``; returns its id."""
    backfill_id = make_new_backfill_id()
    subset = AssetGraphSubset.from_asset_partition_set(
        {AssetKeyPartitionKey(key, partition) for key, partition in partitions_of}, graph
    )
    instance.add_backfill(
        PartitionBackfill.from_asset_graph_subset(
            backfill_id=backfill_id,
            backfill_timestamp=dt.datetime.now(dt.UTC).timestamp(),
            tags=dict(tags),
            dynamic_partitions_store=instance,
            asset_graph_subset=subset,
            title=title,
            description=description,
            run_config=dict(run_config),
        )
    )
    return backfill_id


def newest_backfill(
    instance: dg.DagsterInstance, tags: Mapping[str, str], *, going: bool = False
) -> str | None:
    """The id of the newest backfill with ``tags`` (only one still going: requested,
    cancelling or failing, with ``going``), if any."""
    found = instance.get_backfills(
        filters=BulkActionsFilter(tags=dict(tags), statuses=_GOING if going else None), limit=1
    )
    return found[0].backfill_id if found else None


# --- the daemon's health (the API's readiness) ---------------------------------------------


@dataclass(frozen=True)
class DaemonState:
    """One daemon the instance requires: whether its heartbeat is recent enough, and when it
    last beat (a Unix time; None: never)."""

    daemon_type: str
    healthy: bool
    last_heartbeat: float | None


def required_daemons(
    instance: dg.DagsterInstance, now: float, tolerance_seconds: float
) -> list[DaemonState]:
    """The daemons this instance needs, each healthy when it beat within
    ``tolerance_seconds`` of ``now``; a daemon's errors do not count against it."""
    statuses = get_daemon_statuses(
        instance,
        instance.get_required_daemon_types(),
        curr_time_seconds=now,
        ignore_errors=True,
        heartbeat_tolerance_seconds=tolerance_seconds,
    )
    return [
        DaemonState(
            status.daemon_type,
            status.healthy is True,
            status.last_heartbeat.timestamp if status.last_heartbeat else None,
        )
        for status in statuses.values()
        if status.required
    ]


@dataclass(frozen=True)
class Tick:
    """One evaluation of a sensor: whether it failed, and the error's class if it did."""

    failed: bool
    error: str | None


def sensor_ticks(instance: dg.DagsterInstance, after: float, limit: int) -> dict[str, list[Tick]]:
    """Per sensor being evaluated (running, or declared running in code), its latest
    ``limit`` ticks since ``after`` (a Unix time), newest first."""
    sensors = instance.all_instigator_state(
        instigator_type=InstigatorType.SENSOR, instigator_statuses=_EVALUATED
    )
    return {
        sensor.instigator_name: [
            Tick(tick.status == TickStatus.FAILURE, tick.error.cls_name if tick.error else None)
            for tick in instance.get_ticks(
                sensor.instigator_origin_id, sensor.selector_id, after=after, limit=limit
            )
        ]
        for sensor in sensors
    }


# --- the instance's key-value store (a split run's progress rows) -------------------------


def delete_cursor_values(instance: dg.DagsterInstance, prefix: str) -> int:
    """Delete the rows of the instance's key-value store (``run_storage.set_cursor_values``)
    whose key starts with ``prefix``; how many there were. The store is the run storage's
    ``kvs`` table, SQLite's or PostgreSQL's (behind the ``storage:`` section's wrapper)."""
    storage = instance.run_storage
    if isinstance(storage, LegacyRunStorage):
        storage = storage._storage.run_storage
    if not isinstance(storage, SqlRunStorage):
        raise TypeError(f"no key-value table in {type(storage).__name__}")
    key = KeyValueStoreTable.c.key
    with storage.connect() as connection:
        deleted = connection.execute(
            KeyValueStoreTable.delete().where(key.startswith(prefix, autoescape=True))
        )
    return int(deleted.rowcount)


# --- the run launcher's health check -------------------------------------------------------

WorkerHealth = Literal["running", "failed", "unknown"]
HealthResult = CheckRunHealthResult  # the type of what run_worker_health gives
_WORKER_STATUS = {
    "running": WorkerStatus.RUNNING,
    "failed": WorkerStatus.FAILED,
    "unknown": WorkerStatus.UNKNOWN,
}


def run_worker_health(health: WorkerHealth, message: str | None = None) -> HealthResult:
    """What a run launcher's ``check_run_worker_health`` returns to run monitoring."""
    return CheckRunHealthResult(_WORKER_STATUS[health], message)


def executor_choices() -> dict[str, Any]:
    """The config fields of Dagster's ``multi_or_in_process_executor``, ``in_process`` and
    ``multiprocess``, to offer beside a choice of our own (frameforge_pipeline/executor.py)."""
    from dagster._core.definitions.executor_definition import IN_PROC_CONFIG, MULTI_PROC_CONFIG

    return {"in_process": IN_PROC_CONFIG, "multiprocess": MULTI_PROC_CONFIG}


def processed_config(
    executor: dg.ExecutorDefinition, config: Mapping[str, object]
) -> Mapping[str, object]:
    """``config`` checked against ``executor``'s schema, its defaults filled in, as Dagster
    hands an executor its config. Raises dg.DagsterInvalidConfigError."""
    from dagster._config import process_config

    assert executor.config_schema is not None
    checked = process_config(executor.config_schema.config_type, config)
    if not checked.success or checked.value is None:
        raise dg.DagsterInvalidConfigError(  # type: ignore[no-untyped-call]
            f"invalid config of executor {executor.name}", checked.errors, config
        )
    return checked.value
