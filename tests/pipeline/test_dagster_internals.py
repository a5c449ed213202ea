"""Each of Dagster's internals that FrameForge uses (``frameforge_pipeline.dagster_internals``)
against Dagster itself, one test named after each: after a Dagster upgrade, the failing test
names the internal that changed. Dagster's own answers come from real runs and from its own
CachingStaleStatusResolver, never from a copy of its rules."""

from __future__ import annotations

import inspect
import pkgutil
import time
import tomllib
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.scheduler.instigation import TickStatus

from frameforge_pipeline import dagster_internals as internals
from frameforge_pipeline.definitions import defs as code_location
from frameforge_pipeline.executor import step_executor
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.run_launcher import LocalRunLauncher
from frameforge_pipeline.schedules import backfills
from tests.integration.conftest import dagster_pg_url, pg_instance  # noqa: F401
from tests.pipeline import backfill_support
from tests.pipeline.daemon_support import beat, sensor_ticks

PARTS = dg.DynamicPartitionsDefinition(name="parts")
PARENT, CHILD = dg.AssetKey("parent"), dg.AssetKey("child")


@dg.asset(partitions_def=PARTS, code_version="1")
def parent() -> int:
    return 1


@dg.asset(partitions_def=PARTS, code_version="7")
def child(parent: int) -> int:
    return parent + 1


@pytest.fixture
def made(instance):
    """Partition ``a`` of parent -> child materialized by a real run; ``b`` never."""
    instance.add_dynamic_partitions("parts", ["a", "b"])
    assert dg.materialize([parent, child], partition_key="a", instance=instance).success
    return instance


@pytest.fixture
def graph():
    return code_location.resolve_asset_graph()


def test_every_internal_has_a_test_of_its_name():
    functions = [
        name
        for name, value in vars(internals).items()
        if inspect.isfunction(value) and value.__module__ == internals.__name__
    ]
    tests = {name for name in globals() if name.startswith("test_")}
    assert functions
    for name in [*functions, "AssetGraph", "HealthResult"]:
        assert any(test.startswith(f"test_{name}") for test in tests), name


def test_AssetGraph_is_what_definitions_and_a_schedule_give(graph):
    assert isinstance(graph, BaseAssetGraph)
    assert isinstance(code_location.get_repository_def().asset_graph, BaseAssetGraph)
    assert internals.AssetGraph.__origin__ is BaseAssetGraph  # type: ignore[attr-defined]


def test_recorded_data_versions_as_a_real_run_records_them(made):
    versions = internals.recorded_data_versions(made, CHILD, ["a", "b"])
    assert set(versions) == {"a"}  # b was never materialized
    event = made.get_latest_materialization_event(CHILD)
    assert versions["a"] == event.asset_materialization.tags["dagster/data_version"]


def test_partition_input_version_is_what_a_real_run_records_of_its_input(made):
    [parent_version] = internals.recorded_data_versions(made, PARENT, ["a"]).values()
    tags = made.get_latest_materialization_event(CHILD).asset_materialization.tags
    assert (
        internals.partition_input_version(parent_version)
        == tags["dagster/input_data_version/parent"]
    )


def test_expected_data_version_is_what_a_real_run_records(made):
    recorded = {
        key: internals.recorded_data_versions(made, key, ["a"])["a"] for key in (PARENT, CHILD)
    }
    assert internals.expected_data_version("1", {}) == recorded[PARENT]
    assert internals.expected_data_version("7", {PARENT: recorded[PARENT]}) == recorded[CHILD]
    assert internals.expected_data_version("8", {PARENT: recorded[PARENT]}) != recorded[CHILD]


def test_expected_data_version_agrees_with_dagsters_stale_status_resolver(instance, graph):
    """The nightly scan's staleness (two queries per asset) against Dagster's own resolver
    (per partition) on the real asset graph: half the partitions made by an older engine."""
    partitions = [f"video-{i:03d}" for i in range(6)]
    instance.add_dynamic_partitions(VIDEOS, partitions)
    backfill_support.materialize_all(instance, graph, partitions)
    ours = [item.partition_key for item in backfills.find_work(instance, graph, partitions)]
    theirs = backfill_support.dagster_stale(instance, graph, backfill_support.FRAMES, partitions)
    assert ours == theirs == partitions[1::2]


def test_submit_asset_backfill(instance, graph):
    instance.add_dynamic_partitions(VIDEOS, ["v1", "v2"])
    frames = backfill_support.FRAMES
    backfill_id = internals.submit_asset_backfill(
        instance,
        graph,
        [(frames, "v1"), (frames, "v2"), (dg.AssetKey("manifest"), "v2")],
        tags={"k": "v"},
        title="the title",
        description="the description",
        run_config={"loggers": {}},
    )
    [backfill] = instance.get_backfills()
    assert backfill.backfill_id == backfill_id
    assert backfill.status == BulkActionStatus.REQUESTED
    assert (backfill.title, backfill.description) == ("the title", "the description")
    assert backfill.tags["k"] == "v"
    assert backfill.run_config == {"loggers": {}}
    subset = backfill.asset_backfill_data.target_subset
    assert subset.get_partitions_subset(frames).get_partition_keys() == {"v1", "v2"}
    manifest = subset.get_partitions_subset(dg.AssetKey("manifest"))
    assert manifest.get_partition_keys() == {"v2"}


def test_newest_backfill_with_tags_and_going(instance, graph):
    instance.add_dynamic_partitions(VIDEOS, ["v1"])

    def submit(tags):
        pairs = [(backfill_support.FRAMES, "v1")]
        return internals.submit_asset_backfill(
            instance, graph, pairs, tags=tags, title="t", description="d", run_config={}
        )

    first, second = submit({"night": "1"}), submit({"night": "2"})
    assert internals.newest_backfill(instance, {"night": "1"}) == first
    assert internals.newest_backfill(instance, {"night": "2"}, going=True) == second
    assert internals.newest_backfill(instance, {"night": "3"}) is None
    instance.update_backfill(instance.get_backfill(second).with_status(BulkActionStatus.CANCELED))
    assert internals.newest_backfill(instance, {"night": "2"}, going=True) is None
    assert internals.newest_backfill(instance, {"night": "2"}) == second


def test_required_daemons_by_their_heartbeats(instance):
    now = time.time()
    never = internals.required_daemons(instance, now, 90)
    assert {daemon.daemon_type for daemon in never} >= {"SENSOR", "SCHEDULER"}
    assert all(not d.healthy and d.last_heartbeat is None for d in never)

    beat(instance, seconds_ago=600)
    late = internals.required_daemons(instance, now, 90)
    assert all(not d.healthy and now - 601 < d.last_heartbeat < now - 599 for d in late)

    beat(instance)
    assert all(daemon.healthy for daemon in internals.required_daemons(instance, now, 90))


def test_sensor_ticks_newest_first(instance):
    sensor_ticks(instance, "job_queue", TickStatus.FAILURE, TickStatus.SUCCESS, TickStatus.FAILURE)
    ticks = internals.sensor_ticks(instance, after=time.time() - 60, limit=2)
    assert ticks == {
        "job_queue": [
            internals.Tick(failed=True, error="OperationalError"),
            internals.Tick(failed=False, error=None),
        ]
    }
    assert internals.sensor_ticks(instance, after=time.time() + 60, limit=2) == {"job_queue": []}


@pytest.mark.parametrize("storage", ["instance", "pg_instance"])  # SQLite's, PostgreSQL's
def test_delete_cursor_values_deletes_the_rows_under_a_prefix_and_no_other(request, storage):
    instance = request.getfixturevalue(storage)
    rows = {"p/run_1/0": "1/2", "p/run_1/1": "2/2", "p/run_10/0": "3/3", "p/runX1/0": "4/4"}
    instance.run_storage.set_cursor_values(rows)

    assert internals.delete_cursor_values(instance, "p/run_1/") == 2

    # a longer key is not under the prefix, and "_" in it is a character, not a wildcard
    left = instance.run_storage.get_cursor_values(set(rows))
    assert left == {"p/run_10/0": "3/3", "p/runX1/0": "4/4"}
    assert internals.delete_cursor_values(instance, "p/run_1/") == 0


@pytest.mark.parametrize(
    ("health", "status"),
    [
        ("running", WorkerStatus.RUNNING),
        ("failed", WorkerStatus.FAILED),
        ("unknown", WorkerStatus.UNKNOWN),
    ],
)
def test_run_worker_health_is_dagsters_result(health, status):
    result = internals.run_worker_health(health, "why")
    assert isinstance(result, CheckRunHealthResult)
    assert (result.status, result.msg) == (status, "why")


def test_HealthResult_is_what_run_monitoring_asks_a_launcher_for():
    assert internals.HealthResult is CheckRunHealthResult
    assert issubclass(LocalRunLauncher, dg.DefaultRunLauncher)
    asked = inspect.signature(dg.DefaultRunLauncher.check_run_worker_health)
    assert list(asked.parameters) == ["self", "run"]


def test_executor_choices_are_those_of_dagsters_multi_or_in_process_executor():
    ours = internals.executor_choices()
    theirs = dg.multi_or_in_process_executor.config_schema.config_type.fields
    assert set(ours) == set(theirs) == {"in_process", "multiprocess"}
    config = {"multiprocess": {"max_concurrent": 2, "start_method": {"forkserver": {}}}}
    assert internals.processed_config(dg.multi_or_in_process_executor, config) == (
        internals.processed_config(step_executor, config)
    )


def test_processed_config_fills_defaults_and_refuses_what_the_schema_refuses():
    from dagster_k8s import k8s_job_executor

    checked = internals.processed_config(k8s_job_executor, {"max_concurrent": 16})
    assert checked["max_concurrent"] == 16
    assert checked["retries"] == {"enabled": {}}  # Dagster's default, filled in
    with pytest.raises(dg.DagsterInvalidConfigError, match="k8s"):
        internals.processed_config(k8s_job_executor, {"max_concurrent": "many"})


def test_the_import_contract_protects_every_private_module_of_dagster():
    """pyproject.toml's contract lists Dagster's private modules by name (import-linter has
    no wildcard for part of a name): a Dagster that adds one fails here, by name."""
    config = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    [contract] = [
        c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "protected"
    ]
    private = {
        f"dagster.{module.name}"
        for module in pkgutil.iter_modules(dg.__path__)
        if module.name.startswith("_") and not module.name.startswith("__")
    }
    assert set(contract["protected_modules"]) == private
