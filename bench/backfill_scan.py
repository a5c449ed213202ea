"""What the nightly backfill's scan costs: ``backfills.find_work`` (two queries per asset)
against Dagster's own ``CachingStaleStatusResolver`` asked about ``frames`` of every
partition (one asset, where find_work covers all of them), on the same instance, for N
partitions of the real asset graph, half of them stale (made by an older engine). Setting
up N partitions takes minutes (every materialization is reported one by one). That both
find the same partitions is a test (tests/pipeline/test_dagster_internals.py).

    .venv/bin/python bench/backfill_scan.py [N]     # default 1000
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from frameforge_pipeline.definitions import defs
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.schedules import backfills
from tests.pipeline.backfill_support import FRAMES, dagster_stale, materialize_all


def main(count: int) -> None:
    partitions = [f"video-{i:06d}" for i in range(count)]
    graph = defs.resolve_asset_graph()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(VIDEOS, partitions)
        materialize_all(instance, graph, partitions)

        started = time.perf_counter()
        work = backfills.find_work(instance, graph, partitions)
        ours = time.perf_counter() - started

        started = time.perf_counter()
        stale = dagster_stale(instance, graph, FRAMES, partitions)
        theirs = time.perf_counter() - started

    print(f"{count} partitions (SQLite instance), {len(work)} need work by find_work, "
          f"{len(stale)} not fresh by Dagster")  # fmt: skip
    print(f"find_work                        {ours:8.2f} s")
    print(f"CachingStaleStatusResolver       {theirs:8.2f} s   ({theirs / ours:.1f}x find_work)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
