"""Segmented extraction against one piece on a long 1080p clip, measured in one run.

    python bench/segments.py [--minutes 20] [--startup 3.0] [--pods 2,4,8,16] [--runs 2]

The clip: ``--minutes`` of 1920x1080 at 25 fps, a panning texture with a moving block (a
cheap synthetic pattern), H.264 from x264 ultrafast with a keyframe every 10 s (x264's
default), cached under bench/out/. Every run extracts it at the default options (1 frame a
second, JPEG) into a ZIP (engine.archive.FrameZip), each extraction in a fresh process
forked from a server that imported the engine (as Dagster's multiprocess executor runs a
step, without its start-up):

- one piece: ``extract``;
- split into N segments (N of ``--pods``): the plan here, each ``extract_segment`` in a
  process of its own, one at a time, then ``join_segments`` here into the ZIP. The CPU time
  of plan + segments + join against one piece is the overhead of splitting; the peak RSS
  of a segment's process against one piece's is its memory; each segment's wall time
  feeds the pod simulation;
- the finest split again with 2 processes at a time: the wall time on this 2-core machine;
- N pods, simulated: one pod's time is a step's start-up plus one piece; N pods' is three
  steps in a row, each with its start-up: the plan, the slowest of the N segments (each
  measured alone: its wall time, and its CPU time at one piece's pace, wall / CPU, which
  a loaded machine disturbs less), the join. ``--startup`` is the start-up of a Dagster
  step (3 s unless measured: say so).

Every configuration runs ``--runs`` times, in a new random order each round; the figures
are each configuration's least disturbed (minimum) ones, since the machine is shared.
Every split's ZIP holds the one-piece frames, byte for byte (checked). CPU time is each
process's own (``time.process_time``: all its threads).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np
from av.video.stream import VideoStream

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from frameforge_pipeline.engine.archive import FrameZip
from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.probe import probe
from frameforge_pipeline.engine.segments import (
    Segment,
    extract_segment,
    join_segments,
    plan_segments,
)

T = TypeVar("T")
CONTEXT = multiprocessing.get_context("forkserver")
OUT = Path(__file__).resolve().parent / "out"
FPS = 25
WIDTH, HEIGHT = 1920, 1080
PAN = 4  # pixels a frame


def write_clip(path: Path, minutes: float) -> None:
    """A panning luma texture, slowly changing chroma and a moving block, in YUV 4:2:0."""
    rng = np.random.default_rng(3)
    room = WIDTH + PAN * FPS * 60  # a minute of panning, then it wraps
    coarse = rng.integers(16, 235, size=(HEIGHT // 40 + 1, room // 40 + 1), dtype=np.uint8)
    luma = np.repeat(np.repeat(coarse, 40, axis=0), 40, axis=1)[:HEIGHT, :room]
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream(
            "libx264", rate=FPS, options={"preset": "ultrafast", "crf": "23"}
        )
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(round(minutes * 60 * FPS)):
            x = (index * PAN) % (room - WIDTH)
            y_plane = luma[:, x : x + WIDTH].copy()
            top = (index * 7) % (HEIGHT - 120)
            y_plane[top : top + 120, 200:400] = 235
            chroma = np.full((HEIGHT // 2 * WIDTH // 2 * 2,), 128 + (index // FPS) % 64, np.uint8)
            picture = np.concatenate([y_plane.reshape(-1), chroma]).reshape(-1, WIDTH)
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.replace(path)


def clip(minutes: float) -> Path:
    path = OUT / f"segments-1080p-{minutes:g}min.mp4"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        began = time.perf_counter()
        write_clip(path, minutes)
        print(f"wrote {path.name} in {time.perf_counter() - began:.0f} s", flush=True)
    return path


def timed(run: Callable[..., T], *args: Any) -> tuple[T, float, float, int]:
    """In a worker: ``run(*args)``, its CPU and wall seconds, the process's peak RSS (KiB)."""
    cpu, wall = time.process_time(), time.perf_counter()
    value = run(*args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value, time.process_time() - cpu, time.perf_counter() - wall, peak


def one_piece_zip(source: Path, options: ExtractOptions, zip_path: Path) -> None:
    with zip_path.open("wb") as stream, FrameZip(stream) as archive:
        extract(source, options, archive)


def fresh_processes(workers: int) -> ProcessPoolExecutor:
    """Workers forked from a server that imported the engine, one task each: as Dagster's
    multiprocess executor runs a step (forkserver), without its start-up."""
    return ProcessPoolExecutor(workers, mp_context=CONTEXT, max_tasks_per_child=1)


@dataclass
class Run:
    """One measured run: CPU and wall seconds, per-segment figures, peak RSS (MiB)."""

    cpu: float
    wall: float
    peak_mib: float
    segment_wall: list[float] = field(default_factory=list)
    segment_cpu: list[float] = field(default_factory=list)
    plan_wall: float = 0.0
    join_wall: float = 0.0
    join_cpu: float = 0.0
    count: int = 1
    frames: tuple[int, str] = (0, "")


def run_one_piece(source: Path, options: ExtractOptions) -> Run:
    with tempfile.TemporaryDirectory() as folder, fresh_processes(1) as pool:
        zip_path = Path(folder) / "frames.zip"
        _, cpu, wall, peak = pool.submit(timed, one_piece_zip, source, options, zip_path).result()
        return Run(cpu, wall, peak / 1024, frames=zip_frames(zip_path))


def run_split(source: Path, options: ExtractOptions, pods: int, workers: int) -> Run:
    """Plan and join here, each segment in a fresh worker process."""
    duration = float(probe(source).duration or 0)
    with tempfile.TemporaryDirectory() as folder, fresh_processes(workers) as pool:
        work, zip_path = Path(folder) / "work", Path(folder) / "frames.zip"
        began, cpu = time.perf_counter(), time.process_time()
        segments = plan_segments(
            source, options, seconds_per_segment=duration / pods, max_segments=pods
        )
        plan_wall, plan_cpu = time.perf_counter() - began, time.process_time() - cpu
        jobs = [pool.submit(timed, extract_segment, source, options, s, work) for s in segments]
        runs = [job.result() for job in jobs]
        joined, cpu = time.perf_counter(), time.process_time()
        with zip_path.open("wb") as stream, FrameZip(stream) as archive:
            join_segments(
                probe(source), options, [r[0] for r in runs], archive,
                lambda name: (work / name).read_bytes(),
            )  # fmt: skip
        join_wall, join_cpu = time.perf_counter() - joined, time.process_time() - cpu
        segment_cpu = [r[1] for r in runs]
        return Run(
            cpu=plan_cpu + sum(segment_cpu) + join_cpu,
            wall=time.perf_counter() - began,
            peak_mib=max(r[3] for r in runs) / 1024,
            segment_wall=[r[2] for r in runs],
            segment_cpu=segment_cpu,
            plan_wall=plan_wall,
            join_wall=join_wall,
            join_cpu=join_cpu,
            count=len(segments),
            frames=zip_frames(zip_path),
        )


def repeated(source: Path, options: ExtractOptions, segment: Segment, work: Path) -> list[float]:
    """In a worker: CPU seconds of the same segment extracted three times in one process."""
    times = []
    for _ in range(3):
        cpu = time.process_time()
        extract_segment(source, options, segment, work)
        times.append(time.process_time() - cpu)
    return times


def fixed_cost(source: Path, options: ExtractOptions, pods: int) -> float:
    """What a segment's process pays once (its first segment against the next ones)."""
    duration = float(probe(source).duration or 0)
    segments = plan_segments(source, options, seconds_per_segment=duration / pods)
    with tempfile.TemporaryDirectory() as folder, fresh_processes(1) as pool:
        times = pool.submit(repeated, source, options, segments[1], Path(folder)).result()
    return times[0] - min(times[1:])


def best(runs: list[Run]) -> Run:
    """The least disturbed of the runs of one configuration: per figure, its minimum."""
    first = runs[0]
    return Run(
        cpu=min(r.cpu for r in runs),
        wall=min(r.wall for r in runs),
        peak_mib=max(r.peak_mib for r in runs),
        segment_wall=[min(w) for w in zip(*(r.segment_wall for r in runs), strict=True)],
        segment_cpu=[min(c) for c in zip(*(r.segment_cpu for r in runs), strict=True)],
        plan_wall=min(r.plan_wall for r in runs),
        join_wall=min(r.join_wall for r in runs),
        join_cpu=min(r.join_cpu for r in runs),
        count=first.count,
    )


def zip_frames(path: Path) -> tuple[int, str]:
    """How many frames the ZIP holds, and a digest of their names and bytes."""
    digest, count = hashlib.sha256(), 0
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name != "manifest.json":
                digest.update(name.encode() + archive.read(name))
                count += 1
    return count, digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--startup", type=float, default=3.0, help="a step's start-up (s)")
    parser.add_argument("--pods", default="2,4,8,16")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    source = clip(args.minutes)
    options = ExtractOptions()
    pod_counts = [int(n) for n in args.pods.split(",")]
    finest = max(pod_counts)
    CONTEXT.set_forkserver_preload(
        ["frameforge_pipeline.engine.segments", "frameforge_pipeline.engine.archive"]
    )
    configs: dict[str, Callable[[], Run]] = {"one piece": lambda: run_one_piece(source, options)}
    for pods in pod_counts:
        configs[f"{pods} x1"] = functools.partial(run_split, source, options, pods, 1)
    configs[f"{finest} x2"] = functools.partial(run_split, source, options, finest, 2)
    measured: dict[str, list[Run]] = {name: [] for name in configs}
    for round_ in range(args.runs):
        order = random.Random(round_).sample(sorted(configs), len(configs))
        for name in order:
            run = configs[name]()
            measured[name].append(run)
            print(
                f"round {round_ + 1}: {name}: CPU {run.cpu:.1f} s, wall {run.wall:.1f} s",
                flush=True,
            )
    report(measured, pod_counts, args.startup)
    cost = statistics.median(fixed_cost(source, options, finest) for _ in range(3))
    print(
        f"a segment's process pays once {cost:.2f} s of CPU (its first segment against the "
        f"same one again; median of 3): x{finest} = {finest * cost:.1f} s, "
        f"{finest * cost / best(measured['one piece']).cpu:.1%} of one piece"
    )


def report(measured: dict[str, list[Run]], pod_counts: list[int], startup: float) -> None:
    """The least disturbed figures of each configuration, and the ratios."""
    one = best(measured["one piece"])
    frames = measured["one piece"][0].frames
    for name, runs in measured.items():
        assert all(r.frames == frames for r in runs), f"{name}: not the one-piece frames"
    print(
        f"\none piece: {frames[0]} frames, CPU {one.cpu:.1f} s, wall {one.wall:.1f} s, "
        f"peak RSS {one.peak_mib:.0f} MiB"
    )
    splits = {pods: best(measured[f"{pods} x1"]) for pods in pod_counts}
    for split in splits.values():
        print(
            f"{split.count} segments, 1 process: CPU {split.cpu:.1f} s "
            f"({split.cpu / one.cpu - 1:+.1%} over one piece; join {split.join_cpu:.2f} s), "
            f"wall {split.wall:.1f} s (x{split.wall / one.wall:.2f}); segments "
            f"{min(split.segment_wall):.1f}-{max(split.segment_wall):.1f} s wall; plan "
            f"{split.plan_wall:.2f} s, join {split.join_wall:.2f} s; peak RSS of a segment's "
            f"process {split.peak_mib:.0f} MiB"
        )
    finest = max(pod_counts)
    two, single = best(measured[f"{finest} x2"]), splits[finest]
    print(
        f"{two.count} segments, 2 processes: wall {two.wall:.1f} s: x{two.wall / one.wall:.2f} "
        f"of one piece, x{two.wall / single.wall:.2f} of 1 process ({single.wall:.1f} s); "
        f"CPU {two.cpu:.1f} s"
    )
    print(f"\nN pods, simulated (a step's start-up {startup:g} s):")
    one_pod = startup + one.wall
    print(f"  1 pod: {one_pod:.1f} s = start-up + one piece")
    # a segment's wall time on a pod like one piece's: its CPU time at one piece's pace
    pace = one.wall / one.cpu
    for pods, split in splits.items():
        slowest = max(split.segment_wall)
        total = 3 * startup + split.plan_wall + slowest + split.join_wall
        paced = 3 * startup + split.plan_wall + max(split.segment_cpu) * pace + split.join_wall
        print(
            f"  {pods} pods: {total:.1f} s = 3 start-ups + plan {split.plan_wall:.1f} + "
            f"slowest segment {slowest:.1f} + join {split.join_wall:.1f}: "
            f"x{total / one_pod:.2f} of one pod (speed-up {one_pod / total:.1f}); "
            f"the slowest by its CPU time at one piece's pace "
            f"({max(split.segment_cpu):.1f} s x {pace:.2f}): {paced:.1f} s, "
            f"x{paced / one_pod:.2f} (speed-up {one_pod / paced:.1f})"
        )


if __name__ == "__main__":
    main()
