"""Runs extract_video for one partition as the embedded default runs it, in a process of its
own (``python -m tests.pipeline.segmented_run``): the code location loaded from its module
(reconstructable, as a run worker loads it), the instance of $DAGSTER_HOME, the store and app
database of $FRAMEFORGE_HOME, and the executor the job sensor would choose. A process of its
own, because the multiprocess executor's forkserver (started once per process) keeps the
environment and modules it started with.

    python -m tests.pipeline.segmented_run PARTITION MODE [--from-failure RUN] [--fps N]
        [--format F]

MODE: ``multiprocess`` (the sensor's choice for a long video) or ``in_process``. With
$FRAMEFORGE_TEST_FAIL_SEGMENT=N, segment N fails once (tests/pipeline/segment_faults.py,
preloaded into the forkserver, so that every step process has it). Prints the run id and
whether it succeeded, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository

from frameforge_pipeline import segmenting
from frameforge_pipeline.loggers import RUN_LOGGERS
from frameforge_pipeline.partitions import VIDEOS

PRELOAD = ["frameforge_pipeline.definitions", "tests.pipeline.segment_faults"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("partition")
    parser.add_argument("mode", choices=["multiprocess", "in_process"])
    parser.add_argument("--from-failure")
    parser.add_argument("--fps", type=float)
    parser.add_argument("--format", choices=["jpg", "png", "webp"])
    args = parser.parse_args()
    job = ReconstructableRepository.for_module(
        "frameforge_pipeline.definitions", "defs", working_directory=os.getcwd()
    ).get_reconstructable_job("extract_video")
    execution: dict[str, Any] = {"config": {"in_process": {}}}
    if args.mode == "multiprocess":
        policy = segmenting.SegmentPolicy.from_environment()
        execution = policy.segmented_execution(on_kubernetes=False)
        execution["config"]["multiprocess"]["start_method"]["forkserver"] = {
            "preload_modules": PRELOAD
        }
    chosen = {"fps": args.fps, "format": args.format}
    options = {name: value for name, value in chosen.items() if value is not None}
    frames = {"ops": {"frames": {"config": options}}} if options else {}
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(VIDEOS, [args.partition])
        again = (
            dg.ReexecutionOptions.from_failure(args.from_failure, instance)
            if args.from_failure
            else None
        )
        result = dg.execute_job(
            job,
            instance,
            run_config=None if again else {**RUN_LOGGERS, "execution": execution, **frames},
            # a re-execution carries its parent's partition, as the UI's and run retries' do
            tags={"dagster/partition": args.partition},
            reexecution_options=again,
        )
        print(json.dumps({"run_id": result.run_id, "success": result.success}))


if __name__ == "__main__":
    main()
