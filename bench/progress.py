"""What reporting a job's progress costs its run (the ``frameforge/progress`` tag writes).

    python bench/progress.py [--seconds 60] [--size 1280x720] [--fps 1,5] [--repeat 3]

Materializes ``source_video`` and ``frames`` of a generated clip (H.264, 1 s GOP) on a
temporary Dagster instance (SQLite, as the embedded default; with ``DAGSTER_PG_URL`` the
instance is on that PostgreSQL), the way a run does, and times every progress report inside
the run: wall and CPU time spent writing the tag (in the reporter's own thread: the
extraction does not wait for it), against the frames step's time, the run's time and the
run's CPU time. The ratios are measured within one run, so a loaded machine shifts both
sides alike; CPU time is the steadier figure there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg

from frameforge_core import layout
from frameforge_core.database import create_db_engine, migrate
from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.resources import AppDatabase, LocalFrameStore
from frameforge_pipeline.samples import write_clip


class TimedWrites:
    """Wraps ``instance.add_run_tags`` to add up the time spent in progress reports."""

    def __init__(self, instance: dg.DagsterInstance):
        self.count, self.wall, self.cpu = 0, 0.0, 0.0
        real = instance.add_run_tags

        def timed(run_id: str, tags: dict[str, str]) -> None:
            if job_runs.PROGRESS_TAG not in tags:
                real(run_id, tags)
                return
            wall, cpu = time.perf_counter(), time.thread_time()
            real(run_id, tags)
            self.wall += time.perf_counter() - wall
            self.cpu += time.thread_time() - cpu
            self.count += 1

        instance.add_run_tags = timed  # type: ignore[method-assign]


def measure(clip: Path, fps: float, folder: Path) -> tuple[int, float, float, float, float, float]:
    """(reports, report wall s, report CPU s, frames step s, run s, run CPU s)."""
    overrides = {}
    if url := os.environ.get("DAGSTER_PG_URL"):
        overrides = {"storage": {"postgres": {"postgres_url": url}}}
    with dg.instance_for_test(overrides=overrides) as instance:
        store = LocalFrameStore(root=str(folder / "store"))
        with store.open_write(layout.upload_prefix("bench") + clip.name) as target:
            target.write(clip.read_bytes())
        database_url = f"sqlite:///{folder / 'app.db'}"
        migrate(create_db_engine(database_url))
        defs = build_definitions({"storage": store, "database": AppDatabase(url=database_url)})
        instance.add_dynamic_partitions(VIDEOS, ["bench"])
        writes = TimedWrites(instance)
        cpu = time.process_time()
        result = defs.resolve_job_def("extract_video").execute_in_process(
            partition_key="bench",
            instance=instance,
            run_config={"ops": {"frames": {"config": {"fps": fps}}}},
            asset_selection=[dg.AssetKey("source_video"), dg.AssetKey("frames")],
        )
        process_cpu = time.process_time() - cpu
        assert result.success
        frames = instance.get_latest_materialization_event(dg.AssetKey("frames"))
        assert frames is not None
        assert frames.asset_materialization is not None
        seconds = frames.asset_materialization.metadata["seconds"].value
        step = float(seconds)  # type: ignore[arg-type]
        record = instance.get_run_record_by_id(result.run_id)
        assert record is not None
        assert record.start_time is not None
        assert record.end_time is not None
        run = record.end_time - record.start_time
        return writes.count, writes.wall, writes.cpu, step, run, process_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", default="1,5")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        write_clip(clip, seconds=args.seconds, size=(width, height))
        interval = job_runs.PROGRESS_INTERVAL_SECONDS
        print(f"{args.seconds:g} s {args.size} H.264; a report at most every {interval:g} s")
        print(f"{'fps':>5} {'reports':>8} {'report wall':>12} {'frames step':>12} {'share':>7} "
              f"{'run':>7} {'share':>7} {'report CPU':>11} {'run CPU':>8} "
              f"{'share':>7}")  # fmt: skip
        for fps in (float(v) for v in args.fps.split(",")):
            rows = [measure(clip, fps, Path(tempfile.mkdtemp(dir=tmp))) for _ in range(args.repeat)]
            count, wall, cpu, step, run, run_cpu = (
                statistics.median(column) for column in zip(*rows, strict=True)
            )
            print(
                f"{fps:5g} {count:8.0f} {wall * 1000:10.1f}ms {step:11.2f}s {wall / step:7.2%} "
                f"{run:6.2f}s {wall / run:7.2%} {cpu * 1000:9.1f}ms {run_cpu:7.2f}s "
                f"{cpu / run_cpu:7.2%}"
            )


if __name__ == "__main__":
    main()
