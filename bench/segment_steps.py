"""What one more step costs a run: the start-up of a Dagster step in its own process, as the
embedded default runs a long video's segments (the multiprocess executor, forkserver start,
the code location preloaded), against the same step in the run's process (in process).

    python bench/segment_steps.py [--steps 8] [--runs 3]

Each run is a process of its own (``--child``: a fresh forkserver each time) that executes
the shape of ``frames`` with no work in it: a plan op yielding K DynamicOutputs, K mapped
no-op steps, one at a time (max_concurrent 1), and a join; on a persistent instance in a
temporary DAGSTER_HOME (SQLite, as the embedded default without DAGSTER_PG_URL). With K=1
and K=1+``--steps``, a step's wall time is the difference of the child's elapsed times
divided by ``--steps``; its CPU time, what a mapped step's process had spent when its op ran
(``time.process_time()`` in the op: a new process counts from zero; in process it is the
whole run's so far, so no reference). The same with the ``spawn`` start (Dagster's default:
a fresh interpreter imports Dagster and the code location for every step) shows what the
forkserver saves. Rounds in a new random order each time; the least disturbed (minimum)
figure of each configuration, since the machine is shared.

The wall figure is what ``bench/segments.py --startup`` takes for its simulation of N pods
(a pod's own start-up, its image pulled and its node ready, comes on top).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg

ROOT = Path(__file__).resolve().parents[1]
MODES = ("in_process", "forkserver", "spawn")
LABELS = ("in process (reference)", "own process, forkserver", "own process, spawn")
sys.path.insert(0, str(ROOT))

from frameforge_pipeline.executor import step_executor  # noqa: E402


@dg.op(out=dg.DynamicOut(int))
def plan() -> Any:
    for index in range(int(os.environ["BENCH_STEPS"])):
        yield dg.DynamicOutput(index, mapping_key=str(index))


@dg.op
def segment(index: int) -> int:
    """Records the CPU time its process spent before it ran: a step's start-up, when the
    step has a process of its own (a forked process counts from zero)."""
    with Path(os.environ["DAGSTER_HOME"], f"cpu-{index}-{os.getpid()}").open("w") as out:
        out.write(str(time.process_time()))
    return index


@dg.op
def join(indexes: list[int]) -> int:
    return len(indexes)


@dg.job(executor_def=step_executor)
def steps() -> None:
    join(plan().map(segment).collect())


def _child(mode: str) -> None:
    """One run of ``steps`` (in this process's DAGSTER_HOME)."""
    execution: dict[str, Any] = {"in_process": {}}
    if mode != "in_process":
        preload = {"preload_modules": ["frameforge_pipeline.definitions"]}
        start = {"forkserver": preload} if mode == "forkserver" else {"spawn": {}}
        execution = {"multiprocess": {"max_concurrent": 1, "start_method": start}}
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(_steps), instance, run_config={"execution": {"config": execution}}
        )
        assert result.success


def _steps() -> dg.JobDefinition:
    return steps


def _measure(mode: str, count: int) -> tuple[float, float]:
    """Wall seconds of one run with ``count`` mapped steps, and the CPU seconds a mapped
    step's process spent before its op ran (the mean over them; the run's own process's
    when in process)."""
    with tempfile.TemporaryDirectory(prefix="bench-steps-") as home:
        env = {**os.environ, "DAGSTER_HOME": home, "BENCH_STEPS": str(count)}
        env["PYTHONPATH"] = str(ROOT)
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--child", mode],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - began
        cpus = [float(path.read_text()) for path in Path(home).glob("cpu-*")]
    return wall, sum(cpus) / len(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=MODES)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    configurations = [(mode, count) for mode in MODES for count in (1, 1 + args.steps)]
    best: dict[tuple[str, int], tuple[float, float]] = {}
    for _ in range(args.runs):
        random.shuffle(configurations)
        for mode, count in configurations:
            wall, cpu = _measure(mode, count)
            old = best.get((mode, count), (float("inf"), float("inf")))
            best[(mode, count)] = (min(old[0], wall), min(old[1], cpu))
    per_step = {
        mode: (
            (best[(mode, 1 + args.steps)][0] - best[(mode, 1)][0]) / args.steps,
            best[(mode, 1 + args.steps)][1],
        )
        for mode in MODES
    }
    figures = {
        "steps": args.steps,
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "run_seconds": {f"{m} x{c}": [round(v, 3) for v in best[(m, c)]] for m, c in best},
        "step_wall_seconds": {mode: round(v[0], 3) for mode, v in per_step.items()},
        "step_cpu_seconds": {mode: round(v[1], 3) for mode, v in per_step.items()},
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    inline = per_step["in_process"]
    print(f"one more step, the least of {args.runs} runs of 1 and {1 + args.steps} steps:")
    print(f"{'':28}{'wall s':>8}{'x in process':>14}{'CPU s before its op':>22}")
    for mode, label in zip(MODES, LABELS, strict=True):
        wall, cpu = per_step[mode]
        ratio = "reference" if mode == "in_process" else f"{wall / inline[0]:.1f}"
        before = "-" if mode == "in_process" else f"{cpu:.3f}"
        print(f"{label:28}{wall:>8.3f}{ratio:>14}{before:>22}")
    startup = per_step["forkserver"][0]
    print(f"\nfor the N-pod simulation: python bench/segments.py --startup {startup:.2f}")


if __name__ == "__main__":
    main()
