"""What each extraction option costs, and scene mode against PySceneDetect, in one run.

    python bench/options.py [--seconds 20] [--size 1280x720] [--runs 3]

Generates with PyAV a clip of distinct shots (a panning texture and a moving square in
each, a cut every 1-3 s: the truth is known) as H.264, and the same pictures as 10-bit
HEVC tagged HDR10 (PQ). Then, median wall time of ``--runs`` interleaved runs of
``frameforge_pipeline.engine.extractor.extract`` (into a ZIP, as ``frameforge extract`` does), in a
new random order each round, and their CPU time (all threads of the process):

- the interval mode at 1 fps, the reference of every ratio;
- with ``dedupe``, ``timestamp_names``, ``storyboard``;
- scene mode, and PySceneDetect's ``detect(path, ContentDetector())`` on the same clip
  (PySceneDetect decodes with OpenCV and only detects: it writes no image), with the cuts
  each finds against the truth;
- on the HDR10 clip, 1 fps with the default tone mapping against ``tonemap: none``.
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

import av
import numpy as np
from av.video.reformatter import ColorPrimaries, Colorspace, ColorTrc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from frameforge.extract import extract_to_zip
from frameforge_pipeline.engine.options import ExtractOptions
from tests.engine.clips import shot_frame

FPS = 25


def shot_lengths(seconds: int) -> list[int]:
    rng = np.random.default_rng(7)
    lengths: list[int] = []
    while sum(lengths) < seconds * FPS:
        lengths.append(int(rng.integers(FPS, 3 * FPS)))
    return lengths


def pictures(lengths: list[int], size: tuple[int, int]) -> list[np.ndarray]:
    import cv2

    small = [shot_frame(shot, step, pan=2) for shot, n in enumerate(lengths) for step in range(n)]
    return [cv2.resize(p, size, interpolation=cv2.INTER_LINEAR) for p in small]


def encode(path: Path, frames: list[np.ndarray], hdr: bool) -> None:
    height, width = frames[0].shape[:2]
    codec, options = (
        ("libx265", {"preset": "ultrafast", "x265-params": "log-level=error:keyint=50"})
        if hdr
        else ("libx264", {"preset": "veryfast", "x264-params": "keyint=50:scenecut=0"})
    )
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=FPS, options=options)
        stream.width, stream.height = width, height  # type: ignore[attr-defined]
        stream.pix_fmt = "yuv420p10le" if hdr else "yuv420p"  # type: ignore[attr-defined]
        if hdr:
            context = stream.codec_context  # type: ignore[attr-defined]
            context.color_trc = int(ColorTrc.SMPTE2084)
            context.color_primaries = int(ColorPrimaries.BT2020)
            context.colorspace = int(Colorspace.BT2020)
        for index, picture in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            if hdr:
                frame = frame.reformat(format="yuv420p10le")
            frame.pts = index
            container.mux(stream.encode(frame))  # type: ignore[attr-defined]
        container.mux(stream.encode(None))  # type: ignore[attr-defined]


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds (every thread of this process: decoders, encoders)."""
    began, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - began, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = tuple(int(side) for side in args.size.split("x"))
    from scenedetect import ContentDetector, detect

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        lengths = shot_lengths(args.seconds)
        truth = [sum(lengths[:i]) for i in range(len(lengths))]
        frames = pictures(lengths, (size[0], size[1]))
        sdr, hdr = folder / "shots.mp4", folder / "shots-hdr10.mkv"
        encode(sdr, frames, hdr=False)
        encode(hdr, frames, hdr=True)
        del frames
        out = folder / "out.zip"
        found: dict[str, list[int]] = {}

        def ours_scene() -> None:
            result = extract_to_zip(sdr, out, ExtractOptions(mode="scene"))
            found["frameforge scene mode"] = [
                round(r.timestamp_ms * FPS / 1000) for r in result.frames
            ]

        def pyscenedetect() -> None:
            scenes = detect(str(sdr), ContentDetector())
            found["PySceneDetect ContentDetector"] = [start.frame_num for start, _ in scenes]

        cases: dict[str, Callable[[], object]] = {
            "interval 1 fps (reference)": lambda: extract_to_zip(sdr, out, ExtractOptions()),
            "+ dedupe": lambda: extract_to_zip(sdr, out, ExtractOptions(dedupe=True)),
            "+ timestamp_names": lambda: extract_to_zip(
                sdr, out, ExtractOptions(timestamp_names=True)
            ),
            "+ storyboard": lambda: extract_to_zip(sdr, out, ExtractOptions(storyboard=True)),
            "frameforge scene mode": ours_scene,
            "PySceneDetect ContentDetector": pyscenedetect,
            "HDR10, tonemap none": lambda: extract_to_zip(hdr, out, ExtractOptions(tonemap="none")),
            "HDR10, tonemap auto (default)": lambda: extract_to_zip(hdr, out, ExtractOptions()),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        extract_to_zip(sdr, out, ExtractOptions())  # warm up: imports, the page cache
        for run in range(args.runs):
            order = list(cases)
            random.Random(run).shuffle(order)  # a change of load hits every case alike
            for name in order:
                times[name].append(timed(cases[name]))

    cuts = len(truth) - 1
    print(f"{args.seconds} s of {args.size} at {FPS} fps, {cuts} cuts; median of {args.runs}")
    print(f"  {'':34s} {'wall':>8s} {'ratio':>6s} {'CPU':>8s} {'ratio':>6s}")
    reference = times["interval 1 fps (reference)"]
    wall_ref = statistics.median(w for w, _ in reference)
    cpu_ref = statistics.median(c for _, c in reference)
    for name, measured in times.items():
        wall = statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        print(
            f"  {name:34s} {wall:7.2f}s {wall / wall_ref:5.2f}x {cpu:7.2f}s {cpu / cpu_ref:5.2f}x"
        )
    for name, cuts in found.items():
        missed = sorted(set(truth) - set(cuts))
        invented = sorted(set(cuts) - set(truth))
        print(f"  {name}: {len(cuts)} shots found, missed {missed}, invented {invented}")


if __name__ == "__main__":
    main()
