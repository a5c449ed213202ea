"""Segmented extraction against one piece on a long 1080p clip, measured in one run.

    python bench/segments.py [--minutes 20] [--startup 3.0] [--pods 2,4,8,16]

The clip: ``--minutes`` of 1920x1080 at 25 fps, a panning texture with a moving block (a
cheap synthetic pattern), H.264 from x264 ultrafast with a keyframe every 10 s (x264's
default), cached under bench/out/. Every run extracts it at the default options (1 frame a
second, JPEG) into a ZIP (engine.archive.FrameZip):

- one piece: ``extract`` in this process;
- split into N segments (N of ``--pods``), each ``extract_segment`` in turn in one worker
  process (ProcessPoolExecutor, 1 worker), then ``join_segments`` into the ZIP: the CPU time
  of plan + segments + join against one piece is the overhead of splitting, and each
  segment's wall time feeds the pod simulation;
- the finest split again with 2 worker processes: the wall time on this 2-core machine;
- N pods, simulated: one pod's time is a step's start-up plus one piece; N pods' is three
  steps in a row, each with its start-up: the plan, the slowest of the N segments (each
  measured alone), the join. ``--startup`` is the start-up of a Dagster step (3 s unless
  measured: say so).

Frames and times of every split's ZIP are checked equal to one piece's. CPU time is the
process's and its workers' (``time.process_time`` in each); wall times on a machine shared
with other work are noisy: ratios are from the same run.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

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
    SegmentResult,
    extract_segment,
    join_segments,
    plan_segments,
)

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


def timed_segment(
    source: Path, options: ExtractOptions, segment: Segment, workdir: Path
) -> tuple[SegmentResult, float, float, int]:
    """In a worker: the segment's result, CPU and wall seconds, peak RSS so far (KiB)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = extract_segment(source, options, segment, workdir)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result, time.process_time() - cpu, time.perf_counter() - wall, peak


class Split:
    """One segmented run: its plan, per-segment CPU and wall times, join, totals."""

    def __init__(self, source: Path, options: ExtractOptions, pods: int, workers: int):
        self.pods, self.workers = pods, workers
        duration = float(probe(source).duration or 0)
        with tempfile.TemporaryDirectory() as folder:
            work, zip_path = Path(folder) / "work", Path(folder) / "frames.zip"
            with ProcessPoolExecutor(workers) as pool:
                list(pool.map(probe, [source] * workers))  # workers started, modules imported
                cpu, wall = time.process_time(), time.perf_counter()
                segments = plan_segments(
                    source, options, seconds_per_segment=duration / pods, max_segments=pods
                )
                self.plan_wall = time.perf_counter() - wall
                jobs = [pool.submit(timed_segment, source, options, s, work) for s in segments]
                runs = [job.result() for job in jobs]
            join_wall = time.perf_counter()
            with zip_path.open("wb") as stream, FrameZip(stream) as archive:
                join_segments(
                    probe(source), options, [r[0] for r in runs], archive,
                    lambda name: (work / name).read_bytes(),
                )  # fmt: skip
            self.join_wall = time.perf_counter() - join_wall
            self.wall = time.perf_counter() - wall
            self.segment_cpu = [r[1] for r in runs]
            self.segment_wall = [r[2] for r in runs]
            self.peak_kib = max(r[3] for r in runs)
            self.cpu = time.process_time() - cpu + sum(self.segment_cpu)
            self.frames = zip_frames(zip_path)
        self.count = len(segments)


def zip_frames(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(n, archive.read(n)) for n in archive.namelist() if n != "manifest.json"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--startup", type=float, default=3.0, help="a step's start-up (s)")
    parser.add_argument("--pods", default="2,4,8,16")
    args = parser.parse_args()
    source = clip(args.minutes)
    options = ExtractOptions()
    pod_counts = [int(n) for n in args.pods.split(",")]

    with tempfile.TemporaryDirectory() as folder:
        zip_path = Path(folder) / "frames.zip"
        cpu, wall = time.process_time(), time.perf_counter()
        with zip_path.open("wb") as stream, FrameZip(stream) as archive:
            extract(source, options, archive)
        one_cpu, one_wall = time.process_time() - cpu, time.perf_counter() - wall
        one_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        one_frames = zip_frames(zip_path)
    print(f"one piece: {len(one_frames)} frames, CPU {one_cpu:.1f} s, wall {one_wall:.1f} s")

    splits = []
    for pods in pod_counts:
        split = Split(source, options, pods, workers=1)
        assert split.frames == one_frames, f"{pods} segments: not the one-piece frames"
        splits.append(split)
        print(
            f"{split.count} segments, 1 process: CPU {split.cpu:.1f} s "
            f"({split.cpu / one_cpu - 1:+.1%} over one piece), wall {split.wall:.1f} s "
            f"(x{split.wall / one_wall:.2f}); segments {min(split.segment_wall):.1f}-"
            f"{max(split.segment_wall):.1f} s wall; plan {split.plan_wall:.2f} s, join "
            f"{split.join_wall:.2f} s; worker peak RSS {split.peak_kib / 1024:.0f} MiB",
            flush=True,
        )
    finest = max(pod_counts)
    two = Split(source, options, finest, workers=2)
    assert two.frames == one_frames
    one_process = next(s for s in splits if s.pods == finest)
    print(
        f"{two.count} segments, 2 processes: wall {two.wall:.1f} s: x{two.wall / one_wall:.2f} "
        f"of one piece, x{two.wall / one_process.wall:.2f} of 1 process "
        f"({one_process.wall:.1f} s); CPU {two.cpu:.1f} s"
    )
    print(f"peak RSS: one piece (this process) {one_peak / 1024:.0f} MiB")
    print(f"\nN pods, simulated (a step's start-up {args.startup:g} s):")
    one_pod = args.startup + one_wall
    print(f"  1 pod: {one_pod:.1f} s")
    for split in splits:
        slowest = max(split.segment_wall)
        pods = 3 * args.startup + split.plan_wall + slowest + split.join_wall
        print(
            f"  {split.pods} pods: {pods:.1f} s = 3 start-ups + plan {split.plan_wall:.1f} + "
            f"slowest segment {slowest:.1f} + join {split.join_wall:.1f}: "
            f"x{pods / one_pod:.2f} of one pod (speed-up {one_pod / pods:.1f})"
        )


if __name__ == "__main__":
    main()
