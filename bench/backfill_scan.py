"""What the nightly backfill's scan costs: ``backfills.find_work`` (two queries per asset)
against Dagster's own ``CachingStaleStatusResolver`` asked about ``frames`` of every
partition (one asset, where find_work covers all of them), on the same instance, for N
partitions of the real asset graph, half of them stale (made by an older engine). Setting
up N partitions takes minutes (every materialization is reported one by one).

    .venv/bin/python bench/backfill_scan.py [N]     # default 1000
"""

from __future__ import annotations

import sys
import time

import dagster as dg
from dagster._core.definitions.data_version import (
    CODE_VERSION_TAG,
    DATA_VERSION_TAG,
    CachingStaleStatusResolver,
    StaleStatus,
    compute_logical_data_version,
)
from dagster._core.loader import LoadingContextForTest

from frameforge_pipeline.definitions import defs
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.schedules import backfills


def materialize_all(instance: dg.DagsterInstance, partitions: list[str]) -> None:
    """Every asset of every partition, as a run records it; frames of odd partitions with a
    code version that is not the code's (made by an older engine)."""
    graph = defs.resolve_asset_graph()
    keys = backfills._partitioned_assets(graph)
    for i, partition in enumerate(partitions):
        versions: dict[dg.AssetKey, dg.DataVersion] = {}
        made: dict[dg.AssetKey, int] = {}
        for key in keys:
            code = graph.get(key).code_version or "1"
            if key == dg.AssetKey("frames") and i % 2:
                code = "older"
            inputs = {
                parent: backfills._one_partition(versions[parent].value)
                for parent in graph.get(key).parent_keys
                if parent in versions
            }
            versions[key] = compute_logical_data_version(code, inputs)
            tags = {CODE_VERSION_TAG: code, DATA_VERSION_TAG: versions[key].value}
            for parent, version in inputs.items():
                tags[f"dagster/input_data_version/{parent.to_user_string()}"] = version.value
                tags[f"dagster/input_event_pointer/{parent.to_user_string()}"] = str(made[parent])
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=key, partition=partition, tags=tags)
            )
            made[key] = instance.get_latest_storage_id_by_partition(
                key, dg.DagsterEventType.ASSET_MATERIALIZATION, {partition}
            )[partition]


def main(count: int) -> None:
    partitions = [f"video-{i:06d}" for i in range(count)]
    graph = defs.resolve_asset_graph()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(VIDEOS, partitions)
        materialize_all(instance, partitions)

        started = time.perf_counter()
        work = backfills.find_work(instance, graph, partitions)
        ours = time.perf_counter() - started

        started = time.perf_counter()
        resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
        stale = [
            p
            for p in partitions
            if resolver.get_status(dg.AssetKey("frames"), p) != StaleStatus.FRESH
        ]
        theirs = time.perf_counter() - started

    print(f"{count} partitions (SQLite instance), {len(work)} need work by find_work, "
          f"{len(stale)} not fresh by Dagster")  # fmt: skip
    print(f"find_work                        {ours:8.2f} s")
    print(f"CachingStaleStatusResolver       {theirs:8.2f} s   ({theirs / ours:.1f}x find_work)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
