"""Partitions of the real asset graph recorded as runs record them, without running them, and
Dagster's own view of which are stale: the nightly backfill's scan is checked against it
(tests/pipeline/test_dagster_internals.py) and timed against it (bench/backfill_scan.py)."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
from dagster._core.definitions.data_version import (
    CODE_VERSION_TAG,
    DATA_VERSION_TAG,
    CachingStaleStatusResolver,
    StaleStatus,
)
from dagster._core.loader import LoadingContextForTest

from frameforge_pipeline import dagster_internals as internals
from frameforge_pipeline.dagster_internals import AssetGraph
from frameforge_pipeline.schedules import backfills

FRAMES = dg.AssetKey("frames")
OLDER = "older"  # the code version of frames made by an older engine


def materialize_all(instance: dg.DagsterInstance, graph: AssetGraph, partitions: Sequence[str]):
    """Every asset of every partition, as a run records it (data version, code version, the
    inputs' versions and events); ``frames`` of odd partitions with a code version that is
    not the code's (made by an older engine), so they and what follows are stale."""
    keys = backfills._partitioned_assets(graph)
    for i, partition in enumerate(partitions):
        versions: dict[dg.AssetKey, str] = {}
        made: dict[dg.AssetKey, int] = {}
        for key in keys:
            code = graph.get(key).code_version or "1"
            if key == FRAMES and i % 2:
                code = OLDER
            inputs = {p: versions[p] for p in graph.get(key).parent_keys if p in versions}
            versions[key] = internals.expected_data_version(code, inputs)
            tags = {CODE_VERSION_TAG: code, DATA_VERSION_TAG: versions[key]}
            for parent in inputs:
                name = parent.to_user_string()
                version = internals.partition_input_version(versions[parent])
                tags[f"dagster/input_data_version/{name}"] = version
                tags[f"dagster/input_event_pointer/{name}"] = str(made[parent])
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=key, partition=partition, tags=tags)
            )
            made[key] = instance.get_latest_storage_id_by_partition(
                key, dg.DagsterEventType.ASSET_MATERIALIZATION, {partition}
            )[partition]


def dagster_stale(
    instance: dg.DagsterInstance, graph: AssetGraph, key: dg.AssetKey, partitions: Sequence[str]
) -> list[str]:
    """The partitions of ``key`` that Dagster's own CachingStaleStatusResolver calls not
    fresh (one query or more per partition)."""
    resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
    return [p for p in partitions if resolver.get_status(key, p) != StaleStatus.FRESH]
